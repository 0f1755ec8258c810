"""SMTP/LMTP greeting: a ``220`` line proves the daemon serves sessions."""

from ..checks.contract import CheckFailed
from ..base.text import quoted
from . import connect, read_line


def check(address, deadline):
    sock = connect(address, deadline)
    try:
        line = read_line(sock, deadline, "greeting", address)
        if not line.startswith("220"):
            # 421 (too busy, shutting down) and 554 (no service) are the usual ones.
            raise CheckFailed("%s greeted with %s, not 220" % (address, quoted(line)))
        try:
            sock.sendall(b"QUIT\r\n")  # polite: no "lost connection" line in its log
        except OSError:
            pass
        return quoted(line)
    finally:
        sock.close()
