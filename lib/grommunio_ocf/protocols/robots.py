"""nginx itself: ``GET /robots.txt`` answers 200 with the body grommunio ships.

grommunio's nginx configuration answers ``/robots.txt`` from nginx alone
(no PHP behind it) with ``User-agent: *`` and ``Disallow: /``: the 200
with that body proves nginx serves, its TLS included, independently of
the application pools that the sync check covers.
"""

from ..base.text import quoted
from ..checks.contract import CheckFailed
from . import http

WANTED = ("user-agent: *", "disallow: /")


def check(url, deadline, verify=False):
    status, reason, _, body = http.exchange(url, deadline, verify)
    if status != 200:
        raise CheckFailed("%s answered HTTP %d %s, not 200" % (url, status, reason))
    lines = [" ".join(line.split()).lower()
             for line in body.decode("utf-8", "replace").splitlines()]
    missing = [want for want in WANTED if want not in lines]
    if missing:
        raise CheckFailed("%s answered 200 without %s: %s" % (
            url, " and ".join(repr(m) for m in missing),
            quoted(body.decode("utf-8", "replace"), 40)))
    return "200 robots.txt (User-agent: * / Disallow: /)"
