"""Protocols: one small module per service protocol, each asking a service to prove itself.

Each module's ``check(target, deadline, ...)`` keeps the check contract
(``checks.contract``): it returns a short detail text when the service is
healthy and raises ``CheckFailed`` with the cause otherwise.  Every
blocking step draws on the one ``Deadline`` it is given, and every read is
bounded in bytes.  Messages name the peer and say what was expected,
because they end up in ``crm_mon``.  This package holds what the modules
share: connecting (TCP or a Unix socket), one bounded line, exact reads of
a few bytes.  Sockets come from ``base.cpython`` (``_socket``, not
``socket.py``: see there why).
"""

from ..base.text import quoted
from ..base.cpython import SocketTimeout, sockets
from ..checks.contract import CheckFailed


def seconds(deadline):
    """Socket timeout for the next step; fails once the budget is spent."""
    left = deadline.remaining()
    if left <= 0.0:
        raise CheckFailed("out of time")
    return left


def budget_text(deadline):
    """How long a check was allowed, as the admin will read it: ``2.0s``."""
    return "%.1fs" % deadline.total


def _connect_one(info, timeout):
    family, kind, proto, _, sockaddr = info
    sock = sockets.socket(family, kind, proto)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def connect(address, deadline):
    """A TCP connection to ``address`` (an ``netaddr.Address``), or ``CheckFailed``.

    Tries every address the name resolves to (for ``localhost``: ::1, then
    127.0.0.1), each with what is left of the one deadline --
    ``socket.create_connection`` would give each the whole timeout again.
    The host goes to the resolver as ASCII bytes: no ``idna`` codec (its
    import, and its ``UnicodeError`` on an empty or overlong label).
    """
    try:
        host = address.host.encode("ascii")
    except UnicodeError:
        raise CheckFailed("cannot resolve %s: not an ASCII host name" % address) from None
    try:
        infos = sockets.getaddrinfo(host, address.port, 0, sockets.SOCK_STREAM)
    except sockets.gaierror as exc:
        raise CheckFailed("cannot resolve %s: %s" % (address.host, exc.strerror)) from None
    except (OSError, UnicodeError) as exc:
        raise CheckFailed("cannot resolve %s: %s" % (address.host, exc)) from None
    error = None
    for info in infos:
        try:
            return _connect_one(info, seconds(deadline))
        except OSError as exc:
            error = exc
    if isinstance(error, ConnectionRefusedError):
        raise CheckFailed("connection refused by %s" % address)
    if isinstance(error, SocketTimeout) or error is None:
        raise CheckFailed("no connection within %s to %s" % (budget_text(deadline), address))
    raise CheckFailed("cannot connect to %s: %s" % (address, error.strerror or error))


LINE_LIMIT = 4096  # bytes of one protocol line a check reads (a greeting is < 200)


class LineReader:
    """Lines from a peer, each bounded in bytes, all of them by one deadline.

    Keeps what arrived beyond a line for the next one (a server may send its
    greeting and more in one packet).  A peer that talks without end, or
    trickles a byte at a time, is cut off at ``limit`` bytes or at the
    deadline, whichever comes first: every ``recv()`` waits at most for what
    is left of the deadline.
    """

    def __init__(self, sock, deadline, peer):
        self.sock = sock
        self.deadline = deadline
        self.peer = peer
        self.buffer = b""

    def line(self, what, limit=LINE_LIMIT):
        """The next line (CRLF or LF stripped) as text, or ``CheckFailed`` naming ``what``."""
        while True:
            end = self.buffer.find(b"\n", 0, limit + 1)
            if end >= 0:
                line, self.buffer = self.buffer[:end], self.buffer[end + 1:]
                return line.rstrip(b"\r").decode("utf-8", "replace")
            if len(self.buffer) > limit:
                raise CheckFailed("%s sent more than %d bytes without a line end"
                                   % (self.peer, limit))
            self.buffer += self._recv(what, limit + 1 - len(self.buffer))

    def _recv(self, what, size):
        chunk = recv_some(self.sock, min(size, 65536), self.deadline, self.peer, what, self.buffer)
        if not chunk:
            raise CheckFailed("%s closed the connection before the %s" % (self.peer, what))
        return chunk


def recv_some(sock, size, deadline, peer, what, pending=b""):
    """What the peer sends next, at most ``size`` bytes (``b""``: it closed), waiting
    at most for what is left of ``deadline``; or ``CheckFailed`` naming ``what``.

    ``pending``: what came of the line so far, so that a trickle is told
    from silence in the message.
    """
    left = deadline.remaining()
    if left <= 0.0:
        raise _late_line(peer, what, deadline, pending)
    try:
        sock.settimeout(left)
        return sock.recv(size)
    except SocketTimeout:
        raise _late_line(peer, what, deadline, pending) from None
    except OSError as exc:
        raise CheckFailed("%s: %s while waiting for the %s"
                          % (peer, exc.strerror or exc, what)) from None


