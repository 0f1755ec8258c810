"""grommunio_ocf.checks.agent and .state: an agent that watches services, driven through agent.run.

``Watcher`` has two checks whose outcome the test sets: ``core`` (critical)
and ``extra`` (only degrades).  attrd is mocked: no attrd_updater runs.
"""

import io
import os
import time

import pytest

from grommunio_ocf.ocf import attrd
from grommunio_ocf.ocf.agent import Action, run
from grommunio_ocf.checks.agent import CheckAgent, shared
from grommunio_ocf.checks.contract import Check, CheckDegraded, CheckFailed
from grommunio_ocf.ocf.params import SECONDS, STRING, Param
from grommunio_ocf.ocf.state import StateFile, state_path
from grommunio_ocf.ocf.status import OCFError, Status

from helpers import Result


class Script:
    """What each check does next: "ok", "fail", "degraded", or a list used up in turn."""

    def __init__(self):
        self.plan = {"core": "ok", "extra": "ok"}
        self.calls = {"core": 0, "extra": 0}

    def outcome(self, name):
        self.calls[name] += 1
        plan = self.plan[name]
        if isinstance(plan, list):
            plan = plan.pop(0) if len(plan) > 1 else plan[0]
        if plan == "fail":
            raise CheckFailed("%s is down" % name)
        if plan == "degraded":
            raise CheckDegraded("%s is slow" % name)
        return "%s fine" % name


class Watcher(CheckAgent):
    name = "watcher"
    shortdesc = longdesc = "watches two services"
    params = (shared("fall"), shared("check_timeout", default="10"), shared("health_attribute"))
    actions = (Action("start", 10), Action("stop", 10), Action("monitor", 10, interval=10))
    poll_interval = 0.05
    script = None

    def checks(self, values, op):
        return [Check(name, "target-" + name, self._run(name)) for name in ("core", "extra")]

    def _run(self, name):
        return lambda deadline: type(self).script.outcome(name)

    def critical(self, values):
        return {"core"}


class OnceWatcher(Watcher):
    start_waits = False


@pytest.fixture
def script():
    Watcher.script = Script()
    yield Watcher.script
    Watcher.script = None


@pytest.fixture
def attr(mocker):
    """attrd mocked: publish/clear succeed unless told otherwise."""
    mocker.patch.object(attrd, "publish", return_value=None)
    mocker.patch.object(attrd, "clear", return_value=None)
    return attrd


@pytest.fixture
def call(tmp_path, script, attr):
    def invoke(action, params=None, env=None, agent=Watcher):
        environ = {"HA_RSCTMP": str(tmp_path), "OCF_RESOURCE_INSTANCE": "x",
                   "HA_LOGFACILITY": "none", "OCF_ROOT": "/usr/lib/ocf"}
        environ.update({"OCF_RESKEY_" + k: v for k, v in (params or {}).items()})
        environ.update(env or {})
        out, err = io.StringIO(), io.StringIO()
        rc = run(agent, argv=[agent.name, action], environ=environ, stdout=out, stderr=err)
        return Result(rc, out.getvalue(), err.getvalue())
    return invoke


@pytest.fixture
def state(tmp_path):
    return StateFile(state_path(str(tmp_path), "watcher", "x"))


# -- the shared parameters, declared and checked at class creation ----------------------------

def _declare(params, **body):
    body.setdefault("checks", lambda self, values, op: [])
    return type("Declared", (CheckAgent,), dict(body, name="declared", params=params))


def test_shared_parameters_are_offered_by_declaration():
    agent = _declare((shared("check_timeout", default="10"),))
    assert agent.offers == {"check_timeout"}
    assert agent.params[0].default == "10" and agent.params[0].type is SECONDS
    assert Watcher.offers == {"fall", "check_timeout", "health_attribute"}


def test_an_agent_without_fall_or_attribute_gets_the_neutral_values():
    agent = _declare((shared("check_timeout"),))
    values = type("V", (), {"check_timeout": 5.0})()
    assert agent().shared_value(values, "fall") == 1
    assert agent().shared_value(values, "health_attribute") is None


def test_check_timeout_is_needed():
    with pytest.raises(TypeError, match=r"needs the parameter check_timeout: add "
                                        r"shared\('check_timeout'\)"):
        _declare((shared("fall"),))


