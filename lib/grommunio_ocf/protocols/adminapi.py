"""grommunio-admin-api status: HTTP 200 and a JSON body whose ``database`` is true.

The admin-api answers ``{"message": "API is operational", "database": <bool>,
"ldap": <bool>}``; older releases send only ``message``, so a missing
``database`` field is healthy with "database state unknown".  The JSON is
read by ``base.jsonread``, nested at most ``JSON_DEPTH`` deep: a body
nested 30,000 deep fails the check with that reason, not with a
``RecursionError``.
"""

from ..base import jsonread
from ..base.text import quoted
from ..checks.contract import CheckFailed
from . import http

JSON_DEPTH = 32


def check(url, deadline, verify=False):
    status, reason, _headers, body = http.exchange(url, deadline, verify,
                                                   extra="Accept: application/json\r\n")
    return judge(url, status, reason, body)


def judge(url, status, reason, body):
    if status != 200:
        raise CheckFailed("%s answered HTTP %d %s" % (url, status, reason))
    try:
        document = jsonread.loads(body.decode("utf-8"), JSON_DEPTH)
    except jsonread.TooDeep:
        raise CheckFailed("%s answered 200 with JSON nested deeper than %d levels"
                          % (url, JSON_DEPTH)) from None
    except ValueError:  # not UTF-8, or not JSON
        raise CheckFailed("%s answered 200 without JSON: %s" % (
            url, quoted(body.decode("utf-8", "replace"), 40))) from None
    if not isinstance(document, dict):
        raise CheckFailed("%s answered 200 with JSON that is no object" % url)
    database = document.get("database")
    if database is None:
        return "HTTP 200; database state unknown (no 'database' field)"
    if database is not True:
        raise CheckFailed("admin-api reports its database is down (%s: database=%s)"
                          % (url, jsonread.brief(database)))
    return "HTTP 200; database up"
