"""grommunio-ocf-check against real services, real mounts and a real (offline) CIB.

Every output is checked against the Monitoring Plugins rules
(tests/pluginformat.py: the status word matching the exit code, the
performance data's syntax, no '|' in the long text), and every run against
the promise that the command changes nothing: no state file in HA_RSCTMP,
no attrd_updater call (a stand-in on PATH records any), no metrics file
(metrics_dir is given wherever an agent has it), an offline CIB byte for
byte as it was, and no database password in any output.
"""

import os
import subprocess

import pytest

from helpers import TOP
from mountscratch import scratch, scratch_factory, sh  # noqa: F401 (fixtures)
from pluginformat import parse
from services.gromox import NEW_CHECKS_OFF, Milter
from services.listeners import TcpAcceptor, closed_port
from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER

pytestmark = [pytest.mark.integration]

COMMAND = os.path.join(TOP, "packaging", "grommunio-ocf-check")
ALL_OFF = dict({"imap_url": "off", "admin_api_url": "off", "mysql_config": "off",
                "lmtp_address": "off", "redis_address": "off", "milter_address": "off"},
               **NEW_CHECKS_OFF)
STACK_CHECKS = ["imap", "admin_api", "mysql", "lmtp", "redis", "milter"]


class Ran:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.word, self.summary, self.perf, self.lines = parse(proc.stdout, proc.returncode)

    def __repr__(self):
        return "Ran(rc=%s, stdout=%r, stderr=%r)" % (self.rc, self.stdout, self.stderr)


@pytest.fixture
def check(tmp_path):
    """``check(*args, env=None, **params)``: the command from the work tree, params as --set."""
    rsctmp = tmp_path / "check-rsctmp"    # the agent fixture has "rsctmp"
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "attrd-calls"
    stub = stubs / "attrd_updater"
    stub.write_text("#!/bin/sh\necho \"$*\" >> %s\n" % calls)
    stub.chmod(0o755)
    metrics = tmp_path / "metrics"      # metrics_dir, for the agents that have it
    metrics.mkdir()

    def call(*args, env=None, timeout=60, **params):
        argv = [COMMAND, *args]
        for name, value in params.items():
            argv += ["--set", "%s=%s" % (name, value)]
        environ = {"PATH": "%s:/usr/sbin:/usr/bin:/sbin:/bin" % stubs, "LC_ALL": "C.UTF-8",
                   "HA_RSCTMP": str(rsctmp), "OCF_RESKEY_imap_url": "imap://injected:1"}
        environ.update(env or {})
        proc = subprocess.run(argv, capture_output=True, text=True, env=environ, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd="/")
        assert "Traceback" not in proc.stdout + proc.stderr, proc
        assert DB_PASSWORD not in proc.stdout + proc.stderr
        assert "injected" not in proc.stdout, "the caller's OCF_RESKEY_* reached the agent"
        assert not rsctmp.exists(), "a state file was written: %s" % os.listdir(rsctmp)
        assert not calls.exists(), "attrd_updater was run: %s" % calls.read_text()
        assert not os.listdir(metrics), "a metrics file was written: %s" % os.listdir(metrics)
        return Ran(proc)

    return call


def mysql_cfg(tmp_path, mariadb):
    path = tmp_path / "mysql_adaptor.cfg"
    path.write_text("mysql_host = localhost\nmysql_username = %s\nmysql_password = %s\n"
                    "mysql_dbname = %s\n" % (DB_USER, DB_PASSWORD, DB_NAME))
    path.chmod(0o640)
    return str(path)


def with_metrics_dir(agent_name, params, tmp_path):
    """``params`` plus metrics_dir (the check fixture's directory, which must stay
    empty) when the agent has that parameter: the command writes no metrics file."""
    from grommunio_ocf.plugin.agents import load
    if any(p.name == "metrics_dir" for p in load(agent_name).params):
        params["metrics_dir"] = str(tmp_path / "metrics")
    return params


@pytest.fixture
def stack(tmp_path, dovecot, mariadb, redis, adminapi):
    """stack-health's parameters for the six older checks against the real services and a
    milter stand-in; the checks of the rest of the group off."""
    with Milter() as milter:
        yield with_metrics_dir("stack-health", dict(NEW_CHECKS_OFF,
            imap_url="imap://127.0.0.1:%d" % dovecot.imap_port,
            admin_api_url=adminapi.status_url, mysql_config=mysql_cfg(tmp_path, mariadb),
            mysql_socket=mariadb.socket, lmtp_address="127.0.0.1:%d" % dovecot.lmtp_port,
            redis_address=redis.address, milter_address=milter.address,
            critical="imap,admin_api,mysql,lmtp", check_timeout="3",
            health_attribute="#health-grommunio", fall="3"), tmp_path)


