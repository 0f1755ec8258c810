"""Hostile peers for every stack-health check: a shared catalogue.

Used by tests/integration/test_hostile_peers.py (time, memory and exit-reason
bounds of the agent) and tests/bench/bench_hostile.py (peak RSS per peer).
Each ``Case`` makes its peer (a context manager from ``services.listeners``)
and says which check points at it, what the monitor must return and which
words its exit reason must hold.  A fake MariaDB is reached over TCP
through a mysql_adaptor.cfg written next to the run (``directory``).

    for case in CASES:
        with case.make() as peer:
            params = case.params(peer, directory)   # OCF_RESKEY_* values, every other check off
"""

import os

from services.gromox import (ACCESS_DENIED, CHECKS_OFF, NO_SUCH_SESSION, OPTNEG_REPLY, Exmdb,
                             LineDaemon, UnixPeer)
from services.listeners import Greeter, NoAccept, Responder, SilentListener, Streamer
from services.mysqlwire import error, frame, handshake

HUGE = 1 << 20          # a line of 1 MiB
HTTP_END = b"\r\n\r\n"  # the end of our request's head
CHECKS = ("imap", "admin_api", "mysql", "lmtp", "gromox_http", "exmdb", "midb", "zcore", "sync",
          "pop3", "event", "timer", "web", "antispam", "redis", "milter")
# The URL checks: the parameter and the path asked.
URLS = {"admin_api": ("admin_api_url", "/api/v1/status"),
        "gromox_http": ("gromox_http_url", ""),
        "sync": ("sync_url", "/Microsoft-Server-ActiveSync"),
        "web": ("web_url", "/robots.txt"),
        "antispam": ("antispam_url", "/ping")}


class Case:
    __slots__ = ("name", "check", "scheme", "make", "rc", "words")

    def __init__(self, name, check, make, rc, words, scheme=None):
        self.name = name
        self.check = check          # the stack-health check that meets the peer
        self.scheme = scheme        # imap / imap+starttls for the IMAP check
        self.make = make            # () -> a peer with .address
        self.rc = rc                # the monitor's exit code
        self.words = words          # in the exit reason (rc != 0) or None

    def params(self, peer, directory):
        """stack-health parameters: this check on ``peer``, every other check off."""
        values = dict(CHECKS_OFF, critical=self.check)
        if self.check == "imap":
            values["imap_url"] = "%s://%s" % (self.scheme or "imap", peer.address)
        elif self.check in URLS:
            parameter, path = URLS[self.check]
            values[parameter] = "http://%s%s" % (peer.address, path)
        elif self.check == "zcore":
            values["zcore_socket"] = peer.path
        elif self.check == "mysql":
            values["mysql_config"] = os.path.join(directory, "mysql_adaptor.cfg")
            with open(values["mysql_config"], "w", encoding="ascii") as cfg:
                cfg.write("mysql_host = 127.0.0.1\nmysql_port = %d\nmysql_username = gromox\n"
                          "mysql_password = not-used\nmysql_dbname = grommunio\n"
                          % int(peer.address.rpartition(":")[2]))
        else:
            values[self.check + "_address"] = peer.address
        return values

    def __repr__(self):
        return "Case(%s)" % self.name


def _http(status_line_and_rest):
    return lambda: Responder(status_line_and_rest, wait_for=HTTP_END)


