"""The checks of the guide's whole group against stand-ins that answer with upstream's bytes.

Each stand-in (tests/services/gromox.py) writes what its source writes --
the file is named in each test -- so these prove the wire protocol: gromox
1892eb3d (release 3.10), grommunio-sync cf4ebc68, rspamd's controller and
milter.  Misbehaving peers are in the hostile-peer catalogue
(tests/services/hostile.py); real nginx, php-fpm, rspamd and POP3 are the
real-service tests'.
"""

import os
import time

import pytest

from grommunio_ocf.base.netaddr import parse_address, parse_url
from grommunio_ocf.checks.contract import CheckDegraded, CheckFailed, Outcome
from grommunio_ocf.ocf.deadline import Deadline
from grommunio_ocf.stack import queue as gromoxqueue
from grommunio_ocf.protocols import activesync, exmdb, gromoxhttp, gromoxline, milter, pop3
from grommunio_ocf.protocols import robots, rspamd, zcore
from services.gromox import (GSYNC_401, MAPI_PATH, NO_SUCH_SESSION, OPTNEG_REPLY, Exmdb,
                             LineDaemon, Milter, UnixPeer, WebFront, Zcore, gromox_http,
                             http_answer, nginx_front, rspamd_controller)
from services.listeners import Greeter, Responder, SilentListener

HTTP = {"http": 80, "https": 443}
MIDB_PING = b"PING x\r\n"


def addr(peer):
    return parse_address(peer.address)


def url(peer, path=""):
    return parse_url("http://%s%s" % (peer.address, path), HTTP)


def deadline(seconds=2.0):
    return Deadline(seconds)


# -- midb, event, timer: exch/midb/main.cpp + cmd_parser.cpp, tools/event.cpp, tools/timer.cpp

@pytest.mark.parametrize("kind,command", [("midb", MIDB_PING), ("event", b"PING\r\n"),
                                          ("timer", b"PING\r\n")])
def test_line_daemons_greet_ok_and_answer_ping_true(kind, command):
    with LineDaemon(kind) as daemon:
        detail = gromoxline.check(addr(daemon), deadline(), command, "acl")
        time.sleep(0.05)
    assert detail == "OK, PING answered TRUE"
    # midb's PING takes exactly two words; event gets no three (it would broadcast them).
    assert daemon.commands == [command.rstrip(b"\r\n"), b"QUIT"]


def test_midb_needs_two_words_a_bare_ping_is_false_1():
    """exch/midb/cmd_parser.cpp: PING is registered with two arguments."""
    with LineDaemon("midb") as daemon:
        with pytest.raises(CheckFailed, match=r"answered PING with 'FALSE 1', not TRUE"):
            gromoxline.check(addr(daemon), deadline(), b"PING\r\n", "acl")


@pytest.mark.parametrize("kind", ["midb", "event", "timer"])
def test_allow_list_refusal_is_said_plainly(kind):
    """19 bytes, no line end, then close (HXio_fullwrite(..., "FALSE Access denied\\r\\n", 19))."""
    with LineDaemon(kind, refuse=True) as daemon:
        started = time.monotonic()
        with pytest.raises(CheckFailed) as info:
            gromoxline.check(addr(daemon), deadline(), b"PING\r\n",
                             "midb_hosts_allow in midb.cfg or midb_acl.txt")
    assert time.monotonic() - started < 1.0  # the close ends it: no wait for a line end
    text = str(info.value)
    assert "refused this check's address 127.0.0.1: 'FALSE Access denied'" in text
    assert "midb_hosts_allow" in text and "connect to [::1]" in text


def test_no_free_connection_truncated_refusal_is_shown():
    """tools/event.cpp writes 35 bytes of "FALSE Maximum number of connections reached!"."""
    with LineDaemon("event", refuse=b"FALSE Maximum number of connections reached!\r\n"[:35]) \
            as peer:
        with pytest.raises(CheckFailed, match=r"greeted with 'FALSE Maximum number of "
                                              r"connections', not OK"):
            gromoxline.check(addr(peer), deadline(0.5), b"PING\r\n", "acl")


def test_silent_line_daemon_fails_within_the_deadline():
    with SilentListener() as peer:
        with pytest.raises(CheckFailed, match=r"no greeting within 0.3s"):
            gromoxline.check(addr(peer), deadline(0.3), b"PING\r\n", "acl")


# -- exmdb: exch/exmdb/parser.cpp, include/gromox/exmdb_rpc.hpp -------------------------

def test_exmdb_ping_is_answered_00():
    with Exmdb() as store:
        assert exmdb.check(addr(store), deadline()) == "ping answered 00"
    assert store.pings == 1


def test_exmdb_access_deny_byte_names_the_allow_list():
    with Exmdb(refuse=True) as store:
        with pytest.raises(CheckFailed, match=r"refused this check's address \(access_deny: "
                                              r"not on exmdb_hosts_allow"):
            exmdb.check(addr(store), deadline())


def test_exmdb_other_byte_fails():
    with Responder(b"\x7f", wait_for=b"\0\0\0\0") as peer:
        with pytest.raises(CheckFailed, match=r"answered the ping with 7f, not 00"):
            exmdb.check(addr(peer), deadline())


