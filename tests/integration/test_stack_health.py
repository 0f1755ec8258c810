"""stack-health against real services: dovecot, MariaDB, redis, plus misbehaving peers.

Every check is proven against the real thing (dovecot for gromox-imap and
the LMTP greeter, the private MariaDB, redis-server) and against peers that
fail the way real services do (silence, BYE, a full backlog, a refused
port).  Only the admin-api is an in-process stand-in speaking its real
endpoint's shapes.
"""

import os
import threading
import time

import pytest

from helpers import IMPORTTIME, assert_lean_monitor
from ocftester import run_ocf_tester
from services.gromox import CHECKS_OFF, NEW_CHECKS_OFF, Milter
from services.listeners import FakeImap, Greeter, NoAccept, SilentListener, closed_port
from services.mariadb import (DB_NAME, DB_PASSWORD, DB_USER, ED25519_USER, NODB_USER,
                              SWITCH_USER)
from services.redis import PASSWORD as REDIS_PASSWORD

pytestmark = [pytest.mark.integration]

ALL_OFF = CHECKS_OFF


@pytest.fixture
def health(agent, tmp_path):
    """``health(action, **params)``: stack-health with every check off unless given."""
    outputs = []

    def call(action, env=None, args=(), timeout=60, prefix=(), **params):
        values = dict(ALL_OFF, check_timeout="2")
        values.update(params)
        environ = {"HA_RSCTMP": str(tmp_path / "rsctmp")}
        environ.update(env or {})
        result = agent("stack-health", action, values, env=environ, args=args, timeout=timeout,
                       prefix=prefix)
        outputs.append(result.stdout + result.stderr)
        return result

    call.outputs = outputs
    yield call
    for text in outputs:  # whatever a test did, the database password never shows
        assert DB_PASSWORD not in text
        assert REDIS_PASSWORD not in text


def mysql_cfg(tmp_path, mariadb, host="localhost", user=DB_USER, password=DB_PASSWORD,
              database=DB_NAME, port=None, extra=""):
    path = tmp_path / "mysql_adaptor.cfg"
    path.write_text("# gromox mysql_adaptor.cfg\nmysql_host = %s\nmysql_port = %d\n"
                    "MYSQL_USERNAME = %s\nmysql_password = %s\nmysql_dbname = %s\n%s"
                    % (host, port or mariadb.port, user, password, database, extra))
    path.chmod(0o640)
    return str(path)


def started(health, **params):
    result = health("start", **params)
    assert result.rc == 0, result
    return result


# -- healthy -----------------------------------------------------------------------

def test_all_six_checks_healthy_in_parallel(health, tmp_path, dovecot, mariadb, redis, adminapi):
    with Milter() as milter:
        params = dict(imap_url="imap://127.0.0.1:%d" % dovecot.imap_port,
                      admin_api_url=adminapi.status_url,
                      mysql_config=mysql_cfg(tmp_path, mariadb), mysql_socket=mariadb.socket,
                      lmtp_address=dovecot.lmtp6_address or "127.0.0.1:%d" % dovecot.lmtp_port,
                      redis_address=redis.address, milter_address=milter.address,
                      critical="imap,admin_api,mysql,lmtp,redis,milter")
        started(health, **params)
        result = health("monitor", args=("--verbose",), **params)
        assert_lean_monitor(health("monitor", prefix=IMPORTTIME, **params))
    assert result.rc == 0, result
    assert result.reason is None
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    # One line per unit of the guide's group, in its order; the six checked ones say what.
    assert list(lines) == ["mariadb", "redis", "php-fpm", "gromox-http", "midb", "zcore", "event",
                           "timer", "imap", "pop3", "delivery-queue", "delivery", "antispam",
                           "admin-api", "nginx"]
    assert not any("FAILED" in line or "failed" in line for line in lines.values()), result.stdout
    # the [CAPABILITY ...] code left out
    assert lines["imap"].startswith("'* OK Dovecot (Debian) ready.' in "), result.stdout
    assert lines["admin-api"].startswith("HTTP 200; database up in ")
    assert lines["mariadb"].startswith("[mysql] ") and "ping OK" in lines["mariadb"]
    assert lines["delivery-queue"].startswith("[lmtp] '220 ")
    assert lines["redis"].startswith("+PONG in ")
    assert lines["antispam"].startswith("[milter] OPTNEG answered, protocol version 6 in ")
    assert lines["gromox-http"] == "not checked (gromox_http_url and exmdb_address off)"


