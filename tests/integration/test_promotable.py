"""The test-only promotable agent, driven as Pacemaker would, and ocf-tester."""

import os
import shutil
import subprocess

import pytest

from helpers import run_agent

pytestmark = [pytest.mark.integration]

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENT_REL = "tests/support/agents/promotable-dummy"
AGENT = os.path.join(TOP, AGENT_REL)


@pytest.fixture
def pd(tmp_path):
    """``pd(action, **env)`` runs promotable-dummy with its state in tmp_path."""
    def call(action, instance="pd", **env):
        environ = {"HA_RSCTMP": str(tmp_path), "OCF_RESOURCE_INSTANCE": instance}
        environ.update(env)
        return run_agent(AGENT, action, {"dummy": "1"}, env=environ)
    call.state = lambda instance="pd": tmp_path / ("promotable-dummy-%s.state" % instance)
    call.fail_marker = lambda instance="pd": tmp_path / ("promotable-dummy-%s.state.fail" % instance)
    return call


def test_agent_is_executable_and_world_readable():
    mode = os.stat(AGENT).st_mode
    assert mode & 0o755 == 0o755
    with open(AGENT, encoding="utf-8") as handle:
        assert handle.readline() == "#!/usr/bin/python3 -IS\n"


def test_full_cycle(pd):
    assert pd("monitor").rc == 7
    assert pd("start").rc == 0
    assert pd.state().exists()
    assert pd("monitor").rc == 0
    assert pd("notify").rc == 0
    assert pd("promote").rc == 0
    assert pd("monitor").rc == 8
    assert pd("promote").rc == 0           # promoting a promoted instance succeeds
    assert pd("monitor").rc == 8
    assert pd("demote").rc == 0
    assert pd("monitor").rc == 0
    assert pd("demote").rc == 0            # demoting an unpromoted instance succeeds
    assert pd("stop").rc == 0
    assert not pd.state().exists()
    assert pd("monitor").rc == 7
    assert pd("stop").rc == 0              # stopping a stopped instance succeeds


def test_start_is_idempotent_and_keeps_promotion(pd):
    assert pd("start").rc == 0
    assert pd("promote").rc == 0
    assert pd("start").rc == 0
    assert pd("monitor").rc == 8


def test_stop_from_promoted(pd):
    pd("start")
    pd("promote")
    assert pd("stop").rc == 0
    assert pd("monitor").rc == 7


def test_failed_while_promoted_is_9(pd):
    pd("start")
    pd("promote")
    pd.fail_marker().touch()
    result = pd("monitor")
    assert result.rc == 9
    assert result.reason is None


def test_failed_while_unpromoted_is_1_with_reason(pd):
    pd("start")
    pd.fail_marker().touch()
    result = pd("monitor")
    assert result.rc == 1
    assert "fail" in result.reason


def test_fail_marker_ignored_when_stopped(pd):
    pd.fail_marker().touch()
    assert pd("monitor").rc == 7


def test_promote_or_demote_when_stopped_fails(pd):
    assert pd("promote").rc == 1
    assert pd("demote").rc == 1


def test_instances_are_separate(pd):
    pd("start", instance="a")
    pd("promote", instance="a")
    assert pd("monitor", instance="a").rc == 8
    assert pd("monitor", instance="b").rc == 7
    pd("start", instance="b")
    assert pd("monitor", instance="b").rc == 0


def test_probe_and_recurring_monitor_agree(pd):
    pd("start")
    assert pd("monitor", OCF_RESKEY_CRM_meta_interval="0").rc == 0
    assert pd("monitor", OCF_RESKEY_CRM_meta_interval="11000").rc == 0


def test_unimplemented_actions(pd):
    for action in ("reload", "migrate_to", "migrate_from"):
        assert pd(action).rc == 3


def test_creates_missing_rsctmp(tmp_path):
    rsctmp = tmp_path / "not" / "yet"
    env = {"HA_RSCTMP": str(rsctmp)}
    assert run_agent(AGENT, "start", {"dummy": "1"}, env=env).rc == 0
    assert run_agent(AGENT, "monitor", {"dummy": "1"}, env=env).rc == 0


def _nobody_can_run(path):
    proc = subprocess.run(["su", "nobody", "-s", "/bin/sh", "-c", "%s meta-data" % path],
                          capture_output=True, cwd="/", timeout=30)
    return proc.returncode == 0


@pytest.fixture
def tester_agent(tmp_path_factory):
    """(cwd, relative agent path) that user nobody can run, as ocf-tester requires.

    The repository itself if nobody can traverse it; else a copy of the agent
    and the library in a world-readable directory under /tmp.
    """
    if os.geteuid() != 0 or _nobody_can_run(AGENT):
        yield TOP, AGENT_REL
        return
    top = tmp_path_factory.mktemp("ocf-tester-copy")
    agent = top / AGENT_REL
    agent.parent.mkdir(parents=True)
    shutil.copy(AGENT, agent)
    shutil.copytree(os.path.join(TOP, "lib"), top / "lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for dirpath, dirnames, filenames in os.walk(top):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    os.chmod(agent, 0o755)
    directory = str(top)
    while directory != "/":       # make the path down to the copy traversable
        os.chmod(directory, os.stat(directory).st_mode | 0o755)
        directory = os.path.dirname(directory)
    yield str(top), AGENT_REL
    shutil.rmtree(top)


@pytest.mark.skipif(shutil.which("ocf-tester") is None, reason="ocf-tester not installed")
def test_ocf_tester_passes(tester_agent, tmp_path):
    cwd, agent = tester_agent
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
           "HA_RSCTMP": str(tmp_path), "HA_LOGFACILITY": "none"}
    proc = subprocess.run(["ocf-tester", "-n", "pd", "-o", "dummy=1", agent], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed all tests" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert list(tmp_path.iterdir()) == []   # ocf-tester ends with a stop: no state left
