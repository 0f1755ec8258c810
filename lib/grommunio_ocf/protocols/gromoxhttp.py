"""gromox-http: a MAPI/HTTP request without credentials must be refused as only gromox refuses it.

``POST /mapi/emsmdb/?MailboxId=x`` with ``Content-Length: 0`` reaches the
MAPI/HTTP plugin (gromox exch/mh/emsmdb.cpp takes every POST whose URI
starts with ``/mapi/emsmdb/?MailboxId=``), which answers an unauthenticated
request with 401; exch/http/http_parser.cpp writes that answer with
``WWW-Authenticate: Basic realm="msrpc realm", charset="utf-8"``.  So the
401 *with that realm* proves the HTTP server and its MAPI plugin run;
a 401 without it is some other server on the port.
"""

from ..base.netaddr import Url
from ..checks.contract import CheckFailed
from . import http

PATH = "/mapi/emsmdb/?MailboxId=x"
REALM = "msrpc realm"


def check(url, deadline, verify=False):
    target = Url(url.scheme, url.address, url.path.rstrip("/") + PATH)
    status, reason, headers, _ = http.exchange(target, deadline, verify, method="POST",
                                               extra="Content-Length: 0\r\n")
    if status != 401:
        raise CheckFailed("%s answered HTTP %d %s, not 401 (MAPI/HTTP plugin not loaded?)"
                          % (target, status, reason))
    http.require_realm(target, headers, REALM, "gromox-http")
    return "401 msrpc realm"