def test_monitor_before_start_is_not_running_and_stop_is_safe(health, adminapi):
    params = dict(admin_api_url=adminapi.status_url, critical="admin_api")
    assert health("monitor", **params).rc == 7
    assert health("stop", **params).rc == 0
    started(health, **params)
    assert health("monitor", **params).rc == 0
    assert health("stop", **params).rc == 0
    assert health("stop", **params).rc == 0
    assert health("monitor", **params).rc == 7


# -- IMAP --------------------------------------------------------------------------

@pytest.mark.parametrize("scheme,port_attr", [("imap", "imap_port"), ("imaps", "imaps_port"),
                                              ("imap+starttls", "imap_port")])
def test_imap_schemes_against_dovecot(health, dovecot, scheme, port_attr):
    params = dict(imap_url="%s://127.0.0.1:%d" % (scheme, getattr(dovecot, port_attr)),
                  critical="imap")
    started(health, **params)
    result = health("monitor", args=("-v",), **params)
    assert result.rc == 0, result
    assert "* OK" in result.stdout


def test_imaps_with_tls_verify_rejects_a_self_signed_certificate(health, dovecot):
    params = dict(imap_url="imaps://127.0.0.1:%d" % dovecot.imaps_port, critical="imap",
                  tls_verify="true")
    result = health("start", env={"OCF_RESKEY_CRM_meta_timeout": "3000"}, **params)
    assert result.rc == 1
    assert result.reason.startswith("imap: TLS certificate of 127.0.0.1:%d not accepted"
                                    % dovecot.imaps_port), result.reason


@pytest.mark.parametrize("peer,expected", [
    (lambda: Greeter(b"* BYE Service not available\r\n"), "greeted with '* BYE Service not available'"),
    (lambda: SilentListener(), "no greeting within 1.0s from 127.0.0.1:"),
    (lambda: NoAccept(), "no connection within 1.0s to 127.0.0.1:"),
])
def test_imap_failures_are_named(health, peer, expected):
    with peer() as server:
        params = dict(imap_url="imap://%s" % server.address, critical="imap", check_timeout="1")
        health("start", env={"OCF_RESKEY_CRM_meta_timeout": "1000"}, **params)
        result = health("monitor", **params)
    assert result.rc == 1, result
    assert result.reason.startswith("imap: ")
    assert expected in result.reason, result.reason


def test_imap_refused_port(health):
    port = closed_port()
    params = dict(imap_url="imap://127.0.0.1:%d" % port, critical="imap")
    health("start", env={"OCF_RESKEY_CRM_meta_timeout": "1000"}, **params)
    result = health("monitor", **params)
    assert result.rc == 1
    assert result.reason == "imap: connection refused by 127.0.0.1:%d" % port


def test_starttls_not_offered(health):
    with FakeImap(b"* OK fake IMAP ready", ("IMAP4rev1",)) as server:
        params = dict(imap_url="imap+starttls://%s" % server.address, critical="imap")
        health("start", env={"OCF_RESKEY_CRM_meta_timeout": "1000"}, **params)
        result = health("monitor", **params)
    assert result.rc == 1
    assert result.reason == ("imap: %s does not offer STARTTLS (capabilities: IMAP4REV1)"
                             % server.address)


def test_hung_dovecot_fails_within_the_check_timeout(health, dovecot):
    params = dict(imap_url="imap://127.0.0.1:%d" % dovecot.imap_port, critical="imap",
                  check_timeout="1")
    started(health, **params)
    with dovecot.hung():
        began = time.monotonic()
        result = health("monitor", **params)
        took = time.monotonic() - began
    assert result.rc == 1
    assert result.reason == "imap: no greeting within 1.0s from 127.0.0.1:%d" % dovecot.imap_port
    assert took < 5


def test_killed_dovecot_then_back(health, dovecot):
    params = dict(imap_url="imap://127.0.0.1:%d" % dovecot.imap_port, critical="imap")
    started(health, **params)
    dovecot.kill()
    result = health("monitor", **params)
    assert result.rc == 1
    assert "connection refused" in result.reason
    dovecot.start()
    assert health("monitor", **params).rc == 0


# -- admin-api ---------------------------------------------------------------------

