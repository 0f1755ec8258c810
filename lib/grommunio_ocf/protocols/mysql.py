"""MariaDB/MySQL: log in, select the database, ping -- the client protocol's minimum.

The agents use the standard library only, so this speaks the small part of
the client/server protocol a health check needs: the v10 handshake,
``mysql_native_password`` (including the server's auth-switch request),
``COM_INIT_DB``, ``COM_PING`` and ``COM_QUIT``.  Error packets become their
server message (``Access denied for user 'grommunio'@'localhost' ...``),
which names the user but never the password.  Other authentication
plugins (``client_ed25519``, ``caching_sha2_password``) are reported as a
configuration problem rather than half-implemented.

Protocol reference: MariaDB's "Client/Server Protocol" documentation.
"""

import struct

from ..base.cpython import SocketTimeout, sha1, sockets
from ..base.netaddr import Address
from ..checks.contract import CheckFailed
from ..base.text import printable
from . import budget_text, connect, connect_unix, seconds

NATIVE = "mysql_native_password"

# Capability flags (the client's side of the handshake).
CLIENT_LONG_PASSWORD = 1 << 0
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_TRANSACTIONS = 1 << 13
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_PLUGIN_AUTH = 1 << 19
CAPABILITIES = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS
                | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH)
MAX_PACKET = 1 << 24
CHARSET_UTF8MB4 = 45
# The largest packet this client accepts: a handshake, an auth switch, an OK
# or an error is well under 1 KiB; a peer announcing more is not a server
# worth waiting for (and would make the check hold megabytes).
READ_LIMIT = 16384
TEXT_LIMIT = 200  # characters of a server message or plugin name put into a reason

COM_QUIT = 0x01
COM_INIT_DB = 0x02
COM_PING = 0x0E

OK, EOF_OR_SWITCH, ERR = 0x00, 0xFE, 0xFF


class ConfigProblem(CheckFailed):
    """The account cannot be checked by this client (an unsupported plugin)."""


def scramble_native(password, nonce):
    """``SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw)))``; empty password, empty answer."""
    if not password:
        return b""
    stage1 = sha1(_wire(password)).digest()
    stage2 = sha1(stage1).digest()
    mask = sha1(nonce[:20] + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mask))


class Connection:
    """One packet stream; every read and write bounded by the deadline."""

    def __init__(self, sock, peer, deadline):
        self.sock = sock
        self.peer = peer
        self.deadline = deadline
        self.seq = 0

    def _late(self, what):
        return CheckFailed("no %s within %s from %s" % (what, budget_text(self.deadline), self.peer))

    def _recv_exact(self, count, what):
        data = b""
        while len(data) < count:
            left = self.deadline.remaining()  # a trickling peer is cut off here
            if left <= 0:
                raise self._late(what)
            try:
                self.sock.settimeout(left)
                chunk = self.sock.recv(count - len(data))
            except SocketTimeout:
                raise self._late(what) from None
            except OSError as exc:
                raise CheckFailed("%s: %s" % (self.peer, exc.strerror or exc)) from None
            if not chunk:
                raise CheckFailed("%s closed the connection during the %s" % (self.peer, what))
            data += chunk
        return data

    def read(self, what):
        header = self._recv_exact(4, what)
        length = header[0] | header[1] << 8 | header[2] << 16
        if length > READ_LIMIT:
            raise CheckFailed("%s announced a %d-byte packet as the %s (more than %d): "
                               "not a MariaDB server?" % (self.peer, length, what, READ_LIMIT))
        self.seq = (header[3] + 1) & 0xFF
        return self._recv_exact(length, what)

    def write(self, payload):
        header = struct.pack("<I", len(payload))[:3] + bytes((self.seq,))
        try:
            self.sock.settimeout(seconds(self.deadline))
            self.sock.sendall(header + payload)
        except OSError as exc:
            raise CheckFailed("%s: %s" % (self.peer, exc.strerror or exc)) from None
        self.seq = (self.seq + 1) & 0xFF

    def command(self, code, argument=b""):
        self.seq = 0  # every command starts a new sequence
        self.write(bytes((code,)) + argument)


def error_text(packet):
    """The server's message of an ERR packet (code, SQL state stripped)."""
    if len(packet) < 3:
        return "an error packet too short to read"
    code = struct.unpack_from("<H", packet, 1)[0]
    message = packet[3:]
    if message[:1] == b"#":
        message = message[6:]
    return "%s (error %d)" % (printable(message, TEXT_LIMIT), code)


def _wire(text):
    """Text from the config file back to its bytes (it was read raw, surrogate-escaped)."""
    return text.encode("utf-8", "surrogateescape")


def _nul_string(data, start):
    end = data.index(b"\0", start)
    return data[start:end], end + 1


