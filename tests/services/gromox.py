"""Stand-ins for the gromox daemons, nginx + php-fpm + grommunio-sync, rspamd and a milter.

Each answers with the exact bytes its upstream source writes (the file is
named beside each), so stack-health's checks are proven against the
protocol, not against our own idea of it.  Real nginx, php-fpm, rspamd and
dovecot's POP3 are the real-service tests' business; these are for the
fast tests and the hostile-peer catalogue.  Every peer is a context manager
(services.listeners): leaving the ``with`` block ends its threads.

    LineDaemon(kind, refuse=False)   gromox-midb, -event or -timer: OK, PING -> TRUE
    Exmdb(refuse=False)              the information store's ping: 4 zero bytes -> 00
    Zcore(path)                      gromox-zcore on a Unix socket: checksession -> no such session
    WebFront(routes)                 an HTTP server answering (method, path) from ``routes``
    Milter()                         a milter answering SMFIC_OPTNEG as rspamd does
    UnixPeer(path, handle)           any ``handle(conn)`` on a Unix socket (hostile zcore peers)

``CHECKS_OFF`` turns every stack-health check off; a test turns on what it
needs.
"""

import os
import socket
import threading

from services.listeners import _Peer, _drain

# Every stack-health parameter that names a check's target.
CHECK_PARAMETERS = ("imap_url", "admin_api_url", "mysql_config", "lmtp_address",
                    "gromox_http_url", "exmdb_address", "midb_address", "zcore_socket",
                    "event_address", "timer_address", "pop3_address", "sync_url", "web_url",
                    "antispam_url", "redis_address", "milter_address", "queue_dir")
CHECKS_OFF = dict.fromkeys(CHECK_PARAMETERS, "")
# The checks added for the guide's whole group, off: for tests of the older six
# (and CIBs: 'off', because crm_resource and pcs cannot store an empty value).
NEW_CHECKS_OFF = dict.fromkeys(CHECK_PARAMETERS[4:14] + ("queue_dir",), "off")

# gromox exch/midb/main.cpp, tools/event.cpp, tools/timer.cpp: the length
# written is 19, so the refusal has no line end.
ACCESS_DENIED = b"FALSE Access denied\r\n"[:19]


def _lines(conn):
    """CRLF-terminated lines from ``conn`` until it closes."""
    data = b""
    while True:
        while b"\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        line, data = data.split(b"\r\n", 1)
        yield line


class LineDaemon(_Peer):
    """gromox-midb (``kind="midb"``), gromox-event or gromox-timer.

    midb (exch/midb/cmd_parser.cpp): a line of fewer than two words is
    ``FALSE 1``; ``PING <anything>`` is ``TRUE``; ``QUIT`` is ``BYE``.
    event and timer (tools/event.cpp, tools/timer.cpp): the whole line
    ``PING`` (any case) is ``TRUE``, ``QUIT`` is ``BYE``, anything else
    ``FALSE``.  ``refuse``: the allow-list refusal (or the bytes given), then close.
    """

    def __init__(self, kind, refuse=False, host="127.0.0.1"):
        assert kind in ("midb", "event", "timer")
        self.kind = kind
        self.refuse = refuse
        self.commands = []
        super().__init__(host)

    def handle(self, conn):
        if self.refuse:
            conn.sendall(ACCESS_DENIED if self.refuse is True else self.refuse)
            return
        conn.sendall(b"OK\r\n")
        for line in _lines(conn):
            self.commands.append(line)
            if line.upper() == b"QUIT":
                conn.sendall(b"BYE\r\n")
                return
            conn.sendall(self.answer(line))

    def answer(self, line):
        words = line.split()
        if self.kind == "midb":
            if len(words) < 2:
                return b"FALSE 1\r\n"
            return b"TRUE\r\n" if words[0].upper() == b"PING" else b"FALSE 0\r\n"
        return b"TRUE\r\n" if line.upper() == b"PING" else b"FALSE\r\n"


class Exmdb(_Peer):
    """exch/exmdb/parser.cpp: a zero length is the ping, answered with the byte 00;
    a peer off the allow-list gets 01 (access_deny) at once and is closed."""

    def __init__(self, refuse=False, host="127.0.0.1"):
        self.refuse = refuse
        self.pings = 0
        super().__init__(host)

    def handle(self, conn):
        if self.refuse:
            conn.sendall(b"\x01")
            return
        while True:
            length = _exactly(conn, 4)
            if length is None:
                return
            if length != b"\0\0\0\0":
                return           # a real request: not what the check sends
            self.pings += 1
            conn.sendall(b"\x00")


def _exactly(conn, count):
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class UnixPeer(_Peer):
    """A ``_Peer`` on the Unix socket ``path``; ``handle(conn)`` serves each connection."""

    def __init__(self, path=None, handle=None):
        # No path: a socket in a fresh private directory, removed on close().
        self._own_dir = None
        if path is None:
            import tempfile
            self._own_dir = tempfile.mkdtemp(prefix="gro-unix-")
            path = os.path.join(self._own_dir, "peer.sock")
        self.path = str(path)
        if handle is not None:
            self.handle = handle
        self.host = "unix"
        self.port = 0
        self.accepted = 0
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._socks = set()
        self._threads = []
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True,
                                          name="%s-accept" % type(self).__name__)
        self._acceptor.start()

    @property
    def address(self):
        return self.path

    def close(self):
        super().close()
        try:
            os.unlink(self.path)
            if self._own_dir:
                os.rmdir(self._own_dir)
        except OSError:
            pass


# exch/zcore/rpc_ext.cpp (rpc_ext_push_response): success, length 4, ecError
# (0x80004005) -- zs_checksession's answer for a session that does not exist.
NO_SUCH_SESSION = bytes.fromhex("00 04 00 00 00 05 40 00 80")
CHECKSESSION = (17).to_bytes(4, "little") + b"\x52" + bytes(16)


