"""grommunio_ocf.protocols.mysql: the client protocol's minimum, against a scripted fake server.

The fake server runs in a thread on a socketpair (``login``) or on a
listening socket on 127.0.0.1 / a Unix socket in tmp_path (``probe``).  It
checks the server's side of mysql_native_password the way MariaDB does:
``SHA1(answer XOR SHA1(nonce + stored)) == stored`` with ``stored`` the
well-known ``PASSWORD('password')`` hash, so the client is verified against a
reference that owes nothing to the code under test.
"""

import hashlib
import socket
import struct
import threading
import time

import pytest

from grommunio_ocf.ocf.deadline import Deadline
from grommunio_ocf.stack.gromoxcfg import MysqlConfig
from grommunio_ocf.checks.contract import CheckFailed
from grommunio_ocf.protocols import mysql
from grommunio_ocf.protocols.mysql import (ConfigProblem, Connection, error_text, login,
                                        parse_handshake, scramble_native)
from services.mysqlwire import CAPS, NATIVE, NEW_NONCE, NONCE, VERSION, frame, handshake

PASSWORD = "password"
# MariaDB: SELECT PASSWORD('password') = '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'
STORED = bytes.fromhex("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")
USER = "grommunio"
assert len(NONCE) == len(NEW_NONCE) == 20
OK_PACKET = b"\x00\x00\x00\x02\x00\x00\x00"
ACCESS_DENIED = (b"\xff" + struct.pack("<H", 1045) + b"#28000"
                 + b"Access denied for user 'grommunio'@'localhost' (using password: YES)")
UNKNOWN_DB = b"\xff" + struct.pack("<H", 1049) + b"#42000Unknown database 'grommunio'"


# -- packet helpers (the fake server's side) ---------------------------------------

def recv_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError("client closed after %r" % data)
        data += chunk
    return data


def recv_packet(sock):
    header = recv_exact(sock, 4)
    length = header[0] | header[1] << 8 | header[2] << 16
    return header[3], recv_exact(sock, length)


def reference_scramble(password, nonce):
    """Computed here, independently: SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw)))."""
    stage1 = hashlib.sha1(password.encode("utf-8")).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mask = hashlib.sha1(nonce + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mask))


def server_accepts(answer, nonce, stored=STORED):
    """MariaDB's check of a mysql_native_password answer."""
    mask = hashlib.sha1(nonce + stored).digest()
    candidate = bytes(a ^ b for a, b in zip(answer, mask))
    return hashlib.sha1(candidate).digest() == stored


def parse_login(payload):
    """The client's HandshakeResponse41: (capabilities, user, answer, plugin)."""
    capabilities, max_packet, charset = struct.unpack_from("<IIB", payload)
    assert payload[9:32] == b"\0" * 23
    user, _, rest = payload[32:].partition(b"\0")
    length = rest[0]
    answer, plugin = rest[1:1 + length], rest[1 + length:]
    assert plugin.endswith(b"\0")
    return capabilities, user.decode(), answer, plugin[:-1].decode()


class Peer:
    """Runs ``script(sock)`` in a thread; ``finish()`` re-raises what went wrong there."""

    def __init__(self, script, sock=None, listener=None):
        self.script = script
        self.sock = sock
        self.listener = listener
        self.error = None
        self.seen = {}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            if self.listener is not None:
                self.listener.settimeout(2.0)
                self.sock, _ = self.listener.accept()
            self.sock.settimeout(2.0)
            self.script(self.sock, self.seen)
        except Exception as exc:  # noqa: BLE001 -- reported by finish()
            self.error = exc
        finally:
            if self.sock is not None:
                self.sock.close()

    def finish(self):
        self.thread.join(3.0)
        assert not self.thread.is_alive(), "fake server still running"
        if self.listener is not None:
            self.listener.close()
        if self.error is not None:
            raise self.error
        return self.seen


@pytest.fixture
def paired():
    """``paired(script)`` -> (client Connection, Peer) over a socketpair."""
    peers = []

    def make(script, seconds=0.5):
        client, server = socket.socketpair()
        peer = Peer(script, sock=server)
        peers.append((peer, client))
        return Connection(client, "db:3306", Deadline(seconds)), peer

    yield make
    for peer, client in peers:
        client.close()
        peer.thread.join(3.0)


def wait_for_close(sock):
    """Idle until the client hangs up (or 2 s pass)."""
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


# -- scramble_native ---------------------------------------------------------------

