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


class Released:
    """What happened: targets detached lazily, targets still mounted."""

    def __init__(self):
        self.lazy = []
        self.failed = {}  # target -> reason

    @property
    def ok(self):
        return not self.failed


def _unmount_stack(target):
    """Unmount everything stacked on ``target``; True when nothing is left."""
    for _ in range(MAX_STACK):
        try:
            unmount(target)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):  # not (or no longer) a mount point
                return True
            if exc.errno == errno.EBUSY:
                return False
            raise
    return False


def _detach_stack(target):
    for _ in range(MAX_STACK):
        try:
            unmount(target, lazy=True)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):
                return
            raise


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


def _signal_holders(busy, signum, log):
    table = MountTable.read()
    pids = set()
    for target in busy:
        mount = table.at(target)
        if mount is None:
            continue
        found = holders.find(target, mount.st_dev)
        if found:
            log.warning("%s busy: sending %s to %s" % (target, signum.name, holders.describe(found)))
            pids.update(found)
    holders.signal_all(sorted(pids), signum)


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
            _signal_holders(busy, signum, log)
            busy = _wait(_attempt(busy, result), phase, result, sleep)
            if not busy:
                break
    for target in busy:
        if lazy:
            try:
                _detach_stack(target)
            except OSError as exc:
                result.failed[target] = "lazy unmount failed: %s" % exc.strerror
                continue
            result.lazy.append(target)
            log.warning("%s still busy: detached it (lazy unmount)" % target)
        else:
            result.failed[target] = "busy"
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
            where = cover.point if cover is not None else target
            result.failed[target] = "still mounted, hidden under a mount on %s (not ours)" % where
