"""stack-health's checks: one table of (check, parameter, module, call).

Each row names a check, the agent parameter that holds its target (empty:
the check is off), the module that speaks to the service and how to call
it.  ``enabled()`` imports the modules of the checks that are on, and only
those, so a monitor pays for the checks it has -- and imports them in the
main thread, before the checks' threads start: imported inside the
threads, the modules would queue on the import lock one after another
while each thread holds the interpreter, which cost the whole group about
4 ms.  The table's order is the order the checks start and the order
their failures are reported in.
"""


class Row:
    """One check: ``call(module, values, deadline)`` runs it with its module."""

    __slots__ = ("name", "parameter", "module", "call")

    def __init__(self, name, parameter, module, call):
        self.name = name
        self.parameter = parameter
        self.module = module  # under grommunio_ocf, e.g. "protocols.imap"
        self.call = call

    def bound(self, values):
        """``run(deadline)`` for ``values``, its module imported now."""
        module = __import__(self.module, globals(), None, ("check",), 2)
        return lambda deadline: self.call(module, values, deadline)


def enabled(values):
    """``(row, target, run)`` of every check whose parameter is set, in the table's order."""
    return [(row, values[row.parameter], row.bound(values))
            for row in CHECKS if values[row.parameter] is not None]


def _url(parameter):
    return lambda module, values, deadline: module.check(values[parameter], deadline,
                                                         values.tls_verify)


def _address(parameter):
    return lambda module, values, deadline: module.check(values[parameter], deadline)


def _line(parameter, ping, allow):
    """A gromox line daemon's PING; ``allow`` says where its allow-list is."""
    return lambda module, values, deadline: module.check(values[parameter], deadline, ping, allow)


def _mysql(module, values, deadline):
    return module.check(values.mysql_config, values.mysql_socket, deadline)


def _queue(module, values, deadline):
    return module.check(values.queue_dir, values.queue_max_age, deadline)


# In the order their failures are reported: what users lose most first.
CHECKS = (
    Row("imap", "imap_url", "protocols.imap", _url("imap_url")),
    Row("admin_api", "admin_api_url", "protocols.adminapi", _url("admin_api_url")),
    Row("mysql", "mysql_config", "stack.gromoxdb", _mysql),
    Row("lmtp", "lmtp_address", "protocols.smtp", _address("lmtp_address")),
    Row("gromox_http", "gromox_http_url", "protocols.gromoxhttp", _url("gromox_http_url")),
    Row("exmdb", "exmdb_address", "protocols.exmdb", _address("exmdb_address")),
    # Exactly two words: midb's PING takes a directory argument (ignored).
    Row("midb", "midb_address", "protocols.gromoxline",
        _line("midb_address", b"PING x\r\n", "midb_hosts_allow in midb.cfg or midb_acl.txt")),
    Row("zcore", "zcore_socket", "protocols.zcore", _address("zcore_socket")),
    Row("sync", "sync_url", "protocols.activesync", _url("sync_url")),
    Row("pop3", "pop3_address", "protocols.pop3", _address("pop3_address")),
    Row("event", "event_address", "protocols.gromoxline",
        _line("event_address", b"PING\r\n", "event_hosts_allow in event.cfg or event_acl.txt")),
    Row("timer", "timer_address", "protocols.gromoxline",
        _line("timer_address", b"PING\r\n", "timer_hosts_allow in timer.cfg or timer_acl.txt")),
    Row("web", "web_url", "protocols.robots", _url("web_url")),
    Row("antispam", "antispam_url", "protocols.rspamd", _url("antispam_url")),
    Row("redis", "redis_address", "protocols.redis", _address("redis_address")),
    Row("milter", "milter_address", "protocols.milter", _address("milter_address")),
    Row("queue", "queue_dir", "stack.queue", _queue),
)
CHECK_NAMES = tuple(row.name for row in CHECKS)

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
