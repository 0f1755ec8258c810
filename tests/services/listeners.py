"""In-process TCP peers that misbehave on purpose, for health-check tests.

Each peer listens on 127.0.0.1 (or the ``host`` given) on a port the kernel
picks, serves every connection in a thread of its own, and is a context
manager: leaving the ``with`` block (or ``close()``) closes the listening
socket and every connection and joins the threads, so no peer outlives its
test.  ``port``, ``host`` and ``address`` ("127.0.0.1:PORT", or "[::1]:PORT")
say where it is; ``accepted`` counts the connections it took, so a test can
tell "the agent never tried" from "the agent gave up".

    Greeter(banner, delay=0.0)   sends ``banner`` (after ``delay``), then reads until EOF
    FakeImap(greeting, capabilities)
                                 an IMAP greeter that answers CAPABILITY, so imaplib proceeds
    Responder(reply, wait_for)   reads until ``wait_for`` (a request's end), sends ``reply``, closes
    Streamer(prefix, chunk, interval=0.0, wait_for=None)
                                 sends ``prefix``, then ``chunk`` again and again -- as fast as
                                 the client reads, or one byte every ``interval`` seconds
    SilentListener()             accepts and never says a word
    TcpAcceptor()                accepts and closes at once (a milter stand-in)
    DelayProxy(host, port, delay=0.1)
                                 a transparent TCP proxy that holds the upstream's first bytes
    NoAccept()                   a port where connect() itself never completes: it times out
    closed_port()                a port where nothing listens: connect() is refused
"""

import select
import socket
import threading

# How long close() waits for a connection thread; they are woken by shutdown(),
# so this only matters if a thread is stuck somewhere unexpected.
JOIN_TIMEOUT = 2.0