class Zcore(UnixPeer):
    """gromox-zcore (exch/zcore/rpc_parser.cpp): one call per connection; a
    checksession (0x52 and a 16-byte GUID) is answered ``NO_SUCH_SESSION``,
    anything it cannot parse with the single byte 02 (pull_error)."""

    def __init__(self, path, answer=NO_SUCH_SESSION):
        self.answer = answer
        self.calls = []
        super().__init__(path)

    def handle(self, conn):
        head = _exactly(conn, 4)
        if head is None:
            return
        body = _exactly(conn, int.from_bytes(head, "little"))
        if body is None:
            return
        self.calls.append(body)
        if body[:1] == b"\x52" and len(body) == 17:
            conn.sendall(self.answer)
        else:
            conn.sendall(b"\x02")
        conn.shutdown(socket.SHUT_WR)
        _drain(conn)


def http_answer(status, headers=(), body=b""):
    """An HTTP/1.1 answer as the servers write it (Content-Length, Connection: close)."""
    lines = ["HTTP/1.1 %s" % status, "Content-Length: %d" % len(body), "Connection: close"]
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# exch/http/http_parser.cpp, http_make_err_response for 401 (body: the status text + CRLF).
GROMOX_401 = http_answer("401 Unauthorized", (
    "Date: Sun, 06 Dec 2026 20:00:00 GMT", "Content-Type: text/plain; charset=utf-8",
    'WWW-Authenticate: Basic realm="msrpc realm", charset="utf-8"'), b"Unauthorized\r\n")
# grommunio-sync lib/exceptions/authenticationrequiredexception.php via index.php,
# behind nginx (which adds its Server header).
GSYNC_401 = http_answer("401 Unauthorized", (
    "Server: nginx", "Content-Type: text/html; charset=UTF-8",
    'WWW-Authenticate: Basic realm="GSync"'))
ROBOTS_200 = http_answer("200 OK", ("Server: nginx", "Content-Type: text/plain"),
                         b"User-agent: *\nDisallow: /\n")
# rspamd src/controller.c, rspamd_controller_handle_ping.
PONG_200 = http_answer("200 OK", ("Server: rspamd/3.4", "Content-Type: text/plain"), b"pong\r\n")
NOT_FOUND = http_answer("404 Not Found", ("Content-Type: text/plain",), b"Not Found\r\n")

MAPI_PATH = "/mapi/emsmdb/?MailboxId=x"
SYNC_PATH = "/Microsoft-Server-ActiveSync"


def self_signed(directory, name="localhost"):
    """``(cert, key)`` paths of a fresh self-signed EC certificate for ``name``."""
    import subprocess
    cert, key = os.path.join(directory, "web.pem"), os.path.join(directory, "web.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "7", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:" + name, "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


class WebFront(_Peer):
    """Answers each request by ``routes[(method, path)]`` (bytes), else 404; records
    ``requests`` as (method, path, head) -- the whole head, for assertions.
    ``tls``: ``(cert, key)`` to speak HTTPS (as nginx does in front of grommunio)."""

    def __init__(self, routes, host="127.0.0.1", tls=None):
        self.routes = dict(routes)
        self.requests = []
        self.context = None
        if tls is not None:
            import ssl
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*tls)
        super().__init__(host)

    def handle(self, conn):
        if self.context is not None:
            conn = self.context.wrap_socket(conn, server_side=True)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        method, path = (head.split("\r\n", 1)[0].split(" ") + ["", ""])[:2]
        self.requests.append((method, path, head))
        conn.sendall(self.routes.get((method, path), NOT_FOUND))

    def url(self, path=""):
        return "%s://%s%s" % ("https" if self.context else "http", self.address, path)


def gromox_http():
    return WebFront({("POST", MAPI_PATH): GROMOX_401})


def nginx_front(tls=None):
    """nginx with grommunio's robots.txt and the sync location behind php-fpm."""
    return WebFront({("OPTIONS", SYNC_PATH): GSYNC_401, ("GET", "/robots.txt"): ROBOTS_200},
                    tls=tls)


def rspamd_controller():
    return WebFront({("GET", "/ping"): PONG_200})


# rspamd src/libserver/milter.c: a 13-byte 'O' packet, version 6, the actions
# offered ORed with its own, protocol steps as real rspamd 3.4 answers them
# (0000000d 4f 00000006 000001ff 000ff080; tests/services/rspamd.py, against
# the real daemon).
OPTNEG_REPLY = (13).to_bytes(4, "big") + b"O" + (6).to_bytes(4, "big") \
    + (0x1FF).to_bytes(4, "big") + (0x000FF080).to_bytes(4, "big")


class Milter(_Peer):
    """Answers SMFIC_OPTNEG (version >= 6, 12 bytes of data) with ``reply``; SMFIC_QUIT
    ends the session; records ``commands`` as (command byte, data)."""

    def __init__(self, reply=OPTNEG_REPLY, host="127.0.0.1", port=0):
        self.reply = reply
        self.commands = []
        super().__init__(host, port)

    def handle(self, conn):
        while True:
            head = _exactly(conn, 4)
            if head is None:
                return
            packet = _exactly(conn, int.from_bytes(head, "big"))
            if not packet:
                return
            self.commands.append((packet[:1], packet[1:]))
            if packet[:1] == b"Q":
                return
            if packet[:1] == b"O":
                if len(packet) != 13 or int.from_bytes(packet[1:5], "big") < 6:
                    return       # rspamd: "invalid optneg command" / too old: closes
                conn.sendall(self.reply)
