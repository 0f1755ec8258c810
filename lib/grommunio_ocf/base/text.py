"""Text from outside -- a peer's bytes, a file's line, a parameter -- made safe to show.

Every message that quotes something we did not write goes through here, so
that no peer or file can forge a log line, flood the logs or break the
encoding: ``printable`` gives one bounded, printable line, ``quoted`` the
same in quotes, for "refused %s" messages.
"""

ELLIPSIS = "..."
MESSAGE_LIMIT = 4096  # bytes of one log message
_BLANKS = " \t\n\r"


def as_text(value):
    """Anything -> str, without ever raising (an exception's str() may)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    try:
        return str(value)
    except Exception:  # noqa: BLE001 -- a broken __str__ must not break logging
        return object.__repr__(value)


def _escape(char):
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
        return "\\x%02x" % (code - 0xDC00)
    if code < 0x100:
        return "\\x%02x" % code
    if code < 0x10000:
        return "\\u%04x" % code
    return "\\U%08x" % code


def printable(value, limit=MESSAGE_LIMIT, exact=False):
    """One printable line of at most ``limit`` bytes (UTF-8).

    Runs of spaces, tabs, CR and LF become one space (a message cannot forge
    another log line) -- unless ``exact``, where spaces stay as they are and
    tabs, CR and LF are escaped like the rest; every other character that is not printable -- control
    characters, U+2028, lone surrogates -- is escaped (``\\x0b``,
    ``\\u2028``), and an undecodable byte kept by ``surrogateescape`` is
    shown as the byte it was (``\\xff``).  Longer text is cut, ending in
    ``...``.
    """
    text = as_text(value)
    # Escaping only lengthens the text, so a prefix of `limit` characters is
    # all that can show (plus one to know it was cut); blanks collapse, so
    # keep some more of them.
    text = text[:limit * 4 + 1]
    if exact:
        line = "".join(char if char.isprintable() else _escape(char) for char in text)
    elif text.isprintable():
        # Printable text has no blank but the space: split() collapses runs.
        line = " ".join(text.split())
    else:
        parts = []
        blank = False
        for char in text:
            if char in _BLANKS:
                blank = True
                continue
            if blank and parts:
                parts.append(" ")
            blank = False
            parts.append(char if char.isprintable() else _escape(char))
        line = "".join(parts)
    data = line.encode("utf-8")
    if len(data) <= limit:
        return line
    return data[:max(0, limit - len(ELLIPSIS))].decode("utf-8", "ignore") + ELLIPSIS


def quoted(value, limit=64):
    """A short quoted form of untrusted text for a message: ``'\\xffabc'``.

    Exact (see ``printable``): a value of three blanks shows as ``'   '``,
    a tab as ``\\x09``, so what is quoted is what was there.
    """
    return "'%s'" % printable(value, limit, exact=True)
