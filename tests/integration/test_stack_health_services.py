"""stack-health over the guide's whole group, against stand-ins that answer with upstream's bytes.

The agent runs from the work tree as Pacemaker runs it.  Every new check
meets a stand-in from tests/services/gromox.py (each cites the source file
whose bytes it writes); the line daemons and the store listen on [::1] as
gromox's do, when the host has an IPv6 loopback.  Real nginx, php-fpm,
rspamd and POP3 servers are tests/integration/test_stack_health_real.py's.
"""

import os
import socket
import time

import pytest

from helpers import IMPORTTIME, assert_lean_monitor
from services.gromox import (CHECKS_OFF, Exmdb, LineDaemon, Milter, Zcore, gromox_http,
                             nginx_front, rspamd_controller)
from services.listeners import Greeter, SilentListener, closed_port

pytestmark = [pytest.mark.integration]


def _loopback6():
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return "::1"
    except OSError:
        return "127.0.0.1"


LOOP = _loopback6()
DEFAULT_CRITICAL = {"imap", "admin_api", "mysql", "lmtp", "gromox_http", "exmdb", "midb",
                    "zcore", "sync"}


@pytest.fixture
def health(agent, tmp_path):
    def call(action, env=None, args=(), prefix=None, **params):
        values = dict(CHECKS_OFF, check_timeout="2")
        values.update(params)
        environ = {"HA_RSCTMP": str(tmp_path / "rsctmp")}
        environ.update(env or {})
        extra = {"prefix": prefix} if prefix else {}
        return agent("stack-health", action, values, env=environ, args=args, timeout=60, **extra)
    return call


def make_queue(root, ages=()):
    for name in ("mess", "save"):
        (root / name).mkdir(parents=True)
    now = time.time()
    for number, age in enumerate(ages):
        path = root / "mess" / str(number + 1)
        path.write_bytes(b"message")
        os.utime(path, (now - age, now - age))
    return str(root)


class Stack:
    """Every new check's stand-in at once, and the parameters pointing at them."""

    def __init__(self, tmp_path):
        self.midb = LineDaemon("midb", host=LOOP)
        self.event = LineDaemon("event", host=LOOP)
        self.timer = LineDaemon("timer", host=LOOP)
        self.exmdb = Exmdb(host=LOOP)
        self.zcore = Zcore(tmp_path / "zcore.sock")
        self.http = gromox_http()
        self.nginx = nginx_front()
        self.rspamd = rspamd_controller()
        self.milter = Milter()
        self.pop3 = Greeter(b"+OK node1 pop service ready\r\n")
        self.queue = make_queue(tmp_path / "queue")
        self.peers = [self.midb, self.event, self.timer, self.exmdb, self.zcore, self.http,
                      self.nginx, self.rspamd, self.milter, self.pop3]

    def params(self, **changes):
        values = dict(
            gromox_http_url=self.http.url(), exmdb_address=self.exmdb.address,
            midb_address=self.midb.address, zcore_socket=self.zcore.path,
            event_address=self.event.address, timer_address=self.timer.address,
            pop3_address=self.pop3.address,
            sync_url=self.nginx.url("/Microsoft-Server-ActiveSync"),
            web_url=self.nginx.url("/robots.txt"), antispam_url=self.rspamd.url("/ping"),
            milter_address=self.milter.address, queue_dir=self.queue)
        values.update(changes)
        return values

    def close(self):
        for peer in self.peers:
            peer.close()


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path)
    yield s
    s.close()