def test_a_shared_name_declared_by_hand_with_another_type_is_refused():
    with pytest.raises(TypeError, match=r"parameter fall is CheckAgent's: declare it with "
                                        r"shared\('fall'\)"):
        _declare((shared("check_timeout"), Param("fall", STRING, "1", shortdesc="x")))


def test_checks_must_be_defined():
    with pytest.raises(TypeError, match=r"must define checks\(\)"):
        type("NoChecks", (CheckAgent,), dict(name="x", params=(shared("check_timeout"),)))


def test_shared_keeps_its_rules():
    fall = shared("fall")
    assert fall.minimum == 1
    with pytest.raises(ValueError, match="0 is less than 1"):
        fall.convert("0")
    with pytest.raises(ValueError, match="not an attribute name"):
        shared("health_attribute").convert("a b")


# -- state.py -------------------------------------------------------------------------------

@pytest.mark.parametrize("instance,name", [("x", "watcher-x.state"), ("grp:0", "watcher-grp:0.state"),
                                          ("", "watcher-default.state"),
                                          (None, "watcher-default.state"),
                                          ("a/b", "watcher-a_b.state")])
def test_state_path(instance, name):
    assert state_path("/run/ra", "watcher", instance) == "/run/ra/" + name


def test_state_file_round_trip(tmp_path):
    path = str(tmp_path / "sub" / "dir" / "a-b.state")
    state = StateFile(path)
    assert state.read() is None
    state.write({"fails": "2", "health": "yellow"})
    assert open(path).read() == "fails=2\nhealth=yellow\n"
    assert state.read() == {"fails": "2", "health": "yellow"}
    assert os.listdir(os.path.dirname(path)) == ["a-b.state"]   # no temporary left over
    state.remove()
    state.remove()  # twice: no error
    assert state.read() is None


def test_state_file_ignores_junk_lines(tmp_path):
    path = tmp_path / "s.state"
    path.write_text("junk\n fails = 3 \n\nhealth=red=x\n")
    assert StateFile(str(path)).read() == {"fails": "3", "health": "red=x"}


# -- lifecycle --------------------------------------------------------------------------------

def test_monitor_before_start_is_not_running(call, state, script):
    result = call("monitor")
    assert result.rc == Status.NOT_RUNNING
    assert result.reason is None
    assert script.calls["core"] == 0      # no checks without the state


def test_start_monitor_stop(call, state):
    start = call("start")
    assert start.rc == 0 and start.reason is None
    assert os.path.exists(state.path)
    assert state.read() == {"fails": "0"}
    monitor = call("monitor")
    assert monitor.rc == 0 and monitor.reason is None
    stop = call("stop")
    assert stop.rc == 0 and stop.reason is None
    assert not os.path.exists(state.path)
    assert call("monitor").rc == Status.NOT_RUNNING


def test_monitor_critical_failure_is_1_with_one_reason(call, script):
    call("start")
    script.plan["core"] = "fail"
    result = call("monitor")
    assert result.rc == Status.ERR_GENERIC
    assert len(result.reasons) == 1
    assert result.reason == "core: core is down"
    assert "ERROR: watcher(x): core: core is down" in result.stderr


def test_monitor_non_critical_failure_is_degraded(call, script):
    call("start")
    script.plan["extra"] = "fail"
    result = call("monitor")
    assert result.rc == Status.DEGRADED == 190
    assert result.reason == "extra: extra is down"
    assert "WARNING: watcher(x): extra: extra is down" in result.stderr


def test_monitor_degraded_probe_is_degraded(call, script):
    call("start")
    script.plan["core"] = "degraded"
    result = call("monitor")
    assert result.rc == Status.DEGRADED
    assert result.reason == "core: core is slow"


def test_monitor_reason_lists_critical_first(call, script):
    call("start")
    script.plan.update(core="fail", extra="fail")
    result = call("monitor")
    assert result.rc == 1
    assert result.reason == "core: core is down; extra: extra is down"