@pytest.mark.parametrize("password", ["password", "s3cr3t", "p\u00e4ss w\u00f6rd", "x" * 100])
@pytest.mark.parametrize("nonce", [NONCE, NEW_NONCE])
def test_scramble_matches_reference(password, nonce):
    assert scramble_native(password, nonce) == reference_scramble(password, nonce)
    assert len(scramble_native(password, nonce)) == 20


def test_scramble_passes_mariadbs_own_check():
    # Against PASSWORD('password') as stored in mysql.user: a published vector.
    assert server_accepts(scramble_native("password", NONCE), NONCE)
    assert not server_accepts(scramble_native("Password", NONCE), NONCE)
    assert not server_accepts(scramble_native("password", NEW_NONCE), NONCE)


def test_scramble_uses_20_bytes_of_nonce():
    assert scramble_native("pw", NONCE + b"\0") == scramble_native("pw", NONCE)


def test_empty_password_scrambles_to_nothing():
    assert scramble_native("", NONCE) == b""


# -- parse_handshake -----------------------------------------------------------------

def test_parse_mariadb_10_11_handshake():
    assert parse_handshake(handshake(), "db:3306") == (VERSION.decode(), NONCE, NATIVE.decode())


def test_parse_handshake_proposing_ed25519():
    version, nonce, plugin = parse_handshake(handshake(plugin=b"client_ed25519"), "db")
    assert (nonce, plugin) == (NONCE, "client_ed25519")


def test_parse_handshake_41_without_second_part():
    # A 4.1 server's handshake ends after the lower capability flags.
    packet = handshake()[:1 + len(VERSION) + 1 + 4 + 9 + 2]
    assert parse_handshake(packet, "db") == (VERSION.decode(), NONCE[:8], "")


def test_err_packet_as_first_packet():
    packet = (b"\xff" + struct.pack("<H", 1130)
              + b"Host '10.0.0.9' is not allowed to connect to this MariaDB server")
    with pytest.raises(CheckFailed) as info:
        parse_handshake(packet, "db:3306")
    assert str(info.value) == ("db:3306 refused the connection: Host '10.0.0.9' is not allowed "
                               "to connect to this MariaDB server (error 1130)")


def test_too_many_connections_before_handshake():
    packet = b"\xff" + struct.pack("<H", 1040) + b"#08004Too many connections"
    with pytest.raises(CheckFailed, match=r"refused the connection: Too many connections \(error 1040\)$"):
        parse_handshake(packet, "db")


@pytest.mark.parametrize("packet,shown", [
    (b"\x09" + handshake()[1:], r"b'\\t'"),
    (b"HTTP/1.1 400 Bad Request\r\n", "b'H'"),
    (b"", "b''"),
])
def test_non_v10_handshake(packet, shown):
    with pytest.raises(CheckFailed) as info:
        parse_handshake(packet, "db:3306")
    assert str(info.value) == ("db:3306 is not a MariaDB/MySQL server (handshake version %s)"
                               % shown.replace("\\\\", "\\"))


@pytest.mark.parametrize("length", [1, 5, 1 + len(VERSION), 1 + len(VERSION) + 1 + 4 + 9 + 1,
                                    1 + len(VERSION) + 1 + 4 + 9 + 2 + 1,
                                    1 + len(VERSION) + 1 + 4 + 9 + 2 + 3 + 2])
def test_truncated_handshake_is_malformed(length):
    with pytest.raises(CheckFailed, match=r"^db:3306 sent a malformed handshake$"):
        parse_handshake(handshake()[:length], "db:3306")


@pytest.mark.parametrize("cut", [1, 5])
def test_handshake_cut_inside_second_nonce_part_is_malformed(cut):
    packet = handshake()
    start = len(packet) - len(NATIVE) - 1 - 1 - 12   # where nonce part 2 begins
    with pytest.raises(CheckFailed, match="malformed"):
        parse_handshake(packet[:start + cut], "db")


def test_pre_41_server():
    with pytest.raises(CheckFailed, match=r"^db speaks a pre-4.1 protocol$"):
        parse_handshake(handshake(caps=CAPS & ~mysql.CLIENT_PROTOCOL_41), "db")


# -- error_text -----------------------------------------------------------------------

@pytest.mark.parametrize("packet,text", [
    (ACCESS_DENIED,
     "Access denied for user 'grommunio'@'localhost' (using password: YES) (error 1045)"),
    (UNKNOWN_DB, "Unknown database 'grommunio' (error 1049)"),
    (b"\xff" + struct.pack("<H", 1045) + b"Access denied", "Access denied (error 1045)"),
    (b"\xff" + struct.pack("<H", 2006), " (error 2006)"),
    (b"\xff" + struct.pack("<H", 1) + b"#HY000caf\xc3\xa9 \xff", "caf\u00e9 \\xff (error 1)"),
])
def test_error_text(packet, text):
    assert error_text(packet) == text


