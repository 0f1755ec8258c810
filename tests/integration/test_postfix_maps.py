"""postfix-maps against real Postfix tools (postconf, postmap + postfix-mysql) and MariaDB.

The config_directory is a test copy of grommunio's layout (main.cf and the
four grommunio-*.cf maps, 0640 root:postfix) pointing at the private
MariaDB; every failure below is produced for real: a wrong password, a
stopped or frozen server, a renamed table, a missing or world-readable
file, a drifted main.cf, a milter that is down.
"""

import os
import shutil
import subprocess
import time

import pytest

from helpers import IMPORTTIME, assert_lean_monitor
from ocftester import run_ocf_tester
from services.listeners import SilentListener, TcpAcceptor, closed_port
from services.mariadb import DB_PASSWORD

pytestmark = [pytest.mark.integration]


@pytest.fixture
def milter():
    with TcpAcceptor() as acceptor:
        yield acceptor


@pytest.fixture
def setup(postfix_config, milter):
    """The test config_directory with a live milter, and the matching parameters."""
    pc = postfix_config
    address = "inet:127.0.0.1:%d" % milter.port
    pc.set("smtpd_milters", address)
    params = {"config_directory": pc.directory, "milters": address,
              "maps": " ".join("%s=mysql:%s" % item for item in pc.maps.items())}
    return pc, params


@pytest.fixture
def maps(agent, tmp_path):
    """``maps(action, params, **kw)``: run postfix-maps; no output may hold the password."""
    outputs = []

    def call(action, params, env=None, **kw):
        environ = {"HA_RSCTMP": str(tmp_path / "rsctmp")}
        environ.update(env or {})
        result = agent("postfix-maps", action, params, env=environ, **kw)
        outputs.append(result.stdout + result.stderr)
        return result

    yield call
    for text in outputs:
        assert DB_PASSWORD not in text


def start_and_monitor(maps, params, **kw):
    maps("start", params, env={"OCF_RESKEY_CRM_meta_timeout": "20000"})
    return maps("monitor", params, **kw)


def test_healthy(maps, setup):
    pc, params = setup
    assert maps("validate-all", params).rc == 0
    assert maps("start", params).rc == 0
    result = maps("monitor", params, env={"OCF_CHECK_LEVEL": "10"}, args=("--verbose",))
    assert result.rc == 0, result
    assert_lean_monitor(maps("monitor", params, env={"OCF_CHECK_LEVEL": "10"}, prefix=IMPORTTIME))
    kinds = [line.split()[0] for line in result.stdout.splitlines()]
    assert kinds == ["setting"] * 6 + ["cf"] * 4 + ["lookup"] * 4 + ["milter"]
    assert "no-such-key.invalid not found (query path works)" in result.stdout
    assert "nobody@no-such-key.invalid not found (query path works)" in result.stdout
    assert maps("stop", params).rc == 0
    assert maps("monitor", params).rc == 7


def test_lookup_keys_must_be_found(maps, setup):
    pc, params = setup
    params["lookup_keys"] = ("virtual_mailbox_domains=example.com "
                            "virtual_alias_maps=info@example.com")
    result = start_and_monitor(maps, params, args=("-v",))
    assert result.rc == 0, result
    assert "example.com -> 1" in result.stdout
    assert "info@example.com -> alice@example.com" in result.stdout
    params["lookup_keys"] = "virtual_mailbox_maps=nobody@example.com"
    result = maps("monitor", params)
    assert result.rc == 1
    assert result.reason == ("lookup: virtual_mailbox_maps: nobody@example.com not found in "
                             "mysql:%s" % pc.maps["virtual_mailbox_maps"])


def test_wrong_password_in_one_map(maps, setup):
    pc, params = setup
    pc.edit_cf("virtual_alias_maps", "password", "wrong-" + DB_PASSWORD[::-1])
    result = start_and_monitor(maps, params)
    assert result.rc == 1
    assert result.reason == (
        "lookup: virtual_alias_maps: connect to mysql server unix:%s: Access denied for user "
        "'grommunio'@'localhost' (using password: YES)" % pc.mariadb.socket)


