"""Redis ``PING``: ``+PONG`` proves the server executes commands."""

from ..checks.contract import CheckFailed
from ..base.text import quoted
from . import connect, read_line


def check(address, deadline):
    sock = connect(address, deadline)
    try:
        # The inline form needs no RESP framing and every Redis version takes it.
        try:
            sock.sendall(b"PING\r\n")
        except OSError as exc:
            raise CheckFailed("%s: %s while sending PING" % (address, exc.strerror or exc)) from None
        line = read_line(sock, deadline, "answer to PING", address)
        if line == "+PONG":
            return "+PONG"
        if line.startswith("-NOAUTH"):
            raise CheckFailed("%s requires a password (PING answered NOAUTH); "
                               "the check does not log in" % address)
        raise CheckFailed("%s answered PING with %s" % (address, quoted(line)))
    finally:
        sock.close()
