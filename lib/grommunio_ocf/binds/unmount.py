"""Unmount our mounts on a set of targets within one time budget, escalating on EBUSY.

The ladder is: plain unmount; TERM to the holders of the busy targets and
retry; KILL and retry; lazy unmount (detach) as the last resort.  All steps
share the caller's deadline -- half of what is left for TERM, most of the
rest for KILL -- so a stop never runs into Pacemaker's timeout, which would
mean fencing.

Only *our* mounts are ever unmounted: the caller says which those are
(``ours(mount)``, e.g. "a bind from the grodata filesystem"), and every
``umount2()`` is preceded by a look at mountinfo proving that the mount the
path leads to is one of them.  ``umount2()`` takes a path, not a mount: on a
target whose bind is covered, or stacked under a foreign mount, it would
remove what is *visible* there -- somebody else's mount.  Such a target is
reported instead.  A target with nothing of ours on it needs nothing: a
target that cannot even exist (a name too long, a missing parent) is simply
not in mountinfo.
"""

import errno
import time

from . import holders
from .mounts import MountTable, unmount

MAX_STACK = 16  # our mounts stacked on one target that one attempt removes
POLL = 0.1
NO_HOLDER_WAIT = 1.0  # seconds a signal phase waits when it found nobody to signal


class Released:
    """What happened: targets detached lazily, targets still mounted, foreign mounts left."""

    def __init__(self):
        self.lazy = []
        self.failed = {}   # target -> why something of ours is still mounted there
        self.foreign = {}  # target -> the mount there that is not ours (left alone)
        self.errors = {}   # target -> the last unexpected errno text of umount2()
        self.busy = {}     # target -> holders text, when left busy (lazy=False)

    @property
    def ok(self):
        return not self.failed


def reachable(table, target, ours):
    """``(count, blocker)``: how many of the top mounts at ``target`` are ours.

    ``count`` unmounts of the path remove only our mounts.  ``blocker`` is
    the foreign mount that stands in the way of more (covering the stack
    from a parent directory, or stacked on top), or None.
    """
    stack = table.stack(target)
    if not stack:
        return 0, None
    cover = table.covering(stack[-1])
    if cover is not None:
        return 0, cover
    count = 0
    for mount in reversed(stack):
        if not ours(mount):
            return count, mount
        count += 1
    return count, None


def _attempt(targets, result, ours, lazy=False):
    """Unmount what is ours on each target once (in the given order); returns the busy ones."""
    table = MountTable.read()
    busy = []
    for target in targets:
        count, _ = reachable(table, target, ours)
        for _ in range(min(count, MAX_STACK)):
            try:
                unmount(target, lazy=lazy)
            except OSError as exc:
                if exc.errno == errno.EBUSY:
                    busy.append(target)
                elif exc.errno not in (errno.EINVAL, errno.ENOENT):  # else: gone meanwhile
                    result.errors[target] = ("lazy unmount failed: " if lazy else "") + (
                        exc.strerror or str(exc))
                break
            if lazy and target not in result.lazy:
                result.lazy.append(target)
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


def _wait(busy, phase, result, ours, sleep):
    while busy and not phase.expired():
        sleep(min(POLL, phase.remaining()))
        busy = _attempt(busy, result, ours)
    return busy


def release(targets, deadline, log, ours, kill=True, lazy=True, sleep=time.sleep):
    """Unmount our mounts on ``targets`` (given in mount order, undone in reverse)."""
    result = Released()
    busy = _attempt(list(reversed(targets)), result, ours)
    if busy and kill:
        for signum, share in ((holders.TERM, 0.5), (holders.KILL, 0.7)):
            phase = deadline.fraction(share)
            if not _signal_holders(busy, signum, log):
                # No process to wait for (a mount below the target, a kernel
                # user): give it a moment, not the whole phase.
                phase = phase.child(NO_HOLDER_WAIT)
            busy = _wait(_attempt(busy, result, ours), phase, result, ours, sleep)
            if not busy:
                break
    for target in busy:
        if lazy:
            _attempt([target], result, ours, lazy=True)
            if target in result.lazy:
                log.warning("%s still busy: detached it (lazy unmount)" % target)
        else:
            found = _holders([target]).get(target)
            result.busy[target] = "busy" + (" (%s)" % holders.describe(found) if found else "")
    _verify(targets, result, ours, log)
    return result


def _verify(targets, result, ours, log):
    """Read mountinfo once more: every target with a mount of ours on it failed.

    Also catches what the ladder cannot see: a bind covered by a later mount
    on a parent directory (umount2() of its path answers EINVAL, or would hit
    the cover) still holds grodata busy.
    """
    table = MountTable.read()
    for target in targets:
        mounts = table.at_point(target)
        left = [m for m in mounts if ours(m)]
        others = [m for m in mounts if not ours(m)]
        if others:
            result.foreign[target] = others[-1]
            log.warning("%s: left %s alone: not ours" % (target, describe(table, others[-1])))
        if not left:
            continue
        _count, blocker = reachable(table, target, ours)
        covers = [c for c in (table.covering(m) for m in left) if c is not None]
        if target in result.busy:
            reason = result.busy[target]
        elif covers:
            reason = "still mounted, hidden under a mount on %s (not ours)" % covers[0].point
        elif blocker is not None:
            reason = "still mounted under %s (not ours, not unmounted)" % describe(table, blocker)
        elif target in result.errors:
            reason = result.errors[target]
        else:
            reason = "still mounted after unmount"
        result.failed[target] = reason


def describe(table, mount):
    """``a mount of /dev/sdb1 (ext4)`` -- or of the directory it was bound from."""
    where = table.describe(mount.dev, mount.root)
    if where.startswith("device "):
        return "a mount of %s (%s, %s)" % (mount.source or "?", mount.fstype, where)
    return "a mount of %s (%s)" % (where, mount.fstype)
