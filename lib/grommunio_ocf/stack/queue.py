"""gromox-delivery's queue: does it drain?

gromox-delivery has no listener to ask.  gromox-delivery-queue writes each
accepted message as a file ``mess/<id>`` under the dequeue path (default
``/var/lib/gromox/queue``; gromox mda/message_enqueue.cpp) and tells
gromox-delivery over a SysV message queue; delivery takes the file, and
files it could not deliver end up in ``save/`` (mda/delivery_app/
message_dequeue.cpp).  A delivery agent that hangs or is gone leaves
``mess/`` growing old, so the age of its oldest file is the proof:
older than ``max_age`` seconds degrades (never fails: mail waits, it is not
lost, and a failover would not deliver it faster).  ``save/``'s count is
shown because it only grows by hand-off failures an admin should see.

The scan is bounded: at most ``SCAN_LIMIT`` entries per directory, and the
deadline is checked as it goes.
"""

import os
import time

from ..checks.contract import CheckDegraded, CheckFailed

SCAN_LIMIT = 100000


def _scan(path, deadline, oldest_too):
    """``(count, oldest mtime or None)`` of the regular files in ``path``."""
    count, oldest = 0, None
    with os.scandir(path) as entries:
        for entry in entries:
            if count % 1024 == 1023 and deadline.remaining() <= 0:
                raise CheckFailed("%s: no scan within %.1fs (%d files so far)"
                                  % (path, deadline.total, count))
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if oldest_too:
                    mtime = entry.stat(follow_symlinks=False).st_mtime
                    if oldest is None or mtime < oldest:
                        oldest = mtime
            except FileNotFoundError:  # delivered while we looked: not waiting any more
                continue
            count += 1
            if count >= SCAN_LIMIT:
                break
    return count, oldest


def _files(path, deadline, oldest_too):
    try:
        return _scan(path, deadline, oldest_too)
    except FileNotFoundError:
        raise CheckFailed("no directory %s (is this the dequeue_path of gromox-delivery?)"
                          % path) from None
    except NotADirectoryError:
        raise CheckFailed("%s is not a directory" % path) from None
    except OSError as exc:
        raise CheckFailed("cannot read %s: %s" % (path, exc.strerror or exc)) from None


def _count(count):
    return "%d%s" % (count, "+" if count >= SCAN_LIMIT else "")


def check(queue_dir, max_age, deadline):
    waiting, oldest = _files(queue_dir + "/mess", deadline, True)
    saved, _ = _files(queue_dir + "/save", deadline, False)
    age = 0.0 if oldest is None else max(0.0, time.time() - oldest)
    if oldest is not None and age > max_age:
        raise CheckDegraded("oldest message in %s/mess waits for %.0fs (more than %.0fs; "
                            "%s waiting): is gromox-delivery draining the queue?"
                            % (queue_dir, age, max_age, _count(waiting)))
    if oldest is None:
        state = "mess/ empty"
    else:
        state = "%s waiting in mess/, oldest %.0fs" % (_count(waiting), age)
    return "%s; %s in save/" % (state, _count(saved))
