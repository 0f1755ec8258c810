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


def _gromox_http(values, deadline):
    from ..protocols import gromoxhttp
    return gromoxhttp.check(values.gromox_http_url, deadline, values.tls_verify)


def _exmdb(values, deadline):
    from ..protocols import exmdb
    return exmdb.check(values.exmdb_address, deadline)


def _midb(values, deadline):
    from ..protocols import gromoxline
    # Exactly two words: midb's PING takes a directory argument (ignored).
    return gromoxline.check(values.midb_address, deadline, b"PING x\r\n",
                            "midb_hosts_allow in midb.cfg or midb_acl.txt")


def _zcore(values, deadline):
    from ..protocols import zcore
    return zcore.check(values.zcore_socket, deadline)


def _event(values, deadline):
    from ..protocols import gromoxline
    return gromoxline.check(values.event_address, deadline, b"PING\r\n",
                            "event_hosts_allow in event.cfg or event_acl.txt")


def _timer(values, deadline):
    from ..protocols import gromoxline
    return gromoxline.check(values.timer_address, deadline, b"PING\r\n",
                            "timer_hosts_allow in timer.cfg or timer_acl.txt")


def _pop3(values, deadline):
    from ..protocols import pop3
    return pop3.check(values.pop3_address, deadline)


def _sync(values, deadline):
    from ..protocols import activesync
    return activesync.check(values.sync_url, deadline, values.tls_verify)


def _web(values, deadline):
    from ..protocols import robots
    return robots.check(values.web_url, deadline, values.tls_verify)


def _antispam(values, deadline):
    from ..protocols import rspamd
    return rspamd.check(values.antispam_url, deadline, values.tls_verify)


def _milter(values, deadline):
    from ..protocols import milter
    return milter.check(values.milter_address, deadline)


def _queue(values, deadline):
    from . import queue
    return queue.check(values.queue_dir, values.queue_max_age, deadline)


# (check, the parameter that names its target -- empty: the check is off, run),
# in the order their failures are reported: what users lose most first.
CHECKS = (
    ("imap", "imap_url", _imap),
    ("admin_api", "admin_api_url", _admin_api),
    ("mysql", "mysql_config", _mysql),
    ("lmtp", "lmtp_address", _lmtp),
    ("gromox_http", "gromox_http_url", _gromox_http),
    ("exmdb", "exmdb_address", _exmdb),
    ("midb", "midb_address", _midb),
    ("zcore", "zcore_socket", _zcore),
    ("sync", "sync_url", _sync),
    ("pop3", "pop3_address", _pop3),
    ("event", "event_address", _event),
    ("timer", "timer_address", _timer),
    ("web", "web_url", _web),
    ("antispam", "antispam_url", _antispam),
    ("redis", "redis_address", _redis),
    ("milter", "milter_address", _milter),
    ("queue", "queue_dir", _queue),
)
CHECK_NAMES = tuple(name for name, _, _ in CHECKS)

# The HA guide's grommunio_svc group, in its order, and the checks that
# prove each unit serves (--verbose prints one line per unit).  A unit
# proven by a check of another's (php-fpm by sync) shares its outcome.
SERVICES = (
    ("mariadb", ("mysql",)),
    ("redis", ("redis",)),
    ("php-fpm", ("sync",)),
    ("gromox-http", ("gromox_http", "exmdb")),
    ("midb", ("midb",)),
    ("zcore", ("zcore",)),
    ("event", ("event",)),
    ("timer", ("timer",)),
    ("imap", ("imap",)),
    ("pop3", ("pop3",)),
    ("delivery-queue", ("lmtp",)),
    ("delivery", ("queue",)),
    ("antispam", ("antispam", "milter")),
    ("admin-api", ("admin_api",)),
    ("nginx", ("web", "sync")),
)
