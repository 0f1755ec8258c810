"""Probes: one small module per protocol, each asking a service to prove itself.

A probe is a function ``probe(target, deadline, ...)`` that returns a short
detail text when the service is healthy and raises ``ProbeFailure`` (or
``ProbeDegraded``) with the cause otherwise.  Every blocking step draws on
the one ``Deadline`` it is given.  Messages name the peer and say what was
expected, because they end up in ``crm_mon``.
"""

import socket


class ProbeFailure(Exception):
    """The service failed the check; ``str()`` is the reason for the admin."""


class ProbeDegraded(Exception):
    """The service works, but something needs attention (OCF_DEGRADED)."""


class ProbeWarning(Exception):
    """The service works; a note for the admin that changes no result.

    Logged once per start and shown by ``--verbose``; the monitor succeeds.
    """



def seconds(deadline):
    """Socket timeout for the next step; fails once the budget is spent."""
    left = deadline.remaining()
    if left <= 0.0:
        raise ProbeFailure("out of time")
    return left


def budget_text(deadline):
    """How long a check was allowed, as the admin will read it: ``2.0s``."""
    return "%.1fs" % deadline.total


def connect(address, deadline):
    """A TCP connection to ``address`` (an ``netaddr.Address``), or ``ProbeFailure``.

    ``create_connection`` tries every address the name resolves to (for
    ``localhost``: ::1, then 127.0.0.1) within the one timeout.
    """
    try:
        sock = socket.create_connection((address.host, address.port), timeout=seconds(deadline))
    except ConnectionRefusedError:
        raise ProbeFailure("connection refused by %s" % address) from None
    except socket.timeout:
        raise ProbeFailure("no connection within %s to %s" % (budget_text(deadline), address)) from None
    except socket.gaierror as exc:
        raise ProbeFailure("cannot resolve %s: %s" % (address.host, exc.strerror)) from None
    except OSError as exc:
        raise ProbeFailure("cannot connect to %s: %s" % (address, exc.strerror or exc)) from None
    sock.settimeout(seconds(deadline))
    return sock


def read_line(sock, deadline, what, address, limit=4096):
    """One CRLF-terminated line (without it), or ``ProbeFailure`` naming ``what``."""
    data = b""
    while b"\n" not in data:
        try:
            sock.settimeout(seconds(deadline))
            chunk = sock.recv(limit)
        except socket.timeout:
            raise ProbeFailure("no %s within %s from %s" % (what, budget_text(deadline), address)) from None
        except OSError as exc:
            raise ProbeFailure("%s: %s while waiting for the %s" % (address, exc.strerror or exc, what)) from None
        if not chunk:
            raise ProbeFailure("%s closed the connection before the %s" % (address, what))
        data += chunk
        if len(data) > limit:
            raise ProbeFailure("%s sent more than %d bytes without a line end" % (address, limit))
    return data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")


def quote(text, limit=60):
    """A peer's words, shortened, for a message: ``'* BYE go away'``."""
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")
