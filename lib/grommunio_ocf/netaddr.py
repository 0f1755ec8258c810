"""Addresses and URLs of the services an agent checks, parsed strictly.

Parsed by hand instead of with ``urllib.parse``: that module is lenient
(``urlsplit("imap://host:99999")`` only fails when ``.port`` is read, and an
unknown scheme passes) and costs an import on every monitor.  Every error
message quotes the text it rejects, without the parameter's name (the
caller's ``Param`` adds it).
"""

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


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
    if text.startswith("["):
        if not text.endswith("]"):
            raise ValueError("%r: unclosed '[' in the host" % whole)
        inner = text[1:-1]
        if not inner or any(c not in "0123456789abcdefABCDEF:." for c in inner) or ":" not in inner:
            raise ValueError("%r: %r is not an IPv6 address" % (whole, text))
        return inner
    if not text:
        raise ValueError("%r: the host is missing" % whole)
    if any(c not in _HOST_CHARS for c in text):
        raise ValueError("%r: %r is not a host name or address" % (whole, text))
    return text


def _port(text, whole):
    if not (text.isascii() and text.isdigit()):
        raise ValueError("%r: port %r is not a number" % (whole, text))
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError("%r: port %d is out of range (1-65535)" % (whole, port))
    return port


def parse_address(text, default_port=None, whole=None):
    """``host:port``, ``[v6]:port`` or (with ``default_port``) a bare host."""
    whole = text if whole is None else whole
    text = text.strip()
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError("%r: unclosed '[' in the host" % whole)
        host, rest = text[:close + 1], text[close + 1:]
        if rest and not rest.startswith(":"):
            raise ValueError("%r: expected ':PORT' after the IPv6 address" % whole)
        port_text = rest[1:] if rest else None
    elif text.count(":") > 1:
        raise ValueError("%r: write an IPv6 address in brackets, e.g. [::1]:24" % whole)
    else:
        host, sep, port_text = text.partition(":")
        port_text = port_text if sep else None
    if port_text is None:
        if default_port is None:
            raise ValueError("%r: the port is missing (HOST:PORT)" % whole)
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
        raise ValueError("%r is not a URL (expected %s://HOST[:PORT]...)" % (text, sorted(schemes)[0]))
    scheme = scheme.lower()
    if scheme not in schemes:
        raise ValueError("%r: unknown scheme %r (use %s)" % (text, scheme, ", ".join(
            s + "://" for s in schemes)))
    authority, slash, path = rest.partition("/")
    if "?" in authority or "#" in authority:
        raise ValueError("%r: the host is followed by '?' or '#' without a path" % text)
    return Url(scheme, parse_address(authority, schemes[scheme], whole=text), slash + path)


def optional(parser):
    """Wrap a parser so that empty text means "disabled" (``None``)."""
    def parse(text):
        return None if text.strip() == "" else parser(text)
    return parse