def test_every_new_check_healthy_one_line_per_unit(health, stack):
    params = stack.params()
    assert health("start", **params).rc == 0
    result = health("monitor", args=("--verbose",), **params)
    assert result.rc == 0, result
    lean = health("monitor", prefix=IMPORTTIME, **params)
    assert lean.rc == 0, lean
    assert_lean_monitor(lean)
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert list(lines) == ["mariadb", "redis", "php-fpm", "gromox-http", "midb", "zcore", "event",
                           "timer", "imap", "pop3", "delivery-queue", "delivery", "antispam",
                           "admin-api", "nginx"]
    ms = r" in \d+\.\d ms"
    expected = {
        "php-fpm": r"\[sync\] 401 GSync realm" + ms,
        "gromox-http": r"401 msrpc realm" + ms + r"; \[exmdb\] ping answered 00" + ms,
        "midb": "OK, PING answered TRUE" + ms,
        "zcore": r"checksession answered ecError \(no such session\), as expected" + ms,
        "event": "OK, PING answered TRUE" + ms,
        "timer": "OK, PING answered TRUE" + ms,
        "pop3": "'\\+OK node1 pop service ready'" + ms,
        "delivery": r"\[queue\] mess/ empty; 0 in save/" + ms,
        "antispam": "pong" + ms + r"; \[milter\] OPTNEG answered, protocol version 6" + ms,
        "nginx": r"\[web\] 200 robots.txt \(User-agent: \* / Disallow: /\)" + ms
                 + r"; \[sync\] 401 GSync realm" + ms,
        "mariadb": r"not checked \(mysql_config off\)",
        "imap": r"not checked \(imap_url off\)",
    }
    import re
    for unit, pattern in expected.items():
        assert re.fullmatch(pattern, lines[unit]), (unit, lines[unit])
    # What the daemons saw: midb two words, event and timer a bare PING, all said goodbye.
    time.sleep(0.1)
    assert stack.midb.commands[-2:] == [b"PING x", b"QUIT"]
    assert stack.event.commands[-2:] == [b"PING", b"QUIT"]


def test_default_critical_set(health, stack):
    """A dead gromox-http, store, midb, zcore or sync front fails; the rest degrades."""
    params = stack.params()
    assert health("start", **params).rc == 0
    for check, parameter in (("gromox_http", "gromox_http_url"), ("exmdb", "exmdb_address"),
                             ("midb", "midb_address"), ("sync", "sync_url")):
        port = closed_port(LOOP)
        target = "http://%s/x" % ("[::1]:%d" % port if LOOP == "::1" else "127.0.0.1:%d" % port)
        value = target if parameter.endswith("_url") else target[7:-2]
        result = health("monitor", **dict(params, **{parameter: value}))
        assert result.rc == 1, (check, result)
        assert result.reason.startswith(check + ": "), result.reason
    result = health("monitor", **dict(params, zcore_socket=str(stack.zcore.path) + ".gone"))
    assert result.rc == 1 and result.reason.startswith("zcore: no socket at "), result
    for parameter in ("pop3_address", "event_address", "timer_address", "milter_address"):
        result = health("monitor", **dict(params, **{parameter: "127.0.0.1:%d" % closed_port()}))
        assert result.rc == 190, (parameter, result)
    for parameter in ("web_url", "antispam_url"):
        result = health("monitor", **dict(params, **{parameter: "http://127.0.0.1:%d/x"
                                                     % closed_port()}))
        assert result.rc == 190, (parameter, result)


def test_refused_by_the_allow_list_is_reported_clearly(health, stack, tmp_path):
    with LineDaemon("midb", refuse=True) as refusing, Exmdb(refuse=True) as store:
        params = stack.params(midb_address=refusing.address, exmdb_address=store.address)
        health("start", env={"OCF_RESKEY_CRM_meta_timeout": "2000"}, **params)
        result = health("monitor", **params)
    assert result.rc == 1
    assert ("exmdb: %s refused this check's address (access_deny: not on exmdb_hosts_allow"
            % store.address) in result.reason
    assert ("midb: %s refused this check's address 127.0.0.1: 'FALSE Access denied' (not on "
            "its allow-list, midb_hosts_allow in midb.cfg or midb_acl.txt; connect to [::1])"
            % refusing.address) in result.reason


def test_stuck_queue_degrades_even_when_critical(health, stack, tmp_path):
    queue = make_queue(tmp_path / "stuck", ages=(1200, 5))
    params = stack.params(queue_dir=queue, queue_max_age="600",
                          critical="gromox_http,exmdb,midb,zcore,sync,queue")
    assert health("start", **params).rc == 0
    result = health("monitor", args=("--verbose",), **params)
    assert result.rc == 190, result
    assert result.reason.startswith("queue: oldest message in %s/mess waits for 12" % queue)
    assert "is gromox-delivery draining the queue?" in result.reason
    assert "delivery: [queue] degraded oldest message" in result.stdout


def test_hung_gromox_http_fails_within_the_check_timeout(health, stack):
    with SilentListener(host=LOOP) as hung:
        params = stack.params(gromox_http_url="http://%s" % hung.address, check_timeout="1")
        health("start", env={"OCF_RESKEY_CRM_meta_timeout": "1500"}, **params)
        started = time.monotonic()
        result = health("monitor", **params)
        took = time.monotonic() - started
    assert result.rc == 1
    assert result.reason == "gromox_http: no answer within 1.0s from http://%s%s" % (
        hung.address, "/mapi/emsmdb/?MailboxId=x")
    assert took < 2.5


