"""grommunio-antispam (rspamd): its controller answers ``GET /ping`` with ``pong``.

rspamd's controller (src/controller.c, rspamd_controller_handle_ping)
answers 200 with the body ``pong\\r\\n``; the answer comes from the
controller worker's event loop, so it proves the daemon runs and serves
its HTTP interface.  The milter side is the ``milter`` check.
"""

from ..base.text import quoted
from ..checks.contract import CheckFailed
from . import http


def check(url, deadline, verify=False):
    status, reason, _, body = http.exchange(url, deadline, verify)
    if status != 200:
        raise CheckFailed("%s answered HTTP %d %s, not 200" % (url, status, reason))
    if body.strip() != b"pong":
        raise CheckFailed("%s answered 200 with %s, not pong"
                          % (url, quoted(body.decode("utf-8", "replace"), 40)))
    return "pong"