def test_database_stopped(maps, setup):
    pc, params = setup
    assert maps("start", params).rc == 0
    with pc.mariadb.stopped():
        result = maps("monitor", params)
        assert result.rc == 1
        assert result.reason.startswith("lookup: virtual_mailbox_domains: connect to mysql server "
                                        "unix:%s: Can't connect to local server" % pc.mariadb.socket)
        # Level 0 needs no database: settings and files are still fine.
        assert maps("monitor", params, env={"OCF_CHECK_LEVEL": "0"}).rc == 0
    assert maps("monitor", params).rc == 0


def test_renamed_table_is_bad_sql(maps, setup):
    pc, params = setup
    assert maps("start", params).rc == 0
    with pc.mariadb.renamed_table("users"):
        result = maps("monitor", params)
    assert result.rc == 1
    assert result.reason == ("lookup: virtual_mailbox_maps: mysql:%s: query failed: Table "
                             "'grommunio.users' doesn't exist" % pc.maps["virtual_mailbox_maps"])


def test_frozen_database_kills_postmap_within_the_budget(maps, setup):
    pc, params = setup
    params["check_timeout"] = "2"
    assert maps("start", params).rc == 0
    with pc.mariadb.frozen():
        began = time.monotonic()
        result = maps("monitor", params)
        took = time.monotonic() - began
    assert result.rc == 1
    assert "postmap -q gave no answer within 2.0s (killed)" in result.reason
    assert took < 5
    assert not subprocess.run(["pgrep", "-f", "postmap -c %s" % pc.directory]).returncode == 0


def test_silent_server_and_operation_budget(maps, setup):
    pc, params = setup
    with SilentListener() as silent:
        pc.use_tcp(port=silent.port)
        params["check_timeout"] = "60"
        maps("start", params, env={"OCF_RESKEY_CRM_meta_timeout": "3000"})
        began = time.monotonic()
        result = maps("monitor", params, env={"OCF_RESKEY_CRM_meta_timeout": "3000"})
        took = time.monotonic() - began
    assert result.rc == 1
    assert result.reason.startswith("lookup: virtual_mailbox_domains: postmap -q gave no answer "
                                    "within 2.7s (killed)")
    assert took < 3.0


def test_missing_cf(maps, setup):
    pc, params = setup
    os.unlink(pc.maps["recipient_bcc_maps"])
    result = start_and_monitor(maps, params)
    assert result.rc == 1
    # Its lookup is skipped: postmap is never given a file the agent judged unfit.
    assert result.reason == "cf: %s does not exist" % pc.maps["recipient_bcc_maps"], result.reason


def test_cf_that_is_a_fifo_does_not_block(maps, setup):
    pc, params = setup
    path = pc.maps["recipient_bcc_maps"]
    os.unlink(path)
    os.mkfifo(path)
    params["check_timeout"] = "2"  # postconf and postmap do block on it: killed at 2 s
    began = time.monotonic()
    result = maps("start", params, timeout=20)
    assert result.rc == 1
    assert "cf: %s is not a regular file" % path in result.reason, result.reason
    assert time.monotonic() - began < 8


def test_stock_modes_are_a_warning_once_per_start(maps, setup):
    """grommunio-setup writes the .cf files with ``cat >``: 0644 root:root."""
    pc, params = setup
    for name, path in pc.maps.items():
        os.chown(path, 0, 0)
        pc.chmod(name, 0o644)
    warning = ("cf: %s is world-readable (mode 0644) and holds a database password: chmod o-r it"
               % pc.maps["virtual_mailbox_maps"])
    started = maps("start", params, env={"OCF_RESKEY_CRM_meta_timeout": "20000"})
    assert started.rc == 0, started
    assert started.reason is None
    assert started.stderr.count("WARNING: postfix-maps(test): %s" % warning) == 1
    quiet = maps("monitor", params)
    assert (quiet.rc, quiet.reason) == (0, None)
    assert "world-readable" not in quiet.stderr   # logged at start, not every monitor
    verbose = maps("monitor", params, args=("--verbose",))
    assert verbose.rc == 0
    line = [x for x in verbose.stdout.splitlines() if pc.maps["virtual_mailbox_maps"] in x
            and x.startswith("cf ")][0]
    assert line.split()[2] == "warning" and "world-readable (mode 0644)" in line


