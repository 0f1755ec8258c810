"""grommunio_ocf.base.exposition and ocf.metrics: the exposition format, the data model, the link-safe file and
the step after start, monitor and stop (agent.run with metrics_dir).

The format's rules are Prometheus' (expfmt, text format 0.0.4): label values
escape backslash, double quote and newline; each series appears once.
Files the real agents write are checked with promtool in
tests/integration/test_metrics.py.
"""

import io
import os
import stat

import pytest

from grommunio_ocf.checks.contract import Outcome
from grommunio_ocf.base import exposition as model
from grommunio_ocf.checks.agent import CheckAgent
from grommunio_ocf.ocf import metrics as publish
from grommunio_ocf.ocf.agent import METRICS_DIR
from grommunio_ocf.ocf.agent import Action, Agent, run
from grommunio_ocf.ocf.params import STRING, Param
from grommunio_ocf.ocf.status import OCFError, Status, checked

# -- the text format ----------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [
    ("plain", "plain"),
    ('a"b', 'a\\"b'),
    ("a\\b", "a\\\\b"),
    ("C:\\x\"y", 'C:\\\\x\\"y'),
    ("two\nlines", "two\\\\x0alines"),   # printable(): a newline never reaches the file
    ("\x0bvt", "\\\\x0bvt"),                # a control character, escaped then its backslash
    (os.fsdecode(b"\xffab"), "\\\\xffab"),  # an undecodable byte from the environment
    ("x" * 500, "x" * 197 + "..."),        # bounded: LABEL_LIMIT bytes
])
def test_label_values_are_escaped_and_bounded(value, expected):
    assert model.label_value(value) == expected


@pytest.mark.parametrize("value,text", [
    (True, "1"), (False, "0"), (7, "7"), (190, "190"), (0.5, "0.5"), (0.000123456789, "0.000123457"),
    (1796586698.1394, "1796586698.139"), (float("nan"), "NaN"), (float("inf"), "+Inf"),
])
def test_numbers(value, text):
    assert model.number(value) == text


def test_render_writes_help_type_and_samples_and_skips_empty_families():
    one = model.Family("x_total", "Help with \\ and\nnewline", "counter")
    one.add((("a", "1"), ("b", 'q"')), 3)
    empty = model.Family("y", "nothing")
    assert model.render([one, empty]) == (
        '# HELP x_total Help with \\\\ and\\nnewline\n'
        '# TYPE x_total counter\n'
        'x_total{a="1",b="q\\""} 3\n')
    assert model.render([empty]) == ""


# -- model -----------------------------------------------------------------------------


def outcomes():
    return [Outcome("imap", "imap://localhost:143", Outcome.PASSED, "ok", 0.002),
            Outcome("mysql", "/etc/gromox/mysql_adaptor.cfg", Outcome.FAILED, "refused", 0.5),
            Outcome("redis", "127.0.0.1:6379", Outcome.DEGRADED, "slow", 0.01),
            Outcome("lmtp", "[::1]:24", Outcome.WARNED, "note", 0.001)]


def check_samples(found, critical):
    """What CheckAgent.observe keeps, as the writer's samples."""
    class Op:
        observed = {}
    CheckAgent.observe(None, Op, found, critical)
    return [model.CheckSample(*c) for c in Op.observed["checks"]]


def test_check_samples_up_unless_failed_degraded_only_when_degraded():
    samples = check_samples(outcomes(), {"imap", "mysql"})
    assert [(s.name, s.up, s.degraded, s.critical) for s in samples] == [
        ("imap", True, False, True), ("mysql", False, False, True),
        ("redis", True, True, False), ("lmtp", True, False, False)]


def test_a_skipped_check_is_not_up():
    # A lookup skipped because its .cf file is unusable proves nothing works.
    skipped = [Outcome("lookup", "virtual_alias_maps mysql:/dev/zero", Outcome.SKIPPED,
                       "lookup skipped: the .cf file is not usable", 0.0)]
    assert [(s.name, s.up, s.degraded) for s in check_samples(skipped, {"lookup"})] == [
        ("lookup", False, False)]


