"""Addresses and URLs of the services an agent checks, parsed strictly.

Parsed by hand instead of with ``urllib.parse``: that module is lenient
(``urlsplit("imap://host:99999")`` only fails when ``.port`` is read, and an
unknown scheme passes) and costs an import on every monitor.  Every error
message quotes the text it rejects, without the parameter's name (the
caller's ``Param`` adds it).
"""

from .text import quoted

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
# What the resolver takes (RFC 1035, 2.3.4): labels of 1 to 63 bytes, a name
# of at most 253 without its trailing dot.
LABEL_MAX = 63
NAME_MAX = 253
IPV6_MAX = 45  # the longest textual IPv6 address (with an IPv4 tail)
# A URL path is sent as it is in the request line: visible ASCII only (no
# blank, no control, nothing to encode), no fragment, and not endless.
URL_PATH_MAX = 2048
_PATH_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"#"}


class Address:
    """A host and a port; ``str()`` gives it back in ``host:port`` form."""

    __slots__ = ("host", "port")

    def __init__(self, host, port):
        self.host = host
        self.port = port

    def __str__(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.port)

    def __repr__(self):
        return "Address(%r, %d)" % (self.host, self.port)

    def __eq__(self, other):
        return isinstance(other, Address) and (self.host, self.port) == (other.host, other.port)


class Url:
    """``scheme://host[:port][/path]`` -- no user, password, query or fragment."""

    __slots__ = ("scheme", "address", "path")

    def __init__(self, scheme, address, path):
        self.scheme = scheme
        self.address = address
        self.path = path

    @property
    def host(self):
        return self.address.host

    @property
    def port(self):
        return self.address.port

    def __str__(self):
        return "%s://%s%s" % (self.scheme, self.address, self.path)

    def __repr__(self):
        return "Url(%r)" % str(self)


def _host(text, whole):
    whole = quoted(whole)
    if text.startswith("["):
        if not text.endswith("]"):
            raise ValueError("%s: unclosed '[' in the host" % whole)
        inner = text[1:-1]
        if not inner or any(c not in "0123456789abcdefABCDEF:." for c in inner) \
                or ":" not in inner or len(inner) > IPV6_MAX:
            raise ValueError("%s: %s is not an IPv6 address" % (whole, quoted(text)))
        return inner
    if not text:
        raise ValueError("%s: the host is missing" % whole)
    if any(c not in _HOST_CHARS for c in text):
        raise ValueError("%s: %s is not a host name or address" % (whole, quoted(text)))
    name = text[:-1] if text.endswith(".") else text  # a trailing dot: fully qualified
    if len(name) > NAME_MAX:
        raise ValueError("%s: the host name is %d characters long, more than %d"
                         % (whole, len(name), NAME_MAX))
    for label in name.split("."):
        if not label:
            raise ValueError("%s: %s has an empty label (two dots, or a dot at the start)"
                             % (whole, quoted(text)))
        if len(label) > LABEL_MAX:
            raise ValueError("%s: the label %s is longer than %d characters"
                             % (whole, quoted(label, 20), LABEL_MAX))
    return text


def _port(text, whole):
    if not (text.isascii() and text.isdigit()):
        raise ValueError("%s: port %s is not a number" % (quoted(whole), quoted(text, 20)))
    port = int(text) if len(text) <= 6 else None  # never int() of 5,000 digits
    if port is None or not 1 <= port <= 65535:
        raise ValueError("%s: port %s is out of range (1-65535)"
                         % (quoted(whole), quoted(text, 20) if port is None else port))
    return port


def parse_address(text, default_port=None, whole=None):
    """``host:port``, ``[v6]:port`` or (with ``default_port``) a bare host."""
    whole = text if whole is None else whole
    text = text.strip()
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError("%s: unclosed '[' in the host" % quoted(whole))
        host, rest = text[:close + 1], text[close + 1:]
        if rest and not rest.startswith(":"):
            raise ValueError("%s: expected ':PORT' after the IPv6 address" % quoted(whole))
        port_text = rest[1:] if rest else None
    elif text.count(":") > 1:
        raise ValueError("%s: write an IPv6 address in brackets, e.g. [::1]:24" % quoted(whole))
    else:
        host, sep, port_text = text.partition(":")
        port_text = port_text if sep else None
    if port_text is None:
        if default_port is None:
            raise ValueError("%s: the port is missing (HOST:PORT)" % quoted(whole))
        return Address(_host(host, whole), default_port)
    return Address(_host(host, whole), _port(port_text, whole))


def parse_url(text, schemes):
    """A URL whose scheme is a key of ``schemes`` (scheme -> default port)."""
    if "@" in text:
        # Credentials in a URL would sit in the CIB, readable by every admin
        # tool -- and this message must not repeat them, so no quoting: a
        # password may contain '/' or ':', so its extent cannot be known.
        raise ValueError("user names and passwords in the URL are not supported "
                         "(the URL is not repeated here because it contains '@')")
    scheme, sep, rest = text.strip().partition("://")
    if not sep:
        raise ValueError("%s is not a URL (expected %s://HOST[:PORT]...)"
                         % (quoted(text), sorted(schemes)[0]))
    scheme = scheme.lower()
    if scheme not in schemes:
        raise ValueError("%s: unknown scheme %s (use %s)" % (quoted(text), quoted(scheme, 20), ", ".join(
            s + "://" for s in schemes)))
    authority, slash, path = rest.partition("/")
    if "?" in authority or "#" in authority:
        raise ValueError("%s: the host is followed by '?' or '#' without a path" % quoted(text))
    path = slash + path
    if len(path) > URL_PATH_MAX:
        raise ValueError("%s: the path is %d characters long, more than %d"
                         % (quoted(text), len(path), URL_PATH_MAX))
    bad = sorted({c for c in path if c not in _PATH_CHARS})
    if bad:
        raise ValueError("%s: the path holds %s: only visible ASCII can be sent "
                         "(percent-encode the rest, e.g. %%C3%%A4 for \u00e4; no '#')"
                         % (quoted(text), quoted("".join(bad[:8]), 20)))
    return Url(scheme, parse_address(authority, schemes[scheme], whole=text), path)


def optional(parser):
    """Wrap a parser so that empty text means "disabled" (``None``)."""
    def parse(text):
        return None if text.strip() == "" else parser(text)
    return parse