CASES = [
    # -- IMAP: the greeting is one bounded line; literals are text ---------------------------
    Case("imap-literal-1.5GB", "imap",
         lambda: Streamer(b"* OK {1500000000}\r\n", b"\0" * 65536), 0, None),
    Case("imap-literal-overflow", "imap",
         lambda: Greeter(b"* OK {99999999999999999999}\r\n"), 0, None),
    Case("imap-endless-ok-lines", "imap",
         lambda: Streamer(b"", b"* OK chatty\r\n" * 4096), 0, None),
    Case("imap-garbage-stream", "imap",
         lambda: Streamer(b"", bytes(range(11, 256)) * 256), 1, "without a line end"),
    Case("imap-huge-line", "imap",
         lambda: Greeter(b"* OK " + b"A" * HUGE + b"\r\n"), 1, "without a line end"),
    Case("imap-trickle", "imap",
         lambda: Streamer(b"", b"* OK slowly ", interval=0.3), 1, "no complete greeting within"),
    Case("imap-silent", "imap", SilentListener, 1, "no greeting within"),
    Case("imap-bye-garbage", "imap",
         lambda: Greeter(b"* BYE \xff\xfe\x1b[2J" + b"\x0b" * 1000 + b"\r\n"), 1, "greeted with"),
    Case("imap-starttls-literal-flood", "imap",
         lambda: Streamer(b"* OK ready\r\n", b"* OK {1500000000}\r\n" * 64), 1,
         "lines without answering CAPABILITY", scheme="imap+starttls"),
    Case("imap-starttls-endless-line", "imap",
         lambda: Streamer(b"* OK ready\r\n", b"y" * 65536), 1, "without a line end",
         scheme="imap+starttls"),
    Case("imaps-not-tls", "imap",
         lambda: Streamer(b"", b"* OK plain text, no TLS\r\n" * 1024), 1, "TLS",
         scheme="imaps"),
    Case("imaps-trickle", "imap",
         lambda: Streamer(b"", b"\x16\x03\x01\x02\x00", interval=0.3), 1, "TLS",
         scheme="imaps"),
    # -- HTTP: status line, head, body and JSON depth are limited ----------------------------
    Case("http-status-superscript", "admin_api",
         _http("HTTP/1.0 ²²² OK\r\n\r\n{}".encode()), 1, "malformed status line"),
    Case("http-status-5000-digits", "admin_api",
         _http(b"HTTP/1.0 " + b"2" * 5000 + b" OK\r\n\r\n{}"), 1, "malformed status line"),
    Case("http-json-30000-deep", "admin_api",
         _http(b"HTTP/1.0 200 OK\r\n\r\n" + b"[" * 30000 + b"]" * 30000), 1, "bytes of body"),
    Case("http-json-5000-deep", "admin_api",
         _http(b"HTTP/1.0 200 OK\r\nContent-Length: 10000\r\n\r\n" + b"[" * 5000 + b"]" * 5000),
         1, "nested deeper than"),
    Case("http-endless-headers", "admin_api",
         lambda: Streamer(b"HTTP/1.0 200 OK\r\n", b"X-Endless: yes\r\n" * 4096, wait_for=HTTP_END),
         1, "bytes of status line and headers"),
    Case("http-endless-body", "admin_api",
         lambda: Streamer(b"HTTP/1.0 200 OK\r\n\r\n", b"{" * 65536, wait_for=HTTP_END),
         1, "bytes of body"),
    Case("http-huge-status-line", "admin_api",
         _http(b"HTTP/1.0 200 " + b"x" * HUGE + b"\r\n\r\n"), 1, "bytes of status line"),
    Case("http-trickle", "admin_api",
         lambda: Streamer(b"", b"HTTP/1.0 200 OK\r\n", interval=0.3, wait_for=HTTP_END),
         1, "no answer within"),
    Case("http-garbage", "admin_api",
         lambda: Streamer(b"", bytes(range(256)) * 256, wait_for=HTTP_END), 1,
         "answered without HTTP"),
    # -- LMTP and redis: one bounded line --------------------------------------------------
    Case("lmtp-endless-line", "lmtp", lambda: Streamer(b"220", b"0" * 65536), 1,
         "without a line end"),
    Case("lmtp-trickle", "lmtp", lambda: Streamer(b"", b"220 slow ", interval=0.3), 1,
         "no complete greeting within"),
    Case("lmtp-huge-421", "lmtp", lambda: Greeter(b"421 " + b"\xff" * HUGE + b"\r\n"), 1,
         "without a line end"),
    Case("lmtp-endless-220-lines", "lmtp", lambda: Streamer(b"", b"220-more\r\n" * 4096), 0, None),
    Case("redis-endless-line", "redis",
         lambda: Streamer(b"+", b"PONG" * 16384, wait_for=b"\n"), 1, "without a line end"),
    Case("redis-trickle", "redis",
         lambda: Streamer(b"", b"+PONG", interval=0.3, wait_for=b"\n"), 1,
         "no complete answer to PING within"),
    Case("redis-bulk-1.5GB", "redis",
         lambda: Streamer(b"$1500000000\r\n", b"\0" * 65536, wait_for=b"\n"), 1,
         "answered PING with '$1500000000'"),
    # -- MariaDB: packets of at most 16 KiB, peer texts bounded -----------------------------
    Case("mysql-announces-16MiB", "mysql",
         lambda: Streamer(b"\xff\xff\xff\x00", b"\0" * 65536), 1, "announced a 16777215-byte"),
    Case("mysql-error-1MB", "mysql",
         lambda: Greeter(frame(error(1045, b"Access denied " + b"A" * HUGE), 0)), 1,
         "announced a"),
    Case("mysql-error-16KB", "mysql",
         lambda: Greeter(frame(error(1040, b"Too many " + b"\x1b[2J\n" * 1800), 0)), 1,
         "refused the connection: Too many"),
    Case("mysql-plugin-60KB", "mysql",
         lambda: Greeter(frame(handshake(), 0) + frame(b"\xfe" + b"p" * 60000 + b"\0", 2)), 1,
         "announced a"),
    Case("mysql-plugin-12KB", "mysql",
         lambda: Greeter(frame(handshake(), 0) + frame(b"\xfe" + b"p" * 12000 + b"\0", 2)), 1,
         "authenticates with ppp"),
    Case("mysql-garbage", "mysql", lambda: Streamer(b"", bytes(range(256)) * 256), 1, "announced a"),
    Case("mysql-trickle", "mysql",
         lambda: Streamer(b"", frame(handshake(), 0), interval=0.3), 1, "no handshake within"),
    Case("mysql-silent", "mysql", SilentListener, 1, "no handshake within"),
    # -- milter: SMFIC_OPTNEG; the answer's length is read, never trusted --------------------
    Case("milter-flood", "milter", lambda: Streamer(b"", b"\xff" * 65536), 1,
         "announced a 4294967295-byte answer to OPTNEG"),
    Case("milter-4GB-then-zeros", "milter",
         lambda: Streamer(b"\xff\xff\xff\xff", b"\0" * 65536, wait_for=b"O"), 1,
         "announced a 4294967295-byte answer"),
    Case("milter-garbage", "milter", lambda: Streamer(b"", bytes(range(256)) * 256), 1,
         "announced a 66051-byte answer"),
    Case("milter-silent", "milter", SilentListener, 1, "no answer to OPTNEG within"),
    Case("milter-trickle", "milter", lambda: Streamer(b"", OPTNEG_REPLY, interval=0.3), 1,
         "answer to OPTNEG within"),
    Case("milter-no-accept", "milter", NoAccept, 1, "no connection within"),
    # -- gromox-http and the web front: the HTTP answer's limits ----------------------------
    Case("gromox_http-silent", "gromox_http", SilentListener, 1, "no answer within"),
    Case("gromox_http-endless-headers", "gromox_http",
         lambda: Streamer(b"HTTP/1.1 401 Unauthorized\r\n",
                          b'WWW-Authenticate: Basic realm="msrpc realm"\r\n' * 4096,
                          wait_for=HTTP_END), 1, "bytes of status line and headers"),
    Case("gromox_http-garbage", "gromox_http",
         lambda: Streamer(b"", bytes(range(256)) * 256, wait_for=HTTP_END), 1,
         "answered without HTTP"),
    Case("gromox_http-huge-realm", "gromox_http",
         _http(b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="'
               + b"m" * HUGE + b'"\r\n\r\n'), 1, "bytes of status line and headers"),
    Case("sync-trickle", "sync",
         lambda: Streamer(b"", b"HTTP/1.1 401 Unauthorized\r\n", interval=0.3, wait_for=HTTP_END),
         1, "no answer within"),
    Case("sync-5000-digit-status", "sync",
         _http(b"HTTP/1.1 " + b"4" * 5000 + b" Unauthorized\r\n\r\n"), 1, "malformed status line"),
    Case("web-endless-body", "web",
         lambda: Streamer(b"HTTP/1.1 200 OK\r\n\r\n", b"User-agent: *\n" * 4096,
                          wait_for=HTTP_END), 1, "bytes of body"),
    Case("web-announces-1.5GB", "web",
         _http(b"HTTP/1.1 200 OK\r\nContent-Length: 1500000000\r\n\r\nUser-agent: *"), 1,
         "announced 1500000000 bytes of body"),
    Case("antispam-endless-line", "antispam",
         lambda: Streamer(b"HTTP/1.1 200 OK\r\n\r\npong", b"g" * 65536, wait_for=HTTP_END), 1,
         "bytes of body"),
    # -- exmdb: one byte is read, whatever follows ------------------------------------------
    Case("exmdb-silent", "exmdb", SilentListener, 1, "no answer to the ping within"),
    Case("exmdb-garbage", "exmdb",
         lambda: Streamer(b"", bytes(range(255, 0, -1)) * 256, wait_for=b"\0\0\0\0"), 1,
         "answered the ping with ff, not 00"),
    Case("exmdb-refused", "exmdb", lambda: Exmdb(refuse=True), 1, "access_deny"),
    Case("exmdb-00-then-flood", "exmdb",
         lambda: Streamer(b"\0", b"\xff" * 65536, wait_for=b"\0\0\0\0"), 0, None),
    # -- midb, event, timer: 64-byte lines, the refusal without a line end ------------------
    Case("midb-garbage", "midb", lambda: Streamer(b"", bytes(range(11, 256)) * 256), 1,
         "more than 64 bytes without a line end"),
    Case("midb-silent", "midb", SilentListener, 1, "no greeting within"),
    Case("midb-trickle", "midb", lambda: Streamer(b"", b"OK", interval=0.3), 1,
         "no complete greeting within"),
    Case("midb-endless-answer", "midb", lambda: Streamer(b"OK\r\n", b"T" * 65536), 1,
         "more than 64 bytes without a line end as the answer to PING"),
    Case("midb-access-denied", "midb", lambda: LineDaemon("midb", refuse=True), 1,
         "'FALSE Access denied'"),
    Case("event-access-denied-kept-open", "event", lambda: Greeter(ACCESS_DENIED), 1,
         "'FALSE Access denied'"),
    Case("event-endless-false-lines", "event",
         lambda: Streamer(b"OK\r\n", b"FALSE\r\n" * 4096), 1, "answered PING with 'FALSE'"),
    Case("timer-access-denied", "timer", lambda: LineDaemon("timer", refuse=True), 1,
         "'FALSE Access denied'"),
    Case("timer-huge-greeting", "timer", lambda: Greeter(b"OK" + b" " * HUGE + b"\r\n"), 1,
         "more than 64 bytes without a line end"),
    # -- zcore: a Unix socket; the length is never trusted ----------------------------------
    Case("zcore-4GB-length", "zcore",
         lambda: UnixPeer(handle=_after_call(b"\x00\xff\xff\xff\xff" + b"\0" * 65536)), 1,
         "announced a 4294967295-byte answer"),
    Case("zcore-garbage", "zcore",
         lambda: UnixPeer(handle=_after_call(bytes(range(255, -1, -1)) * 256)), 1,
         "answered checksession with ff (not a zcore answer)"),
    Case("zcore-silent", "zcore", lambda: UnixPeer(handle=_silent), 1,
         "no answer to checksession within"),
    Case("zcore-trickle", "zcore", lambda: UnixPeer(handle=_trickle(NO_SUCH_SESSION)), 1,
         "within 2.0s"),
    # -- POP3: one bounded line ------------------------------------------------------------
    Case("pop3-endless-line", "pop3", lambda: Streamer(b"+OK", b"o" * 65536), 1,
         "without a line end"),
    Case("pop3-trickle", "pop3", lambda: Streamer(b"", b"+OK slow ", interval=0.3), 1,
         "no complete greeting within"),
    Case("pop3-silent", "pop3", SilentListener, 1, "no greeting within"),
    Case("pop3-garbage", "pop3", lambda: Greeter(b"\xff\xfe\x1b[2J" * 100 + b"\r\n"), 1,
         "not +OK"),
]


def _read_call(conn):
    """Read the 21 bytes of the check's checksession call (or until it goes away)."""
    data = b""
    while len(data) < 21:
        chunk = conn.recv(21 - len(data))
        if not chunk:
            return False
        data += chunk
    return True


def _after_call(answer):
    def handle(conn):
        if _read_call(conn):
            conn.sendall(answer)
            _silent(conn)
    return handle


def _silent(conn):
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def _trickle(answer, interval=0.3):
    import time

    def handle(conn):
        if not _read_call(conn):
            return
        for byte in answer:
            time.sleep(interval)
            conn.sendall(bytes((byte,)))
        _silent(conn)
    return handle