def parse(text):
    """{(name, ((label, value), ...)): value} of a rendered file."""
    import re
    found = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r'(\w+)\{(.*)\} (\S+)', line)
        labels = tuple(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2)))
        key = (match.group(1), labels)
        assert key not in found, "duplicate series: %s" % line
        found[key] = float(match.group(3))
    return found


BASE = (("agent", "stack-health"), ("resource", "health"), ("node", "n1"))


def snap(**kw):
    fields = dict(interval=30.0, check_timeout=5.0, checks=check_samples(outcomes(), {"imap", "mysql", "redis", "lmtp"}))
    fields.update(kw)
    return model.Snapshot("stack-health", "health", "n1", Status.DEGRADED, 1700000000.25, **fields)


def test_a_check_agent_snapshot():
    found = parse(model.text(snap()))
    assert found[("grommunio_ocf_result_code", BASE)] == 190
    assert found[("grommunio_ocf_last_monitor_timestamp_seconds", BASE)] == 1700000000.25
    assert found[("grommunio_ocf_monitor_interval_seconds", BASE)] == 30
    assert found[("grommunio_ocf_check_timeout_seconds", BASE)] == 5
    assert found[("grommunio_ocf_checks_omitted", BASE)] == 0
    mysql = BASE + (("check", "mysql"), ("target", "/etc/gromox/mysql_adaptor.cfg"))
    redis = BASE + (("check", "redis"), ("target", "127.0.0.1:6379"))
    assert found[("grommunio_ocf_check_up", mysql)] == 0
    assert found[("grommunio_ocf_check_degraded", redis)] == 1
    assert found[("grommunio_ocf_check_duration_seconds", mysql)] == 0.5
    assert found[("grommunio_ocf_check_critical", mysql)] == 1
    assert len([k for k in found if k[0] == "grommunio_ocf_check_up"]) == 4
    assert not [k for k in found if "binds" in k[0] or "lookup" in k[0]]


def test_a_check_outside_critical_is_marked_so():
    critical = {"imap", "mysql"}
    found = parse(model.text(snap(checks=check_samples(outcomes(), critical))))
    marked = {dict(labels)["check"]: value for (name, labels), value in found.items()
              if name == "grommunio_ocf_check_critical"}
    assert marked == {"imap": 1, "mysql": 1, "redis": 0, "lmtp": 0}


def test_start_and_probes_write_no_interval_and_binds_no_check_families():
    found = parse(model.text(snap(interval=None, check_timeout=None, checks=None, binds=(6, 1))))
    assert sorted(name for name, _ in found) == [
        "grommunio_ocf_binds_not_proved", "grommunio_ocf_binds_proved",
        "grommunio_ocf_last_monitor_timestamp_seconds", "grommunio_ocf_result_code"]
    assert found[("grommunio_ocf_binds_not_proved", BASE)] == 1


def test_lookups_per_map_and_table():
    found = parse(model.text(snap(lookups=[("virtual_alias_maps", "mysql:/a.cf", 0.02),
                                           ("virtual_alias_maps", "mysql:/a.cf", 0.03),
                                           ("m", "mysql:/" + "x" * 300 + "1.cf", 0.04),
                                           ("m", "mysql:/" + "x" * 300 + "2.cf", 0.05)])))
    lookups = {k: v for k, v in found.items() if k[0] == "grommunio_ocf_postfix_lookup_duration_seconds"}
    long = "mysql:/" + "x" * 190 + "..."    # both long tables cut alike: written once
    assert lookups == {("grommunio_ocf_postfix_lookup_duration_seconds",
                        BASE + (("map", "virtual_alias_maps"), ("table", "mysql:/a.cf"))): 0.02,
                       ("grommunio_ocf_postfix_lookup_duration_seconds",
                        BASE + (("map", "m"), ("table", long))): 0.04}


