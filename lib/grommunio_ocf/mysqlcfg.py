"""gromox's ``mysql_adaptor.cfg``: where and as whom gromox logs into MariaDB.

The agent reads the very file gromox uses, so the check proves gromox's own
credentials and the password never has to be copied into the CIB.  Format
(gromox config_file): ``key = value`` lines, ``#`` comments, keys
case-insensitive, the last occurrence wins.

Nothing here ever puts the password into a message: errors name the file,
the line number and the key.
"""

from .params import Problem
from .status import Status

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 3306
REQUIRED = ("mysql_username", "mysql_dbname")


class MysqlConfig:
    """The connection settings; ``repr`` leaves the password out."""

    __slots__ = ("path", "host", "port", "user", "password", "database")

    def __init__(self, path, host, port, user, password, database):
        self.path = path
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database

    @property
    def uses_socket(self):
        # Like libmysqlclient: the name "localhost" means the Unix socket.
        return self.host == "localhost"

    def __repr__(self):
        return "MysqlConfig(%r, host=%r, port=%d, user=%r, database=%r)" % (
            self.path, self.host, self.port, self.user, self.database)


class ConfigError(Exception):
    """The file cannot be used; ``status`` is the exit code it deserves."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status = Status(status)
        self.text = text

    def problem(self):
        return Problem(self.status, self.text)


def parse_text(text, path):
    """``{key: value}`` from the file's text (lower-case keys, last one wins)."""
    settings = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip().lower()
        if not sep or not key or any(c.isspace() for c in key):
            # Never quote the line: it may be the password line with a typo.
            raise ConfigError(Status.ERR_INSTALLED, "%s: line %d is not 'key = value'" % (path, number))
        settings[key] = value.strip()
    return settings


def load(path):
    """Read and check ``path``; ``ConfigError`` says what is wrong with it."""
    import os
    import stat
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None  # open() below says what is wrong
    # A FIFO or device would block the read, and with it the monitor.
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ConfigError(Status.ERR_INSTALLED, "%s is not a regular file" % path)
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except FileNotFoundError:
        raise ConfigError(Status.ERR_INSTALLED, "%s does not exist" % path) from None
    except PermissionError:
        raise ConfigError(Status.ERR_PERM, "%s is not readable" % path) from None
    except IsADirectoryError:
        raise ConfigError(Status.ERR_INSTALLED, "%s is a directory" % path) from None
    except UnicodeDecodeError:
        raise ConfigError(Status.ERR_INSTALLED, "%s is not UTF-8 text" % path) from None
    except OSError as exc:
        raise ConfigError(Status.ERR_INSTALLED, "%s: %s" % (path, exc.strerror)) from None
    settings = parse_text(text, path)
    missing = [key for key in REQUIRED if not settings.get(key)]
    if missing:
        raise ConfigError(Status.ERR_INSTALLED, "%s: %s not set" % (path, " and ".join(missing)))
    port_text = settings.get("mysql_port") or str(DEFAULT_PORT)
    if not (port_text.isascii() and port_text.isdigit() and 1 <= int(port_text) <= 65535):
        raise ConfigError(Status.ERR_INSTALLED, "%s: mysql_port %r is not a port" % (path, port_text))
    return MysqlConfig(path, settings.get("mysql_host") or DEFAULT_HOST, int(port_text),
                       settings["mysql_username"], settings.get("mysql_password", ""),
                       settings["mysql_dbname"])
