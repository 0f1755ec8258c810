"""TCP connect: proves a listener exists (a milter speaks only when spoken to)."""

from . import connect


def check(address, deadline):
    connect(address, deadline).close()
    return "accepts connections"
