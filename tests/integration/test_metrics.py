"""metrics_dir against the real tools: promtool, prometheus-node-exporter, and real services.

* Every file an agent writes here passes ``promtool check metrics`` (the
  format and Prometheus' naming lint) -- ``written()`` checks each one.
* A real node_exporter with ``--collector.textfile.directory`` on a free
  loopback port serves the agents' files; the test scrapes it.
* ``promtool test rules`` runs the alert rules' unit tests
  (prometheus/rules.test.yml) against packaging/examples/grommunio-ocf.rules.yml.
* metrics_dir that is missing, a file, read-only, full (a tiny tmpfs), or
  has a symlink or a directory planted where the file goes: the action's
  result is what it would be without metrics, the failure is logged once per
  start, nothing is followed.

The stacks are real: dovecot for stack-health, Postfix's tools with MariaDB
for postfix-maps, tmpfs and bind mounts for grodata-binds.
"""

import os
import re
import shutil
import socket
import stat
import subprocess
import time
import urllib.request

import pytest

from agentrun import assert_clean
from helpers import TOP, missing
from mountscratch import scratch, scratch_factory, sh  # noqa: F401
from services.gromox import CHECKS_OFF
from services.listeners import FakeImap, TcpAcceptor, closed_port
from test_pythons import PYTHONS

pytestmark = [pytest.mark.integration]

RULES = os.path.join(TOP, "packaging", "examples", "grommunio-ocf.rules.yml")
RULE_TESTS = os.path.join(os.path.dirname(__file__), "prometheus", "rules.test.yml")
NODE_EXPORTER = "prometheus-node-exporter"
ALL_OFF = CHECKS_OFF


def needs(*tools):
    """Skip without the tools (under CI: fail -- tests/run installs them)."""
    absent = [t for t in tools if not shutil.which(t)]
    if absent:
        missing("not installed: %s" % " ".join(absent))


def promtool_check(path):
    """``promtool check metrics`` on one file: no error and no lint complaint."""
    with open(path, "rb") as handle:
        proc = subprocess.run(["promtool", "check", "metrics"], stdin=handle, capture_output=True,
                              text=True, timeout=30)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", ""), (path, proc)


def parse(text):
    """{(name, frozenset(labels)): value} of exposition text."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            match = re.fullmatch(r'(\w+)(?:\{(.*)\})? (\S+)', line)
            labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
            found[(match.group(1), labels)] = float(match.group(3))
    return found


def value(found, name, **labels):
    """The value of the one series ``name`` whose labels include ``labels``."""
    hits = [v for (n, l), v in found.items() if n == name and set(labels.items()) <= l]
    assert len(hits) == 1, (name, labels, sorted(k for k in found if k[0] == name))
    return hits[0]


@pytest.fixture
def metrics(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    return directory


def written(directory, agent, resource="test"):
    """The agent's file: 0644, a regular file, checked by promtool; its samples."""
    path = os.path.join(str(directory), "grommunio_ocf-%s-%s.prom" % (agent, resource))
    info = os.lstat(path)
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o644, oct(info.st_mode)
    promtool_check(path)
    with open(path, encoding="utf-8") as handle:
        return parse(handle.read())


MONITOR = {"OCF_RESKEY_CRM_meta_interval": "30000", "OCF_RESKEY_CRM_meta_on_node": "node-a"}


# -- what each agent writes ------------------------------------------------------------


def test_stack_health_against_dovecot(agent, dovecot, metrics):
    needs("promtool")
    params = dict(ALL_OFF, imap_url="imap://127.0.0.1:%d" % dovecot.imap_port,
                  lmtp_address="127.0.0.1:%d" % dovecot.lmtp_port, critical="imap,lmtp",
                  check_timeout="2", metrics_dir=str(metrics))
    assert agent("stack-health", "start", params).rc == 0
    found = written(metrics, "stack-health")
    assert value(found, "grommunio_ocf_result_code") == 0
    assert not [k for k in found if k[0] == "grommunio_ocf_monitor_interval_seconds"]
    before = time.time()
    assert agent("stack-health", "monitor", params, env=MONITOR).rc == 0
    found = written(metrics, "stack-health")
    assert value(found, "grommunio_ocf_result_code", agent="stack-health", resource="test",
                 node="node-a") == 0
    assert before - 1 <= value(found, "grommunio_ocf_last_monitor_timestamp_seconds") <= time.time()
    assert value(found, "grommunio_ocf_monitor_interval_seconds") == 30
    assert value(found, "grommunio_ocf_check_timeout_seconds") == 2
    for check in ("imap", "lmtp"):
        assert value(found, "grommunio_ocf_check_up", check=check) == 1
        assert value(found, "grommunio_ocf_check_degraded", check=check) == 0
        assert 0 < value(found, "grommunio_ocf_check_duration_seconds", check=check) < 2
    # A non-critical check that fails: the resource degrades, the check is down.
    params["redis_address"] = "127.0.0.1:%d" % closed_port()
    assert agent("stack-health", "monitor", params, env=MONITOR).rc == 190
    found = written(metrics, "stack-health")
    assert value(found, "grommunio_ocf_result_code") == 190
    assert value(found, "grommunio_ocf_check_up", check="redis") == 0
    assert value(found, "grommunio_ocf_check_critical", check="redis") == 0
    assert value(found, "grommunio_ocf_check_critical", check="imap") == 1
    # dovecot stopped: the critical check fails the monitor.
    with _stopped(dovecot):
        params["check_timeout"] = "1"
        assert agent("stack-health", "monitor", params, env=MONITOR).rc == 1
    found = written(metrics, "stack-health")
    assert value(found, "grommunio_ocf_result_code") == 1
    assert value(found, "grommunio_ocf_check_up", check="imap") == 0
    assert agent("stack-health", "stop", params).rc == 0
    assert os.listdir(str(metrics)) == []


