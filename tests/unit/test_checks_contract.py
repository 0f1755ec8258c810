"""grommunio_ocf.checks.contract: parallel checks, their outcomes, the verdict and the human report."""

import io
import threading
import time

import pytest

from grommunio_ocf.ocf.agent import Operation
from grommunio_ocf.ocf.deadline import Deadline
from grommunio_ocf.checks.contract import (Check, CheckDegraded, CheckFailed, CheckSkipped, CheckWarning, Outcome, report,
                                  run_all, run_one, verdict)
from grommunio_ocf.ocf.status import Status

OK, WARNED, DEGRADED, FAILED = Outcome.PASSED, Outcome.WARNED, Outcome.DEGRADED, Outcome.FAILED


def returns(detail):
    return lambda deadline: detail


def raises(exc):
    def run(deadline):
        raise exc
    return run


def sleeps(seconds, detail="slept"):
    def probe(deadline):
        time.sleep(seconds)
        return detail
    return probe


@pytest.fixture
def release():
    """An event blocked probes wait on; set at teardown so their threads end."""
    event = threading.Event()
    yield event
    event.set()


def blocks(event):
    def run(deadline):
        event.wait(5.0)
        return "too late"
    return run


# -- run_one / run_all: outcome mapping ---------------------------------------------------

@pytest.mark.parametrize("run,state,detail", [
    (returns("'220 ready'"), OK, "'220 ready'"),
    (raises(CheckFailed("connection refused by [::1]:24")), FAILED,
     "connection refused by [::1]:24"),
    (raises(CheckDegraded("certificate expires in 3 days")), DEGRADED,
     "certificate expires in 3 days"),
    (raises(CheckWarning("world-readable")), WARNED, "world-readable"),
    (raises(CheckSkipped("lookup skipped: the .cf file is not usable")), Outcome.SKIPPED,
     "lookup skipped: the .cf file is not usable"),
    (raises(RuntimeError("boom")), FAILED, "check failed unexpectedly: RuntimeError: boom"),
    (raises(KeyError("x")), FAILED, "check failed unexpectedly: KeyError: 'x'"),
])
def test_outcome_mapping(run, state, detail):
    for outcomes in ([run_one(Check("c", "t", run), Deadline(1.0))],
                     run_all([Check("c", "t", run)], Deadline(1.0)),
                     run_all([Check("c", "t", run), Check("other", "t", returns("x"))],
                             Deadline(1.0))[:1]):
        outcome = outcomes[0]
        assert (outcome.name, outcome.target, outcome.state, outcome.detail) == (
            "c", "t", state, detail)
        assert outcome.latency >= 0.0


def test_unexpected_exception_logs_the_traceback(mocker):
    log = mocker.Mock()
    outcome = run_one(Check("c", "t", raises(RuntimeError("boom"))), Deadline(1.0), log)
    assert outcome.state == FAILED
    (text,), _ = log.debug_lines.call_args
    assert "Traceback" in text and "RuntimeError: boom" in text


def test_probe_failure_is_not_logged_as_a_traceback(mocker):
    log = mocker.Mock()
    run_one(Check("c", "t", raises(CheckFailed("down"))), Deadline(1.0), log)
    log.debug_lines.assert_not_called()


def test_check_target_is_text():
    class Target:
        def __str__(self):
            return "imap://localhost:143"

    check = Check("imap", Target(), returns("x"))
    assert check.target == "imap://localhost:143"
    assert check.level == 0
    assert run_one(check, Deadline(1.0)).target == "imap://localhost:143"


# -- run_all: parallel, ordered, bounded ----------------------------------------------------

def test_checks_run_in_parallel():
    checks = [Check(name, name, sleeps(0.2, name)) for name in ("a", "b", "c")]
    started = time.monotonic()
    outcomes = run_all(checks, Deadline(2.0))
    took = time.monotonic() - started
    assert took < 0.45, "checks ran one after another (%.2fs)" % took
    assert [o.detail for o in outcomes] == ["a", "b", "c"]
    assert all(o.state == OK for o in outcomes)


