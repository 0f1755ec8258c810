"""gromox's ``mysql_adaptor.cfg``: where and as whom gromox logs into MariaDB.

The agent reads the very file gromox uses, so the check proves gromox's own
credentials and the password never has to be copied into the CIB.  It is
read with gromox's own rules (``config_file_init`` in gromox's
``lib/string.cpp``), because a file gromox runs with must never be refused
here -- a refused file would fail the critical check and make Pacemaker
restart a healthy stack:

* bytes are taken raw (no encoding is required: values are kept as
  surrogate-escaped text and go back to the server byte for byte);
* a line whose first character is ``#`` is a comment; any other line is
  ``key = value`` where the key runs up to ``=`` or white space, and a line
  without ``=`` after its first word is skipped silently (``[client]``, a
  stray word);
* keys are case-insensitive (ASCII), the last occurrence wins, values run
  to the end of the line (no quotes, no inline comments);
* every key has gromox's default (``mysql_adaptor_cfg_defaults`` in
  ``exch/mysql_adaptor/sql2.cpp``), so a missing key is never an error;
* ``mysql_port`` is read like C's ``strtoull(s, NULL, 0)`` (``0x`` hex, a
  leading ``0`` octal, digits up to the first other character); 0 means
  the client library's default port;
* ``mysql_password_mode_id107`` and ``mysql_password_mode_id555`` replace
  ``mysql_password`` (in that order, as gromox applies them); they are
  decoded only when the check logs in (``obfuscated.py``).

Nothing here ever puts the password into a message: errors name the file
and the key, never a value.
"""

from ..base import smallfile
from ..ocf.status import Status, checked

# gromox's defaults for the keys this check uses.
DEFAULTS = {"mysql_host": "localhost", "mysql_port": "3306", "mysql_username": "root",
            "mysql_password": "", "mysql_dbname": "email"}
# Applied in this order after mysql_password, as gromox does: the last one set wins.
OBFUSCATED_KEYS = ("mysql_password_mode_id107", "mysql_password_mode_id555")
DEFAULT_PORT = 3306   # the client library's port when mysql_port is 0
SIZE_LIMIT = 1 << 20  # a mysql_adaptor.cfg is a few hundred bytes; never read more than this
_SPACE = b" \t\n\r\x0b\x0c"  # C's isspace() in the C locale


class ConfigError(Exception):
    """The file cannot be used; ``status`` is the exit code it deserves."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status = checked(status)
        self.text = text


class MysqlConfig:
    """The connection settings; ``repr`` leaves the password out.

    ``password_key`` names the key the password came from; for the
    obfuscated forms ``password`` is decoded on first use and may raise
    ``obfuscated.DecodeError``.  ``defaulted`` lists the keys the file does
    not set (gromox's defaults apply), for the admin reading verbose output.
    """

    __slots__ = ("path", "host", "port", "user", "database", "password_key", "_secret",
                 "_password", "defaulted")

    def __init__(self, path, host, port, user, password, database,
                 password_key="mysql_password", defaulted=()):
        self.path = path
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.password_key = password_key
        self._secret = password  # the text of password_key
        self._password = password if password_key == "mysql_password" else None
        self.defaulted = tuple(defaulted)

    @property
    def password(self):
        if self._password is None:
            from . import obfuscated
            self._password = obfuscated.decode(self.password_key, self._secret)
        return self._password

    @property
    def uses_socket(self):
        # Like the MariaDB client library: "localhost" (or no host) means the Unix socket.
        return self.host in ("localhost", "")

    def __repr__(self):
        return "MysqlConfig(%r, host=%r, port=%d, user=%r, database=%r)" % (
            self.path, self.host, self.port, self.user, self.database)


def parse_bytes(data):
    """``{key: value}`` from the file's bytes, by gromox's rules (lower-case keys)."""
    settings = {}
    for line in data.split(b"\n"):
        # C strings: a NUL ends the line as gromox sees it.
        line = line.split(b"\0", 1)[0].rstrip(_SPACE)
        if line[:1] == b"#":  # gromox looks at the line's very first byte only
            continue
        rest = line.lstrip(_SPACE)
        end = 0
        while end < len(rest) and rest[end:end + 1] != b"=" and rest[end] not in _SPACE:
            end += 1
        key, after = rest[:end], rest[end:].lstrip(_SPACE)
        if after[:1] != b"=":
            continue  # "[client]", a stray word: skipped silently, as gromox does
        settings[key.lower().decode("utf-8", "surrogateescape")] = \
            after[1:].lstrip(_SPACE).decode("utf-8", "surrogateescape")
    return settings


def c_strtoull(text):
    """``strtoull(text, NULL, 0)``: the leading number, 0 if none, saturating at 2**64-1."""
    rest = text.lstrip(_SPACE.decode("ascii"))
    negative = rest[:1] == "-"
    if rest[:1] in ("+", "-"):
        rest = rest[1:]
    if rest[:2].lower() == "0x" and rest[2:3] and rest[2] in "0123456789abcdefABCDEF":
        base, rest, digits = 16, rest[2:], "0123456789abcdefABCDEF"
    elif rest[:1] == "0":
        base, digits = 8, "01234567"
    else:
        base, digits = 10, "0123456789"
    count = 0
    while count < len(rest) and rest[count] in digits:
        count += 1
    if count == 0:
        return 0
    if count > 64:  # beyond 2**64 in any base; int() would also refuse 4,300+ digits
        return (1 << 64) - 1
    value = int(rest[:count], base)
    if value >= 1 << 64:
        return (1 << 64) - 1
    return (-value) % (1 << 64) if negative else value


def read(path):
    """The file's bytes; ``ConfigError`` when it cannot be read as a file."""
    try:
        return smallfile.read(path, SIZE_LIMIT)[0]
    except FileNotFoundError:
        raise ConfigError(Status.ERR_INSTALLED, "%s does not exist" % path) from None
    except PermissionError:
        raise ConfigError(Status.ERR_PERM, "%s is not readable" % path) from None
    except IsADirectoryError:
        raise ConfigError(Status.ERR_INSTALLED, "%s is a directory" % path) from None
    except smallfile.NotRegular:  # a FIFO or device would block the read, and the monitor
        raise ConfigError(Status.ERR_INSTALLED, "%s is not a regular file" % path) from None
    except smallfile.TooLarge:
        raise ConfigError(Status.ERR_INSTALLED, "%s is larger than %d bytes" % (path, SIZE_LIMIT)) from None
    except OSError as exc:
        raise ConfigError(Status.ERR_INSTALLED, "%s: %s" % (path, exc.strerror)) from None


def load(path):
    """Read ``path`` as gromox does; ``ConfigError`` only when it cannot be read."""
    settings = parse_bytes(read(path))
    values = dict(DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS})
    password_key = "mysql_password"
    for key in OBFUSCATED_KEYS:
        if key in settings:
            password_key = key
            values["mysql_password"] = settings[key]
    port = c_strtoull(values["mysql_port"]) or DEFAULT_PORT
    if port > 65535:
        # gromox would hand the client library a truncated number: another port.
        raise ConfigError(Status.ERR_INSTALLED, "%s: mysql_port is not a port number "
                          "(1-65535)" % path)
    return MysqlConfig(path, values["mysql_host"], port, values["mysql_username"],
                       values["mysql_password"], values["mysql_dbname"], password_key,
                       sorted(k for k in DEFAULTS if k not in settings and
                              not (k == "mysql_password" and password_key != k)))
