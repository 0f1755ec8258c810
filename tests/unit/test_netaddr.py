"""grommunio_ocf.base.netaddr: strict HOST:PORT and scheme://HOST[:PORT][/path] parsing."""

import pytest

from grommunio_ocf.base.netaddr import Address, Url, optional, parse_address, parse_url

IMAP = {"imap": 143, "imaps": 993, "imap+starttls": 143}
HTTP = {"http": 80, "https": 443}


# -- parse_address: accepted ------------------------------------------------------

@pytest.mark.parametrize("text,default,host,port", [
    ("localhost:24", None, "localhost", 24),
    ("127.0.0.1:6379", None, "127.0.0.1", 6379),
    ("mail.example.org:25", None, "mail.example.org", 25),
    ("my_host-1:1", None, "my_host-1", 1),
    ("host:65535", None, "host", 65535),
    ("host:024", None, "host", 24),
    ("[::1]:24", None, "::1", 24),
    ("[fe80::1:2]:11332", None, "fe80::1:2", 11332),
    ("[::ffff:127.0.0.1]:24", None, "::ffff:127.0.0.1", 24),
    ("[::1]", 24, "::1", 24),
    ("localhost", 6379, "localhost", 6379),
    ("localhost:7000", 6379, "localhost", 7000),
    ("  host:24  ", None, "host", 24),
    ("\thost\n", 25, "host", 25),
])
def test_parse_address_accepts(text, default, host, port):
    address = parse_address(text, default)
    assert (address.host, address.port) == (host, port)
    assert address == Address(host, port)


# -- parse_address: rejected, each with its reason ----------------------------------

@pytest.mark.parametrize("text,default,message", [
    ("localhost", None, "the port is missing (HOST:PORT)"),
    ("[::1]", None, "the port is missing"),
    ("", None, "the port is missing"),
    ("", 24, "the host is missing"),
    (":24", None, "the host is missing"),
    ("host:0", None, "port 0 is out of range (1-65535)"),
    ("host:65536", None, "port 65536 is out of range (1-65535)"),
    ("host:99999", None, "port 99999 is out of range (1-65535)"),
    ("host:99999", 24, "port 99999 is out of range"),
    ("host:smtp", None, "port 'smtp' is not a number"),
    ("host:", 24, "port '' is not a number"),
    ("host:-1", None, "port '-1' is not a number"),
    ("host:+24", None, "port '+24' is not a number"),
    ("host:2 4", None, "port '2 4' is not a number"),
    ("host:\u0662\u0664", None, "is not a number"),          # Arabic-Indic digits "24"
    ("::1", None, "write an IPv6 address in brackets, e.g. [::1]:24"),
    ("::1", 24, "write an IPv6 address in brackets"),
    ("fe80::1:24", None, "write an IPv6 address in brackets"),
    ("[::1:24", None, "unclosed '[' in the host"),
    ("[::1", 24, "unclosed '[' in the host"),
    ("[::1]24", None, "expected ':PORT' after the IPv6 address"),
    ("[]:24", None, "'[]' is not an IPv6 address"),
    ("[localhost]:24", None, "'[localhost]' is not an IPv6 address"),
    ("[127.0.0.1]:24", None, "is not an IPv6 address"),   # no ':' inside
    ("ho st:24", None, "'ho st' is not a host name or address"),
    ("host!:24", None, "'host!' is not a host name or address"),
    ("user@host:24", None, "is not a host name or address"),
    ("h\u00f6st:24", None, "is not a host name or address"),
    ("host/x:24", None, "is not a host name or address"),
])
def test_parse_address_rejects(text, default, message):
    with pytest.raises(ValueError) as info:
        parse_address(text, default)
    assert message in str(info.value)
    # Every message quotes the rejected text (the Param adds the name).
    assert str(info.value).startswith(repr(text))


def test_parse_address_quotes_whole_when_given():
    with pytest.raises(ValueError, match=r"^'the whole thing': port 0 "):
        parse_address("host:0", whole="the whole thing")


# -- parse_url ---------------------------------------------------------------------

@pytest.mark.parametrize("text,schemes,scheme,host,port,path", [
    ("imap://localhost", IMAP, "imap", "localhost", 143, ""),
    ("imaps://localhost", IMAP, "imaps", "localhost", 993, ""),
    ("imap+starttls://localhost", IMAP, "imap+starttls", "localhost", 143, ""),
    ("imap://localhost:1143", IMAP, "imap", "localhost", 1143, ""),
    ("IMAPS://mail:994", IMAP, "imaps", "mail", 994, ""),
    ("imap://[::1]", IMAP, "imap", "::1", 143, ""),
    ("imap://[::1]:144", IMAP, "imap", "::1", 144, ""),
    ("http://localhost", HTTP, "http", "localhost", 80, ""),
    ("https://localhost", HTTP, "https", "localhost", 443, ""),
    ("http://localhost:8080/api/v1/status", HTTP, "http", "localhost", 8080, "/api/v1/status"),
    ("https://[::1]/api/v1/status", HTTP, "https", "::1", 443, "/api/v1/status"),
    ("http://h/", HTTP, "http", "h", 80, "/"),
    ("  http://h:81/x  ", HTTP, "http", "h", 81, "/x"),
])
def test_parse_url_accepts(text, schemes, scheme, host, port, path):
    url = parse_url(text, schemes)
    assert (url.scheme, url.host, url.port, url.path) == (scheme, host, port, path)
    assert url.address == Address(host, port)


