"""IMAP greeting: an untagged ``OK`` proves the server serves.

Three schemes: ``imap`` (plain), ``imaps`` (TLS from the first byte) and
``imap+starttls`` (greeting, ``CAPABILITY`` unless the greeting lists
them, ``STARTTLS``, TLS handshake).  Spoken with our own few lines of socket
code rather than ``imaplib``: the greeting is *one line* of at most
``LINE_LIMIT`` bytes, and nothing a peer sends is ever taken as an IMAP
literal (``{1500000000}`` is just text at the end of a line, not a promise
of 1.5 GB to read).  Every answer is bounded in lines and bytes, and every
read by the check's deadline, so a peer that talks forever or trickles is
cut off.  Plain ``imap://`` imports neither ``imaplib`` nor ``ssl``.
"""

from ..checks.contract import CheckFailed
from ..base.text import quoted
from . import LineReader, connect

MAX_LINES = 32     # untagged lines an answer may bring before its tagged one
LOGOUT_WAIT = 0.2  # seconds to read the answer to LOGOUT (a clean end in the server's log)


def check(url, deadline, verify=False):
    address = url.address
    sock = connect(address, deadline)
    try:
        if url.scheme == "imaps":
            from . import tls
            sock = tls.wrap(tls.context(verify), sock, address, deadline)
        reader = LineReader(sock, deadline, address)
        greeting = reader.line("greeting")
        if not greeting.upper().startswith(("* OK", "* PREAUTH")):
            raise CheckFailed("%s greeted with %s" % (address, quoted(greeting)))
        if url.scheme == "imap+starttls":
            sock = _starttls(sock, reader, greeting, url, deadline, verify)
            reader = LineReader(sock, deadline, address)
        _logout(sock, reader, deadline)
    finally:
        sock.close()
    return quoted(_without_code(greeting))


def _send(sock, reader, line, what):
    try:
        sock.settimeout(max(0.001, reader.deadline.remaining()))
        sock.sendall(line)
    except OSError as exc:
        raise CheckFailed("%s: %s while sending %s" % (reader.peer, exc.strerror or exc, what)) \
            from None


def _command(sock, reader, tag, command):
    """Send ``TAG COMMAND``; returns (untagged lines, the tagged answer line)."""
    _send(sock, reader, ("%s %s\r\n" % (tag, command)).encode("ascii"), command)
    untagged = []
    what = "answer to " + command
    for _ in range(MAX_LINES):
        line = reader.line(what)
        if line.startswith(tag + " "):
            return untagged, line
        if line.upper().startswith("* BYE"):
            raise CheckFailed("%s answered %s with %s" % (reader.peer, command, quoted(line)))
        untagged.append(line)
    raise CheckFailed("%s sent more than %d lines without answering %s"
                       % (reader.peer, MAX_LINES, command))


def _capabilities(greeting):
    """The ``[CAPABILITY ...]`` code of a greeting, upper case, or None."""
    _, _, rest = greeting.partition(" ")
    _, _, text = rest.partition(" ")
    if text[:12].upper() == "[CAPABILITY " and "]" in text:
        return text[12:text.index("]")].upper().split()
    return None


def _starttls(sock, reader, greeting, url, deadline, verify):
    address = url.address
    capabilities = _capabilities(greeting)
    if capabilities is None:
        untagged, answer = _command(sock, reader, "g1", "CAPABILITY")
        if answer[3:5].upper() != "OK":
            raise CheckFailed("%s answered CAPABILITY with %s" % (address, quoted(answer)))
        capabilities = [word for line in untagged if line.upper().startswith("* CAPABILITY ")
                        for word in line[13:].upper().split()]
    if "STARTTLS" not in capabilities:
        listed = " ".join(capabilities)
        raise CheckFailed("%s does not offer STARTTLS (capabilities: %s)"
                           % (address, listed if len(listed) <= 120 else listed[:117] + "..."))
    _, answer = _command(sock, reader, "g2", "STARTTLS")
    if answer[3:5].upper() != "OK":
        raise CheckFailed("%s refused STARTTLS: %s" % (address, quoted(answer)))
    if reader.buffer:
        # Plain text after the OK would be read as if it came through TLS.
        raise CheckFailed("%s sent data after accepting STARTTLS" % address)
    from . import tls
    return tls.wrap(tls.context(verify), sock, address, deadline)


def _logout(sock, reader, deadline):
    """Say LOGOUT and read its answer briefly; a failed goodbye changes nothing."""
    reader.deadline = deadline.child(LOGOUT_WAIT)
    try:
        _command(sock, reader, "g3", "LOGOUT")
    except (CheckFailed, OSError):  # a timeout is an OSError too
        pass
    except Exception:  # noqa: BLE001 -- e.g. an ssl error on a TLS connection
        pass


def _without_code(greeting):
    """``* OK [CAPABILITY ...] Dovecot ready.`` -> ``* OK Dovecot ready.`` (for reading)."""
    status, _, rest = greeting.partition(" ")
    word, _, text = rest.partition(" ")
    if text.startswith("[") and "]" in text:
        text = text.split("]", 1)[1].strip()
    return " ".join(p for p in (status, word, text) if p)