# -- stack-health: healthy, degraded, failing ----------------------------------------

def test_healthy_stack_is_ok_with_a_duration_per_check(check, stack):
    ran = check("--agent", "stack-health", "mail-health", **stack)
    assert ran.rc == 0, ran
    assert ran.summary == "mail-health (stack-health): 6 checks ok"
    assert list(ran.perf) == STACK_CHECKS + ["time"]
    for name in STACK_CHECKS:
        value, uom, (warn, crit, low, high) = ran.perf[name]
        assert uom == "ms" and 0 < value < 3000 and (warn, crit, low, high) == ("", "3000", "0", None)
    assert ran.perf["time"][1:] == ("ms", ("", "30000", "0", None))
    assert [line.split()[0] for line in ran.lines] == STACK_CHECKS
    assert all(": ok" in line for line in ran.lines), ran.lines
    assert "ping OK" in ran.lines[2]


def test_degraded_stack_is_a_warning_naming_the_check(check, stack):
    stack["redis_address"] = "127.0.0.1:%d" % closed_port()
    ran = check("--agent", "stack-health", "mail-health", **stack)
    assert ran.rc == 1, ran
    assert ran.summary == "mail-health (stack-health): redis: connection refused by %s" \
        % stack["redis_address"]
    assert list(ran.perf) == STACK_CHECKS + ["time"]       # the failed one is timed too
    assert "redis %s: failed - connection refused" % stack["redis_address"] in ran.stdout


def test_failing_stack_is_critical_at_once_whatever_fall_says(check, stack):
    stack["imap_url"] = "imap://127.0.0.1:%d" % closed_port()
    stack["redis_address"] = "127.0.0.1:%d" % closed_port()
    ran = check("--agent", "stack-health", "mail-health", **stack)
    assert ran.rc == 2, ran
    # The critical failure first, as in the exit reason Pacemaker keeps.
    assert ran.summary.startswith("mail-health (stack-health): imap: connection refused by "), ran
    assert "; redis: connection refused" in ran.summary
    assert "imap %s: FAILED" % stack["imap_url"] in ran.stdout


def test_a_configuration_problem_is_unknown(check, stack):
    ran = check("--agent", "stack-health", **dict(stack, imap_url="bogus"))
    assert ran.rc == 3, ran
    assert ran.summary.startswith("stack-health (stack-health): imap_url: 'bogus' is not a URL")
    assert ran.summary.endswith("(OCF_ERR_CONFIGURED)")
    assert list(ran.perf) == ["time"] and ran.lines == []


def test_a_silent_check_is_bounded_by_the_timeout(check):
    from services.listeners import SilentListener
    with SilentListener() as silent:
        ran = check("--agent", "stack-health", "-t", "2", **dict(
            ALL_OFF, imap_url="imap://%s" % silent.address, critical="imap"))
    assert ran.rc == 2, ran
    assert "no greeting within" in ran.summary
    assert ran.perf["time"][0] < 2000 and ran.perf["time"][2][1] == "2000"


# -- postfix-maps ---------------------------------------------------------------------

@pytest.fixture
def maps_params(postfix_config, tmp_path):
    with TcpAcceptor() as milter:
        address = "inet:127.0.0.1:%d" % milter.port
        postfix_config.set("smtpd_milters", address)
        yield postfix_config, with_metrics_dir("postfix-maps", {
            "config_directory": postfix_config.directory, "milters": address,
            "maps": " ".join("%s=mysql:%s" % item for item in postfix_config.maps.items())},
            tmp_path)


def test_postfix_maps_healthy_with_unique_labels(check, maps_params):
    pc, params = maps_params
    ran = check("--agent", "postfix-maps", "maps", **params)
    assert ran.rc == 0, ran
    assert ran.summary == "maps (postfix-maps): 15 checks ok"
    labels = list(ran.perf)
    assert len(labels) == 16 and labels[-1] == "time"
    assert "lookup_virtual_mailbox_domains" in labels and "milter" in labels
    assert sum(label.startswith("cf_") for label in labels) == 4
    assert all(ran.perf[label][2][1] == "10000" for label in labels[:-1])   # check_timeout 10 s