def test_many_slow_checks_still_run_in_parallel():
    # Two threads start; one more joins every SPAWN_AFTER without progress, so
    # twelve checks of 0.3 s each end together, not in six rounds of two.
    checks = [Check("c%d" % n, "t", sleeps(0.3, str(n))) for n in range(12)]
    started = time.monotonic()
    outcomes = run_all(checks, Deadline(5.0))
    took = time.monotonic() - started
    assert took < 0.55, "the slow checks waited for each other (%.2fs)" % took
    assert [o.detail for o in outcomes] == [str(n) for n in range(12)]


def test_quick_checks_share_a_few_threads():
    seen = set()

    def records(deadline):
        seen.add(threading.get_ident())
        return "ok"

    # (A busy machine may delay the first threads by a few SPAWN_AFTER: the
    # bound is loose, the point is "not one thread per check".)
    outcomes = run_all([Check("c%d" % n, "t", records) for n in range(50)], Deadline(5.0))
    assert [o.state for o in outcomes] == [OK] * 50
    assert len(seen) <= 25, "%d threads for 50 checks that return at once" % len(seen)


def test_checks_waiting_for_a_later_one_get_it_a_thread():
    # The first threads both wait for what the third check does: only a
    # thread started because nothing finished can run it.
    done = threading.Event()

    def waits(deadline):
        return "saw it" if done.wait(2.0) else "waited in vain"

    def sets(deadline):
        done.set()
        return "set"

    outcomes = run_all([Check("a", "t", waits), Check("b", "t", waits), Check("c", "t", sets)],
                       Deadline(3.0))
    assert [o.detail for o in outcomes] == ["saw it", "saw it", "set"]


def test_each_check_gets_its_bound_from_its_own_start():
    seen = []

    def records(deadline):
        seen.append(deadline.total)
        return "ok"

    run_all([Check("slow", "s", sleeps(0.3)), Check("slow2", "s", sleeps(0.3)),
             Check("late", "l", records)], Deadline(5.0), per_check=1.0)
    assert seen and seen[0] == pytest.approx(1.0, abs=0.05)


def test_outcomes_keep_the_order_of_the_checks():
    # The first check finishes last: the order is the checks', not the finish order.
    checks = [Check("slow", "s", sleeps(0.15, "slow")), Check("mid", "m", sleeps(0.05, "mid")),
              Check("fast", "f", returns("fast"))]
    assert [o.name for o in run_all(checks, Deadline(2.0))] == ["slow", "mid", "fast"]


def test_blocked_check_is_reported_after_its_deadline(release):
    checks = [Check("quick", "q", returns("fine")), Check("stuck", "s", blocks(release))]
    started = time.monotonic()
    outcomes = run_all(checks, Deadline(0.2))
    took = time.monotonic() - started
    assert took < 0.5
    assert (outcomes[0].state, outcomes[0].detail) == (OK, "fine")
    assert (outcomes[1].name, outcomes[1].state, outcomes[1].detail) == (
        "stuck", FAILED, "no result within 0.2s")
    assert outcomes[1].latency == pytest.approx(0.2, abs=0.01)


def test_per_check_bound_smaller_than_deadline(release):
    seen = []

    def records(deadline):
        seen.append(deadline.total)
        return "ok"

    checks = [Check("rec", "r", records), Check("stuck", "s", blocks(release))]
    started = time.monotonic()
    outcomes = run_all(checks, Deadline(5.0), per_check=0.1)
    assert time.monotonic() - started < 0.4
    assert seen and seen[0] <= 0.1
    assert outcomes[1].detail == "no result within 0.1s"


def test_per_check_bound_larger_than_deadline_is_capped(release):
    checks = [Check("a", "a", returns("x")), Check("stuck", "s", blocks(release))]
    outcomes = run_all(checks, Deadline(0.1), per_check=30.0)
    assert outcomes[1].detail == "no result within 0.1s"


def test_lone_check_gets_the_per_check_bound():
    seen = []

    def records(deadline):
        seen.append(deadline.total)
        return "ok"

    run_all([Check("only", "o", records)], Deadline(5.0), per_check=0.3)
    assert 0.0 < seen[0] <= 0.3


def test_lone_blocked_check_is_abandoned_at_its_deadline(release):
    started = time.monotonic()
    outcomes = run_all([Check("stuck", "s", blocks(release))], Deadline(0.2))
    assert time.monotonic() - started < 0.5
    assert outcomes[0].detail == "no result within 0.2s"


def test_no_checks():
    assert run_all([], Deadline(1.0)) == []