def test_monitor_verbose_prints_one_line_per_check(tmp_path, script, attr):
    environ = {"HA_RSCTMP": str(tmp_path), "OCF_RESOURCE_INSTANCE": "x", "HA_LOGFACILITY": "none"}
    run(Watcher, argv=["watcher", "start"], environ=environ, stdout=io.StringIO(),
        stderr=io.StringIO())
    out = io.StringIO()
    assert run(Watcher, argv=["watcher", "monitor", "--verbose"], environ=environ, stdout=out,
               stderr=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    assert [line.split()[:3] for line in lines] == [["core", "target-core", "ok"],
                                                    ["extra", "target-extra", "ok"]]


# -- fall ----------------------------------------------------------------------------------

def test_fall_softens_the_first_failures(call, script, state):
    params = {"fall": "3"}
    assert call("start", params).rc == 0
    script.plan["core"] = "fail"
    first = call("monitor", params)
    assert first.rc == Status.DEGRADED
    assert first.reason == "failed 1 of 3 monitors in a row: core: core is down"
    assert state.read()["fails"] == "1"
    second = call("monitor", params)
    assert second.rc == Status.DEGRADED
    assert second.reason.startswith("failed 2 of 3 monitors in a row: ")
    third = call("monitor", params)
    assert third.rc == Status.ERR_GENERIC
    assert third.reason == "core: core is down"
    assert state.read()["fails"] == "3"


def test_success_resets_the_fall_counter(call, script, state):
    params = {"fall": "3"}
    call("start", params)
    script.plan["core"] = "fail"
    assert call("monitor", params).rc == 190
    assert call("monitor", params).rc == 190
    script.plan["core"] = "ok"
    assert call("monitor", params).rc == 0
    assert state.read()["fails"] == "0"
    script.plan["core"] = "fail"
    again = call("monitor", params)
    assert again.rc == 190 and again.reason.startswith("failed 1 of 3 ")


def test_degraded_monitor_also_resets_the_fall_counter(call, script, state):
    params = {"fall": "2"}
    call("start", params)
    script.plan["core"] = "fail"
    assert call("monitor", params).rc == 190
    script.plan.update(core="ok", extra="fail")
    assert call("monitor", params).rc == 190
    assert state.read()["fails"] == "0"


def test_fall_1_fails_at_once(call, script):
    call("start", {"fall": "1"})
    script.plan["core"] = "fail"
    assert call("monitor", {"fall": "1"}).rc == 1


def test_garbled_fail_counter_counts_from_zero(call, script, state):
    call("start", {"fall": "2"})
    state.write({"fails": "many"})
    script.plan["core"] = "fail"
    result = call("monitor", {"fall": "2"})
    assert result.rc == 190 and result.reason.startswith("failed 1 of 2 ")


# -- stop -----------------------------------------------------------------------------------

def test_stop_with_an_invalid_parameter_still_removes_the_state(call, state):
    call("start")
    assert os.path.exists(state.path)
    result = call("stop", {"fall": "many"})
    assert result.rc == 0 and result.reason is None
    assert "stop with invalid parameters (fall: 'many' is not an integer)" in result.stderr
    assert not os.path.exists(state.path)


def test_stop_when_not_started(call, state):
    result = call("stop")
    assert result.rc == 0 and result.reason is None


def test_monitor_with_an_invalid_parameter_is_6(call):
    call("start")
    result = call("monitor", {"fall": "many"})
    assert result.rc == Status.ERR_CONFIGURED


# -- start ----------------------------------------------------------------------------------

def test_start_waits_for_the_critical_check(call, script, state):
    script.plan["core"] = ["fail", "ok"]
    result = call("start")
    assert result.rc == 0 and result.reason is None
    assert script.calls["core"] == 2
    assert os.path.exists(state.path)


def test_start_does_not_wait_for_non_critical_checks(call, script):
    script.plan["extra"] = "fail"
    result = call("start")
    assert result.rc == 0
    assert script.calls["extra"] == 1
    assert "started, degraded: extra: extra is down" in result.stderr


def test_start_that_never_passes_fails_with_the_check_first(call, script):
    script.plan["core"] = "fail"
    result = call("start", env={"OCF_RESKEY_CRM_meta_timeout": "600"})
    assert result.rc == Status.ERR_GENERIC
    assert len(result.reasons) == 1
    assert result.reason.startswith("core: core is down (still failing after ")
    assert result.reason.endswith(" attempts in 1s)")
    assert script.calls["core"] >= 2


def test_start_bounded_by_the_operation_timeout(call, script):
    script.plan["core"] = "fail"
    started = time.monotonic()
    call("start", env={"OCF_RESKEY_CRM_meta_timeout": "500"})
    assert time.monotonic() - started < 0.6


def test_start_without_waiting_tries_once(call, script):
    script.plan["core"] = "fail"
    result = call("start", agent=OnceWatcher)
    assert result.rc == 1
    assert result.reason == "core: core is down"
    assert script.calls["core"] == 1


# -- health attribute ----------------------------------------------------------------------

HEALTH = {"health_attribute": "#health-watch"}


def published(attr):
    return [c.args[:2] for c in attr.publish.call_args_list]


def test_health_colour_published_only_on_change(call, script, attr, state):
    assert call("start", HEALTH).rc == 0
    assert published(attr) == [("#health-watch", "green")]
    assert state.read()["health"] == "green"
    call("monitor", HEALTH)
    assert published(attr) == [("#health-watch", "green")]          # unchanged: no call
    script.plan["extra"] = "fail"
    assert call("monitor", HEALTH).rc == 190
    call("monitor", HEALTH)
    assert published(attr)[1:] == [("#health-watch", "yellow")]
    script.plan["core"] = "fail"
    assert call("monitor", HEALTH).rc == 1
    call("monitor", HEALTH)
    assert published(attr)[2:] == [("#health-watch", "red")]
    script.plan.update(core="ok", extra="ok")
    assert call("monitor", HEALTH).rc == 0
    assert published(attr)[3:] == [("#health-watch", "green")]
    assert state.read()["health"] == "green"
    attr.clear.assert_not_called()
    assert call("stop", HEALTH).rc == 0
    assert attr.clear.call_args.args[0] == "#health-watch"


def test_health_colour_during_fall_is_yellow(call, script, attr):
    params = dict(HEALTH, fall="2")
    call("start", params)
    script.plan["core"] = "fail"
    call("monitor", params)
    assert published(attr)[-1] == ("#health-watch", "yellow")
    call("monitor", params)
    assert published(attr)[-1] == ("#health-watch", "red")


def test_no_attribute_no_attrd(call, script, attr):
    call("start")
    script.plan["core"] = "fail"
    call("monitor")
    call("stop")
    attr.publish.assert_not_called()
    attr.clear.assert_not_called()


def test_failed_start_publishes_red(call, script, attr):
    script.plan["core"] = "fail"
    call("start", HEALTH, agent=OnceWatcher)
    assert published(attr) == [("#health-watch", "red")]


def test_publish_error_is_a_warning_and_retried(call, script, attr, state):
    attr.publish.return_value = "attrd_updater is not installed"
    start = call("start", HEALTH)
    assert start.rc == 0 and start.reason is None
    assert ("WARNING: watcher(x): cannot publish #health-watch=green: attrd_updater is not "
            "installed") in start.stderr
    assert "health" not in state.read()
    script.plan["extra"] = "fail"
    monitor = call("monitor", HEALTH)
    assert monitor.rc == 190
    assert monitor.reason == "extra: extra is down"     # the attribute is not the reason
    assert "cannot publish #health-watch=yellow" in monitor.stderr
    attr.publish.return_value = None
    call("monitor", HEALTH)
    assert published(attr)[-1] == ("#health-watch", "yellow")
    assert state.read()["health"] == "yellow"


def test_publish_error_does_not_change_a_failure(call, script, attr):
    attr.publish.return_value = "attrd_updater -n #health-watch -U red failed (exit 1): oops"
    call("start", HEALTH)
    script.plan["core"] = "fail"
    result = call("monitor", HEALTH)
    assert result.rc == 1 and result.reason == "core: core is down"


def test_clear_error_is_a_warning(call, attr):
    call("start", HEALTH)
    attr.clear.return_value = "attrd_updater did not finish within 5.0s"
    result = call("stop", HEALTH)
    assert result.rc == 0 and result.reason is None
    assert "cannot clear #health-watch: attrd_updater did not finish within 5.0s" in result.stderr


# -- the attribute's life cycle: what makes node-health-strategy=migrate-on-red work ----------

def test_stop_after_a_red_monitor_leaves_red(call, script, attr, state):
    """The scheduler moves the stack off a red node by stopping it there first: clearing
    red at that stop would abort the move and bring the stack back to the sick node."""
    call("start", HEALTH)
    script.plan["core"] = "fail"
    assert call("monitor", HEALTH).rc == 1
    stop = call("stop", HEALTH)
    assert stop.rc == 0 and stop.reason is None
    attr.clear.assert_not_called()
    assert published(attr) == [("#health-watch", "green"), ("#health-watch", "red")]
    assert ("WARNING: watcher(x): leaving #health-watch=red: the stack failed its checks on this "
            "node; once it is fixed, clear it: crm node status-attr NODE delete '#health-watch'"
            ) in stop.stderr
    assert state.read() is None


def test_red_stays_through_later_stops_and_probes(call, script, attr):
    call("start", HEALTH)
    script.plan["core"] = "fail"
    call("monitor", HEALTH)
    call("stop", HEALTH)
    script.plan["core"] = "ok"                      # healthy again, but nothing proved it here
    assert call("monitor", HEALTH).rc == 7          # the probe: not running, attribute untouched
    assert call("stop", HEALTH).rc == 0
    attr.clear.assert_not_called()
    assert published(attr)[-1] == ("#health-watch", "red")


def test_a_start_that_passes_proves_the_node_healthy(call, script, attr):
    call("start", HEALTH)
    script.plan["core"] = "fail"
    call("monitor", HEALTH)
    call("stop", HEALTH)
    script.plan["core"] = "ok"
    assert call("start", HEALTH).rc == 0
    assert published(attr)[-1] == ("#health-watch", "green")
    call("stop", HEALTH)
    assert attr.clear.call_args.args[0] == "#health-watch"


def test_a_failed_start_leaves_red_at_its_stop(call, script, attr):
    script.plan["core"] = "fail"
    assert call("start", HEALTH, agent=OnceWatcher).rc == 1
    assert call("stop", HEALTH).rc == 0
    attr.clear.assert_not_called()
    assert published(attr) == [("#health-watch", "red")]


def test_red_that_attrd_refused_is_published_again_at_stop(call, script, attr, state):
    call("start", HEALTH)
    script.plan["core"] = "fail"
    attr.publish.return_value = "attrd_updater did not finish within 5.0s"
    call("monitor", HEALTH)
    assert state.read()["verdict"] == "red" and "health" not in state.read()
    attr.publish.return_value = None
    call("stop", HEALTH)
    assert published(attr)[-1] == ("#health-watch", "red")
    attr.clear.assert_not_called()


@pytest.mark.parametrize("plan,colour", [("ok", "green"), ("degraded", "yellow")])
def test_a_clean_stop_of_a_healthy_resource_leaves_no_mark(call, script, attr, plan, colour):
    script.plan["extra"] = plan
    call("start", HEALTH)
    call("monitor", HEALTH)
    assert published(attr) == [("#health-watch", colour)]
    assert call("stop", HEALTH).rc == 0
    attr.clear.assert_called_once()
    assert attr.clear.call_args.args[0] == "#health-watch"


def test_fall_yellow_is_not_red_at_stop(call, script, attr):
    params = dict(HEALTH, fall="3")
    call("start", params)
    script.plan["core"] = "fail"
    assert call("monitor", params).rc == 190
    call("stop", params)
    attr.clear.assert_called_once()


def test_a_node_where_it_never_started_is_never_marked(call, script, attr):
    """A passive node: probes and the stops Pacemaker may send there publish and clear nothing."""
    script.plan["core"] = "fail"
    assert call("monitor", HEALTH).rc == 7
    assert call("monitor", HEALTH, env={"OCF_RESKEY_CRM_meta_interval": "0"}).rc == 7
    assert call("stop", HEALTH).rc == 0
    attr.publish.assert_not_called()
    attr.clear.assert_not_called()


@pytest.mark.parametrize("at_stop", [{"health_attribute": "#health-other"}, {}, {"fall": "x"}])
def test_stop_acts_on_the_attribute_start_published(call, script, attr, at_stop):
    call("start", HEALTH)
    assert call("stop", at_stop).rc == 0
    assert attr.clear.call_args.args[0] == "#health-watch"


def test_a_state_without_verdict_uses_the_published_colour(call, script, attr, state):
    """A state file written before the verdict was recorded (an upgrade under a running resource)."""
    state.write({"fails": "1", "health": "red"})
    call("stop", HEALTH)
    attr.clear.assert_not_called()
    state.write({"fails": "0", "health": "green"})
    call("stop", HEALTH)
    assert attr.clear.call_args.args[0] == "#health-watch"


def test_an_unreadable_state_at_stop_leaves_the_attribute(call, attr, state, mocker):
    call("start", HEALTH)
    mocker.patch.object(StateFile, "read", side_effect=OCFError(
        Status.ERR_GENERIC, "cannot read the state file x: Input/output error"))
    stop = call("stop", HEALTH)
    assert stop.rc == 0 and stop.reason is None
    assert "cannot read the state file x: Input/output error; leaving any node attribute" in stop.stderr
    attr.clear.assert_not_called()
    assert not os.path.exists(state.path)
