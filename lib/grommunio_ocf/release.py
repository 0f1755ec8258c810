"""Unmount a set of targets within one time budget, escalating on EBUSY.

The ladder is: plain unmount; TERM to the holders of the busy targets and
retry; KILL and retry; lazy unmount (detach) as the last resort.  All steps
share the caller's deadline -- half of what is left for TERM, most of the
rest for KILL -- so a stop never runs into Pacemaker's timeout, which would
mean fencing.
"""

import errno
import time

from . import holders
from .mounts import MountTable, unmount

MAX_STACK = 16  # over-mounts removed per target before giving up on it
POLL = 0.1
NO_HOLDER_WAIT = 1.0  # seconds a signal phase waits when it found nobody to signal


class Released:
    """What happened: targets detached lazily, targets still mounted."""

    def __init__(self):
        self.lazy = []
        self.failed = {}  # target -> reason

    @property
    def ok(self):
        return not self.failed


def _unmount_stack(target, lazy=False):
    """Unmount everything stacked on ``target``; True when nothing is left.

    False means EBUSY (which a lazy unmount never answers).
    """
    for _ in range(MAX_STACK):
        try:
            unmount(target, lazy=lazy)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):  # not (or no longer) a mount point
                return True
            if exc.errno == errno.EBUSY:
                return False
            raise
    return False


def _attempt(targets, result):
    """Try each target once (in the given order); return those still busy."""
    busy = []
    for target in targets:
        try:
            if not _unmount_stack(target):
                busy.append(target)
        except OSError as exc:
            result.failed[target] = exc.strerror or str(exc)
    return busy


def _holders(busy):
    """``{target: {pid: (command, [what])}}`` for the busy targets."""
    table = MountTable.read()
    found = {}
    for target in busy:
        mount = table.at(target)
        if mount is not None:
            found[target] = holders.find(target, mount.st_dev)
    return found


def _signal_holders(busy, signum, log):
    """Signal every holder of a busy target; returns how many were signalled."""
    pids = set()
    for target, found in _holders(busy).items():
        if found:
            log.warning("%s busy: sending %s to %s" % (target, signum.name, holders.describe(found)))
            pids.update(found)
    return len(holders.signal_all(sorted(pids), signum))


def _wait(busy, phase, result, sleep):
    while busy and not phase.expired():
        sleep(min(POLL, phase.remaining()))
        busy = _attempt(busy, result)
    return busy


def release(targets, deadline, log, kill=True, lazy=True, sleep=time.sleep):
    """Unmount ``targets`` (given in mount order, undone in reverse)."""
    result = Released()
    busy = _attempt(list(reversed(targets)), result)
    if busy and kill:
        for signum, share in ((holders.TERM, 0.5), (holders.KILL, 0.7)):
            phase = deadline.fraction(share)
            if not _signal_holders(busy, signum, log):
                # No process to wait for (a mount below the target, a kernel
                # user): give it a moment, not the whole phase.
                phase = phase.child(NO_HOLDER_WAIT)
            busy = _wait(_attempt(busy, result), phase, result, sleep)
            if not busy:
                break
    for target in busy:
        if lazy:
            try:
                _unmount_stack(target, lazy=True)
            except OSError as exc:
                result.failed[target] = "lazy unmount failed: %s" % exc.strerror
                continue
            result.lazy.append(target)
            log.warning("%s still busy: detached it (lazy unmount)" % target)
        else:
            found = _holders([target]).get(target)
            result.failed[target] = "busy" + (" (%s)" % holders.describe(found) if found else "")
    _hidden(targets, result)
    return result


def _hidden(targets, result):
    """Targets still mounted but covered by a later mount on a parent directory.

    umount2() resolves the path to the covering filesystem and answers
    EINVAL, so the ladder above takes them for unmounted; the bind still
    holds grodata busy.  Say so instead of reporting a clean stop.
    """
    table = MountTable.read()
    for target in targets:
        mount = table.at(target)
        if mount is not None and target not in result.failed:
            cover = table.covering(mount)
            result.failed[target] = ("still mounted after unmount" if cover is None else
                                     "still mounted, hidden under a mount on %s (not ours)"
                                     % cover.point)