@pytest.mark.parametrize("text,schemes,message", [
    ("localhost:143", IMAP, "is not a URL (expected imap://HOST[:PORT]...)"),
    ("localhost", HTTP, "is not a URL (expected http://HOST[:PORT]...)"),
    ("", IMAP, "is not a URL"),
    ("imap:/localhost", IMAP, "is not a URL"),
    ("pop3://localhost", IMAP, "unknown scheme 'pop3' (use imap://, imaps://, imap+starttls://)"),
    ("ftp://localhost", HTTP, "unknown scheme 'ftp' (use http://, https://)"),
    ("https://localhost", IMAP, "unknown scheme 'https'"),
    ("://localhost", IMAP, "unknown scheme ''"),
    ("imap://", IMAP, "the host is missing"),
    ("imap://:143", IMAP, "the host is missing"),
    ("imap://host:0", IMAP, "port 0 is out of range"),
    ("imap://host:99999", IMAP, "port 99999 is out of range"),
    ("imap://host:x", IMAP, "port 'x' is not a number"),
    ("imap://::1", IMAP, "write an IPv6 address in brackets"),
    ("imap://[::1", IMAP, "unclosed '['"),
    ("imap://bad host", IMAP, "is not a host name or address"),
    ("http://host?x=1", HTTP, "the host is followed by '?' or '#' without a path"),
    ("http://host#frag", HTTP, "the host is followed by '?' or '#' without a path"),
    ("http://host:80?x", HTTP, "without a path"),
    ("imap://user@host", IMAP, "user names and passwords in the URL are not supported"),
])
def test_parse_url_rejects(text, schemes, message):
    with pytest.raises(ValueError) as info:
        parse_url(text, schemes)
    assert message in str(info.value)


@pytest.mark.parametrize("text", [
    "imap://grommunio:Secr3tPw@localhost",
    "imaps://grommunio:Secr3tPw@localhost:993",
    "http://admin:Secr3tPw@localhost:8080/api/v1/status",
])
def test_credentials_in_url_are_refused(text):
    schemes = HTTP if text.startswith("http") else IMAP
    with pytest.raises(ValueError, match="user names and passwords in the URL are not supported"):
        parse_url(text, schemes)


@pytest.mark.parametrize("text", [
    "imap://grommunio:Secr3tPw@localhost",
    "http://admin:Secr3tPw@localhost:8080/api/v1/status",
    "imap://grommunio:Se/cr3tPw@localhost",       # '/' in the password: ends the authority early
    "imap://grommunio:Se:cr3tPw@[::1]:143",
    "imap://grommunio:Se?cr3tPw@localhost",
])
def test_refused_credentials_do_not_leak_the_password(text):
    schemes = HTTP if text.startswith("http") else IMAP
    with pytest.raises(ValueError) as info:
        parse_url(text, schemes)
    message = str(info.value)
    assert message.startswith("user names and passwords in the URL are not supported")
    assert "cr3tPw" not in message and "Secr3t" not in message


def test_at_sign_anywhere_is_refused():
    # Where a password ends cannot be known, so any '@' refuses the URL.
    with pytest.raises(ValueError, match="user names and passwords"):
        parse_url("http://h/status@x", HTTP)


def test_query_after_a_path_is_part_of_the_path():
    # Documents current behaviour: only a query/fragment directly after the host is refused.
    url = parse_url("http://h/status?full=1", HTTP)
    assert url.path == "/status?full=1"
    assert str(url) == "http://h:80/status?full=1"


def test_parse_url_message_quotes_the_text():
    with pytest.raises(ValueError, match=r"^'imap://host:0': port 0 is out of range"):
        parse_url("imap://host:0", IMAP)


# -- optional ---------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", " ", "\t\n"])
def test_optional_empty_is_none(text):
    assert optional(lambda t: parse_address(t))(text) is None


def test_optional_passes_text_through():
    parse = optional(lambda t: parse_address(t, 6379))
    assert parse("localhost") == Address("localhost", 6379)
    with pytest.raises(ValueError, match="out of range"):
        parse("localhost:0")


def test_optional_with_url_parser():
    parse = optional(lambda t: parse_url(t, HTTP))
    assert parse("") is None
    assert str(parse("https://h/x")) == "https://h:443/x"


# -- str / repr / eq ------------------------------------------------------------

@pytest.mark.parametrize("address,text", [
    (Address("localhost", 24), "localhost:24"),
    (Address("::1", 24), "[::1]:24"),
    (Address("127.0.0.1", 6379), "127.0.0.1:6379"),
])
def test_address_str_round_trip(address, text):
    assert str(address) == text
    assert parse_address(text) == address
    assert parse_address(str(parse_address(text))) == address


@pytest.mark.parametrize("text,canonical", [
    ("imap://localhost", "imap://localhost:143"),
    ("IMAPS://[::1]", "imaps://[::1]:993"),
    ("imap+starttls://mail:1143", "imap+starttls://mail:1143"),
])
def test_imap_url_str_round_trip(text, canonical):
    url = parse_url(text, IMAP)
    assert str(url) == canonical
    assert str(parse_url(str(url), IMAP)) == canonical


@pytest.mark.parametrize("text,canonical", [
    ("http://localhost:8080/api/v1/status", "http://localhost:8080/api/v1/status"),
    ("https://[::1]/api", "https://[::1]:443/api"),
])
def test_http_url_str_round_trip(text, canonical):
    url = parse_url(text, HTTP)
    assert str(url) == canonical
    assert str(parse_url(str(url), HTTP)) == canonical


def test_repr_and_equality():
    assert repr(Address("::1", 24)) == "Address('::1', 24)"
    assert repr(parse_url("imap://h", IMAP)) == "Url('imap://h:143')"
    assert Address("h", 1) != Address("h", 2)
    assert Address("h", 1) != ("h", 1)
    assert isinstance(parse_url("imap://h", IMAP), Url)
