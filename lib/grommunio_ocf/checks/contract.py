"""The check contract: what a check is, how it ends, and the verdict over many.

A ``Check`` is a name, a target and ``run(deadline)``: it returns a short
detail text when all is well, or raises one of the three outcomes below
with the reason.  Every check of every agent keeps this contract -- the
protocol modules (``protocols/``), the mysql check, postfix-maps' file and
setting checks -- so that one place, ``verdict``, turns outcomes into OCF
codes: a failed critical check fails the resource, anything else that is
wrong only degrades it, a warning changes nothing, and the reason lists the
most important failure first, because Pacemaker keeps 128 characters of it.

``run_all`` runs the checks in threads, each with its own child deadline,
so a monitor takes about as long as the slowest check, not the sum; a
check still running when its deadline is up is reported as such and
abandoned (its thread is a daemon and its sockets have timeouts of their
own).
"""

import time

from ..ocf.status import Status

# Grace for a thread to hand over its result after its own deadline passed.
JOIN_GRACE = 0.05
# Threads that take checks from the start; another joins whenever no check
# has finished for SPAWN_AFTER seconds while some still wait (see run_all).
FIRST_THREADS = 2
SPAWN_AFTER = 0.002


class CheckFailed(Exception):
    """The check failed; ``str()`` is the reason for the admin."""


class CheckDegraded(Exception):
    """It works, but something needs attention: ``OCF_DEGRADED``."""


class CheckWarning(Exception):
    """It works; a note for the admin that changes no result.

    Logged once per start and shown by ``--verbose``; the monitor succeeds.
    """


class CheckSkipped(Exception):
    """Not run, because another check already failed what it needs.

    ``--verbose`` shows it with the reason; the verdict leaves it out (the
    failure it depends on is the reason), e.g. the lookup of a map whose
    ``.cf`` file was judged unfit.
    """


class Check:
    """``run(deadline)`` returns a detail text or raises a ``Check*`` outcome."""

    __slots__ = ("name", "target", "run", "level")

    def __init__(self, name, target, run, level=0):
        self.name = name
        self.target = str(target)
        self.run = run
        self.level = level

    def __repr__(self):
        return "Check(%r, %r)" % (self.name, self.target)


class Outcome:
    """How one check ended; ``state`` is one of the words ``--verbose`` prints."""

    PASSED, WARNED, DEGRADED, FAILED, SKIPPED = "ok", "warning", "degraded", "FAILED", "skipped"

    __slots__ = ("name", "target", "state", "detail", "latency")

    def __init__(self, name, target, state, detail, latency):
        self.name = name
        self.target = target
        self.state = state
        self.detail = detail
        self.latency = latency

    def __repr__(self):
        return "Outcome(%r, %r, %r)" % (self.name, self.state, self.detail)


def run_one(check, deadline, log=None):
    """Run one check in this thread; never raises."""
    started = time.monotonic()
    try:
        state, detail = Outcome.PASSED, check.run(deadline)
    except CheckFailed as exc:
        state, detail = Outcome.FAILED, str(exc)
    except CheckDegraded as exc:
        state, detail = Outcome.DEGRADED, str(exc)
    except CheckWarning as exc:
        state, detail = Outcome.WARNED, str(exc)
    except CheckSkipped as exc:
        state, detail = Outcome.SKIPPED, str(exc)
    except Exception as exc:  # noqa: BLE001 -- a bug in one check must not hide the others
        if log is not None:
            import traceback
            log.debug_lines(traceback.format_exc())
        from ..base.text import printable
        state, detail = Outcome.FAILED, "check failed unexpectedly: %s: %s" % (type(exc).__name__,
                                                                       printable(exc, 200))
    return Outcome(check.name, check.target, state, detail, time.monotonic() - started)


