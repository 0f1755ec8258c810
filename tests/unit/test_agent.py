"""grommunio_ocf.ocf.agent.run: argv/environment -> action -> exit code and reason."""

import io

import pytest

from grommunio_ocf.ocf import agent as agent_mod
from grommunio_ocf.ocf.agent import Action, Agent, Operation, run
from grommunio_ocf.ocf.params import BOOLEAN, INTEGER, STRING, Param, Problem
from grommunio_ocf.ocf.status import OCFError, Status

from helpers import Result

BASE_ENV = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "r1", "HA_LOGFACILITY": "none"}


def call(agent_cls, *words, params=None, env=None):
    environ = dict(BASE_ENV)
    environ.update({"OCF_RESKEY_" + k: v for k, v in (params or {}).items()})
    environ.update(env or {})
    out, err = io.StringIO(), io.StringIO()
    rc = run(agent_cls, argv=[agent_cls.name or "agent", *words], environ=environ,
             stdout=out, stderr=err)
    return Result(rc, out.getvalue(), err.getvalue())


class Recorder(Agent):
    """Records the op of the last action it ran."""

    name = "recorder"
    shortdesc = longdesc = "records"
    params = (
        Param("port", INTEGER, "80", minimum=1, shortdesc="port"),
        Param("flag", BOOLEAN, "false", shortdesc="flag"),
        Param("ip", STRING, shortdesc="ip", required=True),
    )
    actions = (Action("start", 45), Action("stop", 33), Action("monitor", 12, interval=10))
    check_levels = (0, 10)
    last = None

    def _record(self, values, op):
        type(self).last = (values, op)
        return Status.SUCCESS

    start = stop = monitor = _record


@pytest.fixture(autouse=True)
def _reset_recorder():
    Recorder.last = None
    yield
    Recorder.last = None


GOOD = {"ip": "10.0.0.1"}


class Minimal(Agent):
    name = "minimal"
    shortdesc = longdesc = "minimal"
    params = (Param("x", STRING, "", shortdesc="x"),)
    actions = (Action("start", 10), Action("stop", 10), Action("monitor", 10))

    def start(self, v, op):
        return None          # None means success

    def stop(self, v, op):
        return Status.SUCCESS

    def monitor(self, v, op):
        return 7             # a plain int is turned into a Status


# -- which actions exist ------------------------------------------------------------

@pytest.mark.parametrize("action", ["promote", "demote", "notify", "reload", "migrate_to",
                                    "migrate_from", "frobnicate", "Start", "meta_data2"])
def test_unimplemented_action_is_exactly_3(action):
    result = call(Minimal, action)
    assert result.rc == Status.ERR_UNIMPLEMENTED
    assert int(result.rc) == 3
    assert len(result.reasons) == 1
    assert action in result.reason


def test_no_action_is_2():
    result = call(Minimal)
    assert result.rc == Status.ERR_ARGS == 2
    assert result.stderr.startswith("usage: minimal {")
    assert len(result.reasons) == 1


def test_two_actions_is_2():
    result = call(Minimal, "start", "stop")
    assert result.rc == 2
    assert "start stop" in result.reason


def test_only_verbose_flag_is_no_action():
    assert call(Minimal, "--verbose").rc == 2


@pytest.mark.parametrize("word", ["meta-data", "meta_data"])
def test_meta_data_is_0(word):
    result = call(Minimal, word)
    assert result.rc == 0
    assert result.stdout.startswith('<?xml version="1.0"?>\n<!DOCTYPE resource-agent')
    assert result.stderr == ""


def test_meta_data_needs_no_valid_params():
    result = call(Recorder, "meta-data", params={"port": "nope"})
    assert result.rc == 0 and result.reason is None


@pytest.mark.parametrize("word", ["usage", "help", "--help", "-h"])
def test_usage_is_0(word):
    result = call(Minimal, word)
    assert result.rc == 0
    assert result.stdout == "usage: minimal {meta-data|start|stop|monitor|validate-all} [--verbose]\n"
    assert result.stderr == ""


def test_usage_lists_only_implemented_actions():
    class Promotable(Minimal):
        name = "prom"

        def promote(self, v, op):
            return 0

        def demote(self, v, op):
            return 0

    text = agent_mod.usage(Promotable)
    assert "{meta-data|start|stop|monitor|validate-all|promote|demote}" in text
    assert "status" not in text and "notify" not in text


def test_status_is_an_alias_of_monitor():
    assert call(Minimal, "status").rc == 7
    assert call(Minimal, "monitor").rc == 7


