"""TLS for the protocol checks: a client context and a handshake inside the deadline.

Not verifying (the default) speaks TLS through ``rawtls`` on CPython's
``_ssl`` and never imports ``ssl``; verifying uses ``ssl``'s default
context (system CAs, host name).  Both raise ``_ssl``'s error classes.
"""

from ..base.cpython import SocketTimeout, ssl_core
from ..checks.contract import CheckFailed
from . import budget_text

_ssl = ssl_core()  # imported with this module: only a check that speaks TLS pays for it


def context(verify):
    """Verifying (system CAs and host name) or not.

    Not verifying is the default of the agents' ``tls_verify``: the
    certificate names the public host while the check dials localhost, and a
    monitor that fails when a certificate expires would fail over a healthy
    cluster for a renewal problem.
    """
    if verify:
        import ssl
        return ssl.create_default_context()
    from . import rawtls
    return rawtls.context()


def failure(exc, address, deadline):
    """A TLS-layer exception as a ``CheckFailed`` for ``address``."""
    verify_error = getattr(_ssl, "SSLCertVerificationError", None)  # Python >= 3.7
    if verify_error is not None and isinstance(exc, verify_error):
        return CheckFailed("TLS certificate of %s not accepted: %s (tls_verify=true)"
                            % (address, exc.verify_message or exc.reason))
    if isinstance(exc, SocketTimeout):
        return CheckFailed("no TLS handshake within %s with %s" % (budget_text(deadline), address))
    return CheckFailed("TLS handshake with %s failed: %s" % (address, getattr(exc, "strerror", None) or exc))


def wrap(ctx, sock, address, deadline):
    """``sock`` after a TLS handshake, or ``CheckFailed`` (and ``sock`` closed).

    The socket's timeout bounds the whole handshake (CPython keeps one
    deadline across its reads), so it is set to what is left of ours: a
    peer that trickles handshake bytes is cut off in time.
    """
    try:
        sock.settimeout(max(0.001, deadline.remaining()))
        if isinstance(ctx, _ssl._SSLContext) and not hasattr(ctx, "wrap_socket"):
            from . import rawtls
            return rawtls.wrap(ctx, sock, address.host)
        return ctx.wrap_socket(sock, server_hostname=address.host)
    except (_ssl.SSLError, OSError, ValueError) as exc:
        sock.close()
        raise failure(exc, address, deadline) from None
