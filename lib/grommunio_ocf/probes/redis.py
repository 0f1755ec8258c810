"""Redis ``PING``: ``+PONG`` proves the server executes commands."""

from . import ProbeFailure, connect, quote, read_line


def probe(address, deadline):
    sock = connect(address, deadline)
    try:
        # The inline form needs no RESP framing and every Redis version takes it.
        try:
            sock.sendall(b"PING\r\n")
        except OSError as exc:
            raise ProbeFailure("%s: %s while sending PING" % (address, exc.strerror or exc)) from None
        line = read_line(sock, deadline, "answer to PING", address)
        if line == "+PONG":
            return "+PONG"
        if line.startswith("-NOAUTH"):
            raise ProbeFailure("%s requires a password (PING answered NOAUTH); "
                               "the check does not log in" % address)
        raise ProbeFailure("%s answered PING with %s" % (address, quote(line)))
    finally:
        sock.close()