def test_return_values_become_status():
    start = call(Minimal, "start")
    assert start.rc == 0 and type(start.rc) is int
    monitor = call(Minimal, "monitor")
    assert monitor.rc is Status.NOT_RUNNING


def test_validate_all_default_succeeds():
    result = call(Recorder, "validate-all", params=GOOD)
    assert result.rc == 0 and result.reason is None


# -- parameters --------------------------------------------------------------------

def test_invalid_params_are_6_with_one_reason_naming_every_bad_param():
    result = call(Recorder, "start", params={"port": "0", "flag": "maybe"})
    assert result.rc == Status.ERR_CONFIGURED
    assert len(result.reasons) == 1
    for name in ("port", "flag", "ip"):
        assert name + ":" in result.reason
    assert Recorder.last is None  # the action never ran


@pytest.mark.parametrize("action", ["start", "monitor", "validate-all", "status"])
def test_invalid_params_fail_every_action_but_stop(action):
    result = call(Recorder, action, params={"port": "x", "ip": "1"})
    assert result.rc == 6
    assert result.reason.startswith("port:")


def test_stop_with_invalid_params_is_0():
    result = call(Recorder, "stop", params={"port": "0", "flag": "perhaps"})
    assert result.rc == Status.SUCCESS
    assert result.reason is None
    assert "WARNING: recorder(r1): stop with invalid parameters" in result.stderr
    assert Recorder.last is None  # nothing to stop: stop() itself is not called


def test_stop_with_missing_required_param_is_0():
    result = call(Recorder, "stop")
    assert result.rc == 0 and result.reason is None
    assert "ip: required parameter is not set" in result.stderr


def test_stop_with_valid_params_runs_stop():
    assert call(Recorder, "stop", params=GOOD).rc == 0
    values, op = Recorder.last
    assert op.action == "stop" and values.ip == "10.0.0.1"


def test_stop_with_derive_problem_is_0():
    class Derives(Recorder):
        name = "derives"

        def derive(self, values):
            yield Problem(Status.ERR_CONFIGURED, "combination is wrong")

    result = call(Derives, "stop", params=GOOD)
    assert result.rc == 0 and result.reason is None


def test_stop_when_derive_crashes_on_none_values_is_0_not_traceback():
    # Issue 11: input never fails a stop (that means fencing); the bug is logged.
    class Fragile(Recorder):
        name = "fragile"

        def derive(self, values):
            values.port + 1   # None + 1 when port did not parse
            return ()

    result = call(Fragile, "stop", params={"port": "bad", "ip": "x"})
    assert result.rc == 0
    assert "Traceback" not in result.stderr
    assert "could not be checked (a bug)" in result.stderr
    assert call(Fragile, "start", params={"port": "bad", "ip": "x"}).rc == 1


# -- unexpected exceptions and OCFError ------------------------------------------------

class Crashes(Minimal):
    name = "crashes"

    def start(self, v, op):
        raise RuntimeError("boom\nsecond line")

    def monitor(self, v, op):
        raise OCFError(Status.ERR_INSTALLED, "tool missing:\n /usr/bin/x")

    def stop(self, v, op):
        raise OCFError(Status.FAILED_PROMOTED, "promoted instance failed")


def test_unexpected_exception_is_1_with_one_reason_and_no_traceback():
    result = call(Crashes, "start")
    assert result.rc == Status.ERR_GENERIC
    assert len(result.reasons) == 1
    assert result.reason == "start failed unexpectedly: RuntimeError: boom second line"
    assert "Traceback" not in result.stderr
    assert "ERROR: crashes(r1): start failed unexpectedly" in result.stderr
    assert "DEBUG" not in result.stderr


def test_unexpected_exception_with_ha_debug_logs_traceback_as_debug_lines():
    result = call(Crashes, "start", env={"HA_debug": "1"})
    assert result.rc == 1
    assert len(result.reasons) == 1
    lines = result.stderr.splitlines()
    debug = [line for line in lines if line.startswith("DEBUG: crashes(r1): ")]
    assert any("Traceback (most recent call last):" in line for line in debug)
    assert any("RuntimeError: boom" in line for line in debug)
    assert any('in start' in line for line in debug)
    # Every line is a log record or the exit reason: no bare traceback.
    for line in lines:
        assert line.startswith(("DEBUG: ", "ERROR: ", "ocf-exit-reason:")), line
    for line in lines:
        if "Traceback" in line:
            assert line.startswith("DEBUG: ")


def test_ocferror_gives_its_code_and_reason():
    result = call(Crashes, "monitor")
    assert result.rc == Status.ERR_INSTALLED
    assert result.reason == "tool missing: /usr/bin/x"
    assert "ERROR: crashes(r1): monitor: tool missing: /usr/bin/x" in result.stderr


