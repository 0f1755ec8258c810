"""Node attributes through ``attrd_updater`` (Pacemaker's attribute daemon).

Used to publish a node-health colour (``#health-*`` attributes feed the
cluster's ``node-health-strategy``).  Failing to publish never fails the
operation that asked for it: the health of the service is the result, the
attribute is a courtesy to the scheduler, so errors are logged and returned.
"""

from ..base import spawn
from .deadline import Deadline

ATTRD_UPDATER = "attrd_updater"


def _run(args, timeout):
    program = spawn.which(ATTRD_UPDATER)
    if program is None:
        return "attrd_updater is not installed"
    try:
        done = spawn.run([program, *args], Deadline(max(0.5, timeout)))
    except spawn.TimedOut:
        return "attrd_updater did not finish within %.1fs" % timeout
    except spawn.OutOfMemory as exc:
        return str(exc)
    except OSError as exc:
        return "attrd_updater: %s" % (exc.strerror or exc)
    if done.returncode != 0:
        return "attrd_updater %s failed (exit %d): %s" % (
            " ".join(args), done.returncode, " ".join(done.stderr.split())[:200])
    return None


def publish(name, value, timeout=5.0):
    """Set ``name`` to ``value`` on this node; returns an error text or ``None``."""
    return _run(["-n", name, "-U", value], timeout)


def clear(name, timeout=5.0):
    """Delete ``name`` on this node; returns an error text or ``None``."""
    return _run(["-n", name, "-D"], timeout)