class _stopped:
    def __init__(self, dovecot):
        self.dovecot = dovecot

    def __enter__(self):
        self.dovecot.stop()

    def __exit__(self, *exc):
        self.dovecot.ensure_running()


def test_postfix_maps_with_real_lookups(agent, postfix_config, metrics, tmp_path):
    needs("promtool")
    pc = postfix_config
    with TcpAcceptor() as milter:
        address = "inet:127.0.0.1:%d" % milter.port
        pc.set("smtpd_milters", address)
        params = {"config_directory": pc.directory, "milters": address,
                  "maps": " ".join("%s=mysql:%s" % item for item in pc.maps.items()),
                  "metrics_dir": str(metrics)}
        env = dict(MONITOR, OCF_RESKEY_CRM_meta_timeout="20000")
        assert agent("postfix-maps", "start", params, env=env).rc == 0
        assert agent("postfix-maps", "monitor", params, env=env).rc == 0
        found = written(metrics, "postfix-maps")
        assert value(found, "grommunio_ocf_result_code") == 0
        for parameter, path in pc.maps.items():
            seconds = value(found, "grommunio_ocf_postfix_lookup_duration_seconds",
                            map=parameter, table="mysql:%s" % path)
            assert 0 < seconds < 10
            assert value(found, "grommunio_ocf_check_up", check="lookup",
                         target="%s mysql:%s" % (parameter, path)) == 1
        # A world-readable map with strict_permissions: that check is degraded.
        pc.chmod("virtual_mailbox_maps", 0o644)
        params["strict_permissions"] = "true"
        assert agent("postfix-maps", "monitor", params, env=env).rc == 190
        found = written(metrics, "postfix-maps")
        assert value(found, "grommunio_ocf_result_code") == 190
        assert value(found, "grommunio_ocf_check_degraded", check="cf",
                     target=pc.maps["virtual_mailbox_maps"]) == 1
        assert value(found, "grommunio_ocf_check_up", check="cf",
                     target=pc.maps["virtual_mailbox_maps"]) == 1
        assert agent("postfix-maps", "stop", params).rc == 0
    assert os.listdir(str(metrics)) == []


def test_grodata_binds_proved_and_not(agent, scratch, metrics):  # noqa: F811
    needs("promtool")
    scratch.sources("a", "b", "c")
    params = {"grodata": scratch.grodata, "binds": scratch.binds(("a", "b", "c")),
              "metrics_dir": str(metrics)}
    assert agent("grodata-binds", "start", params).rc == 0
    found = written(metrics, "grodata-binds")
    assert (value(found, "grommunio_ocf_binds_proved"), value(found, "grommunio_ocf_binds_not_proved")) \
        == (3, 0)
    sh("umount", scratch.tgt("b"))
    assert agent("grodata-binds", "monitor", params, env=MONITOR).rc == 1
    found = written(metrics, "grodata-binds")
    assert value(found, "grommunio_ocf_result_code") == 1
    assert (value(found, "grommunio_ocf_binds_proved"), value(found, "grommunio_ocf_binds_not_proved")) \
        == (2, 1)
    assert not [k for k in found if k[0].startswith("grommunio_ocf_check")]
    assert agent("grodata-binds", "stop", params).rc == 0
    assert os.listdir(str(metrics)) == []
    # Where it does not run, a probe removes a file left behind (a reboot, a crash).
    (metrics / "grommunio_ocf-grodata-binds-test.prom").write_text("# left behind\n")
    assert agent("grodata-binds", "monitor", params,
                 env={"OCF_RESKEY_CRM_meta_interval": "0"}).rc == 7
    assert os.listdir(str(metrics)) == []