def test_ocferror_with_non_error_code():
    result = call(Crashes, "stop")
    assert result.rc == Status.FAILED_PROMOTED
    assert result.reason == "promoted instance failed"


def test_exception_in_agent_constructor_is_1():
    class BadInit(Minimal):
        name = "badinit"

        def __init__(self, log):
            raise KeyError("nope")

    result = call(BadInit, "start")
    assert result.rc == 1 and len(result.reasons) == 1
    assert "Traceback" not in result.stderr


def test_unexpected_exception_in_validator_is_1():
    def explode(value):
        raise TypeError("validator bug")

    class Explodes(Minimal):
        name = "explodes"
        params = (Param("x", STRING, "v", shortdesc="x", validator=explode),)

    result = call(Explodes, "start")
    assert result.rc == 1
    assert "TypeError: validator bug" in result.reason


# -- OCF_CHECK_LEVEL -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["OCF_CHECK_LEVEL", "OCF_RESKEY_OCF_CHECK_LEVEL"])
def test_check_level_accepted(name):
    result = call(Recorder, "monitor", params=GOOD, env={name: "10"})
    assert result.rc == 0
    assert Recorder.last[1].depth == 10


def test_check_level_unset_is_0():
    call(Recorder, "monitor", params=GOOD)
    assert Recorder.last[1].depth == 0


def test_check_level_empty_is_0():
    call(Recorder, "monitor", params=GOOD, env={"OCF_CHECK_LEVEL": " "})
    assert Recorder.last[1].depth == 0


def test_check_level_plain_variable_wins():
    call(Recorder, "monitor", params=GOOD,
         env={"OCF_CHECK_LEVEL": "0", "OCF_RESKEY_OCF_CHECK_LEVEL": "10"})
    assert Recorder.last[1].depth == 0


@pytest.mark.parametrize("level", ["20", "abc", "-1", "1.0"])
@pytest.mark.parametrize("name", ["OCF_CHECK_LEVEL", "OCF_RESKEY_OCF_CHECK_LEVEL"])
def test_unknown_check_level_is_6_naming_ocf_check_level(name, level):
    result = call(Recorder, "monitor", params=GOOD, env={name: level})
    assert result.rc == Status.ERR_CONFIGURED
    assert "OCF_CHECK_LEVEL" in result.reason
    assert repr(level) in result.reason
    assert Recorder.last is None


def test_unknown_check_level_combined_with_param_problems():
    result = call(Recorder, "monitor", params={"port": "x"}, env={"OCF_CHECK_LEVEL": "99"})
    assert result.rc == 6
    assert len(result.reasons) == 1
    for word in ("port:", "ip:", "OCF_CHECK_LEVEL"):
        assert word in result.reason


def test_check_level_is_ignored_by_other_actions():
    result = call(Recorder, "start", params=GOOD, env={"OCF_CHECK_LEVEL": "99"})
    assert result.rc == 0
    assert Recorder.last[1].depth == 0


# -- Operation: timeout, deadline, probe, rsctmp, verbose ------------------------------------

def test_meta_timeout_sets_timeout_and_deadline():
    call(Recorder, "start", params=GOOD, env={"OCF_RESKEY_CRM_meta_timeout": "90000"})
    op = Recorder.last[1]
    assert op.timeout == 90.0
    # 10% reserve capped at 2 s
    assert 87.5 < op.deadline.remaining() <= 88.0


def test_small_meta_timeout_keeps_minimum_reserve():
    call(Recorder, "start", params=GOOD, env={"OCF_RESKEY_CRM_meta_timeout": "1000"})
    op = Recorder.last[1]
    assert op.timeout == 1.0
    assert 0.7 < op.deadline.remaining() <= 0.8


@pytest.mark.parametrize("action,declared", [("start", 45.0), ("stop", 33.0), ("monitor", 12.0)])
def test_default_timeout_is_the_declared_one(action, declared):
    call(Recorder, action, params=GOOD)
    op = Recorder.last[1]
    assert op.timeout == declared
    reserve = min(2.0, max(0.2, declared * 0.1))
    assert declared - reserve - 0.5 < op.deadline.remaining() <= declared - reserve


@pytest.mark.parametrize("text", ["", "0", "abc", "-5"])
def test_bad_or_zero_meta_timeout_falls_back_to_declared(text):
    call(Recorder, "start", params=GOOD, env={"OCF_RESKEY_CRM_meta_timeout": text})
    assert Recorder.last[1].timeout == 45.0


