"""A TLS client straight on CPython's ``_ssl``: no certificate check, no ``ssl.py``.

Importing ``ssl`` costs a monitor about as much as starting the interpreter
(it pulls in ``enum``, ``socket``, ``selectors``, ``base64`` and builds
its enums: ~13 ms here), more than the TLS handshake itself.  The checks'
default is not to verify certificates (``tls_verify=false``: the
certificate names the public host while the check dials localhost), and
for that the C module is all there is to it: a client context, the
handshake and encrypted reads and writes on our own ``_socket``, each
bounded by the socket's timeout, which ``_ssl`` keeps across the retries
of one call.  Verifying connections still go through ``ssl`` (tls.py):
its host-name and CA handling is not worth copying.

``_ssl``'s API used here is the one ``ssl.py`` itself uses and has not
changed from Python 3.6 to 3.13: ``_SSLContext(PROTOCOL_TLS_CLIENT)``,
``check_hostname``, ``verify_mode``, ``_wrap_socket(sock, server_side,
server_hostname)``, ``do_handshake``, ``read``, ``write``.  Its errors are
``ssl``'s own classes (``ssl.SSLError`` is ``_ssl.SSLError``, an
``OSError``), so callers catch them as before.
"""

from ..base.cpython import sockets, ssl_core

_ssl = ssl_core()
PROTOCOL_TLS_CLIENT = 16  # ssl.PROTOCOL_TLS_CLIENT (_SSLMethod)
CERT_NONE = 0


_CONTEXT = []  # the one context of this process: OpenSSL's SSL_CTX_new is not free


def context():
    """A client context that checks neither the certificate nor the host name.

    One per process, shared by the checks' threads (OpenSSL contexts are
    thread-safe once set up); two threads racing here only make one spare.
    """
    if not _CONTEXT:
        ctx = _ssl._SSLContext(PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False  # first: CERT_NONE is refused while it is on
        ctx.verify_mode = CERT_NONE
        _CONTEXT.append(ctx)
    return _CONTEXT[0]


class TlsSocket:
    """The few socket methods the checks use, over one ``_ssl`` session.

    ``_ssl`` holds only a weak reference to the socket: this object keeps it.
    """

    __slots__ = ("sock", "tls")

    def __init__(self, sock, tls):
        self.sock = sock
        self.tls = tls

    def settimeout(self, seconds):
        self.sock.settimeout(seconds)

    def recv(self, size):
        try:
            return self.tls.read(size)
        except (_ssl.SSLZeroReturnError, _ssl.SSLEOFError):
            return b""  # the peer's close_notify, or a close without one: the end
        except _ssl.SSLError as exc:
            # Python < 3.8 with OpenSSL 3 reports a close without close_notify
            # as a plain SSLError.
            if "unexpected eof" in str(exc).lower():
                return b""
            raise

    def sendall(self, data):
        view = memoryview(data)
        while view:
            view = view[self.tls.write(view):]

    def getsockname(self):
        return self.sock.getsockname()

    def close(self):
        self.sock.close()


class _Socket(sockets.socket):
    """``_socket.socket`` with a weak-reference slot, which ``_wrap_socket`` needs."""

    __slots__ = ("__weakref__",)


def wrap(ctx, sock, host):
    """``sock`` after a TLS handshake (SNI ``host`` unless it is an address).

    ``sock`` is taken over (its descriptor moves to a weak-referenceable
    socket object, with its timeout).
    """
    timeout = sock.gettimeout()
    try:
        own = _Socket(sock.family, sock.type, sock.proto, sock.detach())
    except BaseException:
        sock.close()
        raise
    own.settimeout(timeout)
    server_name = None if ":" in host or host.replace(".", "").isdigit() else host
    try:
        tls = ctx._wrap_socket(own, False, server_name)
        tls.do_handshake()
    except BaseException:
        own.close()
        raise
    return TlsSocket(own, tls)