@pytest.mark.parametrize("param,value,expected", [
    ("zcore_socket", "run/zcore.sock", "zcore_socket: 'run/zcore.sock' is not an absolute path"),
    ("sync_url", "ftp://localhost/x", "sync_url: 'ftp://localhost/x': unknown scheme 'ftp'"),
    ("midb_address", "::1:5555", "midb_address: '::1:5555': write an IPv6 address in brackets"),
    ("queue_max_age", "0", "queue_max_age: '0' must be more than zero"),
    ("critical", "imap,nginx", "critical: unknown 'nginx'"),
])
def test_bad_new_parameters_are_configuration_errors(health, param, value, expected):
    result = health("validate-all", **{"gromox_http_url": "http://[::1]:10080", param: value})
    assert result.rc == 6, result
    assert result.reason.startswith(expected), result.reason


def test_defaults_are_what_grommunio_setup_configures(agent):
    """grommunio-setup setup.sh: http.cfg listen_port 10080; gromox's built-in listeners."""
    import xml.etree.ElementTree as ET
    xml = agent("stack-health", "meta-data").stdout
    defaults = {p.get("name"): p.find("content").get("default")
                for p in ET.fromstring(xml).iter("parameter")}
    assert {name: defaults[name] for name in (
        "gromox_http_url", "exmdb_address", "midb_address", "zcore_socket", "event_address",
        "timer_address", "pop3_address", "sync_url", "web_url", "antispam_url", "queue_dir",
        "queue_max_age", "redis_address", "milter_address", "critical")} == {
        "gromox_http_url": "http://[::1]:10080", "exmdb_address": "[::1]:5000",
        "midb_address": "[::1]:5555", "zcore_socket": "/run/gromox/zcore.sock",
        "event_address": "[::1]:33333", "timer_address": "[::1]:6666",
        "pop3_address": "localhost:110",
        "sync_url": "https://localhost/Microsoft-Server-ActiveSync",
        "web_url": "https://localhost/robots.txt", "antispam_url": "http://localhost:11334/ping",
        "queue_dir": "/var/lib/gromox/queue", "queue_max_age": "600", "redis_address": "",
        "milter_address": "",
        "critical": ",".join(sorted(DEFAULT_CRITICAL, key=["imap", "admin_api", "mysql", "lmtp",
                                                          "gromox_http", "exmdb", "midb", "zcore",
                                                          "sync"].index))}


def test_new_checks_import_nothing_a_monitor_avoids(tmp_path, stack):
    """The DEVELOPERS guide's list (json, re, socket, threading, enum, hashlib,
    subprocess) and ssl: rawtls does the handshake through CPython's _ssl, because
    ssl.py's import alone costs ~13 ms."""
    import subprocess
    import sys
    from helpers import LIB
    from services.gromox import self_signed
    with nginx_front(tls=self_signed(str(tmp_path))) as nginx:
        params = stack.params(sync_url=nginx.url("/Microsoft-Server-ActiveSync"),
                              web_url=nginx.url("/robots.txt"))
        code = ("import sys; sys.path.insert(0, %r)\n"
                "from grommunio_ocf.ocf.deadline import Deadline\n"
                "from grommunio_ocf.ocf.params import parse\n"
                "from grommunio_ocf.stack.checks import enabled\n"
                "from grommunio_ocf.stack.params import PARAMS\n"
                "env = {'OCF_RESKEY_' + k: v for k, v in %r.items()}\n"
                "values, problems = parse(PARAMS, env)\n"
                "assert not problems, problems\n"
                "for row, target, run in enabled(values):\n"
                "    print(row.name, run(Deadline(3)))\n"
                "bad = 'json re socket threading enum hashlib subprocess ssl'.split()\n"
                "print('loaded:', ' '.join(m for m in bad if m in sys.modules))\n"
                % (LIB, dict(params, imap_url="", admin_api_url="", mysql_config="",
                             lmtp_address="")))
        proc = subprocess.run([sys.executable, "-IS", "-c", code], capture_output=True, text=True,
                              timeout=30)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == [
        "gromox_http", "exmdb", "midb", "zcore", "sync", "pop3", "event", "timer", "web",
        "antispam", "milter", "queue"], proc.stdout
    assert "sync 401 GSync realm" in lines and "web 200 robots.txt (User-agent: * / Disallow: /)" \
        in lines
    assert lines[-1].strip() == "loaded:", proc.stdout