def parse_handshake(packet, peer):
    """``(server_version, nonce, plugin)`` of an initial handshake packet."""
    if packet[:1] == bytes((ERR,)):
        raise CheckFailed("%s refused the connection: %s" % (peer, error_text(packet)))
    if packet[:1] != b"\x0a":
        raise CheckFailed("%s is not a MariaDB/MySQL server (handshake version %r)"
                           % (peer, packet[:1]))
    try:
        version, pos = _nul_string(packet, 1)
        pos += 4  # connection id
        nonce = packet[pos:pos + 8]
        pos += 9  # nonce part 1 and a filler byte
        capabilities = struct.unpack_from("<H", packet, pos)[0]
        pos += 2
        plugin = b""
        if len(packet) > pos:
            pos += 3  # charset, status flags
            capabilities |= struct.unpack_from("<H", packet, pos)[0] << 16
            pos += 2
            nonce_length = packet[pos]
            pos += 11  # length byte and 10 reserved bytes
            if capabilities & CLIENT_SECURE_CONNECTION:
                part2 = max(13, nonce_length - 8)
                if len(packet) < pos + part2:
                    raise ValueError("cut inside the nonce")
                nonce += packet[pos:pos + part2].rstrip(b"\0")
                pos += part2
            if capabilities & CLIENT_PLUGIN_AUTH and pos < len(packet):
                plugin = packet[pos:].split(b"\0", 1)[0]
    except (IndexError, ValueError, struct.error):
        raise CheckFailed("%s sent a malformed handshake" % peer) from None
    if not capabilities & CLIENT_PROTOCOL_41:
        raise CheckFailed("%s speaks a pre-4.1 protocol" % peer)
    return printable(version, TEXT_LIMIT), nonce, printable(plugin, TEXT_LIMIT)


def _unsupported(plugin, user):
    return ConfigProblem("user %r authenticates with %s, which this check does not speak: "
                         "use %s for it" % (user, plugin, NATIVE))


def login(conn, user, password):
    """Handshake and authentication; returns the server version."""
    version, nonce, _plugin = parse_handshake(conn.read("handshake"), conn.peer)
    # Answer with mysql_native_password whatever the server proposed: if the
    # account uses another plugin, the server asks us to switch, and that
    # request names the plugin for the error message.
    response = scramble_native(password, nonce)
    conn.write(struct.pack("<IIB", CAPABILITIES, MAX_PACKET, CHARSET_UTF8MB4) + b"\0" * 23
               + _wire(user) + b"\0" + bytes((len(response),)) + response
               + NATIVE.encode("ascii") + b"\0")
    for _round in range(3):
        packet = conn.read("answer to the login")
        kind = packet[:1]
        if kind == bytes((OK,)):
            return version
        if kind == bytes((ERR,)):
            raise CheckFailed(error_text(packet))
        if kind == bytes((EOF_OR_SWITCH,)):
            if len(packet) == 1:  # an old-style request for the pre-4.1 hash
                raise _unsupported("mysql_old_password", user)
            try:
                plugin, pos = _nul_string(packet, 1)
            except ValueError:
                raise CheckFailed("%s sent a malformed auth switch request" % conn.peer) from None
            plugin = printable(plugin, TEXT_LIMIT)
            if plugin != NATIVE:
                raise _unsupported(plugin, user)
            conn.write(scramble_native(password, packet[pos:].rstrip(b"\0")))
            continue
        raise CheckFailed("%s sent an unexpected packet during the login" % conn.peer)
    raise CheckFailed("%s kept asking for authentication" % conn.peer)


def _simple_command(conn, code, argument, what):
    conn.command(code, argument)
    packet = conn.read("answer to " + what)
    if packet[:1] == bytes((ERR,)):
        raise CheckFailed(error_text(packet))
    if packet[:1] != bytes((OK,)):
        raise CheckFailed("%s answered %s with an unexpected packet" % (conn.peer, what))


def open_socket(config, socket_path, deadline, why=None):
    """Unix socket for ``localhost`` (as the client library does), else TCP.

    ``why`` says where ``socket_path`` came from, for the messages.
    """
    if not config.uses_socket:
        address = Address(config.host, config.port)
        return connect(address, deadline), str(address)
    return connect_unix(socket_path, deadline, "MariaDB socket", why), socket_path


def check(config, socket_path, deadline, why=None):
    """Log in as gromox does, select its database and ping."""
    sock, peer = open_socket(config, socket_path, deadline, why)
    conn = Connection(sock, peer, deadline)
    try:
        version = login(conn, config.user, config.password)

        _simple_command(conn, COM_INIT_DB, _wire(config.database), "USE")
        _simple_command(conn, COM_PING, b"", "PING")
        try:
            conn.command(COM_QUIT)  # polite: no "Aborted connection" in the server log
        except CheckFailed:
            pass
    finally:
        sock.close()
    return "%s; logged in as %r, database %r selected, ping OK" % (version, config.user, config.database)