def test_postfix_maps_world_readable_cf_warns_or_degrades(check, maps_params):
    pc, params = maps_params
    pc.chmod("virtual_mailbox_maps", 0o644)
    ran = check("--agent", "postfix-maps", "maps", **params)
    assert ran.rc == 0, ran
    assert "15 checks ok; warning: cf: " in ran.summary and "world-readable" in ran.summary
    ran = check("--agent", "postfix-maps", "maps", strict_permissions="true", **params)
    assert ran.rc == 1, ran
    assert "world-readable" in ran.summary


def test_postfix_maps_failing_lookup_is_critical(check, maps_params):
    pc, params = maps_params
    pc.edit_cf("virtual_mailbox_maps", "password", "wrong")
    ran = check("--agent", "postfix-maps", "maps", **params)
    assert ran.rc == 2, ran
    assert "lookup: virtual_mailbox_maps" in ran.summary
    ran = check("--agent", "postfix-maps", "--depth", "0", "maps", **params)   # no lookups
    assert ran.rc == 0, ran
    assert not any(label.startswith("lookup") for label in ran.perf)


# -- grodata-binds ----------------------------------------------------------------------

def test_grodata_binds_counts_binds_and_names_the_bad_one(check, agent, scratch, tmp_path):
    s = scratch
    s.sources("a", "b")
    params = {"grodata": s.grodata, "binds": s.binds(("a", "b"))}
    checked = with_metrics_dir("grodata-binds", dict(params), tmp_path)
    ran = check("--agent", "grodata-binds", "binds", **checked)
    assert ran.rc == 2 and ran.summary == "binds (grodata-binds): not running on this node", ran
    assert agent("grodata-binds", "start", params).rc == 0
    try:
        ran = check("--agent", "grodata-binds", "binds", **checked)
        assert ran.rc == 0, ran
        assert ran.summary == "binds (grodata-binds): 2 binds ok"
        assert ran.perf["bind_ok"] == (2.0, "", ("", "", "0", "2"))
        assert ran.perf["bind_bad"] == (0.0, "", ("", "0", "0", "2"))
        ran = check("--agent", "grodata-binds", "--depth", "20", "binds", **checked)
        assert ran.rc == 0 and "1 write ok" in ran.summary, ran
        assert sorted(os.listdir(s.grodata)) == ["a", "b"]         # the probe file is gone
        sh("umount", s.tgt("b"))
        ran = check("--agent", "grodata-binds", "binds", **checked)
        assert ran.rc == 2, ran
        assert ran.summary.startswith("binds (grodata-binds): %s: not bound" % s.tgt("b"))
        assert ran.perf["bind_bad"][0] == 1
    finally:
        assert agent("grodata-binds", "stop", params).rc == 0


# -- the command line ----------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    ((), "usage: give a RESOURCE of the CIB, or --agent"),
    (("--agent", "stack-health", "--set", "imap_url"), "usage: --set imap_url: expected NAME=VALUE"),
    (("--agent", "stack-health", "--set", "=x"), "usage: --set =x: expected NAME=VALUE"),
    (("--agent", "stack-health", "--set", "nope=1"), "usage: --set nope: stack-health has no "
                                                     "parameter nope (it has: imap_url, "),
    (("--agent", "stack-health", "--depth", "10"), "usage: --depth 10: stack-health has the "
                                                   "levels 0"),
    (("--agent", "stack-health", "--depth", "x"), "usage: argument --depth: invalid int value"),
    (("--agent", "stack-health", "-t", "0"), "usage: --timeout 0.0: give seconds, more than 0"),
    (("--agent", "stack-health", "-t", "nan"), "usage: --timeout nan: give seconds, more than 0"),
    (("--agent", "../agents/stack-health"), "../agents/stack-health: no grommunio agent "
                                            "'../agents/stack-health' (there are: grodata-binds, "),
    (("--agent", "IPaddr2"), "IPaddr2: no grommunio agent 'IPaddr2'"),
    (("--bogus",), "usage: unrecognized arguments: --bogus"),
    (("a", "b"), "usage: unrecognized arguments: b"),
])
def test_bad_usage_is_unknown_with_one_clear_line(check, args, message):
    ran = check(*args)
    assert ran.rc == 3, ran
    assert ran.summary.startswith(message), ran.summary
    assert ran.lines == []


def test_hostile_values_are_shown_escaped_on_one_line(check):
    ran = check("--agent", "stack-health", "--set", "imap_url=\udcff\n| x", "--set",
                "admin_api_url=" + "a" * 100000)
    assert ran.rc == 3, ran
    assert ran.summary.startswith("stack-health (stack-health): imap_url: '\\xff\\x0a/ x' is not "
                                  "valid UTF-8"), ran.summary
    assert len(ran.stdout) < 2048


