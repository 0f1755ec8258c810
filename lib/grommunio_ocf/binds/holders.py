"""Find and signal the processes that keep one mount busy, by scanning /proc.

``fuser -m`` on a bind target reports every process using the *filesystem*
behind it -- for a bind from /grodata that is everything on /grodata, and for
a target on the root filesystem it is half the machine (resource-agents
issues #1304, #1944).  Here a process is a holder of a target only if its
cwd, root, an open file or a mapped file lies under the target's path *and*
on the target mount's device.  Both must match: the path alone would catch
a file opened on the directory underneath before the bind was made.
"""

import os
import signal

from ..base.paths import is_under


def _link(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def _dev_of(path):
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


def _hits(pid, target, st_dev):
    """What of process ``pid`` lies under ``target`` on device ``st_dev``."""
    base = "/proc/%s/" % pid
    found = []
    for what in ("cwd", "root"):
        link = _link(base + what)
        if link is not None and is_under(link, target) and _dev_of(base + what) == st_dev:
            found.append(what)
    try:
        fds = os.listdir(base + "fd")
    except OSError:
        fds = ()
    for fd in fds:
        link = _link(base + "fd/" + fd)
        if link is not None and link.startswith("/") and is_under(link, target) \
                and _dev_of(base + "fd/" + fd) == st_dev:
            found.append("fd %s" % fd)
            break  # one open file is enough to be a holder
    dev_text = "%02x:%02x" % (os.major(st_dev), os.minor(st_dev))
    try:
        with open(base + "maps", encoding="utf-8", errors="surrogateescape") as maps:
            for line in maps:
                fields = line.split(None, 5)
                if len(fields) == 6 and fields[3] == dev_text and is_under(fields[5].rstrip("\n"), target):
                    found.append("map")
                    break
    except OSError:
        pass
    return found


def find(target, st_dev):
    """``{pid: (command, [what, ...])}`` for every holder of ``target``."""
    me = os.getpid()
    holders = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid in (1, me):  # never signal init or ourselves
            continue
        found = _hits(name, target, st_dev)
        if found:
            holders[pid] = (_command(name), found)
    return holders


def _command(pid):
    try:
        with open("/proc/%s/comm" % pid, encoding="utf-8", errors="replace") as comm:
            return comm.read().strip()
    except OSError:
        return "?"


def signal_all(pids, signum):
    """Send ``signum`` to each pid that still exists; returns those signalled."""
    sent = []
    for pid in pids:
        try:
            os.kill(pid, signum)
            sent.append(pid)
        except ProcessLookupError:
            pass
    return sent


def describe(holders):
    return ", ".join("%s[%d] (%s)" % (cmd, pid, ", ".join(what))
                     for pid, (cmd, what) in sorted(holders.items()))


TERM = signal.SIGTERM
KILL = signal.SIGKILL