@pytest.mark.parametrize("packet", [b"\xff", b"\xff\x15"])
def test_short_err_packet_is_a_probe_failure(packet):
    with pytest.raises(CheckFailed):
        parse_handshake(packet, "db")


# -- login over a socketpair ------------------------------------------------------------

def test_login_ok(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        seq, payload = recv_packet(sock)
        seen["seq"] = seq
        seen["login"] = parse_login(payload)
        sock.sendall(frame(OK_PACKET, seq + 1))

    conn, peer = paired(script)
    assert login(conn, USER, PASSWORD) == VERSION.decode()
    seen = peer.finish()
    capabilities, user, answer, plugin = seen["login"]
    assert seen["seq"] == 1
    assert user == USER and plugin == "mysql_native_password"
    assert server_accepts(answer, NONCE)
    for flag in (mysql.CLIENT_PROTOCOL_41, mysql.CLIENT_SECURE_CONNECTION, mysql.CLIENT_PLUGIN_AUTH):
        assert capabilities & flag


def test_login_with_empty_password_sends_empty_answer(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        _, payload = recv_packet(sock)
        seen["login"] = parse_login(payload)
        sock.sendall(frame(OK_PACKET, 2))

    conn, peer = paired(script)
    login(conn, USER, "")
    assert peer.finish()["login"][2] == b""


def test_login_access_denied(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        recv_packet(sock)
        sock.sendall(frame(ACCESS_DENIED, 2))

    conn, peer = paired(script)
    with pytest.raises(CheckFailed) as info:
        login(conn, USER, "Wr0ngPassw0rd")
    peer.finish()
    assert str(info.value) == ("Access denied for user 'grommunio'@'localhost' "
                               "(using password: YES) (error 1045)")
    assert "Wr0ngPassw0rd" not in str(info.value)


def test_auth_switch_to_native_answers_the_new_nonce(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(plugin=b"client_ed25519"), 0))
        recv_packet(sock)
        sock.sendall(frame(b"\xfe" + NATIVE + b"\0" + NEW_NONCE + b"\0", 2))
        seq, answer = recv_packet(sock)
        seen["seq"], seen["answer"] = seq, answer
        sock.sendall(frame(OK_PACKET, seq + 1))

    conn, peer = paired(script)
    assert login(conn, USER, PASSWORD) == VERSION.decode()
    seen = peer.finish()
    assert seen["seq"] == 3
    assert seen["answer"] == reference_scramble(PASSWORD, NEW_NONCE)
    assert seen["answer"] != reference_scramble(PASSWORD, NONCE)
    assert server_accepts(seen["answer"], NEW_NONCE)


@pytest.mark.parametrize("switch,plugin", [
    (b"\xfe" + b"client_ed25519\0" + b"e" * 32, "client_ed25519"),
    (b"\xfe" + b"caching_sha2_password\0" + NEW_NONCE + b"\0", "caching_sha2_password"),
    (b"\xfe", "mysql_old_password"),
])
def test_auth_switch_to_unsupported_plugin_is_a_config_problem(paired, switch, plugin):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        recv_packet(sock)
        sock.sendall(frame(switch, 2))
        wait_for_close(sock)

    conn, peer = paired(script)
    with pytest.raises(ConfigProblem) as info:
        login(conn, USER, PASSWORD + "-Secret")
    conn.sock.close()
    peer.finish()
    text = str(info.value)
    assert isinstance(info.value, CheckFailed)
    assert text == ("user 'grommunio' authenticates with %s, which this check does not speak: "
                    "use mysql_native_password for it" % plugin)
    assert PASSWORD + "-Secret" not in text


def test_unexpected_packet_during_login(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        recv_packet(sock)
        sock.sendall(frame(b"\x01\x03", 2))  # caching_sha2 "fast auth" more-data packet
        wait_for_close(sock)

    conn, peer = paired(script)
    with pytest.raises(CheckFailed, match=r"^db:3306 sent an unexpected packet during the login$"):
        login(conn, USER, PASSWORD)
    conn.sock.close()
    peer.finish()


def test_endless_auth_switching_stops(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        seq, _ = recv_packet(sock)
        for _ in range(3):
            sock.sendall(frame(b"\xfe" + NATIVE + b"\0" + NEW_NONCE + b"\0", seq + 1))
            seq, _ = recv_packet(sock)
        wait_for_close(sock)

    conn, peer = paired(script)
    with pytest.raises(CheckFailed, match=r"^db:3306 kept asking for authentication$"):
        login(conn, USER, PASSWORD)
    conn.sock.close()
    peer.finish()


def test_no_handshake_within_deadline(paired):
    conn, peer = paired(lambda sock, seen: wait_for_close(sock), seconds=0.2)
    started = time.monotonic()
    with pytest.raises(CheckFailed) as info:
        login(conn, USER, PASSWORD)
    took = time.monotonic() - started
    conn.sock.close()
    peer.finish()
    assert str(info.value) == "no handshake within 0.2s from db:3306"
    assert took < 0.6


def test_closed_during_handshake(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0)[:10])

    conn, peer = paired(script)
    with pytest.raises(CheckFailed, match=r"^db:3306 closed the connection during the handshake$"):
        login(conn, USER, PASSWORD)
    peer.finish()


def test_closed_during_login_answer(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        recv_packet(sock)

    conn, peer = paired(script)
    with pytest.raises(CheckFailed, match=r"closed the connection during the answer to the login"):
        login(conn, USER, PASSWORD)
    peer.finish()


# -- probe(): TCP and Unix socket ----------------------------------------------------

def full_session(answer_init_db=OK_PACKET):
    """Handshake, login, USE, PING, QUIT -- recording what the client sent."""
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        seq, payload = recv_packet(sock)
        _, user, answer, _ = parse_login(payload)
        if not server_accepts(answer, NONCE):
            sock.sendall(frame(ACCESS_DENIED, seq + 1))
            return
        sock.sendall(frame(OK_PACKET, seq + 1))
        seen["commands"] = []
        while True:
            try:
                seq, command = recv_packet(sock)
            except EOFError:
                return
            seen["commands"].append((seq, command))
            if command[:1] == b"\x02":
                sock.sendall(frame(answer_init_db, 1))
            elif command[:1] == b"\x0e":
                sock.sendall(frame(OK_PACKET, 1))
            elif command[:1] == b"\x01":
                return
    return script


@pytest.fixture
def tcp_server():
    peers = []

    def make(script):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        peer = Peer(script, listener=listener)
        peers.append(peer)
        return peer, listener.getsockname()[1]

    yield make
    for peer in peers:
        peer.listener.close()
        peer.thread.join(3.0)


def tcp_config(port, password=PASSWORD, database="grommunio"):
    return MysqlConfig("/etc/gromox/mysql_adaptor.cfg", "127.0.0.1", port, USER, password, database)


def test_probe_over_tcp(tcp_server):
    peer, port = tcp_server(full_session())
    detail = mysql.check(tcp_config(port), "/nonexistent.sock", Deadline(0.5))
    seen = peer.finish()
    assert detail == ("%s; logged in as 'grommunio', database 'grommunio' selected, ping OK"
                      % VERSION.decode())
    assert seen["commands"] == [(0, b"\x02grommunio"), (0, b"\x0e"), (0, b"\x01")]


def test_probe_unknown_database(tcp_server):
    peer, port = tcp_server(full_session(answer_init_db=UNKNOWN_DB))
    with pytest.raises(CheckFailed) as info:
        mysql.check(tcp_config(port), "/nonexistent.sock", Deadline(0.5))
    peer.finish()
    assert str(info.value) == "Unknown database 'grommunio' (error 1049)"
    assert PASSWORD not in str(info.value)


def test_probe_wrong_password(tcp_server):
    peer, port = tcp_server(full_session())
    with pytest.raises(CheckFailed) as info:
        mysql.check(tcp_config(port, password="N0tThePassword"), "/x.sock", Deadline(0.5))
    peer.finish()
    assert "Access denied for user 'grommunio'" in str(info.value)
    assert "N0tThePassword" not in str(info.value)


def test_probe_unexpected_answer_to_use(tcp_server):
    peer, port = tcp_server(full_session(answer_init_db=b"\xfe\x00\x00"))
    with pytest.raises(CheckFailed, match=r"answered USE with an unexpected packet$"):
        mysql.check(tcp_config(port), "/x.sock", Deadline(0.5))
    peer.finish()


def test_probe_no_handshake_over_tcp(tcp_server):
    peer, port = tcp_server(lambda sock, seen: wait_for_close(sock))
    started = time.monotonic()
    with pytest.raises(CheckFailed) as info:
        mysql.check(tcp_config(port), "/x.sock", Deadline(0.2))
    assert time.monotonic() - started < 0.6
    peer.finish()
    assert str(info.value) == "no handshake within 0.2s from 127.0.0.1:%d" % port


def test_probe_refused_over_tcp():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = holder.getsockname()[1]
    try:
        with pytest.raises(CheckFailed, match=r"^connection refused by 127.0.0.1:%d$" % port):
            mysql.check(tcp_config(port), "/x.sock", Deadline(0.5))
    finally:
        holder.close()


def socket_config():
    return MysqlConfig("/etc/gromox/mysql_adaptor.cfg", "localhost", 3306, USER, PASSWORD,
                       "grommunio")


def test_probe_over_unix_socket(tmp_path):
    path = str(tmp_path / "my.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    peer = Peer(full_session(), listener=listener)
    detail = mysql.check(socket_config(), path, Deadline(0.5))
    assert peer.finish()["commands"][0] == (0, b"\x02grommunio")
    assert detail.endswith("ping OK")


def test_probe_without_unix_socket(tmp_path):
    path = str(tmp_path / "none.sock")
    with pytest.raises(CheckFailed) as info:
        mysql.check(socket_config(), path, Deadline(0.5))
    assert str(info.value) == "no MariaDB socket at %s (service down?)" % path


def test_probe_unix_socket_refused(tmp_path):
    path = str(tmp_path / "dead.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # the file exists, nobody listens: a crashed server's leftover
    stale.close()
    with pytest.raises(CheckFailed) as info:
        mysql.check(socket_config(), path, Deadline(0.5))
    assert str(info.value) == "connection refused on %s (service down?)" % path


# -- hostile peers: every read bounded in bytes and time ------------------------------

def test_a_huge_announced_packet_is_refused_unread(paired):
    def script(sock, seen):
        sock.sendall(b"\xff\xff\xff\x00")  # 16 MiB announced as the handshake
        wait_for_close(sock)

    conn, peer = paired(script)
    with pytest.raises(CheckFailed) as info:
        login(conn, USER, PASSWORD)
    conn.sock.close()
    peer.finish()
    assert str(info.value) == ("db:3306 announced a 16777215-byte packet as the handshake "
                               "(more than %d): not a MariaDB server?" % mysql.READ_LIMIT)


def test_a_long_error_message_is_bounded(paired):
    message = b"Access denied " + b"A" * 10000

    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        seq, _ = recv_packet(sock)
        sock.sendall(frame(b"\xff" + struct.pack("<H", 1045) + b"#28000" + message, seq + 1))

    conn, peer = paired(script)
    with pytest.raises(CheckFailed) as info:
        login(conn, USER, PASSWORD)
    peer.finish()
    text = str(info.value)
    assert text.startswith("Access denied AAAA") and text.endswith("... (error 1045)")
    assert len(text) <= mysql.TEXT_LIMIT + len(" (error 1045)")


def test_a_long_plugin_name_in_an_auth_switch_is_bounded(paired):
    plugin = b"p" * 12000

    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        seq, _ = recv_packet(sock)
        sock.sendall(frame(b"\xfe" + plugin + b"\0" + NEW_NONCE + b"\0", seq + 1))
        wait_for_close(sock)

    conn, peer = paired(script)
    with pytest.raises(ConfigProblem) as info:
        login(conn, USER, PASSWORD)
    conn.sock.close()
    peer.finish()
    assert len(str(info.value)) < 400
    assert "authenticates with ppp" in str(info.value)


def test_control_characters_from_the_peer_do_not_reach_the_message(paired):
    def script(sock, seen):
        sock.sendall(frame(handshake(), 0))
        seq, _ = recv_packet(sock)
        sock.sendall(frame(b"\xff" + struct.pack("<H", 1045) + b"#28000bad\nocf-exit-reason:forged\r\x00x",
                           seq + 1))

    conn, peer = paired(script)
    with pytest.raises(CheckFailed) as info:
        login(conn, USER, PASSWORD)
    peer.finish()
    assert "\n" not in str(info.value) and "\r" not in str(info.value)


def test_a_trickling_peer_is_cut_off_at_the_deadline(paired):
    def script(sock, seen):
        for byte in frame(handshake(), 0):
            sock.sendall(bytes((byte,)))
            time.sleep(0.05)

    conn, peer = paired(script, seconds=0.3)
    started = time.monotonic()
    with pytest.raises(CheckFailed) as info:
        login(conn, USER, PASSWORD)
    took = time.monotonic() - started
    conn.sock.close()
    peer.thread.join(5)
    assert str(info.value) == "no handshake within 0.3s from db:3306"
    assert took < 0.5
