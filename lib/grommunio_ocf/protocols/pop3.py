"""POP3 greeting: ``+OK`` proves gromox-pop3 serves sessions.

gromox answers a new connection with ``+OK <host> pop service ready``
(mra/pop3/resource.cpp, code 1711; ``<host>`` is the node's name), or
``-ERR <host> pop service unavailable`` when it cannot take more.  Other
servers greet with other words after ``+OK`` (dovecot: ``+OK Dovecot
ready.``), so only the ``+OK`` is judged; the text is shown.
"""

from ..base.text import quoted
from ..checks.contract import CheckFailed
from . import connect, read_line


def check(address, deadline):
    sock = connect(address, deadline)
    try:
        line = read_line(sock, deadline, "greeting", address)
        if not line.startswith("+OK"):
            raise CheckFailed("%s greeted with %s, not +OK" % (address, quoted(line)))
        try:
            sock.sendall(b"QUIT\r\n")  # polite: a clean end in its log
        except OSError:
            pass
    finally:
        sock.close()
    return quoted(line)