def test_undeclared_action_uses_default_timeout():
    assert Recorder.default_timeout("validate-all") == agent_mod.DEFAULT_TIMEOUT == 20.0


def test_status_alias_uses_monitor_declared_timeout():
    call(Recorder, "status", params=GOOD)
    assert Recorder.last[1].timeout == 12.0


def test_interval_is_read_from_crm_meta():
    call(Recorder, "monitor", params=GOOD, env={"OCF_RESKEY_CRM_meta_interval": "10000"})
    assert Recorder.last[1].interval_ms == 10000
    call(Recorder, "monitor", params=GOOD)
    assert Recorder.last[1].interval_ms == 0


def test_rsctmp_default():
    call(Recorder, "start", params=GOOD)
    assert Recorder.last[1].rsctmp == "/run/resource-agents" == agent_mod.DEFAULT_RSCTMP


def test_rsctmp_from_environment():
    call(Recorder, "start", params=GOOD, env={"HA_RSCTMP": "/tmp/x"})
    assert Recorder.last[1].rsctmp == "/tmp/x"


def test_op_carries_instance_and_ocf_root():
    call(Recorder, "start", params=GOOD)
    op = Recorder.last[1]
    assert op.instance == "r1" and op.ocf_root == "/usr/lib/ocf" and op.action == "start"


class Reporter(Minimal):
    name = "reporter"
    seen = None

    def monitor(self, v, op):
        type(self).seen = op.verbose
        op.report("bind", "/var/lib/x", "ok", "from /grodata/x", latency=0.0015)
        op.report("write", "/grodata", "ok")
        return 0


@pytest.mark.parametrize("flag", ["--verbose", "-v"])
def test_verbose_turns_on_report(flag):
    result = call(Reporter, "monitor", flag)
    assert result.rc == 0
    assert Reporter.seen is True
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["bind", "/var/lib/x", "ok", "1.5ms", "from", "/grodata/x"]
    assert lines[1].split() == ["write", "/grodata", "ok"]


def test_verbose_flag_may_come_first():
    result = call(Reporter, "--verbose", "monitor")
    assert result.rc == 0 and Reporter.seen is True


def test_without_verbose_report_prints_nothing():
    result = call(Reporter, "monitor")
    assert result.rc == 0
    assert Reporter.seen is False
    assert result.stdout == ""


def test_report_writes_to_given_stream_only_when_verbose():
    out = io.StringIO()
    op = Operation("monitor", {}, 20.0, verbose=False, stdout=out)
    op.report("a", "b", "c")
    assert out.getvalue() == ""
    op.verbose = True
    op.report("a", "b", "c")
    assert out.getvalue().split() == ["a", "b", "c"]


# -- derive() and check() --------------------------------------------------------------------

class Checks(Agent):
    name = "checks"
    shortdesc = longdesc = "checks"
    params = (Param("a", INTEGER, "1", shortdesc="a"), Param("b", INTEGER, "2", shortdesc="b"))
    actions = (Action("start", 10), Action("stop", 10), Action("monitor", 10))
    check_problems = ()
    checked = None

    def derive(self, values):
        if values.a is not None and values.b is not None and values.a > values.b:
            yield Problem(Status.ERR_CONFIGURED, "a must not exceed b")
            yield Problem(Status.ERR_CONFIGURED, "b must be at least a")
        values.total = None if None in (values.a, values.b) else values.a + values.b

    def check(self, values, op):
        type(self).checked = op.action
        return list(self.check_problems)

    def start(self, v, op):
        return Status.SUCCESS if v.total == 3 else Status.ERR_GENERIC

    def stop(self, v, op):
        return Status.SUCCESS

    def monitor(self, v, op):
        return Status.SUCCESS


@pytest.fixture(autouse=True)
def _reset_checks():
    Checks.check_problems = ()
    Checks.checked = None


def test_derive_adds_values():
    assert call(Checks, "start").rc == 0


def test_derive_problems_are_combined_with_param_problems_in_one_reason():
    class Both(Checks):
        name = "both"
        params = Checks.params + (Param("c", INTEGER, "1", minimum=1, shortdesc="c"),)

    result = call(Both, "start", params={"a": "5", "c": "0"})
    assert result.rc == 6
    assert len(result.reasons) == 1
    assert result.reason == ("c: 0 is less than 1; a must not exceed b; "
                             "b must be at least a")
    assert Both.checked is None   # check() does not run on top of parameter problems