def _family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _address(host, port):
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def _shut(sock):
    """Wake any thread blocked on ``sock`` and close it; never raises."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _drain(conn):
    """Read until the peer closes (or we are closed); what it says does not matter."""
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


class _Peer:
    """A listening socket, one accept thread, and one thread per connection."""

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.accepted = 0
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._socks = set()      # every open connection socket, to shut on close()
        self._threads = []
        self._listener = socket.socket(_family(host), socket.SOCK_STREAM)
        # A given port is one a closed peer had: come back on it at once.
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True,
                                          name="%s-accept" % type(self).__name__)
        self._acceptor.start()

    @property
    def address(self):
        return _address(self.host, self.port)

    @property
    def closed(self):
        return self._closed.is_set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.address)

    def handle(self, conn):
        """Serve one accepted connection; the caller closes it afterwards."""
        raise NotImplementedError

    def track(self, sock):
        """Register a socket (e.g. an upstream one) to be shut down by close()."""
        with self._lock:
            if self._closed.is_set():
                _shut(sock)
                raise OSError("peer closed")
            self._socks.add(sock)

    def untrack(self, sock):
        with self._lock:
            self._socks.discard(sock)
        sock.close()

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:      # shutdown() by close() wakes accept() with EINVAL
                return
            try:
                self.track(conn)
            except OSError:
                return
            self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                      name="%s-conn" % type(self).__name__)
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn):
        try:
            self.handle(conn)
        except OSError:
            pass                 # the client went away, or close() shut us down
        finally:
            self.untrack(conn)

    def close(self):
        self._closed.set()
        _shut(self._listener)
        self._acceptor.join(JOIN_TIMEOUT)
        with self._lock:
            socks, self._socks = list(self._socks), set()
            threads = list(self._threads)
        for sock in socks:
            _shut(sock)
        for thread in threads:
            thread.join(JOIN_TIMEOUT)


class Greeter(_Peer):
    """Sends ``banner`` (exact bytes) after ``delay`` seconds, then reads until the client closes.

    E.g. ``Greeter(b"* BYE go away\\r\\n")``, ``Greeter(b"554 no\\r\\n")``, or a
    correct banner with a ``delay`` longer than the check's timeout.
    """

    def __init__(self, banner, delay=0.0, host="127.0.0.1"):
        self.banner = banner
        self.delay = delay
        super().__init__(host)

    def handle(self, conn):
        if self.delay and self._closed.wait(self.delay):
            return
        conn.sendall(self.banner)
        _drain(conn)


class FakeImap(_Peer):
    """An IMAP server that only greets and answers CAPABILITY, NOOP and LOGOUT.

    imaplib asks for CAPABILITY right after the greeting (unless the greeting
    carries them), and ``starttls()`` then checks for STARTTLS among them: so
    ``FakeImap(capabilities=("IMAP4rev1",))`` is "a server that does not offer
    STARTTLS".  If STARTTLS is advertised anyway, the command gets ``NO``.
    """

    def __init__(self, greeting=b"* OK fake IMAP ready", capabilities=("IMAP4rev1",),
                 host="127.0.0.1"):
        if isinstance(greeting, str):
            greeting = greeting.encode()
        self.greeting = greeting if greeting.endswith(b"\r\n") else greeting + b"\r\n"
        self.capabilities = tuple(capabilities)
        self.commands = []       # every command line received, for assertions
        super().__init__(host)

    def handle(self, conn):
        conn.sendall(self.greeting)
        reader = conn.makefile("rb")
        for line in reader:
            words = line.decode("ascii", "replace").split()
            if not words:
                continue
            self.commands.append(line.rstrip(b"\r\n"))
            tag, command = words[0], (words[1].upper() if len(words) > 1 else "")
            if command == "CAPABILITY":
                reply = "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n" % (
                    " ".join(self.capabilities), tag)
            elif command == "NOOP":
                reply = "%s OK NOOP completed\r\n" % tag
            elif command == "LOGOUT":
                conn.sendall(("* BYE logging out\r\n%s OK LOGOUT completed\r\n" % tag).encode())
                return
            elif command == "STARTTLS":
                reply = "%s NO [UNAVAILABLE] TLS is not available\r\n" % tag
            else:
                reply = "%s BAD unknown command\r\n" % tag
            conn.sendall(reply.encode())


def _read_until(conn, marker):
    """Read until ``marker`` has arrived (True) or the client closed (False)."""
    data = b""
    while marker not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True


class Responder(_Peer):
    """A peer that waits for the client's request (``wait_for``, e.g. ``b"\\r\\n\\r\\n"``
    for HTTP, ``b"\\n"`` for redis), then sends ``reply`` and closes: any answer at all,
    well-formed or not."""

    def __init__(self, reply, wait_for=b"\n", host="127.0.0.1"):
        self.reply = reply
        self.wait_for = wait_for
        super().__init__(host)

    def handle(self, conn):
        if _read_until(conn, self.wait_for):
            conn.sendall(self.reply)


class Streamer(_Peer):
    """A peer that never stops talking: ``prefix``, then ``chunk`` forever.

    ``interval=0`` floods (as fast as the client reads: the endless stream);
    otherwise one byte of ``chunk`` every ``interval`` seconds (the trickle),
    cycling through it.  With ``wait_for`` it first reads the client's
    request, for protocols where the client speaks first.  It stops when the
    client goes away or the peer is closed.
    """

    def __init__(self, prefix=b"", chunk=b"x" * 65536, interval=0.0, wait_for=None,
                 host="127.0.0.1"):
        self.prefix = prefix
        self.chunk = chunk
        self.interval = interval
        self.wait_for = wait_for
        self.sent = 0
        super().__init__(host)

    def handle(self, conn):
        if self.wait_for is not None and not _read_until(conn, self.wait_for):
            return
        conn.sendall(self.prefix)
        position = 0
        while not self._closed.is_set():
            if self.interval:
                if self._closed.wait(self.interval):
                    return
                data = self.chunk[position:position + 1]
                position = (position + 1) % len(self.chunk)
            else:
                data = self.chunk
            conn.sendall(data)
            self.sent += len(data)


class SilentListener(_Peer):
    """Accepts and never sends anything: a service that is up but hung."""

    def handle(self, conn):
        _drain(conn)


class TcpAcceptor(_Peer):
    """Accepts and closes straight away: enough for a "TCP connect works" check (milter)."""

    def handle(self, conn):
        pass


class DelayProxy(_Peer):
    """A transparent TCP proxy to ``target_host:target_port`` that adds ``delay`` seconds
    once per connection, just before forwarding the upstream's first bytes.

    It copies bytes both ways and passes half-closes on, without looking at
    them, so it works for any protocol, TLS included: for a server that speaks
    first (IMAP, LMTP, MySQL) the greeting comes late; for one that waits for
    the client (HTTP, redis, a TLS handshake) the first answer does.
    """

    def __init__(self, target_host, target_port, delay=0.1, host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.delay = delay
        super().__init__(host)

    def handle(self, conn):
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            return               # upstream down: the client sees a close, as with a dead backend
        upstream.settimeout(None)
        self.track(upstream)
        try:
            forward = threading.Thread(target=self._pump, args=(conn, upstream, 0.0), daemon=True)
            forward.start()
            self._pump(upstream, conn, self.delay)
            forward.join()
        finally:
            self.untrack(upstream)

    def _pump(self, src, dst, delay):
        """Copy ``src`` to ``dst`` until EOF, holding the first chunk back ``delay`` seconds."""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if delay:
                    if self._closed.wait(delay):
                        return
                    delay = 0.0
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)     # pass the half-close on
        except OSError:
            # One side broke: break the other as well so the peer pump ends too.
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class NoAccept:
    """A port where TCP connect() never completes, so a client's connect times out.

    The socket listens with a backlog of 0 and its accept queue is filled with
    connections of our own that are never accepted; Linux then drops further
    SYNs (net.ipv4.tcp_abort_on_overflow=0, the default) instead of answering
    with RST, and the client keeps retransmitting until its timeout.  The
    filling is checked at set-up: the constructor raises if the port still
    completes handshakes, so a test never silently gets "refused" instead.
    """

    # A loopback handshake into a free queue completes in microseconds; one
    # still pending after this long was dropped.
    PROBE = 0.05

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self._fillers = []
        self._listener = socket.socket(_family(host), socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        try:
            for _ in range(16):
                if not self._fill_one():
                    return
            raise RuntimeError("the accept queue of %s never filled up" % self.address)
        except BaseException:
            self.close()
            raise

    def _fill_one(self):
        """Queue one more connection; False (and nothing kept) once SYNs are dropped."""
        sock = socket.socket(_family(self.host), socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((self.host, self.port))
        _, writable, _ = select.select([], [sock], [], self.PROBE)
        if writable and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            self._fillers.append(sock)
            return True
        sock.close()
        return False

    @property
    def address(self):
        return _address(self.host, self.port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<NoAccept %s>" % self.address

    def close(self):
        for sock in self._fillers:
            sock.close()
        self._fillers = []
        self._listener.close()


# Sockets that keep closed_port()'s ports reserved for the life of the process.
_RESERVED = []


def closed_port(host="127.0.0.1"):
    """A port on ``host`` where nothing listens, so connect() is refused at once.

    The port is bound (without SO_REUSEADDR) but never listened on, and stays
    so until the process exits: the kernel answers SYNs with RST, and no other
    program can start listening there in the meantime.
    """
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.bind((host, 0))
    _RESERVED.append(sock)
    return sock.getsockname()[1]