# -- zcore: exch/zcore/rpc_parser.cpp, rpc_ext.cpp, include/gromox/zcore_rpc.hpp ----------

def test_zcore_checksession_is_answered_no_such_session(tmp_path):
    with Zcore(tmp_path / "zcore.sock") as daemon:
        detail = zcore.check(daemon.path, deadline())
    assert "ecError (no such session)" in detail
    assert daemon.calls == [b"\x52" + bytes(16)]
    assert zcore.REQUEST == bytes.fromhex("11000000 52") + bytes(16)
    assert NO_SUCH_SESSION == bytes.fromhex("00 04 00 00 00 05 40 00 80")


@pytest.mark.parametrize("answer,words", [
    (b"\x03", "answered checksession with 03 (dispatch_error)"),
    (b"\x00\xff\xff\xff\xff", "announced a 4294967295-byte answer"),
    (bytes.fromhex("00 04 00 00 00 01 00 00 00"), "result 0x00000001"),
    (b"\x00\x04\x00", "closed the connection 2 bytes into the answer's length"),
])
def test_zcore_wrong_answers_fail(tmp_path, answer, words):
    with Zcore(tmp_path / "zcore.sock", answer=answer) as daemon:
        with pytest.raises(CheckFailed) as info:
            zcore.check(daemon.path, deadline())
    assert words in str(info.value)


def test_zcore_socket_missing_or_dead(tmp_path):
    with pytest.raises(CheckFailed, match=r"no socket at .*zcore.sock \(service down\?\)"):
        zcore.check(str(tmp_path / "zcore.sock"), deadline())
    with UnixPeer(tmp_path / "dead.sock", handle=lambda conn: None) as peer:
        path = peer.path
    import socket
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)  # a socket file nobody listens on: refused
    try:
        with pytest.raises(CheckFailed, match=r"connection refused on"):
            zcore.check(path, deadline())
    finally:
        stale.close()


# -- gromox-http: exch/http/http_parser.cpp, exch/mh/emsmdb.cpp -------------------------

def test_gromox_http_401_msrpc_realm():
    with gromox_http() as server:
        assert gromoxhttp.check(url(server), deadline()) == "401 msrpc realm"
    [(method, path, head)] = server.requests
    assert (method, path) == ("POST", MAPI_PATH)
    assert "\r\nContent-Length: 0\r\n" in head and "Authorization" not in head


def test_gromox_http_other_401_or_404_fails():
    with WebFront({("POST", MAPI_PATH): GSYNC_401}) as other:
        with pytest.raises(CheckFailed, match=r"answered 401 without realm \"msrpc realm\" "
                                              r"\('GSync'\): not gromox-http\?"):
            gromoxhttp.check(url(other), deadline())
    with WebFront({}) as empty:
        with pytest.raises(CheckFailed, match=r"answered HTTP 404 Not Found, not 401 "
                                              r"\(MAPI/HTTP plugin not loaded\?\)"):
            gromoxhttp.check(url(empty), deadline())


# -- nginx + php-fpm + grommunio-sync; nginx alone; rspamd ------------------------------

def test_sync_options_401_gsync_realm():
    """grommunio-sync index.php + lib/exceptions/authenticationrequiredexception.php."""
    with nginx_front() as nginx:
        target = url(nginx, "/Microsoft-Server-ActiveSync")
        assert activesync.check(target, deadline()) == "401 GSync realm"
    [(method, _, head)] = nginx.requests
    assert method == "OPTIONS" and "Authorization" not in head


@pytest.mark.parametrize("status,words", [
    ("502 Bad Gateway", "not 401 (php-fpm pool not answering"),
    ("504 Gateway Time-out", "php-fpm pool too slow"),
    ("200 OK", "answered HTTP 200 OK, not 401"),
])
def test_sync_gateway_errors_name_the_pool(status, words):
    with WebFront({("OPTIONS", "/s"): http_answer(status)}) as nginx:
        with pytest.raises(CheckFailed) as info:
            activesync.check(url(nginx, "/s"), deadline())
    assert words in str(info.value)


def test_robots_txt_and_rspamd_ping():
    with nginx_front() as nginx, rspamd_controller() as controller:
        assert robots.check(url(nginx, "/robots.txt"), deadline()).startswith("200 robots.txt")
        assert rspamd.check(url(controller, "/ping"), deadline()) == "pong"


def test_robots_txt_without_grommunio_body_and_wrong_pong_fail():
    body = http_answer("200 OK", (), b"<html>welcome to nginx</html>")
    with WebFront({("GET", "/robots.txt"): body, ("GET", "/ping"): body}) as server:
        with pytest.raises(CheckFailed, match=r"answered 200 without 'user-agent: \*' and "
                                              r"'disallow: /'"):
            robots.check(url(server, "/robots.txt"), deadline())
        with pytest.raises(CheckFailed, match=r"not pong"):
            rspamd.check(url(server, "/ping"), deadline())


# -- milter: rspamd src/libserver/milter.c ----------------------------------------------

