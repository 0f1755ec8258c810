"""SMTP/LMTP greeting: a ``220`` line proves the daemon serves sessions.

421 (too busy, shutting down) and 554 (no service) are the usual refusals.
"""

from . import greeting


def check(address, deadline):
    return greeting(address, deadline, "220")
