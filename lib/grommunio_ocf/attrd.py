"""Node attributes through ``attrd_updater`` (Pacemaker's attribute daemon).

Used to publish a node-health colour (``#health-*`` attributes feed the
cluster's ``node-health-strategy``).  Failing to publish never fails the
operation that asked for it: the health of the service is the result, the
attribute is a courtesy to the scheduler, so errors are logged and returned.
"""

import subprocess

ATTRD_UPDATER = "attrd_updater"


def _run(args, timeout):
    try:
        proc = subprocess.run([ATTRD_UPDATER, *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=max(0.5, timeout))
    except FileNotFoundError:
        return "attrd_updater is not installed"
    except subprocess.TimeoutExpired:
        return "attrd_updater did not finish within %.1fs" % timeout
    except OSError as exc:
        return "attrd_updater: %s" % exc.strerror
    if proc.returncode != 0:
        return "attrd_updater %s failed (exit %d): %s" % (
            " ".join(args), proc.returncode, " ".join(proc.stderr.split())[:200])
    return None


def publish(name, value, timeout=5.0):
    """Set ``name`` to ``value`` on this node; returns an error text or ``None``."""
    return _run(["-n", name, "-U", value], timeout)


def clear(name, timeout=5.0):
    """Delete ``name`` on this node; returns an error text or ``None``."""
    return _run(["-n", name, "-D"], timeout)