def test_check_problems_combined_and_worst_wins():
    Checks.check_problems = (Problem(Status.ERR_INSTALLED, "tool missing"),
                             Problem(Status.ERR_CONFIGURED, "wrong combo"),
                             Problem(Status.ERR_PERM, "no access"))
    result = call(Checks, "start")
    assert result.rc == Status.ERR_CONFIGURED
    assert result.reason == "tool missing; wrong combo; no access"
    assert Checks.checked == "start"


def test_check_runs_for_validate_all():
    Checks.check_problems = (Problem(Status.ERR_INSTALLED, "tool missing"),)
    result = call(Checks, "validate-all")
    assert (result.rc, result.reason) == (Status.ERR_INSTALLED, "tool missing")


@pytest.mark.parametrize("action", ["monitor", "stop"])
def test_check_does_not_run_for_monitor_or_stop(action):
    Checks.check_problems = (Problem(Status.ERR_INSTALLED, "tool missing"),)
    assert call(Checks, action).rc == 0
    assert Checks.checked is None


def test_derive_problems_fail_monitor():
    result = call(Checks, "monitor", params={"a": "9"})
    assert result.rc == 6
    assert result.reason == "a must not exceed b; b must be at least a"


def test_unknown_parameters_are_a_warning_at_validate_and_start():
    class A(Agent):
        name = "a"
        params = (Param("known", STRING, "", shortdesc="k"),)

        def start(self, v, op):
            return Status.SUCCESS

    r = call(A, "validate-all", params={"knwon": "x", "CRM_meta_timeout": "20000",
                                        "crm_feature_set": "3.16.2"})
    assert r.rc == 0 and r.reason is None
    assert "ignoring unknown parameters: knwon" in r.stderr
    assert "CRM_meta" not in r.stderr and "crm_feature_set" not in r.stderr


# -- issue 11: hostile command lines and environments ----------------------------------

def _one_reason(result):
    reasons = result.reasons
    assert len(reasons) == 1, result
    assert "\n" not in reasons[0] and len(reasons[0].encode()) <= 512
    return reasons[0]


@pytest.mark.parametrize("word", ["\udcff", "st\udcfeart", "x" * 10000, "\x0b", "\u2028"])
def test_unknown_hostile_action_is_3_with_one_printable_reason(word):
    result = call(Recorder, word, params=GOOD)
    assert result.rc == 3
    reason = _one_reason(result)
    assert reason.isprintable() and not any("\udc80" <= c <= "\udcff" for c in reason)


def test_two_hostile_words_are_2():
    result = call(Recorder, "start", "\udcff", params=GOOD)
    assert result.rc == 2
    assert "\\xff" in _one_reason(result)


def test_non_utf8_parameter_name_is_only_a_warning(mocker):
    import syslog
    mocker.patch.object(syslog, "openlog")
    mocker.patch.object(syslog, "syslog")
    result = call(Recorder, "validate-all", params=GOOD,
                  env={"OCF_RESKEY_\udcff": "1", "HA_LOGFACILITY": "daemon"})
    assert result.rc == 0
    assert "ignoring unknown parameters: \\xff" in result.stderr


@pytest.mark.parametrize("action", ["validate-all", "start", "monitor", "stop"])
def test_non_utf8_value(action):
    result = call(Recorder, action, params={"ip": "\udcff"})
    if action == "stop":
        assert (result.rc, result.reasons) == (0, [])
    else:
        assert result.rc == 6
        assert _one_reason(result) == "ip: '\\xff' is not valid UTF-8"


@pytest.mark.parametrize("timeout", ["9" * 5000, "1e9", "-", "１０"])
def test_absurd_meta_timeout_falls_back_to_the_default(timeout):
    result = call(Recorder, "start", params=GOOD, env={"OCF_RESKEY_CRM_meta_timeout": timeout})
    assert result.rc == 0
    assert Recorder.last[1].timeout == 45.0


def test_a_failure_without_reason_gets_one():
    class Silent(Minimal):
        name = "silent"

        def start(self, v, op):
            return Status.ERR_GENERIC

    result = call(Silent, "start")
    assert (result.rc, result.reason) == (1, "start returned OCF_ERR_GENERIC")


def test_unexpected_error_with_a_huge_message_is_bounded():
    class Huge(Minimal):
        name = "huge"

        def start(self, v, op):
            raise ValueError("\udcff" * 100000)

    result = call(Huge, "start")
    assert result.rc == 1
    assert _one_reason(result).startswith("start failed unexpectedly: ValueError: \\xff")


def test_closed_stdout_does_not_change_the_result():
    out = io.StringIO()
    out.close()
    rc = run(Recorder, argv=["recorder", "meta-data"], environ=dict(BASE_ENV), stdout=out,
             stderr=io.StringIO())
    assert rc == 0
