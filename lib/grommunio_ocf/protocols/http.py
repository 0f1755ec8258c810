"""HTTP/1.0 for the checks: one request, one bounded answer, no ``http.client``.

One request as HTTP/1.0 with ``Connection: close``: the answer is a status
line, headers and a body that ends at ``Content-Length`` or when the server
closes, with no chunked encoding to undo.  That is all a health check
needs, and it spares every monitor ``http.client``'s imports
(``email.parser``, about 10 ms).  What each service's answer must be is in
its own module (``adminapi``, ``gromoxhttp``, ``activesync``, ``robots``,
``rspamd``).

The answers the checks read are small -- the admin-api's is under 100 bytes
-- so the limits are tight: at most ``HEAD_LIMIT`` bytes of status line and
headers, ``BODY_LIMIT`` bytes of body.  A peer beyond them (an endless
stream, a 5,000-digit status code) fails the check with that reason
instead of costing memory or time.
"""


from ..base.cpython import SocketTimeout
from ..checks.contract import CheckFailed
from ..base.text import printable, quoted
from . import budget_text, connect, seconds

HEAD_LIMIT = 8192
BODY_LIMIT = 16384
STATUS_LINE_LIMIT = 512


def exchange(url, deadline, verify=False, method="GET", extra=""):
    """One request; ``(status, reason, header lines, body)`` -- the body of a 200 only.

    ``extra``: more header lines, each ending in CRLF.
    """
    sock = connect(url.address, deadline)
    if url.scheme == "https":
        from . import tls
        sock = tls.wrap(tls.context(verify), sock, url.address, deadline)
    host = str(url.address) if url.port != {"http": 80, "https": 443}[url.scheme] else url.host
    request = ("%s %s HTTP/1.0\r\nHost: %s\r\n%s"
               "User-Agent: grommunio-ocf stack-health\r\nConnection: close\r\n\r\n"
               % (method, url.path or "/", host, extra))
    try:
        sock.settimeout(seconds(deadline))
        sock.sendall(request.encode("ascii"))
        response = Response(sock, deadline, url)
        status, reason, body = response.read()
    except SocketTimeout:
        raise CheckFailed("no answer within %s from %s" % (budget_text(deadline), url)) from None
    except OSError as exc:
        raise CheckFailed("%s: %s" % (url, exc.strerror or exc)) from None
    finally:
        sock.close()
    return status, reason, response.headers, body


def require_realm(url, header_lines, realm, server):
    """``CheckFailed`` unless a ``WWW-Authenticate`` line names ``realm``: the proof
    that ``server`` (say ``"gromox-http"``) wrote the 401, not some other web server."""
    found = realms(header_lines)
    if realm not in found:
        raise CheckFailed("%s answered 401 without realm \"%s\" (%s): not %s?"
                          % (url, realm, ", ".join(repr(r[:40]) for r in found[:3])
                             or "no WWW-Authenticate realm", server))


def realms(header_lines):
    """The ``realm="..."`` of every ``WWW-Authenticate`` header line."""
    found = []
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() != "www-authenticate":
            continue
        start = value.find('realm="')
        if start >= 0:
            end = value.find('"', start + 7)
            if end > 0:
                found.append(value[start + 7:end])
    return found


class Response:
    """Reads one HTTP/1.x answer within the limits and the deadline."""

    def __init__(self, sock, deadline, url):
        self.sock = sock
        self.deadline = deadline
        self.url = url
        self.data = b""
        self.closed = False
        self.headers = []

    def _more(self, limit):
        """Append what the peer sends next (at most ``limit`` bytes); False at its end."""
        if self.closed:
            return False
        left = self.deadline.remaining()
        if left <= 0:
            raise SocketTimeout()
        self.sock.settimeout(left)
        chunk = self.sock.recv(max(1, min(16384, limit)))
        if not chunk:
            self.closed = True
            return False
        self.data += chunk
        return True

    def read(self):
        """``(status, reason, body)``; the body only for a 200 (nothing else is judged by it)."""
        head_end = self._head()
        head, body = self.data[:head_end], self.data[head_end:]
        lines = head.decode("utf-8", "replace").split("\n")
        status, reason = parse_status_line(lines[0], self.url)
        self.headers = [line.rstrip("\r") for line in lines[1:] if line.strip()]
        if status != 200:
            return status, reason, b""
        length, chunked = _framing(lines[1:], self.url)
        if chunked:
            raise CheckFailed("%s answered an HTTP/1.0 request with chunked encoding" % self.url)
        want = BODY_LIMIT + 1 if length is None else length
        if length is not None and length > BODY_LIMIT:
            raise _too_big(self.url, "announced %d bytes of body" % length)
        self.data = body
        while len(self.data) < want and self._more(want - len(self.data)):
            pass
        if len(self.data) > BODY_LIMIT:
            raise _too_big(self.url, "sent more than %d bytes of body" % BODY_LIMIT)
        return status, reason, self.data[:want]

    def _head(self):
        """Read up to the blank line after the headers; returns where the body starts."""
        while True:
            for blank in (b"\r\n\r\n", b"\n\n"):
                end = self.data.find(blank, 0, HEAD_LIMIT + len(blank))
                if end >= 0:
                    return end + len(blank)
            if len(self.data) >= 5 and not self.data.startswith(b"HTTP/"):
                # Not a web server (a mail daemon on the port?): do not wait for it to close.
                raise CheckFailed("%s answered without HTTP: %s" % (
                    self.url, quoted(self.data[:200].split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1"), 40)))
            if len(self.data) > HEAD_LIMIT:
                raise _too_big(self.url, "sent more than %d bytes of status line and headers"
                               % HEAD_LIMIT)
            if not self._more(HEAD_LIMIT + 4 - len(self.data)):
                if not self.data:
                    raise CheckFailed("%s closed the connection without an answer" % self.url)
                if self.data.startswith(b"HTTP/"):
                    raise CheckFailed("%s closed the connection within the headers" % self.url)
                raise CheckFailed("%s answered without HTTP: %s" % (
                    self.url, quoted(self.data[:200].decode("latin-1"), 40)))


def _too_big(url, what):
    return CheckFailed("%s %s: a status answer is small (limits: %d bytes of headers, "
                        "%d of body)" % (url, what, HEAD_LIMIT, BODY_LIMIT))


def parse_status_line(line, url):
    """``HTTP/1.1 200 OK`` -> ``(200, "OK")``; anything else fails naming the line."""
    line = line.rstrip("\r")
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if len(line) > STATUS_LINE_LIMIT or not (
            len(version) == 8 and version.startswith("HTTP/") and version[5] in "0123456789"
            and version[6] == "." and version[7] in "0123456789"
            and len(code) == 3 and all(c in "0123456789" for c in code)):
        raise CheckFailed("%s answered with a malformed status line: %s" % (url, quoted(line, 40)))
    return int(code), printable(reason, 60)


def _framing(header_lines, url):
    """``(Content-Length or None, chunked?)`` from the header lines."""
    length, chunked = None, False
    for line in header_lines:
        name, sep, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            if not (value.isascii() and value.isdigit() and len(value) <= 12):
                raise CheckFailed("%s sent a malformed Content-Length: %s" % (url, quoted(value, 20)))
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    return length, chunked
