"""The check contract: what a check is, how it ends, and the verdict over many.

A ``Check`` is a name, a target and ``run(deadline)``: it returns a short
detail text when all is well, or raises one of the three outcomes below
with the reason.  Every check of every agent keeps this contract -- the
protocol modules (``protocols/``), the mysql check, postfix-maps' file and
setting checks -- so that one place, ``verdict``, turns outcomes into OCF
codes: a failed critical check fails the resource, anything else that is
wrong only degrades it, a warning changes nothing, and the reason lists the
most important failure first, because Pacemaker keeps 128 characters of it.

``run_all`` gives every check its own child deadline and a thread, so a
monitor takes as long as the slowest check, not the sum; a check still
running when its deadline is up is reported as such and abandoned (its
thread is a daemon and its sockets have timeouts of their own).
"""

import time

from ..ocf.status import Status

# Grace for a thread to hand over its result after its own deadline passed.
JOIN_GRACE = 0.05


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

    Each check may take ``per_check`` seconds, and never more than is left
    of ``deadline``.
    """
    checks = list(checks)
    if not checks:
        return []
    # A thread even for a lone check: a check can block where no timeout
    # reaches (name resolution), and only an abandoned thread keeps the
    # check's limit then.  Plain _thread threads: an abandoned one never
    # holds up the exit, and threading's import (with functools and
    # collections) would cost every monitor ~4 ms for what a lock does here.
    from ..base.cpython import allocate_lock, start_new_thread
    results = [None] * len(checks)
    limits = [deadline.child(per_check) for _ in checks]
    finished = [allocate_lock() for _ in checks]

    def work(index):
        try:
            results[index] = run_one(checks[index], limits[index], log)
        finally:
            finished[index].release()

    for index, lock in enumerate(finished):
        lock.acquire()
        start_new_thread(work, (index,))
    for index, lock in enumerate(finished):
        lock.acquire(True, limits[index].remaining() + JOIN_GRACE)
    outcomes = []
    for index, check in enumerate(checks):
        outcome = results[index]
        if outcome is None:  # still blocked (e.g. in name resolution)
            outcome = Outcome(check.name, check.target, Outcome.FAILED,
                              "no result within %.1fs" % limits[index].total, limits[index].total)
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
