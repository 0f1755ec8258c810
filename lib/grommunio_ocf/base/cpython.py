"""The one place that uses CPython's private modules, each with its fallback beside it.

A monitor runs every few seconds on every node, so its interpreter start-up
is most of its cost.  The public modules wrap C cores that are enough here:
``socket.py`` imports ``enum`` and ``selectors`` around ``_socket``,
``hashlib`` loads OpenSSL's bindings around ``_sha1``, ``threading`` imports
``functools`` and ``collections`` around ``_thread``.  Every other module
imports these names from here, never the private modules themselves, so an
interpreter built without one (RHEL's CPython has no ``_sha1``: it is built
with ``--with-builtin-hashlib-hashes=blake2``) costs a few milliseconds
and nothing else.
"""

try:
    import _socket as sockets
except ImportError:  # pragma: no cover -- every CPython has it; another Python may not
    import socket as sockets

try:
    from _thread import allocate_lock, start_new_thread
except ImportError:  # pragma: no cover
    from threading import Lock as allocate_lock
    from threading import _start_new_thread as start_new_thread  # noqa: F401

# socket.timeout is an alias of TimeoutError from 3.10 on, its own OSError
# subclass before; either way, catch it by this name.
SocketTimeout = sockets.timeout


def ssl_core():
    """``_ssl``, the C core of ``ssl`` (for TLS without ssl.py: protocols/rawtls).

    Imported on first use, not here: loading OpenSSL costs a monitor ~4 ms,
    which a check without TLS should not pay.  ``ssl.py`` itself adds ~13 ms
    of ``enum``, ``socket`` and ``base64`` on top, for nothing a client that
    does not verify certificates uses.  ``ssl``'s exception classes are
    ``_ssl``'s own, so either module's names catch the same errors.
    """
    import _ssl
    return _ssl


def sha1(data):
    """SHA-1 of ``data``, for a protocol (MariaDB's native password), not for security.

    CPython's own ``_sha1`` when the interpreter has it; else ``hashlib``'s,
    asked for with ``usedforsecurity=False`` so that a FIPS-mode OpenSSL
    (where SHA-1 may be refused for signatures) still serves a protocol
    digest.
    """
    try:
        from _sha1 import sha1 as own
    except ImportError:
        import hashlib
        try:
            return hashlib.sha1(data, usedforsecurity=False)
        except TypeError:  # an interpreter before 3.9 has no usedforsecurity
            return hashlib.sha1(data)
    return own(data)