def test_each_series_once_even_when_targets_repeat_or_look_alike():
    long_a, long_b = "t" * 300 + "a", "t" * 300 + "b"   # equal in their first 200 bytes
    checks = [model.CheckSample("cf", "/x.cf", True, False, 0.1),
              model.CheckSample("cf", "/x.cf", False, False, 0.1),
              model.CheckSample("setting", long_a, True, False, 0.1),
              model.CheckSample("setting", long_b, True, False, 0.1)]
    found = parse(model.text(snap(checks=checks)))      # parse() asserts no duplicates
    assert len([k for k in found if k[0] == "grommunio_ocf_check_up"]) == 2
    assert found[("grommunio_ocf_checks_omitted", BASE)] == 2


def test_the_file_is_bounded():
    checks = [model.CheckSample("lookup", "%d %s" % (i, "m" * 190), True, False, 0.1)
              for i in range(500)]
    text = model.text(snap(checks=checks, lookups=[("p%d" % i, "t" * 190, 0.1) for i in range(500)]))
    assert len(text.encode()) <= model.MAX_BYTES
    found = parse(text)
    kept = len([k for k in found if k[0] == "grommunio_ocf_check_up"])
    assert 0 < kept <= model.MAX_CHECKS
    assert found[("grommunio_ocf_checks_omitted", BASE)] == 500 - kept


def test_every_metric_is_described_in_the_metadata_and_the_docs():
    from helpers import TOP
    with open(os.path.join(TOP, "doc", "metrics.md"), encoding="utf-8") as handle:
        doc = handle.read()
    for name, text in model.HELP.items():
        assert text and model.PREFIX == "grommunio_ocf_"
        assert model.PREFIX + name in METRICS_DIR.longdesc, name
        assert "| `%s%s` |" % (model.PREFIX, name) in doc, name


# -- the file, never through a link ----------------------------------------------------


def test_replace_writes_0644_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        assert publish.replace(str(tmp_path), "a.prom", b"x 1\n") is None
    finally:
        os.umask(old)
    path = tmp_path / "a.prom"
    assert path.read_bytes() == b"x 1\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["a.prom"]     # no temporary file left