def test_world_readable_cf_degrades_with_strict_permissions(maps, setup):
    pc, params = setup
    pc.chmod("virtual_mailbox_maps", 0o644)
    params["strict_permissions"] = "true"
    result = start_and_monitor(maps, params)
    assert result.rc == 190
    assert result.reason == ("cf: %s is world-readable (mode 0644) and holds a database password: "
                             "chmod o-r it" % pc.maps["virtual_mailbox_maps"])



def test_cf_not_readable_by_postfix(maps, setup):
    pc, params = setup
    os.chown(pc.maps["virtual_mailbox_domains"], 0, 0)
    pc.chmod("virtual_mailbox_domains", 0o600)
    result = start_and_monitor(maps, params)
    assert result.rc == 1
    assert result.reason == ("cf: %s is not readable by the postfix user (owner 0:0, mode 0600)"
                             % pc.maps["virtual_mailbox_domains"])


def test_typo_in_a_cf_key(maps, setup):
    pc, params = setup
    pc.edit_cf("virtual_alias_maps", "password", None)
    pc.edit_cf("virtual_alias_maps", "passwd", DB_PASSWORD)
    result = start_and_monitor(maps, params)
    assert result.rc == 1
    assert result.reason.startswith("cf: %s: password not set; unknown keys ignored by Postfix: "
                                    "passwd" % pc.maps["virtual_alias_maps"])


def test_unknown_key_shows_in_verbose_output(maps, setup):
    pc, params = setup
    pc.edit_cf("virtual_alias_maps", "result_fromat", "%s")
    result = start_and_monitor(maps, params, args=("-v",))
    assert result.rc == 0
    assert "unknown keys ignored by Postfix: result_fromat" in result.stdout


@pytest.mark.parametrize("param,value,expected", [
    ("virtual_transport", "lmtp:unix:private/dovecot-lmtp",
     "setting: virtual_transport is 'lmtp:unix:private/dovecot-lmtp', expected 'smtp:[::1]:24'"),
    ("virtual_alias_maps", "hash:/etc/postfix/virtual",
     "setting: virtual_alias_maps is 'hash:/etc/postfix/virtual', expected 'mysql:{path}'"),
    ("recipient_bcc_maps", "", "setting: recipient_bcc_maps is empty or unknown, expected 'mysql:{path}'"),
])
def test_main_cf_drift(maps, setup, param, value, expected):
    pc, params = setup
    assert maps("start", params).rc == 0
    pc.set(param, value)
    result = maps("monitor", params)
    assert result.rc == 1
    path = pc.maps.get(param, "")
    assert result.reason == expected.format(path=path)


def test_extra_maps_beside_ours_are_fine(maps, setup):
    pc, params = setup
    pc.set("virtual_alias_maps", "mysql:%s, hash:%s/virtual" % (pc.maps["virtual_alias_maps"],
                                                                pc.directory))
    assert start_and_monitor(maps, params).rc == 0


def test_milter_down(maps, setup, milter):
    pc, params = setup
    assert maps("start", params).rc == 0
    milter.close()
    result = maps("monitor", params)
    assert result.rc == 1
    assert result.reason == "milter: connection refused by 127.0.0.1:%d" % milter.port
    port = closed_port()
    params["milters"] = "inet:127.0.0.1:%d" % port
    result = maps("monitor", params)
    assert result.reason.startswith("setting: smtpd_milters is 'inet:127.0.0.1:%d', expected "
                                    "'inet:127.0.0.1:%d'" % (milter.port, port))


def test_postconf_missing(maps, setup, tmp_path):
    pc, params = setup
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(shutil.which("postmap", path="/usr/sbin:/usr/bin"), bindir / "postmap")
    env = {"PATH": "%s:/usr/bin:/bin" % bindir}
    # A probe on a node without Postfix says "not running", as OCF asks.
    assert maps("monitor", params, env=env).rc == 7
    for action in ("validate-all", "start"):
        result = maps(action, params, env=env)
        assert result.rc == 5, (action, result)
        assert result.reason == "postconf not found in PATH (is postfix installed?)"
    # Postfix removed under a started resource: 5, so Pacemaker bans the node.
    (tmp_path / "rsctmp").mkdir(exist_ok=True)
    (tmp_path / "rsctmp" / "postfix-maps-test.state").write_text("fails=0\n")
    result = maps("monitor", params, env=env)
    assert result.rc == 5
    assert result.reason == "postconf not found in PATH"


