"""The ActiveSync front: nginx, the php-fpm pool and grommunio-sync answer one request together.

grommunio-sync's index.php demands credentials before anything else and
answers a request without them with AuthenticationRequiredException,
whose headers are ``401 Unauthorized`` and ``WWW-Authenticate: Basic
realm="GSync"`` (lib/exceptions/authenticationrequiredexception.php).
Only PHP running grommunio-sync in its pool writes that realm, so the
401 *with it* proves nginx (TLS included), the pool and the application at
once.  ``OPTIONS`` is what a device sends first, and the check sends no
credentials, so nothing is logged in and no device is registered.

nginx's own answers say which layer is missing: 502 (no pool behind the
socket), 504 (the pool does not answer in time), 404 (no location).
"""

from ..checks.contract import CheckFailed
from . import http

REALM = "GSync"
GATEWAY = {502: "php-fpm pool not answering: its socket is gone or refuses",
           503: "php-fpm pool or grommunio-sync unavailable",
           504: "php-fpm pool too slow: nginx gave up waiting"}


def check(url, deadline, verify=False):
    status, reason, headers, _ = http.exchange(url, deadline, verify, method="OPTIONS")
    if status != 401:
        hint = GATEWAY.get(status)
        raise CheckFailed("%s answered HTTP %d %s, not 401%s"
                          % (url, status, reason, " (%s)" % hint if hint else ""))
    http.require_realm(url, headers, REALM, "grommunio-sync")
    return "401 GSync realm"