def run_all(checks, deadline, per_check=None, log=None):
    """Outcomes of ``checks`` (in their order), run in parallel within ``deadline``.

    Each check may take ``per_check`` seconds from its start, and never more
    than is left of ``deadline``.

    Threads take the checks in their order, ``FIRST_THREADS`` from the
    start, and one more joins whenever no check has finished for
    ``SPAWN_AFTER`` seconds while others still wait: healthy services answer
    in a fraction of a millisecond, and a thread per check then only made
    seventeen threads queue for the interpreter (a healthy monitor of the
    whole group took 2 ms longer than running the checks one by one), while
    slow or silent services still get a thread each within a few
    milliseconds, so the monitor takes about as long as the slowest check.

    The main thread only starts threads and waits: a check can block where
    no timeout reaches (name resolution), and only an abandoned thread keeps
    the check's limit then.  Plain _thread threads: an abandoned one never
    holds up the exit, and threading's import (with functools and
    collections) would cost every monitor ~4 ms for what a lock does here.
    """
    checks = list(checks)
    count = len(checks)
    if not count:
        return []
    from ..base.cpython import allocate_lock, start_new_thread
    results = [None] * count
    limits = [None] * count          # set when a thread takes the check
    finished = [allocate_lock() for _ in checks]
    for lock in finished:
        lock.acquire()
    taking = allocate_lock()         # guards ``taken`` and ``limits``
    taken = [0]                      # checks handed to a thread so far
    progress = allocate_lock()       # released whenever a check finishes
    progress.acquire()

    def take():
        with taking:
            index = taken[0]
            if index == count:
                return None
            taken[0] = index + 1
            limits[index] = deadline.child(per_check)
            return index

    def work():
        index = take()
        while index is not None:
            try:
                results[index] = run_one(checks[index], limits[index], log)
            finally:
                finished[index].release()
                try:
                    progress.release()
                except RuntimeError:  # released already, not yet seen: one wake-up is enough
                    pass
            index = take()

    for _ in range(min(FIRST_THREADS, count)):
        start_new_thread(work, ())
    threads = min(FIRST_THREADS, count)
    while not deadline.expired():
        with taking:
            waiting = taken[0] < count
        if not waiting:  # every check has its thread and its limit
            break
        if not progress.acquire(True, SPAWN_AFTER) and threads < count:
            start_new_thread(work, ())
            threads += 1
    outcomes = []
    for index, check in enumerate(checks):
        limit = limits[index]
        if limit is not None:
            finished[index].acquire(True, limit.remaining() + JOIN_GRACE)
        outcome = results[index]
        if outcome is None:  # still blocked (e.g. in name resolution), or never taken
            total = limit.total if limit is not None else 0.0
            outcome = Outcome(check.name, check.target, Outcome.FAILED,
                              "no result within %.1fs" % total, total)
        outcomes.append(outcome)
    return outcomes


def verdict(outcomes, critical):
    """``(status, reason)``: SUCCESS, DEGRADED or ERR_GENERIC, worst first.

    ``critical`` is a set of check names whose failure fails the resource.
    """
    fatal = [o for o in outcomes if o.state == Outcome.FAILED and o.name in critical]
    minor = [o for o in outcomes if o.state == Outcome.FAILED and o.name not in critical]
    notes = [o for o in outcomes if o.state == Outcome.DEGRADED]
    if fatal:
        status = Status.ERR_GENERIC
    elif minor or notes:
        status = Status.DEGRADED
    else:
        return Status.SUCCESS, ""
    # The same cause from several targets (one failing postconf behind every
    # setting) is said once.
    reasons = dict.fromkeys("%s: %s" % (o.name, o.detail) for o in fatal + minor + notes)
    return status, "; ".join(reasons)


def report(outcomes, op, critical=()):
    """Human mode: one line per check (``--verbose`` or a TTY)."""
    for o in outcomes:
        result = o.state
        if o.state == Outcome.FAILED and o.name not in critical:
            result = "failed"  # lower case: degrades, does not fail the resource
        op.report(o.name, o.target, result, o.detail, o.latency)