@pytest.mark.parametrize("mode,rc,expected", [
    ("healthy", 0, "database up"),
    ("legacy", 0, "database state unknown"),
    ("database_down", 1, "admin-api reports its database is down"),
    ("error", 1, "answered HTTP 500"),
    ("invalid_json", 1, "answered 200 without JSON"),
    ("slow", 1, "no answer within 1.0s"),
])
def test_admin_api_shapes(health, adminapi, mode, rc, expected):
    params = dict(admin_api_url=adminapi.status_url, critical="admin_api", check_timeout="1")
    started(health, **params)
    adminapi.mode = mode
    adminapi.slow_seconds = 3
    result = health("monitor", args=("--verbose",), **params)
    assert result.rc == rc, result
    assert expected in (result.reason or result.stdout), result


# -- MariaDB -----------------------------------------------------------------------

@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_mysql_socket_and_tcp(health, tmp_path, mariadb, host):
    params = dict(mysql_config=mysql_cfg(tmp_path, mariadb, host=host),
                  mysql_socket=mariadb.socket, critical="mysql")
    started(health, **params)
    result = health("monitor", args=("-v",), **params)
    assert result.rc == 0, result
    target = mariadb.socket if host == "localhost" else "logged in"
    assert target in result.stdout or "logged in" in result.stdout


@pytest.mark.parametrize("kw,expected", [
    (dict(password="wrong-password"), "Access denied for user 'grommunio'@'localhost'"),
    # Without global privileges MariaDB says "access denied", not "unknown database".
    (dict(database="nosuchdb"), "Access denied for user 'grommunio'@'localhost' to database 'nosuchdb'"),
    (dict(user=NODB_USER), "Access denied for user '%s'@'%%' to database 'grommunio'" % NODB_USER),
    (dict(user=ED25519_USER), "authenticates with client_ed25519"),
])
def test_mysql_login_failures(health, tmp_path, mariadb, kw, expected):
    params = dict(mysql_config=mysql_cfg(tmp_path, mariadb, **kw), mysql_socket=mariadb.socket,
                  critical="mysql")
    result = health("start", env={"OCF_RESKEY_CRM_meta_timeout": "1000"}, **params)
    assert result.rc == 1
    assert result.reason.startswith("mysql: ")
    assert expected in result.reason, result.reason


def test_mysql_auth_switch_to_native_password(health, tmp_path, mariadb):
    params = dict(mysql_config=mysql_cfg(tmp_path, mariadb, host="127.0.0.1", user=SWITCH_USER),
                  critical="mysql")
    started(health, **params)


def test_mysql_server_stopped_then_back(health, tmp_path, mariadb):
    params = dict(mysql_config=mysql_cfg(tmp_path, mariadb), mysql_socket=mariadb.socket,
                  critical="mysql")
    started(health, **params)
    with mariadb.stopped():
        result = health("monitor", **params)
        assert result.rc == 1
        assert result.reason.startswith("mysql: ")
        assert mariadb.socket in result.reason
    assert health("monitor", **params).rc == 0


def test_mysql_server_that_never_sends_a_handshake(health, tmp_path, mariadb, silent_server):
    params = dict(mysql_config=mysql_cfg(tmp_path, mariadb, host="127.0.0.1",
                                         port=silent_server.port),
                  critical="mysql", check_timeout="1")
    health("start", env={"OCF_RESKEY_CRM_meta_timeout": "1000"}, **params)
    result = health("monitor", **params)
    assert result.rc == 1
    assert result.reason == "mysql: no handshake within 1.0s from 127.0.0.1:%d" % silent_server.port


# Files gromox runs with (stray lines, raw bytes, missing keys) are never
# refused: see test_real_installs.py.  What is left is a file that cannot be read.
@pytest.mark.parametrize("content,expected", [
    (None, "does not exist"),
    ("mysql_port = 99999\nmysql_password = %s\n" % DB_PASSWORD,
     "mysql_port is not a port number (1-65535)"),
    ("mysql_port = %s\n" % ("9" * 5000), "mysql_port is not a port number (1-65535)"),
], ids=["missing", "port-99999", "port-5000-digits"])
def test_mysql_config_problems(health, tmp_path, content, expected):
    path = tmp_path / "cfg" / "mysql_adaptor.cfg"
    path.parent.mkdir()
    if content is not None:
        path.write_text(content)
    params = dict(mysql_config=str(path), critical="mysql")
    result = health("validate-all", **params)
    assert result.rc == 5, result
    assert result.reason.startswith("mysql_config: %s" % path)
    assert expected in result.reason
    # A monitor of a started resource reports the same as a failed check.
    health("stop", **params)
    (tmp_path / "rsctmp").mkdir(exist_ok=True)
    (tmp_path / "rsctmp" / "stack-health-test.state").write_text("fails=0\n")
    result = health("monitor", **params)
    assert result.rc == 1
    assert result.reason.startswith("mysql: %s" % path) and expected in result.reason


