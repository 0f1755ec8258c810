"""stack-health's checks: one table of (check, parameter, run).

Each row names a check, the agent parameter that holds its target (empty:
the check is off) and the function that runs it.  The functions import
their protocol module only when they run, so a monitor pays for the checks
it has, and the table's order is the order failures are reported in.
"""


def _imap(values, deadline):
    from ..protocols import imap
    return imap.check(values.imap_url, deadline, values.tls_verify)


def _admin_api(values, deadline):
    from ..protocols import http
    return http.check(values.admin_api_url, deadline, values.tls_verify)


def _mysql(values, deadline):
    from . import gromoxdb
    return gromoxdb.check(values.mysql_config, values.mysql_socket, deadline)


def _lmtp(values, deadline):
    from ..protocols import smtp
    return smtp.check(values.lmtp_address, deadline)


def _redis(values, deadline):
    from ..protocols import redis
    return redis.check(values.redis_address, deadline)


def _milter(values, deadline):
    from ..protocols import tcp
    return tcp.check(values.milter_address, deadline)


# (check, the parameter that names its target -- empty: the check is off, run),
# in the order their failures are reported.
CHECKS = (
    ("imap", "imap_url", _imap),
    ("admin_api", "admin_api_url", _admin_api),
    ("mysql", "mysql_config", _mysql),
    ("lmtp", "lmtp_address", _lmtp),
    ("redis", "redis_address", _redis),
    ("milter", "milter_address", _milter),
)
CHECK_NAMES = tuple(name for name, _, _ in CHECKS)