def _late_line(peer, what, deadline, pending):
    if pending:  # a trickle: bytes came, the line did not
        return CheckFailed("no complete %s within %s from %s (%d bytes without a line end)"
                           % (what, budget_text(deadline), peer, len(pending)))
    return CheckFailed("no %s within %s from %s" % (what, budget_text(deadline), peer))


def read_line(sock, deadline, what, address, limit=LINE_LIMIT):
    """One CRLF-terminated line (without it), or ``CheckFailed`` naming ``what``."""
    return LineReader(sock, deadline, address).line(what, limit)


def greeting(address, deadline, expect):
    """Connect, read the greeting line, want it to start with ``expect``, say QUIT.

    For the line protocols whose greeting proves the daemon serves sessions
    (SMTP/LMTP ``220``, POP3 ``+OK``); returns the greeting, quoted.
    """
    sock = connect(address, deadline)
    try:
        line = read_line(sock, deadline, "greeting", address)
        if not line.startswith(expect):
            raise CheckFailed("%s greeted with %s, not %s" % (address, quoted(line), expect))
        goodbye(sock, b"QUIT\r\n")
        return quoted(line)
    finally:
        sock.close()


def goodbye(sock, data):
    """Send ``data`` (``QUIT``) if the peer still listens: a clean end in its log,
    no "lost connection".  The check's result is known already, so a failure
    here changes nothing."""
    try:
        sock.sendall(data)
    except OSError:
        pass


def connect_unix(path, deadline, what="socket", why=None):
    """A stream connection to the Unix socket ``path``, or ``CheckFailed``.

    ``what`` names the socket in the messages, ``why`` says where its path
    came from (``"the first default socket that exists"``).
    """
    sock = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
    try:
        sock.settimeout(seconds(deadline))
        sock.connect(path)
    except FileNotFoundError:
        sock.close()
        raise CheckFailed("no %s at %s (%sservice down?)" % (what, path, why + "; " if why else "")) \
            from None
    except ConnectionRefusedError:
        sock.close()
        raise CheckFailed("connection refused on %s (service down?)" % path) from None
    except SocketTimeout:
        sock.close()
        raise CheckFailed("no connection within %s on %s" % (budget_text(deadline), path)) from None
    except OSError as exc:
        sock.close()
        raise CheckFailed("cannot connect to %s: %s" % (path, exc.strerror or exc)) from None
    return sock


def send(sock, data, deadline, peer, what):
    """``sendall`` within the deadline, or ``CheckFailed`` naming ``what``."""
    try:
        sock.settimeout(seconds(deadline))
        sock.sendall(data)
    except SocketTimeout:
        raise CheckFailed("%s did not take the %s within %s" % (peer, what, budget_text(deadline))) \
            from None
    except OSError as exc:
        raise CheckFailed("%s: %s while sending the %s" % (peer, exc.strerror or exc, what)) from None


def recv_exact(sock, count, deadline, peer, what):
    """Exactly ``count`` bytes (``count`` is small: the caller's bound), or ``CheckFailed``."""
    data = b""
    while len(data) < count:
        left = deadline.remaining()
        if left <= 0.0:
            raise _late_bytes(peer, what, deadline, data)
        try:
            sock.settimeout(left)
            chunk = sock.recv(count - len(data))
        except SocketTimeout:
            raise _late_bytes(peer, what, deadline, data) from None
        except OSError as exc:
            raise CheckFailed("%s: %s while waiting for the %s"
                              % (peer, exc.strerror or exc, what)) from None
        if not chunk:
            if data:
                raise CheckFailed("%s closed the connection %d bytes into the %s"
                                  % (peer, len(data), what))
            raise CheckFailed("%s closed the connection before the %s" % (peer, what))
        data += chunk
    return data


def _late_bytes(peer, what, deadline, data):
    if data:
        return CheckFailed("no complete %s within %s from %s (%d of its bytes came)"
                           % (what, budget_text(deadline), peer, len(data)))
    return CheckFailed("no %s within %s from %s" % (what, budget_text(deadline), peer))


def hexbytes(data, limit=16):
    """``00 04 00 00`` -- a peer's bytes for a message, at most ``limit`` of them."""
    text = " ".join("%02x" % b for b in data[:limit])
    return text + (" ..." if len(data) > limit else "")
