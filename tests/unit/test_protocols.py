"""grommunio_ocf.protocols: the shared helpers and the SMTP, Redis, TCP and HTTP checks.

Every probe talks to a tiny scripted server thread on 127.0.0.1 (port 0);
time limits are small ``Deadline`` objects, so silence costs fractions of a
second.  MariaDB has its own file (test_protocols_mysql.py).
"""

import http.server
import json
import socket
import threading
import time

import pytest

from grommunio_ocf import protocols
from grommunio_ocf.base import jsonread
from grommunio_ocf.ocf.deadline import Deadline
from grommunio_ocf.base.netaddr import Address, parse_url
from grommunio_ocf.checks.contract import CheckDegraded, CheckFailed
from grommunio_ocf.protocols import budget_text, connect, read_line, seconds
from grommunio_ocf.protocols import adminapi
from grommunio_ocf.protocols import redis, smtp, tcp

HTTP = {"http": 80, "https": 443}


class LineServer:
    """Accepts one connection and runs ``script(sock, seen)`` in a thread."""

    def __init__(self, script):
        self.script = script
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(2.0)
        self.address = Address("127.0.0.1", self.listener.getsockname()[1])
        self.seen = {}
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            sock, _ = self.listener.accept()
        except OSError as exc:
            self.error = exc
            return
        with sock:
            sock.settimeout(2.0)
            try:
                self.script(sock, self.seen)
            except Exception as exc:  # noqa: BLE001 -- reported by finish()
                self.error = exc

    def finish(self):
        self.thread.join(3.0)
        assert not self.thread.is_alive(), "fake server still running"
        self.listener.close()
        if self.error is not None:
            raise self.error
        return self.seen


@pytest.fixture
def server():
    made = []

    def make(script):
        made.append(LineServer(script))
        return made[-1]

    yield make
    for srv in made:
        srv.listener.close()
        srv.thread.join(3.0)