def test_run_all_accepts_a_generator():
    outcomes = run_all((Check(n, n, returns(n)) for n in "xy"), Deadline(1.0))
    assert [o.detail for o in outcomes] == ["x", "y"]


# -- verdict -------------------------------------------------------------------------------

def out(name, state, detail="d"):
    return Outcome(name, "target", state, detail, 0.001)


CRITICAL = {"imap", "mysql"}


@pytest.mark.parametrize("outcomes,status,reason", [
    ([], Status.SUCCESS, ""),
    ([out("imap", OK), out("redis", OK)], Status.SUCCESS, ""),
    ([out("imap", OK), out("redis", FAILED, "refused")], Status.DEGRADED, "redis: refused"),
    ([out("imap", DEGRADED, "slow")], Status.DEGRADED, "imap: slow"),
    ([out("redis", DEGRADED, "slow")], Status.DEGRADED, "redis: slow"),
    ([out("imap", FAILED, "BYE")], Status.ERR_GENERIC, "imap: BYE"),
    # critical failures first, then the other failures, then degraded notes
    ([out("redis", FAILED, "noauth"), out("milter", DEGRADED, "slow"),
      out("imap", FAILED, "BYE"), out("lmtp", FAILED, "421"), out("mysql", FAILED, "denied")],
     Status.ERR_GENERIC, "imap: BYE; mysql: denied; redis: noauth; lmtp: 421; milter: slow"),
    ([out("milter", DEGRADED, "n1"), out("redis", FAILED, "f1")],
     Status.DEGRADED, "redis: f1; milter: n1"),
    # a skipped check is left out: what it depends on failed, and says why
    ([out("imap", Outcome.SKIPPED, "skipped")], Status.SUCCESS, ""),
    ([out("mysql", FAILED, "denied"), out("imap", Outcome.SKIPPED, "skipped")],
     Status.ERR_GENERIC, "mysql: denied"),
])
def test_verdict(outcomes, status, reason):
    assert verdict(outcomes, CRITICAL) == (status, reason)


def test_verdict_with_no_critical_checks_only_degrades():
    assert verdict([out("imap", FAILED, "x")], set())[0] == Status.DEGRADED


# -- report ----------------------------------------------------------------------------------

def operation(verbose):
    return Operation("monitor", {}, 20.0, verbose=verbose, stdout=io.StringIO())


OUTCOMES = [Outcome("imap", "imap://localhost:143", OK, "'* OK ready'", 0.0012),
            Outcome("redis", "127.0.0.1:6379", FAILED, "refused", 0.0005),
            Outcome("mysql", "/etc/gromox/mysql_adaptor.cfg", FAILED, "denied", 0.002),
            Outcome("milter", "localhost:11332", DEGRADED, "slow", 0.1)]


def test_report_writes_one_line_per_check_in_verbose_mode():
    op = operation(True)
    report(OUTCOMES, op, critical={"imap", "mysql"})
    lines = op.stdout.getvalue().splitlines()
    assert len(lines) == 4
    assert [line.split()[0] for line in lines] == ["imap", "redis", "mysql", "milter"]
    assert lines[0].split()[1:4] == ["imap://localhost:143", "ok", "1.2ms"]
    assert lines[0].endswith("'* OK ready'")
    assert lines[1].split()[2] == "failed"    # not critical: lower case, it only degrades
    assert lines[2].split()[2] == "FAILED"
    assert lines[3].split()[2] == "degraded"
    assert lines[3].split()[3] == "100.0ms"


def test_report_is_silent_without_verbose():
    op = operation(False)
    report(OUTCOMES, op, critical={"imap"})
    assert op.stdout.getvalue() == ""


def test_report_default_critical_is_none():
    op = operation(True)
    report([Outcome("imap", "t", FAILED, "x", 0.0)], op)
    assert op.stdout.getvalue().split()[2] == "failed"


def test_the_same_cause_from_several_targets_is_said_once():
    outcomes = [Outcome("setting", "a", FAILED, "postconf: fatal", 0),
                Outcome("setting", "b", FAILED, "postconf: fatal", 0),
                Outcome("cf", "c", FAILED, "postconf: fatal", 0)]
    assert verdict(outcomes, {"setting", "cf"}) == (
        Status.ERR_GENERIC, "setting: postconf: fatal; cf: postconf: fatal")