def test_config_directory_problems(maps, setup, tmp_path):
    pc, params = setup
    params["config_directory"] = str(tmp_path / "nope")
    result = maps("validate-all", params)
    assert result.rc == 5
    assert result.reason == "config_directory %s does not exist" % (tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    params["config_directory"] = str(empty)
    result = maps("start", params)
    assert result.rc == 5
    assert result.reason == "config_directory %s has no main.cf" % empty


@pytest.mark.parametrize("param,value,expected", [
    ("config_directory", "", "config_directory: must not be empty"),
    ("config_directory", "etc/postfix", "config_directory: 'etc/postfix' is not an absolute path"),
    ("maps", "virtual_alias_maps", "maps: 'virtual_alias_maps' is not PARAMETER=mysql:/path.cf"),
    ("maps", "virtual_alias_maps=hash:/etc/postfix/virtual",
     "only mysql: and proxy:mysql: tables are checked"),
    ("maps", "virtual_alias_maps=mysql:grommunio.cf", "'grommunio.cf' is not an absolute path"),
    ("maps", "virtual alias=mysql:/x.cf", "is not PARAMETER=mysql:/path.cf"),
    ("maps", "virtual-alias=mysql:/x.cf", "'virtual-alias' is not a Postfix parameter name"),
    ("milters", "tcp:localhost:11332", "'tcp:localhost:11332' is neither inet:HOST:PORT nor unix:PATH"),
    ("milters", "inet:localhost", "the port is missing (HOST:PORT)"),
    ("milters", "inet:localhost:99999", "port 99999 is out of range"),
    ("lookup_keys", "example.com", "lookup_keys: 'example.com' is not PARAMETER=KEY"),
    ("lookup_keys", "virtual_mailbox_domains=", "is not PARAMETER=KEY"),
    ("lookup_keys", "relay_domains=example.com", "lookup_keys: relay_domains is not a parameter in maps"),
    ("check_timeout", "0", "check_timeout: '0' must be more than zero"),
    ("check_timeout", "later", "check_timeout: 'later' is not a duration"),
])
@pytest.mark.parametrize("action", ["validate-all", "start", "monitor"])
def test_bad_input_is_a_configuration_error(maps, setup, param, value, expected, action):
    pc, params = setup
    params[param] = value
    result = maps(action, params)
    assert result.rc == 6, result
    assert expected in result.reason
    assert result.reason.startswith(param + ":")


def test_ocf_tester_passes(setup, tmp_path):
    pc, params = setup
    rc, out = run_ocf_tester("/usr/lib/ocf/resource.d/grommunio/postfix-maps", "maps_test", params,
                             env={"HA_RSCTMP": str(tmp_path)})
    assert rc == 0, out
    assert "passed all tests" in out, out
    assert "Traceback" not in out
    assert DB_PASSWORD not in out


def test_main_cf_gone_under_a_started_resource_is_one_failure(maps, setup):
    pc, params = setup
    assert maps("start", params).rc == 0
    os.unlink(pc.main_cf)
    result = maps("monitor", params, env={"OCF_CHECK_LEVEL": "0"})
    assert result.rc == 1
    # Judged before postconf runs (the same words as validate-all's), said once.
    assert result.reason == "setting: config_directory %s has no main.cf" % pc.directory


def test_off_turns_the_milter_and_transport_checks_off(maps, setup):
    """pcs cannot store an empty value: ``off`` is the word for it."""
    pc, params = setup
    params.update(milters="off", virtual_transport="OFF")
    assert maps("validate-all", params).rc == 0
    result = start_and_monitor(maps, params, args=("--verbose",))
    assert result.rc == 0, result
    targets = [line.split()[1] for line in result.stdout.splitlines()]
    assert "smtpd_milters" not in targets and "virtual_transport" not in targets
    assert not any(line.startswith("milter ") for line in result.stdout.splitlines())