def test_milter_optneg_answered():
    with Milter() as peer:
        detail = milter.check(addr(peer), deadline())
        time.sleep(0.05)
    assert detail == "OPTNEG answered, protocol version 6"
    (cmd, data), (quit_cmd, _) = peer.commands
    assert cmd == b"O" and int.from_bytes(data[:4], "big") == 6 and len(data) == 12
    assert quit_cmd == b"Q"
    assert OPTNEG_REPLY[:5] == bytes.fromhex("00 00 00 0d 4f")


@pytest.mark.parametrize("reply,words", [
    ((13).to_bytes(4, "big") + b"O" + (2).to_bytes(4, "big") + bytes(8), "version 2"),
    (b"\xff\xff\xff\xff", "announced a 4294967295-byte answer to OPTNEG"),
    ((5).to_bytes(4, "big") + b"Oabcd", "too short"),
    ((13).to_bytes(4, "big") + b"r" + bytes(12), "not an option negotiation"),
])
def test_milter_wrong_answers_fail(reply, words):
    with Milter(reply=reply) as peer:
        with pytest.raises(CheckFailed) as info:
            milter.check(addr(peer), deadline())
    assert words in str(info.value)


def test_a_bare_tcp_acceptor_is_no_longer_a_milter():
    from services.listeners import TcpAcceptor
    with TcpAcceptor() as peer:
        with pytest.raises(CheckFailed, match=r"closed the connection|reset by peer"):
            milter.check(addr(peer), deadline())


# -- POP3: mra/pop3/resource.cpp --------------------------------------------------------

def test_pop3_greeting():
    with Greeter(b"+OK node1 pop service ready\r\n") as peer:
        assert pop3.check(addr(peer), deadline()) == "'+OK node1 pop service ready'"
    with Greeter(b"-ERR node1 pop service unavailable\r\n") as peer:
        with pytest.raises(CheckFailed, match=r"greeted with '-ERR node1 pop service "
                                              r"unavailable', not \+OK"):
            pop3.check(addr(peer), deadline())


# -- the delivery queue: mda/message_enqueue.cpp, mda/delivery_app/message_dequeue.cpp --

def queue(tmp_path, ages=(), saved=0):
    (tmp_path / "mess").mkdir()
    (tmp_path / "save").mkdir()
    now = time.time()
    for number, age in enumerate(ages):
        path = tmp_path / "mess" / str(number + 1)
        path.write_bytes(b"x")
        os.utime(path, (now - age, now - age))
    for number in range(saved):
        (tmp_path / "save" / str(number + 100)).write_bytes(b"x")
    return str(tmp_path)


def test_queue_draining_is_healthy_and_counts(tmp_path):
    assert gromoxqueue.check(queue(tmp_path), 600, deadline()) == "mess/ empty; 0 in save/"


def test_queue_with_young_messages_is_healthy(tmp_path):
    detail = gromoxqueue.check(queue(tmp_path, ages=(5, 30), saved=3), 600, deadline())
    assert detail == "2 waiting in mess/, oldest 30s; 3 in save/"


def test_queue_stuck_degrades(tmp_path):
    with pytest.raises(CheckDegraded, match=r"oldest message in .*/mess waits for 900s "
                                            r"\(more than 600s; 2 waiting\): is gromox-delivery"):
        gromoxqueue.check(queue(tmp_path, ages=(900, 10)), 600, deadline())


def test_queue_directory_missing_fails(tmp_path):
    with pytest.raises(CheckFailed, match=r"no directory .*/nope/mess"):
        gromoxqueue.check(str(tmp_path / "nope"), 600, deadline())


# -- --verbose: one line per unit, in the guide's order ---------------------------------

def test_verbose_lines_follow_the_guide():
    from grommunio_ocf.stack import report as stackreport
    outcomes = [Outcome("gromox_http", "u", Outcome.PASSED, "401 msrpc realm", 0.0021),
                Outcome("exmdb", "a", Outcome.FAILED, "connection refused by [::1]:5000", 0.0003),
                Outcome("sync", "u", Outcome.PASSED, "401 GSync realm", 0.0098),
                Outcome("queue", "d", Outcome.DEGRADED, "stuck", 0.001)]
    lines = list(stackreport.lines(outcomes, {"gromox_http", "exmdb", "sync"}))
    assert [line.split(":")[0] for line in lines] == [
        "mariadb", "redis", "php-fpm", "gromox-http", "midb", "zcore", "event", "timer", "imap",
        "pop3", "delivery-queue", "delivery", "antispam", "admin-api", "nginx"]
    assert lines[3] == ("gromox-http: 401 msrpc realm in 2.1 ms; [exmdb] FAILED connection "
                        "refused by [::1]:5000 in 0.3 ms")
    assert lines[2] == "php-fpm: [sync] 401 GSync realm in 9.8 ms"
    assert lines[11] == "delivery: [queue] degraded stuck in 1.0 ms"
    assert lines[1] == "redis: not checked (redis_address off)"
    assert lines[14] == "nginx: not checked (web_url and sync_url off)" or \
        lines[14] == "nginx: [sync] 401 GSync realm in 9.8 ms"