# -- node_exporter -------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def node_exporter(metrics, tmp_path):
    """A real node_exporter serving only the textfile collector from ``metrics``."""
    needs(NODE_EXPORTER)
    port = free_port()
    log = open(str(tmp_path / "node_exporter.log"), "wb")
    proc = subprocess.Popen([NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port,
                             "--collector.disable-defaults", "--collector.textfile",
                             "--collector.textfile.directory=%s" % metrics],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d/metrics" % port

    def scrape():
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")

    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                scrape()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("node_exporter did not come up: %s"
                                         % (tmp_path / "node_exporter.log").read_text())
                time.sleep(0.1)
        yield scrape
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_node_exporter_serves_the_agents_metrics(agent, node_exporter, metrics, scratch):  # noqa: F811
    scratch.sources("a")
    binds = {"grodata": scratch.grodata, "binds": scratch.binds(("a",)), "metrics_dir": str(metrics)}
    with FakeImap() as imap:
        health = dict(ALL_OFF, imap_url="imap://%s" % imap.address, critical="imap",
                      metrics_dir=str(metrics))
        assert agent("stack-health", "start", health, env={"OCF_RESOURCE_INSTANCE": "health"}).rc == 0
        assert agent("stack-health", "monitor", health,
                     env=dict(MONITOR, OCF_RESOURCE_INSTANCE="health")).rc == 0
    assert agent("grodata-binds", "start", binds, env={"OCF_RESOURCE_INSTANCE": "binds:0"}).rc == 0
    assert agent("grodata-binds", "monitor", binds,
                 env=dict(MONITOR, OCF_RESOURCE_INSTANCE="binds:0")).rc == 0
    for name in os.listdir(str(metrics)):
        promtool_check(os.path.join(str(metrics), name))
    text = node_exporter()
    found = parse(text)
    assert value(found, "node_textfile_scrape_error") == 0
    assert value(found, "grommunio_ocf_check_up", agent="stack-health", resource="health",
                 node="node-a", check="imap", target="imap://%s" % imap.address) == 1
    assert value(found, "grommunio_ocf_result_code", agent="stack-health", resource="health") == 0
    assert value(found, "grommunio_ocf_binds_proved", agent="grodata-binds", resource="binds:0",
                 node="node-a") == 1
    assert value(found, "grommunio_ocf_monitor_interval_seconds", resource="binds:0") == 30
    # Each file is seen (node_textfile_mtime_seconds), and stop takes it away.
    assert {os.path.basename(dict(l)["file"]) for n, l in found
            if n == "node_textfile_mtime_seconds"} == {
        "grommunio_ocf-stack-health-health.prom", "grommunio_ocf-grodata-binds-binds:0.prom"}
    assert agent("grodata-binds", "stop", binds, env={"OCF_RESOURCE_INSTANCE": "binds:0"}).rc == 0
    found = parse(node_exporter())
    assert not [k for k in found if dict(k[1]).get("agent") == "grodata-binds"]
    assert value(found, "node_textfile_scrape_error") == 0


# -- the alert rules ---------------------------------------------------------------------


def test_alert_rules_are_valid_and_pass_their_unit_tests():
    needs("promtool")
    check = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0 and "SUCCESS: 6 rules found" in check.stdout, check
    tests = subprocess.run(["promtool", "test", "rules", os.path.basename(RULE_TESTS)],
                           cwd=os.path.dirname(RULE_TESTS), capture_output=True, text=True,
                           timeout=120)
    assert tests.returncode == 0 and "SUCCESS" in tests.stdout, tests.stdout + tests.stderr


def test_every_rule_has_a_unit_test():
    with open(RULES, encoding="utf-8") as handle:
        rules = re.findall(r"^\s*- alert: (\w+)$", handle.read(), re.M)
    with open(RULE_TESTS, encoding="utf-8") as handle:
        tested = set(re.findall(r"alertname: (\w+)", handle.read()))
    assert len(rules) == 6 and set(rules) == tested


# -- hostile metrics_dir ---------------------------------------------------------------------


def _planted_symlink(tmp_path):
    directory = tmp_path / "m"
    directory.mkdir()
    (tmp_path / "victim").write_text("precious\n")
    os.symlink(str(tmp_path / "victim"), str(directory / "grommunio_ocf-stack-health-test.prom"))
    return str(directory)


def _planted_directory(tmp_path):
    directory = tmp_path / "m"
    (directory / "grommunio_ocf-stack-health-test.prom").mkdir(parents=True)
    return str(directory)


def _a_file(tmp_path):
    (tmp_path / "m").write_text("")
    return str(tmp_path / "m")


def _read_only(tmp_path):
    os.mkdir(str(tmp_path / "m"))
    sh("mount", "-t", "tmpfs", "-o", "ro,size=64k", "metrics-ro", str(tmp_path / "m"))
    return str(tmp_path / "m")


def _full(tmp_path):
    os.mkdir(str(tmp_path / "m"))
    sh("mount", "-t", "tmpfs", "-o", "size=8k", "metrics-full", str(tmp_path / "m"))
    fd = os.open(str(tmp_path / "m" / "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return str(tmp_path / "m")


HOSTILE_DIRS = {
    "missing": (lambda tmp_path: str(tmp_path / "missing"), "No such file or directory"),
    "a file": (_a_file, "Not a directory"),
    "read-only": (_read_only, "Read-only file system"),
    "full": (_full, "No space left on device"),
    "a directory where the file goes": (_planted_directory, "Is a directory"),
    "a symlink where the file goes": (_planted_symlink, None),
}


@pytest.mark.parametrize("case", list(HOSTILE_DIRS))
def test_hostile_metrics_dir_never_changes_a_result(agent, tmp_path, case, needs_root):
    needs("promtool")
    make, error = HOSTILE_DIRS[case]
    directory = make(tmp_path)
    try:
        with FakeImap() as imap:
            params = dict(ALL_OFF, imap_url="imap://%s" % imap.address, critical="imap",
                          check_timeout="1", metrics_dir=directory)
            runs = [agent("stack-health", "start", params)]
            runs += [agent("stack-health", "monitor", params, env=MONITOR) for _ in range(3)]
            params["redis_address"] = "127.0.0.1:%d" % closed_port()   # degraded: 190 all the same
            runs.append(agent("stack-health", "monitor", params, env=MONITOR))
            again = agent("stack-health", "start", params)              # a new start says it again
            stop = agent("stack-health", "stop", params)
        assert [r.rc for r in runs] == [0, 0, 0, 0, 190]
        assert (again.rc, stop.rc) == (0, 0)
        for result in runs + [again, stop]:
            assert "Traceback" not in result.stderr and "ocf-exit-reason:metrics" not in result.stderr
        said = [line for r in runs for line in r.stderr.splitlines() if "metrics_dir" in line]
        if error is None:   # the symlink was replaced, never followed
            assert said == []
            assert (tmp_path / "victim").read_text() == "precious\n"
            assert os.listdir(directory) == []      # stop removed our file
            return
        assert len(said) == 1, said
        assert said[0] == ("WARNING: stack-health(test): metrics_dir %s: cannot write "
                           "grommunio_ocf-stack-health-test.prom: %s (metrics stay stale; the "
                           "resource is not affected; logged once per start)" % (directory, error))
        assert "metrics_dir" in again.stderr
        assert not [n for n in os.listdir(str(tmp_path / "rsctmp")) if "metrics" in n]  # stop: marker gone
        if os.path.isdir(directory):
            assert not [n for n in os.listdir(directory) if n.endswith(".tmp")]
    finally:
        if os.path.ismount(directory):
            sh("umount", directory)


@pytest.mark.parametrize("text,reason", [
    ("relative/dir", "metrics_dir: 'relative/dir' is not an absolute path"),
    ("/a/../b", "metrics_dir: '/a/../b' contains '..'"),
    ("/" + "n" * 256, "metrics_dir: '/nnnn"),
])
def test_a_bad_metrics_dir_is_a_configuration_error(agent, text, reason):
    params = dict(ALL_OFF, imap_url="imap://127.0.0.1:%d" % closed_port(), metrics_dir=text)
    result = agent("stack-health", "validate-all", params)
    assert result.rc == 6 and result.reason.startswith(reason), result
    assert_clean_text(result)


def assert_clean_text(result):
    class Raw:
        rc = result.rc
        stdout = result.stdout.encode()
        stderr = result.stderr.encode()
        reasons = [line[len("ocf-exit-reason:"):].encode() for line in result.stderr.splitlines()
                   if line.startswith("ocf-exit-reason:")]
    assert_clean(Raw)


# -- every platform Python ---------------------------------------------------------------


@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_every_python_writes_the_same_file(agent, metrics, version):
    """The writer uses os.open's dir_fd and os.rename's src/dst_dir_fd: every Python the
    agents support (test_pythons.WANTED) writes a file promtool accepts."""
    needs("promtool")
    with FakeImap() as imap:
        params = dict(ALL_OFF, imap_url="imap://%s" % imap.address, critical="imap",
                      metrics_dir=str(metrics))
        prefix = (PYTHONS[version], "-IS")
        assert agent("stack-health", "start", params, prefix=prefix).rc == 0
        assert agent("stack-health", "monitor", params, env=MONITOR, prefix=prefix).rc == 0
        found = written(metrics, "stack-health")
        assert value(found, "grommunio_ocf_check_up", check="imap") == 1
        assert agent("stack-health", "stop", params, prefix=prefix).rc == 0
    assert os.listdir(str(metrics)) == []