def test_mysql_config_that_is_a_fifo_does_not_block(health, tmp_path):
    fifo = tmp_path / "mysql_adaptor.cfg"
    os.mkfifo(fifo)
    result = health("validate-all", mysql_config=str(fifo), critical="mysql", timeout=10)
    assert result.rc == 5
    assert result.reason == "mysql_config: %s is not a regular file" % fifo


def test_mysql_config_is_a_directory(health, tmp_path):
    result = health("validate-all", mysql_config=str(tmp_path), critical="mysql")
    assert result.rc == 5
    assert result.reason == "mysql_config: %s is a directory" % tmp_path


# -- LMTP, redis, milter -----------------------------------------------------------

def test_lmtp_greeting_ipv4_and_ipv6(health, dovecot):
    for address in filter(None, ("127.0.0.1:%d" % dovecot.lmtp_port, dovecot.lmtp6_address)):
        params = dict(lmtp_address=address, critical="lmtp")
        started(health, **params)
        result = health("monitor", args=("-v",), **params)
        assert result.rc == 0, result
        assert "'220 " in result.stdout


def test_lmtp_refusing_greeting(health):
    with Greeter(b"421 4.3.2 Service shutting down\r\n") as server:
        params = dict(lmtp_address=server.address, critical="lmtp")
        health("start", env={"OCF_RESKEY_CRM_meta_timeout": "1000"}, **params)
        result = health("monitor", **params)
    assert result.rc == 1
    assert result.reason == ("lmtp: %s greeted with '421 4.3.2 Service shutting down', not 220"
                             % server.address)


def test_redis_pong_and_auth_required(health, redis, redis_auth):
    params = dict(redis_address=redis.address, critical="redis")
    started(health, **params)
    assert health("monitor", **params).rc == 0
    params = dict(redis_address=redis_auth.address, critical="redis")
    result = health("monitor", **params)
    assert result.rc == 1
    assert result.reason == ("redis: %s requires a password (PING answered NOAUTH); "
                             "the check does not log in" % redis_auth.address)


def test_milter_negotiates(health):
    with Milter() as milter:
        params = dict(milter_address=milter.address, critical="milter")
        started(health, **params)
        assert health("monitor", **params).rc == 0
    port = closed_port()
    result = health("monitor", milter_address="127.0.0.1:%d" % port, critical="milter")
    assert result.rc == 1
    assert result.reason == "milter: connection refused by 127.0.0.1:%d" % port


# -- verdict, fall, start polling, budget ------------------------------------------

def test_non_critical_failure_degrades_and_critical_comes_first(health, adminapi, redis):
    port = closed_port()
    params = dict(admin_api_url=adminapi.status_url, redis_address=redis.address,
                  milter_address="127.0.0.1:%d" % port)  # default critical: not redis, milter
    started(health, **params)
    result = health("monitor", **params)
    assert result.rc == 190, result
    assert result.reason == "milter: connection refused by 127.0.0.1:%d" % port
    adminapi.mode = "database_down"
    result = health("monitor", **params)
    assert result.rc == 1
    assert result.reason.startswith("admin_api: admin-api reports its database is down")
    assert result.reason.endswith("; milter: connection refused by 127.0.0.1:%d" % port)


def test_fall_counts_consecutive_failures(health, adminapi):
    params = dict(admin_api_url=adminapi.status_url, critical="admin_api", fall="3")
    started(health, **params)
    adminapi.mode = "error"
    first, second, third = (health("monitor", **params) for _ in range(3))
    assert (first.rc, second.rc, third.rc) == (190, 190, 1)
    assert first.reason.startswith("failed 1 of 3 monitors in a row: admin_api: ")
    assert second.reason.startswith("failed 2 of 3 monitors in a row: ")
    assert third.reason.startswith("admin_api: ")
    adminapi.mode = "healthy"
    assert health("monitor", **params).rc == 0
    adminapi.mode = "error"
    assert health("monitor", **params).rc == 190  # the counter started again


