"""IMAP greeting with ``imaplib``: an untagged ``OK`` proves the server serves.

Three schemes: ``imap`` (plain), ``imaps`` (TLS from the first byte) and
``imap+starttls`` (greeting, ``STARTTLS``, TLS handshake).  imaplib reads
the greeting and sends ``CAPABILITY`` in its constructor; a ``* BYE``
greeting raises ``IMAP4.error`` there, and ``starttls()`` refuses unless
``STARTTLS`` was in the capabilities.  The connection itself is ours
(``connect``), so that "no connection" and "no greeting" are told apart.
"""

import imaplib
import socket
import ssl

from . import ProbeFailure, budget_text, connect, quote, seconds, tls


class _Plain(imaplib.IMAP4):
    def __init__(self, address, deadline):
        self._address = address
        self._deadline = deadline
        super().__init__(address.host, address.port, timeout=seconds(deadline))

    def _create_socket(self, timeout):
        return connect(self._address, self._deadline)


class _Tls(imaplib.IMAP4_SSL):
    def __init__(self, address, deadline, context):
        self._address = address
        self._deadline = deadline
        super().__init__(address.host, address.port, ssl_context=context,
                         timeout=seconds(deadline))

    def _create_socket(self, timeout):
        sock = connect(self._address, self._deadline)
        return tls.wrap(self.ssl_context, sock, self._address, self._deadline)


def probe(url, deadline, verify=False):
    address = url.address
    client = None
    try:
        if url.scheme == "imaps":
            client = _Tls(address, deadline, tls.context(verify))
        else:
            client = _Plain(address, deadline)
            if url.scheme == "imap+starttls":
                if "STARTTLS" not in client.capabilities:
                    raise ProbeFailure("%s does not offer STARTTLS (capabilities: %s)"
                                       % (address, " ".join(client.capabilities)))
                client.sock.settimeout(seconds(deadline))
                client.starttls(tls.context(verify))
        greeting = client.welcome.decode("utf-8", "replace")
    except socket.timeout:
        # The constructor waits for the greeting (and the CAPABILITY reply).
        what = "greeting" if client is None else "answer to STARTTLS"
        raise ProbeFailure("no %s within %s from %s" % (what, budget_text(deadline), address)) from None
    except ssl.SSLError as exc:  # the handshake after STARTTLS
        raise tls.failure(exc, address, deadline) from None
    except imaplib.IMAP4.error as exc:  # also IMAP4.abort, its subclass
        raise ProbeFailure("%s: %s" % (address, _words(exc))) from None
    except OSError as exc:
        raise ProbeFailure("%s: %s" % (address, exc.strerror or exc)) from None
    finally:
        if client is not None:
            _logout(client, deadline)
    if not greeting.upper().startswith(("* OK", "* PREAUTH")):
        raise ProbeFailure("%s greeted with %s" % (address, quote(greeting)))
    return quote(_without_code(greeting))


def _without_code(greeting):
    """``* OK [CAPABILITY ...] Dovecot ready.`` -> ``* OK Dovecot ready.`` (for reading)."""
    status, _, rest = greeting.partition(" ")
    word, _, text = rest.partition(" ")
    if text.startswith("[") and "]" in text:
        text = text.split("]", 1)[1].strip()
    return " ".join(p for p in (status, word, text) if p)


def _words(exc):
    """imaplib's messages, made readable: the raw greeting for a BYE."""
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    if text.upper().startswith("* BYE"):
        return "greeted with %s" % quote(text)
    return text


def _logout(client, deadline):
    # LOGOUT so that the server logs a clean session end, but never wait long for it.
    try:
        client.sock.settimeout(min(0.5, max(0.05, deadline.remaining())))
        client.logout()
    except Exception:  # noqa: BLE001 -- a failed goodbye changes nothing about the health
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass
