"""Run an agent's checks in parallel and turn their outcomes into one verdict.

Each ``Check`` is a named probe with a target.  ``run_all`` gives every
check its own child deadline and a thread, so a monitor takes as long as the
slowest check, not the sum; a check still running when its deadline is up
is reported as such and abandoned (its thread is a daemon and its sockets
have timeouts of their own).  ``verdict`` maps the outcomes to OCF codes:
a failed critical check fails the resource, anything else that is wrong
only degrades it, and the reason lists the most important failure first,
because Pacemaker keeps 128 characters of it.
"""

import time

from .probes import ProbeDegraded, ProbeFailure, ProbeWarning
from .status import Status

# WARNING is healthy with a note (logged once per start, shown by --verbose).
OK, WARNING, DEGRADED, FAILED = "ok", "warning", "degraded", "FAILED"
# Grace for a thread to hand over its result after its own deadline passed.
JOIN_GRACE = 0.05


class Check:
    """``probe(deadline)`` returns a detail text or raises a ``Probe*`` exception."""

    __slots__ = ("name", "target", "probe", "level")

    def __init__(self, name, target, probe, level=0):
        self.name = name
        self.target = str(target)
        self.probe = probe
        self.level = level

    def __repr__(self):
        return "Check(%r, %r)" % (self.name, self.target)


class Outcome:
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
        state, detail = OK, check.probe(deadline)
    except ProbeFailure as exc:
        state, detail = FAILED, str(exc)
    except ProbeDegraded as exc:
        state, detail = DEGRADED, str(exc)
    except ProbeWarning as exc:
        state, detail = WARNING, str(exc)

    except Exception as exc:  # noqa: BLE001 -- a bug in one check must not hide the others
        if log is not None:
            import traceback
            log.debug_lines(traceback.format_exc())
        from .log import printable
        state, detail = FAILED, "check failed unexpectedly: %s: %s" % (type(exc).__name__,
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
    # A thread even for a lone check: a probe can block where no timeout
    # reaches (name resolution), and only an abandoned thread keeps the
    # check's limit then.
    import threading
    results = [None] * len(checks)
    limits = [deadline.child(per_check) for _ in checks]

    def work(index):
        results[index] = run_one(checks[index], limits[index], log)

    threads = [threading.Thread(target=work, args=(i,), daemon=True,
                                name="check-" + c.name) for i, c in enumerate(checks)]
    for thread in threads:
        thread.start()
    for index, thread in enumerate(threads):
        thread.join(limits[index].remaining() + JOIN_GRACE)
    outcomes = []
    for index, check in enumerate(checks):
        outcome = results[index]
        if outcome is None:  # still blocked (e.g. in name resolution)
            outcome = Outcome(check.name, check.target, FAILED,
                              "no result within %.1fs" % limits[index].total, limits[index].total)
        outcomes.append(outcome)
    return outcomes


def verdict(outcomes, critical):
    """``(status, reason)``: SUCCESS, DEGRADED or ERR_GENERIC, worst first.

    ``critical`` is a set of check names whose failure fails the resource.
    """
    fatal = [o for o in outcomes if o.state == FAILED and o.name in critical]
    minor = [o for o in outcomes if o.state == FAILED and o.name not in critical]
    notes = [o for o in outcomes if o.state == DEGRADED]
    if fatal:
        status = Status.ERR_GENERIC
    elif minor or notes:
        status = Status.DEGRADED
    else:
        return Status.SUCCESS, ""
    return status, "; ".join("%s: %s" % (o.name, o.detail) for o in fatal + minor + notes)


def report(outcomes, op, critical=()):
    """Human mode: one line per check (``--verbose`` or a TTY)."""
    for o in outcomes:
        result = o.state
        if o.state == FAILED and o.name not in critical:
            result = "failed"  # lower case: degrades, does not fail the resource
        op.report(o.name, o.target, result, o.detail, o.latency)