def test_start_polls_until_the_service_answers(health, adminapi):
    params = dict(admin_api_url=adminapi.status_url, critical="admin_api")
    adminapi.mode = "database_down"
    timer = threading.Timer(1.5, lambda: setattr(adminapi, "mode", "healthy"))
    timer.start()
    try:
        began = time.monotonic()
        result = health("start", env={"OCF_RESKEY_CRM_meta_timeout": "20000"}, **params)
        took = time.monotonic() - began
    finally:
        timer.cancel()
    assert result.rc == 0, result
    assert 1.4 < took < 10


def test_start_gives_up_within_its_budget_with_the_reason_first(health):
    port = closed_port()
    began = time.monotonic()
    result = health("start", env={"OCF_RESKEY_CRM_meta_timeout": "3000"},
                    imap_url="imap://127.0.0.1:%d" % port, critical="imap")
    took = time.monotonic() - began
    assert result.rc == 1
    assert result.reason.startswith("imap: connection refused by 127.0.0.1:%d (still failing "
                                    "after " % port), result.reason
    assert took < 3.0


def test_silent_imap_monitor_returns_within_the_operation_budget(health):
    with SilentListener() as server:
        params = dict(imap_url="imap://%s" % server.address, critical="imap", check_timeout="60")
        health("start", env={"OCF_RESKEY_CRM_meta_timeout": "1000"}, **params)
        began = time.monotonic()
        result = health("monitor", env={"OCF_RESKEY_CRM_meta_timeout": "3000"}, **params)
        took = time.monotonic() - began
    assert result.rc == 1
    assert result.reason.startswith("imap: no greeting within 2.7s from %s" % server.address)
    assert took < 3.0


# -- node health attribute (attrd_updater stand-in: no cluster here; the real
#    one is exercised in tests/cluster) --------------------------------------------