def test_values_with_equals_signs_and_the_last_set_wins(check, adminapi):
    argv = ["--agent", "stack-health"] + [a for k, v in ALL_OFF.items() for a in ("--set", k + "=" + v)]
    argv += ["--set", "admin_api_url=http://127.0.0.1:%d/x?a=b" % closed_port(),
             "--set", "admin_api_url=" + adminapi.status_url, "--set", "critical=admin_api"]
    ran = check(*argv)
    assert ran.rc == 0, ran
    assert ran.lines[0].startswith("admin_api %s: ok - " % adminapi.status_url), ran.lines


def test_help_and_version(check):
    proc = subprocess.run([COMMAND, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--set NAME=VALUE" in proc.stdout
    proc = subprocess.run([COMMAND, "--version"], capture_output=True, text=True, timeout=60)
    from grommunio_ocf import __version__
    assert proc.returncode == 0 and proc.stdout == "grommunio-ocf-check %s\n" % __version__


# -- parameters from a real CIB, offline (CIB_file) ----------------------------------------

def cibadmin(cib_file, *args, input=None):
    return subprocess.run(["cibadmin", *args], input=input, capture_output=True, text=True,
                          check=True, timeout=60, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                                       "CIB_file": str(cib_file)}).stdout


@pytest.fixture
def cib_file(tmp_path, adminapi):
    """An offline CIB: stack-health inside a group, and inside a clone, pointed at the admin-api."""
    path = tmp_path / "cib.xml"
    path.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True,
                                   check=True, timeout=60).stdout)
    params = dict(ALL_OFF, admin_api_url=adminapi.status_url, critical="admin_api",
                  check_timeout="2")
    pairs = "".join('<nvpair id="%%(id)s-%s" name="%s" value="%s"/>' % (k, k, v)
                    for k, v in params.items())

    def primitive(rid):
        return ('<primitive id="%(id)s" class="ocf" provider="grommunio" type="stack-health">'
                '<instance_attributes id="%(id)s-ia">' + pairs + '</instance_attributes>'
                '<operations><op id="%(id)s-mon" name="monitor" interval="30s" timeout="30s"/>'
                '</operations></primitive>') % {"id": rid}

    cibadmin(path, "--create", "--scope", "resources", "--xml-text",
             '<group id="grommunio">' + primitive("mail_health") + '</group>')
    cibadmin(path, "--create", "--scope", "resources", "--xml-text",
             '<clone id="health_clone">' + primitive("cloned_health") + '</clone>')
    cibadmin(path, "--create", "--scope", "resources", "--xml-text",
             '<primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">'
             '<instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="192.0.2.1"/>'
             '</instance_attributes></primitive>')
    return path


@pytest.mark.parametrize("name, shown", [("mail_health", "mail_health"), ("grommunio", "mail_health"),
                                         ("cloned_health:1", "cloned_health"),
                                         ("health_clone", "cloned_health")])
def test_parameters_from_the_cib(check, cib_file, name, shown):
    before = cib_file.read_bytes()
    ran = check(name, env={"CIB_file": str(cib_file)})
    assert ran.rc == 0, ran
    assert ran.summary == "%s (stack-health): 1 check ok" % shown
    assert list(ran.perf) == ["admin_api", "time"]
    assert ran.perf["admin_api"][2][1] == "2000"                      # check_timeout from the CIB
    assert cib_file.read_bytes() == before


def test_set_overrides_the_cib(check, cib_file):
    port = closed_port()
    ran = check("mail_health", env={"CIB_file": str(cib_file)},
                admin_api_url="http://127.0.0.1:%d/api/v1/status" % port)
    assert ran.rc == 2, ran
    assert "admin_api: connection refused by 127.0.0.1:%d" % port in ran.summary


@pytest.mark.parametrize("name, message", [
    ("nothere", "nothere: no resource 'nothere' in the CIB"),
    ("vip", "vip: resource 'vip' is ocf:heartbeat:IPaddr2, not a grommunio agent"),
])
def test_cib_resources_that_cannot_be_checked(check, cib_file, name, message):
    ran = check(name, env={"CIB_file": str(cib_file)})
    assert ran.rc == 3 and ran.summary == message, ran


def test_an_unreadable_cib_is_unknown(check, tmp_path):
    ran = check("mail_health", env={"CIB_file": str(tmp_path / "missing.xml")})
    assert ran.rc == 3, ran
    assert ran.summary.startswith("mail_health: cannot read the CIB: cibadmin: "), ran
