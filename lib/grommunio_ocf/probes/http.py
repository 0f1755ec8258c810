"""grommunio-admin-api status: HTTP 200 and a JSON body whose ``database`` is true.

The admin-api answers ``{"message": "API is operational", "database": <bool>,
"ldap": <bool>}``; older releases send only ``message``, so a missing
``database`` field is healthy with "database state unknown".
"""

import http.client
import json
import socket

from . import ProbeFailure, budget_text, connect, quote, seconds, tls

BODY_LIMIT = 65536  # a status document is tiny; never read an endless body


def probe(url, deadline, verify=False):
    sock = connect(url.address, deadline)
    if url.scheme == "https":
        sock = tls.wrap(tls.context(verify), sock, url.address, deadline)
    conn = http.client.HTTPConnection(url.host, url.port)
    conn.sock = sock  # ours, already connected within the deadline
    try:
        try:
            conn.request("GET", url.path or "/", headers={
                "Accept": "application/json", "User-Agent": "grommunio-ocf stack-health"})
            sock.settimeout(seconds(deadline))
            response = conn.getresponse()
            body = response.read(BODY_LIMIT)
        except socket.timeout:
            raise ProbeFailure("no answer within %s from %s" % (budget_text(deadline), url)) from None
        except (http.client.HTTPException, OSError) as exc:
            raise ProbeFailure("%s: %s" % (url, _reason(exc))) from None
    finally:
        conn.close()
    return _judge(url, response.status, response.reason, body)


def _reason(exc):
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "%s %s" % (type(exc).__name__, exc)


def _judge(url, status, reason, body):
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