@pytest.fixture
def fake_attrd(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "attrd.calls"
    script = bindir / "attrd_updater"
    script.write_text("#!/bin/sh\necho \"$*\" >> %s\n" % calls)
    script.chmod(0o755)
    env = {"PATH": "%s:/usr/sbin:/usr/bin:/sbin:/bin" % bindir}

    def read():
        return calls.read_text().splitlines() if calls.exists() else []
    return env, read


def test_health_attribute_follows_the_verdict(health, adminapi, fake_attrd):
    env, calls = fake_attrd
    params = dict(admin_api_url=adminapi.status_url, critical="admin_api", fall="2",
                  health_attribute="#health-grommunio")
    assert health("start", env=env, **params).rc == 0
    assert health("monitor", env=env, **params).rc == 0
    adminapi.mode = "error"
    assert health("monitor", env=env, **params).rc == 190
    assert health("monitor", env=env, **params).rc == 1
    assert health("monitor", env=env, **params).rc == 1
    # Stopped after a red verdict, the node stays red (the move off it starts with this stop).
    stop = health("stop", env=env, **params)
    assert stop.rc == 0 and "leaving #health-grommunio=red" in stop.stderr
    assert calls() == ["-n #health-grommunio -U green", "-n #health-grommunio -U yellow",
                       "-n #health-grommunio -U red"]
    # A start that passes proves the node healthy; a clean stop then leaves no mark.
    adminapi.mode = "healthy"
    assert health("start", env=env, **params).rc == 0
    assert health("stop", env=env, **params).rc == 0
    assert calls()[3:] == ["-n #health-grommunio -U green", "-n #health-grommunio -D"]


def test_health_attribute_without_attrd_only_warns(health, adminapi):
    params = dict(admin_api_url=adminapi.status_url, critical="admin_api",
                  health_attribute="#health-grommunio")
    result = health("start", env={"PATH": "/nonexistent"}, **params)
    assert result.rc == 0
    assert "cannot publish #health-grommunio=green: attrd_updater is not installed" in result.stderr


# -- bad input ---------------------------------------------------------------------

@pytest.mark.parametrize("param,value,expected", [
    ("imap_url", "localhost:143", "imap_url: 'localhost:143' is not a URL"),
    ("imap_url", "pop3://localhost:110", "imap_url: 'pop3://localhost:110': unknown scheme 'pop3'"),
    ("imap_url", "imap://localhost:0", "port 0 is out of range (1-65535)"),
    ("imap_url", "imap://localhost:70000", "port 70000 is out of range (1-65535)"),
    ("imap_url", "imap://localhost:x", "port 'x' is not a number"),
    ("imap_url", "imap://user:Pw@localhost", "user names and passwords in the URL are not supported"),
    ("imap_url", "imap://::1:143", "write an IPv6 address in brackets"),
    ("admin_api_url", "ftp://localhost/", "unknown scheme 'ftp'"),
    ("admin_api_url", "http://", "the host is missing"),
    ("lmtp_address", "[::1:24", "unclosed '['"),
    ("lmtp_address", "host name:24", "is not a host name or address"),
    ("redis_address", "127.0.0.1:65536", "port 65536 is out of range"),
    ("milter_address", "localhost", "the port is missing (HOST:PORT)"),
    ("critical", "imap,pop", "critical: unknown 'pop' (choose from imap, admin_api, mysql, "
                             "lmtp, gromox_http, exmdb, midb, zcore, sync, pop3, event, timer, "
                             "web, antispam, redis, milter, queue)"),
    ("fall", "0", "fall: 0 is less than 1"),
    ("fall", "-2", "fall: -2 is less than 1"),
    ("fall", "two", "fall: 'two' is not an integer"),
    ("check_timeout", "0", "check_timeout: '0' must be more than zero"),
    ("check_timeout", "soon", "check_timeout: 'soon' is not a duration"),
    ("health_attribute", "health grommunio", "is not an attribute name"),
    ("tls_verify", "maybe", "tls_verify: 'maybe' is not a boolean"),
    ("mysql_config", "relative/path.cfg", "mysql_config: 'relative/path.cfg' is not an absolute path"),
])
@pytest.mark.parametrize("action", ["validate-all", "start", "monitor"])
def test_bad_input_is_a_configuration_error(health, param, value, expected, action):
    params = {"imap_url": "imap://localhost:143", param: value}
    result = health(action, **params)
    assert result.rc == 6, result
    assert expected in result.reason, result.reason
    assert result.reason.startswith(param + ":")


def test_every_check_off_is_a_configuration_error(health):
    result = health("validate-all")
    assert result.rc == 6
    assert result.reason == ("at least one of imap_url, admin_api_url, mysql_config, lmtp_address, "
                             "gromox_http_url, exmdb_address, midb_address, zcore_socket, "
                             "sync_url, pop3_address, event_address, timer_address, web_url, "
                             "antispam_url, redis_address, milter_address, queue_dir must be set "
                             "(each is empty or invalid)")


def test_stop_with_bad_input_still_clears_the_state(health, adminapi, tmp_path):
    params = dict(admin_api_url=adminapi.status_url, critical="admin_api")
    started(health, **params)
    assert health("stop", fall="0", **params).rc == 0
    assert not os.listdir(tmp_path / "rsctmp")


# -- ocf-tester on the installed agent ---------------------------------------------

def test_ocf_tester_passes(tmp_path, dovecot, mariadb, adminapi, redis):
    cfg = mysql_cfg(tmp_path, mariadb)
    options = ["imap_url=imap://127.0.0.1:%d" % dovecot.imap_port,
               "admin_api_url=" + adminapi.status_url, "mysql_config=" + cfg,
               "mysql_socket=" + mariadb.socket, "lmtp_address=127.0.0.1:%d" % dovecot.lmtp_port,
               "redis_address=" + redis.address]
    options += ["%s=%s" % item for item in NEW_CHECKS_OFF.items()]
    rc, out = run_ocf_tester("/usr/lib/ocf/resource.d/grommunio/stack-health", "health_test", options,
                             env={"HA_RSCTMP": str(tmp_path)})
    assert rc == 0, out
    assert "passed all tests" in out, out
    assert "Traceback" not in out
    assert DB_PASSWORD not in out


def test_off_turns_a_check_off_as_empty_does(health, adminapi):
    """pcs cannot store an empty value: ``off`` is the word for it."""
    params = dict(ALL_OFF, imap_url="off", mysql_config="off", lmtp_address="Off",
                  admin_api_url=adminapi.status_url, critical="admin_api")
    started(health, **params)
    result = health("monitor", args=("--verbose",), **params)
    assert result.rc == 0, result
    checked = [line.split(":")[0] for line in result.stdout.splitlines()
               if "not checked" not in line]
    assert checked == ["admin-api"]
    everything_off = health("validate-all", **dict(params, admin_api_url="off"))
    assert everything_off.rc == 6
    assert everything_off.reason.startswith("at least one of imap_url, admin_api_url")