@pytest.fixture
def refused_address():
    """A port that refuses: bound, never listening."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    yield Address("127.0.0.1", holder.getsockname()[1])
    holder.close()


def read_until_close(sock):
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return data
            data += chunk
    except OSError:
        return data


def greet(line):
    """A server that sends ``line`` and records what the client says until it hangs up."""
    def script(sock, seen):
        sock.sendall(line)
        seen["got"] = read_until_close(sock)
    return script


def silent(sock, seen):
    seen["got"] = read_until_close(sock)


def hang_up(sock, seen):
    pass


def fail_text(call):
    with pytest.raises(CheckFailed) as info:
        call()
    return str(info.value)


# -- helpers ---------------------------------------------------------------------------

def test_seconds_left_and_out_of_time():
    assert 0.0 < seconds(Deadline(1.0)) <= 1.0
    with pytest.raises(CheckFailed, match="^out of time$"):
        seconds(Deadline(0.0))


@pytest.mark.parametrize("total,text", [(2.0, "2.0s"), (0.25, "0.2s"), (0.5, "0.5s"), (30, "30.0s")])
def test_budget_text(total, text):
    assert budget_text(Deadline(total)) == text


def test_probe_exceptions_are_distinct():
    assert not issubclass(CheckDegraded, CheckFailed)
    assert not issubclass(CheckFailed, CheckDegraded)


@pytest.mark.parametrize("exc,message", [
    (ConnectionRefusedError(111, "Connection refused"), "connection refused by db:1"),
    (socket.timeout("timed out"), "no connection within 0.5s to db:1"),
    (socket.gaierror(-2, "Name or service not known"), "cannot resolve db: Name or service not known"),
    (OSError(113, "No route to host"), "cannot connect to db:1: No route to host"),
    (OSError("weird"), "cannot connect to db:1: weird"),
])
def test_connect_errors(mocker, exc, message):
    info = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", 1))
    if isinstance(exc, socket.gaierror):
        mocker.patch.object(protocols.sockets, "getaddrinfo", side_effect=exc)
    else:
        mocker.patch.object(protocols.sockets, "getaddrinfo", return_value=[info])
        mocker.patch.object(protocols, "_connect_one", side_effect=exc)
    assert fail_text(lambda: connect(Address("db", 1), Deadline(0.5))) == message


def test_connect_resolves_ascii_bytes_and_shares_the_deadline(mocker):
    infos = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 1, 0, 0)),
             (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 1))]
    resolve = mocker.patch.object(protocols.sockets, "getaddrinfo", return_value=infos)
    clock = [0.0]
    timeouts = []

    def one(info, timeout):
        timeouts.append(timeout)
        clock[0] += 0.3            # each attempt uses up time
        raise socket.timeout("timed out")
    mocker.patch.object(protocols, "_connect_one", side_effect=one)
    deadline = Deadline(0.5, clock=lambda: clock[0])
    assert fail_text(lambda: connect(Address("db", 1), deadline)) == "no connection within 0.5s to db:1"
    assert resolve.call_args[0][:2] == (b"db", 1)      # bytes: the idna codec never runs
    assert timeouts == [0.5, pytest.approx(0.2)]       # the second gets what is left


def test_connect_non_ascii_host_is_a_failure_not_a_crash():
    assert fail_text(lambda: connect(Address("st\u00e4tus", 1), Deadline(0.5))) == (
        "cannot resolve st\u00e4tus:1: not an ASCII host name")


def test_connect_refused_for_real(refused_address):
    assert fail_text(lambda: connect(refused_address, Deadline(0.5))) == (
        "connection refused by %s" % refused_address)


def test_connect_with_spent_deadline():
    assert fail_text(lambda: connect(Address("127.0.0.1", 9), Deadline(0.0))) == "out of time"


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


@pytest.mark.parametrize("chunks,line", [
    ([b"220 ready\r\n"], "220 ready"),
    ([b"220 ready\n"], "220 ready"),
    ([b"22", b"0 re", b"ady\r\n"], "220 ready"),
    ([b"first\r\nsecond\r\n"], "first"),
    ([b"\r\n"], ""),
    ([b"caf\xc3\xa9 \xff\r\n"], "caf\u00e9 \ufffd"),
])
def test_read_line(pair, chunks, line):
    ours, theirs = pair
    for chunk in chunks:
        theirs.sendall(chunk)
    assert read_line(ours, Deadline(0.5), "greeting", "peer") == line


def test_read_line_closed(pair):
    ours, theirs = pair
    theirs.sendall(b"220 no line end")
    theirs.close()
    assert fail_text(lambda: read_line(ours, Deadline(0.5), "greeting", "peer")) == (
        "peer closed the connection before the greeting")


def test_read_line_silence(pair):
    ours, _ = pair
    started = time.monotonic()
    text = fail_text(lambda: read_line(ours, Deadline(0.1), "greeting", "peer"))
    assert text == "no greeting within 0.1s from peer"
    assert time.monotonic() - started < 0.5


def test_read_line_endless_line(pair):
    ours, theirs = pair
    theirs.sendall(b"x" * 200)
    assert fail_text(lambda: read_line(ours, Deadline(0.5), "greeting", "peer", limit=100)) == (
        "peer sent more than 100 bytes without a line end")


# -- SMTP/LMTP greeting -----------------------------------------------------------------

def test_smtp_220_is_healthy_and_says_quit(server):
    srv = server(greet(b"220 mail.example.org LMTP gromox-delivery-queue ready\r\n"))
    detail = smtp.check(srv.address, Deadline(0.5))
    assert detail == "'220 mail.example.org LMTP gromox-delivery-queue ready'"
    assert srv.finish()["got"] == b"QUIT\r\n"


def test_smtp_multiline_greeting_first_line_counts(server):
    srv = server(greet(b"220-mail.example.org\r\n220 ready\r\n"))
    assert smtp.check(srv.address, Deadline(0.5)) == "'220-mail.example.org'"
    srv.finish()


@pytest.mark.parametrize("line,shown", [
    (b"421 4.3.2 Service shutting down\r\n", "'421 4.3.2 Service shutting down'"),
    (b"554 5.3.2 no service here\r\n", "'554 5.3.2 no service here'"),
    (b"* OK IMAP ready\r\n", "'* OK IMAP ready'"),
])
def test_smtp_other_greeting_fails_quoting_it(server, line, shown):
    srv = server(greet(line))
    text = fail_text(lambda: smtp.check(srv.address, Deadline(0.5)))
    assert text == "%s greeted with %s, not 220" % (srv.address, shown)
    srv.finish()


def test_smtp_silence(server):
    srv = server(silent)
    started = time.monotonic()
    text = fail_text(lambda: smtp.check(srv.address, Deadline(0.2)))
    assert time.monotonic() - started < 0.6
    assert text == "no greeting within 0.2s from %s" % srv.address
    srv.finish()


def test_smtp_closed_without_greeting(server):
    srv = server(hang_up)
    text = fail_text(lambda: smtp.check(srv.address, Deadline(0.5)))
    assert text == "%s closed the connection before the greeting" % srv.address
    srv.finish()


def test_smtp_refused(refused_address):
    text = fail_text(lambda: smtp.check(refused_address, Deadline(0.5)))
    assert text == "connection refused by %s" % refused_address


def test_smtp_over_ipv6_loopback():
    try:
        listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        listener.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    listener.listen(1)

    def serve():
        sock, _ = listener.accept()
        with sock:
            sock.sendall(b"220 v6 ready\r\n")
            read_until_close(sock)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        address = Address("::1", listener.getsockname()[1])
        assert smtp.check(address, Deadline(0.5)) == "'220 v6 ready'"
    finally:
        thread.join(2.0)
        listener.close()


# -- Redis PING ---------------------------------------------------------------------------

def reply_after(marker, raw, linger=True):
    """A server that reads up to ``marker``, sends ``raw`` and (``linger``) waits for the close."""
    def script(sock, seen):
        data = b""
        while marker not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        seen["command"] = data
        try:
            sock.sendall(raw)
        except OSError:
            return
        if linger:
            read_until_close(sock)
    return script


def pong(answer):
    return reply_after(b"\n", answer)


def test_redis_pong(server):
    srv = server(pong(b"+PONG\r\n"))
    assert redis.check(srv.address, Deadline(0.5)) == "+PONG"
    assert srv.finish()["command"] == b"PING\r\n"


def test_redis_noauth(server):
    srv = server(pong(b"-NOAUTH Authentication required.\r\n"))
    text = fail_text(lambda: redis.check(srv.address, Deadline(0.5)))
    assert text == ("%s requires a password (PING answered NOAUTH); the check does not log in"
                    % srv.address)
    srv.finish()


@pytest.mark.parametrize("answer,shown", [
    (b"-LOADING Redis is loading the dataset in memory\r\n",
     "'-LOADING Redis is loading the dataset in memory'"),
    (b"-MISCONF Redis is configured to save RDB snapshots\r\n",
     "'-MISCONF Redis is configured to save RDB snapshots'"),
    (b"+OK\r\n", "'+OK'"),
    (b"$4\r\nPONG\r\n", "'$4'"),
])
def test_redis_other_answer(server, answer, shown):
    srv = server(pong(answer))
    text = fail_text(lambda: redis.check(srv.address, Deadline(0.5)))
    assert text == "%s answered PING with %s" % (srv.address, shown)
    srv.finish()


def test_redis_silence(server):
    srv = server(silent)
    text = fail_text(lambda: redis.check(srv.address, Deadline(0.2)))
    assert text == "no answer to PING within 0.2s from %s" % srv.address
    assert srv.finish()["got"] == b"PING\r\n"


def test_redis_hang_up(server):
    srv = server(hang_up)
    text = fail_text(lambda: redis.check(srv.address, Deadline(0.5)))
    assert text.startswith(str(srv.address))
    assert "answer to PING" in text or "while sending PING" in text
    srv.finish()


def test_redis_refused(refused_address):
    text = fail_text(lambda: redis.check(refused_address, Deadline(0.5)))
    assert text == "connection refused by %s" % refused_address


# -- TCP connect ---------------------------------------------------------------------------

def test_tcp_accepts(server):
    srv = server(silent)
    assert tcp.check(srv.address, Deadline(0.5)) == "accepts connections"
    assert srv.finish()["got"] == b""   # connected, said nothing, closed


def test_tcp_refused(refused_address):
    text = fail_text(lambda: tcp.check(refused_address, Deadline(0.5)))
    assert text == "connection refused by %s" % refused_address


# -- HTTP: _judge -------------------------------------------------------------------------

URL = parse_url("http://localhost:8080/api/v1/status", HTTP)
PREFIX = "http://localhost:8080/api/v1/status"


@pytest.mark.parametrize("body,detail", [
    (b'{"message": "API is operational", "database": true, "ldap": false}',
     "HTTP 200; database up"),
    (b'{"message": "API is operational"}',
     "HTTP 200; database state unknown (no 'database' field)"),
    (b'{"database": null}', "HTTP 200; database state unknown (no 'database' field)"),
    (b'{"database": true}\n', "HTTP 200; database up"),
])
def test_judge_healthy(body, detail):
    assert adminapi.judge(URL, 200, "OK", body) == detail


@pytest.mark.parametrize("status,reason,body,message", [
    (200, "OK", b'{"message": "API is operational", "database": false}',
     "admin-api reports its database is down (%s: database=false)" % PREFIX),
    (200, "OK", b'{"database": "yes"}',
     'admin-api reports its database is down (%s: database="yes")' % PREFIX),
    (200, "OK", b'{"database": 1}',
     "admin-api reports its database is down (%s: database=1)" % PREFIX),
    (500, "Internal Server Error", b'{"database": true}',
     "%s answered HTTP 500 Internal Server Error" % PREFIX),
    (503, "Service Unavailable", b"", "%s answered HTTP 503 Service Unavailable" % PREFIX),
    (301, "Moved Permanently", b"", "%s answered HTTP 301 Moved Permanently" % PREFIX),
    (200, "OK", b"<html>It works!</html>",
     "%s answered 200 without JSON: '<html>It works!</html>'" % PREFIX),
    (200, "OK", b"", "%s answered 200 without JSON: ''" % PREFIX),
    (200, "OK", b"\xff\xfe{}", "%s answered 200 without JSON: '\ufffd\ufffd{}'" % PREFIX),
    (200, "OK", b"x" * 100, "%s answered 200 without JSON: '%s...'" % (PREFIX, "x" * 37)),
    (200, "OK", b'[{"database": true}]', "%s answered 200 with JSON that is no object" % PREFIX),
    (200, "OK", b'"ok"', "%s answered 200 with JSON that is no object" % PREFIX),
    (200, "OK", b"true", "%s answered 200 with JSON that is no object" % PREFIX),
])
def test_judge_failures(status, reason, body, message):
    with pytest.raises(CheckFailed) as info:
        adminapi.judge(URL, status, reason, body)
    assert str(info.value) == message


# -- HTTP: probe against a local server ----------------------------------------------------

class StatusHandler(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b"{}"
    seen = []

    def do_GET(self):  # noqa: N802 -- http.server's name
        type(self).seen.append((self.path, self.headers.get("Accept")))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    servers = []

    def make(status, body):
        handler = type("Handler", (StatusHandler,), {"status": status, "body": body, "seen": []})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        servers.append(srv)
        return srv, handler

    yield make
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_http_check_healthy(http_server):
    srv, handler = http_server(200, json.dumps({"message": "API is operational",
                                                "database": True}).encode())
    url = parse_url("http://127.0.0.1:%d/api/v1/status" % srv.server_address[1], HTTP)
    assert adminapi.check(url, Deadline(1.0)) == "HTTP 200; database up"
    assert handler.seen == [("/api/v1/status", "application/json")]


def test_http_check_without_path_asks_for_root(http_server):
    srv, handler = http_server(200, b'{"database": true}')
    url = parse_url("http://127.0.0.1:%d" % srv.server_address[1], HTTP)
    adminapi.check(url, Deadline(1.0))
    assert handler.seen[0][0] == "/"


def test_http_check_database_down(http_server):
    srv, _ = http_server(200, b'{"message": "API is operational", "database": false}')
    url = parse_url("http://127.0.0.1:%d/api/v1/status" % srv.server_address[1], HTTP)
    text = fail_text(lambda: adminapi.check(url, Deadline(1.0)))
    assert text == "admin-api reports its database is down (%s: database=false)" % url


def test_http_check_500(http_server):
    srv, _ = http_server(500, b"boom")
    url = parse_url("http://127.0.0.1:%d/s" % srv.server_address[1], HTTP)
    assert fail_text(lambda: adminapi.check(url, Deadline(1.0))) == (
        "%s answered HTTP 500 Internal Server Error" % url)


def test_http_check_silence(server):
    srv = server(silent)
    url = parse_url("http://%s/api/v1/status" % srv.address, HTTP)
    started = time.monotonic()
    text = fail_text(lambda: adminapi.check(url, Deadline(0.2)))
    assert time.monotonic() - started < 0.6
    assert text == "no answer within 0.2s from %s" % url
    assert srv.finish()["got"].startswith(b"GET /api/v1/status HTTP/1.0\r\n")


def test_http_check_not_http(server):
    srv = server(greet(b"220 this is smtp\r\n"))
    url = parse_url("http://%s/" % srv.address, HTTP)
    started = time.monotonic()
    text = fail_text(lambda: adminapi.check(url, Deadline(0.5)))
    assert text == "%s answered without HTTP: '220 this is smtp'" % url
    assert time.monotonic() - started < 0.4  # judged at the first line, not at the deadline
    srv.finish()


def test_http_check_refused(refused_address):
    url = parse_url("http://%s/api/v1/status" % refused_address, HTTP)
    assert fail_text(lambda: adminapi.check(url, Deadline(0.5))) == (
        "connection refused by %s" % refused_address)


# -- issue 11: every read bounded in bytes and time -----------------------------------------

from grommunio_ocf.protocols import LINE_LIMIT, LineReader, imap  # noqa: E402

IMAP = {"imap": 143, "imaps": 993, "imap+starttls": 143}


def trickle(data, interval):
    def script(sock, seen):
        try:
            for byte in data:
                sock.sendall(bytes((byte,)))
                time.sleep(interval)
        except OSError:
            pass
    return script


def endless(prefix, chunk):
    def script(sock, seen):
        try:
            sock.sendall(prefix)
            while True:
                sock.sendall(chunk)
        except OSError:
            pass
    return script


def test_line_reader_keeps_the_rest_for_the_next_line(pair):
    ours, theirs = pair
    theirs.sendall(b"one\r\ntwo\nthr")
    reader = LineReader(ours, Deadline(0.5), "peer")
    assert reader.line("a") == "one" and reader.line("b") == "two"
    theirs.sendall(b"ee\r\n")
    assert reader.line("c") == "three" and reader.buffer == b""


def test_line_reader_trickle_is_cut_at_the_deadline(server):
    srv = server(trickle(b"* OK " + b"x" * 100, 0.02))
    sock = connect(srv.address, Deadline(1.0))
    started = time.monotonic()
    text = fail_text(lambda: LineReader(sock, Deadline(0.3), srv.address).line("greeting"))
    took = time.monotonic() - started
    sock.close()
    assert 0.25 < took < 0.6
    assert text.startswith("no complete greeting within 0.3s from %s (" % srv.address)
    assert text.endswith(" bytes without a line end)")


@pytest.mark.parametrize("greeting,detail", [
    (b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n", "'* OK Dovecot ready.'"),
    (b"* PREAUTH ready\r\n", "'* PREAUTH ready'"),
    (b"* OK {1500000000}\r\n" + b"x" * 5000, "'* OK {1500000000}'"),   # a literal is just text
    (b"* OK {99999999999999999999}\r\n", "'* OK {99999999999999999999}'"),
    (b"* ok lower case\n", "'* ok lower case'"),
])
def test_imap_greeting_is_one_bounded_line(server, greeting, detail):
    srv = server(greet(greeting))
    url = parse_url("imap://%s" % srv.address, IMAP)
    assert imap.check(url, Deadline(1.0)) == detail
    assert srv.finish()["got"].startswith(b"g3 LOGOUT\r\n")


@pytest.mark.parametrize("greeting,words", [
    (b"* BYE Service not available\r\n", "greeted with '* BYE Service not available'"),
    (b"\xff\xfe garbage " * 30 + b"\r\n", "greeted with '\ufffd\ufffd garbage"),
    (b"220 this is smtp\r\n", "greeted with '220 this is smtp'"),
])
def test_imap_bad_greetings(server, greeting, words):
    srv = server(greet(greeting))
    url = parse_url("imap://%s" % srv.address, IMAP)
    text = fail_text(lambda: imap.check(url, Deadline(1.0)))
    assert words in text and len(text) < 120


@pytest.mark.parametrize("script,words", [
    (endless(b"", b"x" * 65536), "sent more than %d bytes without a line end" % LINE_LIMIT),
    (endless(b"* OK {1500000000}", b"\0" * 65536), "without a line end"),
    (trickle(b"* OK " + b"y" * 1000, 0.05), "no complete greeting within 0.4s"),
])
def test_imap_endless_or_trickling_peer_is_cut_off(server, script, words):
    srv = server(script)
    url = parse_url("imap://%s" % srv.address, IMAP)
    started = time.monotonic()
    text = fail_text(lambda: imap.check(url, Deadline(0.4)))
    assert time.monotonic() - started < 0.8
    assert words in text


def test_imap_endless_ok_lines_are_one_greeting(server):
    srv = server(endless(b"* OK first\r\n", b"* OK more\r\n" * 1000))
    url = parse_url("imap://%s" % srv.address, IMAP)
    started = time.monotonic()
    assert imap.check(url, Deadline(1.0)) == "'* OK first'"
    assert time.monotonic() - started < 0.6


def imap_dialogue(greeting, answers):
    """A server that greets, then answers each tagged command from ``answers`` (by command)."""
    def script(sock, seen):
        sock.sendall(greeting)
        reader = sock.makefile("rb")
        seen["commands"] = []
        for line in reader:
            tag, _, command = line.decode().strip().partition(" ")
            seen["commands"].append(command)
            sock.sendall(answers.get(command, b"%s BAD what\r\n").replace(b"TAG", tag.encode()))
            if command in ("LOGOUT", "STARTTLS"):
                return
    return script


@pytest.mark.parametrize("greeting,answers,message", [
    (b"* OK ready\r\n", {"CAPABILITY": b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nTAG OK done\r\n"},
     "does not offer STARTTLS (capabilities: IMAP4REV1 AUTH=PLAIN)"),
    (b"* OK [CAPABILITY IMAP4rev1] ready\r\n", {},
     "does not offer STARTTLS (capabilities: IMAP4REV1)"),
    (b"* OK ready\r\n", {"CAPABILITY": b"* CAPABILITY STARTTLS\r\nTAG OK\r\n",
                         "STARTTLS": b"TAG NO [UNAVAILABLE] no TLS\r\n"},
     "refused STARTTLS: 'TAG NO [UNAVAILABLE] no TLS'"),
    (b"* OK ready\r\n", {"CAPABILITY": b"* CAPABILITY STARTTLS\r\nTAG OK\r\n",
                         "STARTTLS": b"TAG OK go\r\ninjected\r\n"},
     "sent data after accepting STARTTLS"),
    (b"* OK ready\r\n", {"CAPABILITY": b"* OK {1500000000}\r\n" * 40},
     "sent more than 32 lines without answering CAPABILITY"),
    (b"* OK ready\r\n", {"CAPABILITY": b"TAG BAD no\r\n"}, "answered CAPABILITY with 'TAG BAD no'"),
])
def test_imap_starttls_dialogue_failures(server, greeting, answers, message):
    srv = server(imap_dialogue(greeting, answers))
    url = parse_url("imap+starttls://%s" % srv.address, IMAP)
    text = fail_text(lambda: imap.check(url, Deadline(1.0)))
    assert text.replace("g1", "TAG").replace("g2", "TAG") == "%s %s" % (srv.address, message)


def test_plain_imap_imports_neither_imaplib_nor_ssl():
    import subprocess
    import sys
    code = ("import sys; sys.path.insert(0, %r); from grommunio_ocf.protocols import imap; "
            "print('imaplib' in sys.modules, 'ssl' in sys.modules)" % protocols.__path__[0].rsplit(
                "/", 2)[0])
    out = subprocess.run([sys.executable, "-IS", "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"], out


# -- HTTP limits ------------------------------------------------------------------------------

def answer(raw):
    """A web server that reads the request head, sends ``raw`` and closes."""
    return reply_after(b"\r\n\r\n", raw, linger=False)


@pytest.mark.parametrize("raw,words", [
    ("HTTP/1.0 ²²² OK\r\n\r\n{}".encode(), "malformed status line: 'HTTP/1.0 ²²² OK'"),
    (b"HTTP/1.0 " + b"2" * 5000 + b" OK\r\n\r\n", "malformed status line: 'HTTP/1.0 222"),
    (b"HTTP/1.0 20 OK\r\n\r\n", "malformed status line"),
    (b"HTTP/x.y 200 OK\r\n\r\n", "malformed status line"),
    (b"HTTP/1.0 200 OK\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n", "bytes of status line and headers"),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n", "announced 99999999 bytes of body"),
    (b"HTTP/1.0 200 OK\r\nContent-Length: \xb2\r\n\r\n", "malformed Content-Length"),
    (b"HTTP/1.0 200 OK\r\n\r\n" + b" " * 20000, "sent more than 16384 bytes of body"),
    (b"HTTP/1.0 200 OK\r\n\r\n" + b"[" * 30000 + b"]" * 30000, "more than 16384 bytes of body"),
    (b"HTTP/1.0 200 OK\r\n\r\n" + b"[" * 5000 + b"]" * 5000, "JSON nested deeper than 32 levels"),
    (b'HTTP/1.0 200 OK\r\n\r\n{"a":' + b"[" * 33 + b"]" * 33 + b"}", "nested deeper than 32"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", "chunked"),
    (b"HTTP/1.0 503 " + b"r" * 400 + b"\r\n\r\n", "answered HTTP 503 " + "r" * 57 + "..."),
    (b"HTTP/1.0 503 " + b"r" * 1000 + b"\r\n\r\n", "malformed status line"),
    (b"HTTP/1.0 200 OK\r\n\r\n" + b"1" * 5000, "answered 200 without JSON"),
    (b"HTTP/1.0 200 OK\r\nContent-Le", "closed the connection within the headers"),
])
def test_http_hostile_answers(server, raw, words):
    srv = server(answer(raw))
    url = parse_url("http://%s/api/v1/status" % srv.address, HTTP)
    text = fail_text(lambda: adminapi.check(url, Deadline(1.0)))
    assert words in text, text
    assert len(text) < 300


def test_http_deep_json_in_strings_is_fine():
    body = b'{"database": true, "note": "' + b"[" * 1000 + b'"}'
    assert adminapi.judge(URL, 200, "OK", body) == "HTTP 200; database up"
    assert jsonread.loads('{"a": "\\"[[[["}', 1) == {"a": '"[[[['}


def test_http_content_length_ends_the_body_without_waiting_for_close(server):
    def script(sock, seen):
        answer(b'HTTP/1.0 200 OK\r\nContent-Length: 18\r\n\r\n{"database": true}')(sock, seen)
        seen["got"] = read_until_close(sock)   # keeps the connection open
    srv = server(script)
    url = parse_url("http://%s/" % srv.address, HTTP)
    started = time.monotonic()
    assert adminapi.check(url, Deadline(2.0)) == "HTTP 200; database up"
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("script", [
    endless(b"HTTP/1.0 200 OK\r\n", b"X-Endless: header\r\n"),
    endless(b"HTTP/1.0 200 OK\r\n\r\n", b"{" * 65536),
    trickle(b"HTTP/1.0 200 OK\r\n\r\n" + b" " * 1000, 0.05),
])
def test_http_endless_or_trickling_is_cut_off(server, script):
    srv = server(script)
    url = parse_url("http://%s/" % srv.address, HTTP)
    started = time.monotonic()
    fail_text(lambda: adminapi.check(url, Deadline(0.4)))
    assert time.monotonic() - started < 0.8


@pytest.mark.parametrize("protocol", [redis, smtp])
@pytest.mark.parametrize("script,words", [
    (endless(b"", b"z" * 65536), "sent more than 4096 bytes without a line end"),
    (trickle(b"+PO" + b"O" * 100, 0.05), "no complete "),
])
def test_line_protocols_endless_or_trickling(server, protocol, script, words):
    srv = server(script)
    started = time.monotonic()
    text = fail_text(lambda: protocol.check(srv.address, Deadline(0.4)))
    assert time.monotonic() - started < 0.8
    assert words in text
