"""grommunio-admin-api status: HTTP 200 and a JSON body whose ``database`` is true.

The admin-api answers ``{"message": "API is operational", "database": <bool>,
"ldap": <bool>}``; older releases send only ``message``, so a missing
``database`` field is healthy with "database state unknown".

One ``GET`` as HTTP/1.0 with ``Connection: close``: the answer is a status
line, headers and a body that ends when the server closes, with no chunked
encoding to undo.  That is all a status check needs, and it spares every
monitor ``http.client``'s imports (``email.parser``, about 10 ms).
"""

import json
import socket

from . import ProbeFailure, budget_text, connect, quote, seconds, tls

RESPONSE_LIMIT = 65536  # a status document is tiny; never read an endless body


def probe(url, deadline, verify=False):
    sock = connect(url.address, deadline)
    if url.scheme == "https":
        sock = tls.wrap(tls.context(verify), sock, url.address, deadline)
    host = str(url.address) if url.port != {"http": 80, "https": 443}[url.scheme] else url.host
    request = ("GET %s HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n"
               "User-Agent: grommunio-ocf stack-health\r\nConnection: close\r\n\r\n"
               % (url.path or "/", host))
    try:
        sock.settimeout(seconds(deadline))
        sock.sendall(request.encode("ascii"))
        response = _read_all(sock, deadline, url)
    except socket.timeout:
        raise ProbeFailure("no answer within %s from %s" % (budget_text(deadline), url)) from None
    except OSError as exc:
        raise ProbeFailure("%s: %s" % (url, exc.strerror or exc)) from None
    finally:
        sock.close()
    status, reason, body = parse_response(response, url)
    return judge(url, status, reason, body)


def _read_all(sock, deadline, url):
    data = b""
    while len(data) <= RESPONSE_LIMIT:
        sock.settimeout(seconds(deadline))
        chunk = sock.recv(16384)
        if not chunk:
            return data
        data += chunk
        if b"\n" in data and not data.startswith(b"HTTP/"):
            # Not a web server (a mail daemon on the port?): do not wait for it to close.
            raise ProbeFailure("%s answered without HTTP: %s" % (
                url, quote(data.split(b"\n", 1)[0].decode("latin-1"), 40)))
    raise ProbeFailure("%s sent more than %d bytes" % (url, RESPONSE_LIMIT))


def parse_response(data, url):
    """``(status, reason, body)`` of a complete HTTP/1.x response."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    status_line = head.split(b"\n", 1)[0].decode("latin-1").strip()
    parts = status_line.split(" ", 2)
    if not sep or len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        if not data:
            raise ProbeFailure("%s closed the connection without an answer" % url)
        raise ProbeFailure("%s answered without HTTP: %s" % (url, quote(status_line, 40)))
    return int(parts[1]), parts[2] if len(parts) > 2 else "", body


def judge(url, status, reason, body):
    if status != 200:
        raise ProbeFailure("%s answered HTTP %d %s" % (url, status, reason))
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ProbeFailure("%s answered 200 without JSON: %s" % (
            url, quote(body.decode("utf-8", "replace"), 40))) from None
    if not isinstance(document, dict):
        raise ProbeFailure("%s answered 200 with JSON that is no object" % url)
    database = document.get("database")
    if database is None:
        return "HTTP 200; database state unknown (no 'database' field)"
    if database is not True:
        raise ProbeFailure("admin-api reports its database is down (%s: database=%s)"
                           % (url, json.dumps(database)))
    return "HTTP 200; database up"