def planted(tmp_path, name):
    """``(metrics, victim)``: a metrics directory with a symlink ``name`` to a precious file."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    os.symlink(str(victim), str(metrics / name))
    return metrics, victim


def test_replace_replaces_a_planted_symlink_and_never_writes_through_it(tmp_path):
    metrics, victim = planted(tmp_path, "a.prom")
    assert publish.replace(str(metrics), "a.prom", b"x 1\n") is None
    assert victim.read_text() == "precious\n"
    assert not os.path.islink(str(metrics / "a.prom"))
    assert (metrics / "a.prom").read_bytes() == b"x 1\n"


def test_a_symlink_planted_at_the_temporary_name_is_not_followed(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    metrics, victim = planted(tmp_path, ".a.prom.4242.0.tmp")
    assert publish.replace(str(metrics), "a.prom", b"x 1\n") is None
    assert victim.read_text() == "precious\n"
    assert sorted(os.listdir(metrics)) == ["a.prom"]


def test_a_directory_at_the_name_is_an_error_and_leaves_nothing(tmp_path):
    (tmp_path / "a.prom").mkdir()
    error = publish.replace(str(tmp_path), "a.prom", b"x 1\n")
    assert error == "Is a directory"
    assert os.listdir(tmp_path) == ["a.prom"]
    assert publish.remove(str(tmp_path), "a.prom") == "Is a directory"


@pytest.mark.parametrize("make,expected", [
    (lambda p: p / "missing", "No such file or directory"),
    (lambda p: (p / "file").write_text("") or p / "file", "Not a directory"),
])
def test_replace_into_no_directory(tmp_path, make, expected):
    assert publish.replace(str(make(tmp_path)), "a.prom", b"x") == expected


def test_remove(tmp_path):
    (tmp_path / "a.prom").write_text("x")
    os.symlink("/etc/passwd", str(tmp_path / "b.prom"))
    assert publish.remove(str(tmp_path), "a.prom") is None
    assert publish.remove(str(tmp_path), "b.prom") is None     # the link, never its target
    assert publish.remove(str(tmp_path), "a.prom") is None     # already gone: fine
    assert publish.remove(str(tmp_path / "missing"), "a.prom") is None
    assert os.listdir(tmp_path) == [] and os.path.exists("/etc/passwd")


# -- the step after an action (agent.run) ----------------------------------------------


class Probe(Agent):
    """An agent whose monitor returns what the test says; it observes one check."""

    name = "probe-agent"
    shortdesc = longdesc = "test"
    params = (Param("answer", STRING, "0", shortdesc="the status to return"),)
    actions = (Action("start", 10), Action("stop", 10), Action("monitor", 10, interval=10))

    def _answer(self, values, op):
        op.observed["checks"] = [("imap", "i", True, False, 0.01, True)]
        if values.answer == "raise":
            raise OCFError(Status.ERR_GENERIC, "it failed")
        if values.answer == "bug":
            raise KeyError("bug")
        return checked(int(values.answer))

    start = monitor = stop = _answer


def call(tmp_path, action, answer="0", interval="30000", directory=None, **env):
    environ = {"OCF_RESOURCE_INSTANCE": "res:0", "HA_LOGFACILITY": "none",
               "HA_RSCTMP": str(tmp_path / "rsctmp"), "OCF_RESKEY_answer": answer,
               "OCF_RESKEY_metrics_dir": directory or str(tmp_path / "metrics"),
               "OCF_RESKEY_CRM_meta_interval": interval if action == "monitor" else "0",
               "OCF_RESKEY_CRM_meta_on_node": "node-1"}
    environ.update(env)
    err = io.StringIO()
    rc = run(Probe, argv=["probe-agent", action], environ=environ, stdout=io.StringIO(), stderr=err)
    return rc, err.getvalue()


@pytest.fixture
def dirs(tmp_path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "rsctmp").mkdir()
    return tmp_path


PROM = "grommunio_ocf-probe-agent-res:0.prom"


def written(tmp_path):
    return parse((tmp_path / "metrics" / PROM).read_text())


def test_every_agent_gets_metrics_dir_off_by_default():
    assert Probe.params[-1] is METRICS_DIR
    assert METRICS_DIR.default == "off" and METRICS_DIR.convert("off") is None


def test_start_and_monitor_write_stop_removes(dirs):
    base = (("agent", "probe-agent"), ("resource", "res:0"), ("node", "node-1"))
    assert call(dirs, "start")[0] == 0
    found = written(dirs)
    assert found[("grommunio_ocf_result_code", base)] == 0
    assert ("grommunio_ocf_monitor_interval_seconds", base) not in found   # start: no interval
    assert call(dirs, "monitor", "190")[0] == 190
    found = written(dirs)
    assert found[("grommunio_ocf_result_code", base)] == 190
    assert found[("grommunio_ocf_monitor_interval_seconds", base)] == 30
    assert found[("grommunio_ocf_check_up", base + (("check", "imap"), ("target", "i")))] == 1
    assert call(dirs, "stop")[0] == 0
    assert os.listdir(dirs / "metrics") == []


@pytest.mark.parametrize("answer,rc", [("1", 1), ("7", 7), ("raise", 1), ("bug", 1)])
def test_failures_are_written_with_their_code(dirs, answer, rc):
    assert call(dirs, "monitor", answer)[0] == rc
    base = (("agent", "probe-agent"), ("resource", "res:0"), ("node", "node-1"))
    assert written(dirs)[("grommunio_ocf_result_code", base)] == rc


def test_a_probe_that_finds_it_not_running_removes_a_stale_file(dirs):
    (dirs / "metrics" / PROM).write_text("stale 1\n")
    assert call(dirs, "monitor", "7", interval="0")[0] == 7
    assert os.listdir(dirs / "metrics") == []
    assert call(dirs, "monitor", "0", interval="0")[0] == 0      # a probe that finds it running
    assert os.listdir(dirs / "metrics") == [PROM]


def test_a_failed_stop_leaves_the_file(dirs):
    call(dirs, "start")
    assert call(dirs, "stop", "1")[0] == 1
    assert os.listdir(dirs / "metrics") == [PROM]


def test_node_falls_back_to_the_host_name(dirs):
    call(dirs, "start", OCF_RESKEY_CRM_meta_on_node="")
    assert ("node", os.uname().nodename) in list(written(dirs))[0][1]


def test_a_failed_write_is_logged_once_per_start_and_changes_nothing(dirs):
    missing = str(dirs / "missing")
    rc, err = call(dirs, "start", directory=missing)
    assert rc == 0 and "ocf-exit-reason" not in err
    assert err.count("metrics_dir %s: cannot write %s: No such file or directory" % (missing, PROM)) == 1
    for answer in ("0", "190", "1"):
        rc, err = call(dirs, "monitor", answer, directory=missing)
        assert rc == int(answer) and "metrics_dir" not in err
    assert os.path.exists(str(dirs / "rsctmp" / "probe-agent-res:0.metrics-failed"))
    assert "metrics_dir" in call(dirs, "start", directory=missing)[1]   # a new start: said again
    assert call(dirs, "stop", directory=missing)[0] == 0
    assert os.listdir(dirs / "rsctmp") == []


def test_metrics_off_writes_nothing(dirs):
    assert call(dirs, "monitor", directory="off")[0] == 0
    assert os.listdir(dirs / "metrics") == []


def test_metrics_cost_the_monitor_two_small_modules_and_nothing_heavy(tmp_path):
    """The modules a monitor loads with metrics_dir set, less those without: ours, no re or json."""
    import subprocess
    from helpers import AGENTS, IMPORTTIME, imported_modules
    (tmp_path / "rsctmp").mkdir()
    (tmp_path / "rsctmp" / "stack-health-r.state").write_text("fails=0\n")
    loaded = {}
    for directory in ("off", str(tmp_path)):
        env = {"OCF_RESOURCE_INSTANCE": "r", "HA_RSCTMP": str(tmp_path / "rsctmp"),
               "HA_LOGFACILITY": "none", "OCF_RESKEY_metrics_dir": directory,
               "OCF_RESKEY_imap_url": "off", "OCF_RESKEY_admin_api_url": "off",
               "OCF_RESKEY_mysql_config": "off", "OCF_RESKEY_lmtp_address": "off",
               "OCF_RESKEY_redis_address": "127.0.0.1:1", "OCF_RESKEY_critical": "redis"}
        # The agent leaves with os._exit: what it imported is what -X importtime printed.
        loaded[directory] = imported_modules(subprocess.run(
            [*IMPORTTIME, os.path.join(AGENTS, "stack-health"), "monitor"], env=env,
            capture_output=True, text=True, timeout=30))
    assert sorted(loaded[str(tmp_path)] - loaded["off"]) == [
        "grommunio_ocf.base.exposition", "grommunio_ocf.ocf.metrics"]
    assert sorted(os.listdir(tmp_path)) == ["grommunio_ocf-stack-health-r.prom", "rsctmp"]


def test_a_relative_metrics_dir_is_a_configuration_error(dirs):
    rc, err = call(dirs, "monitor", directory="var/lib/prometheus")
    assert rc == 6
    assert "ocf-exit-reason:metrics_dir: 'var/lib/prometheus' is not an absolute path" in err


def test_a_bug_in_the_metrics_step_changes_nothing(dirs, monkeypatch):
    monkeypatch.setattr(model, "text", lambda snap: 1 / 0)
    rc, err = call(dirs, "monitor", "190")
    assert rc == 190
    assert "cannot write the metrics file: failed unexpectedly: ZeroDivisionError" in err
    assert "Traceback" not in err
