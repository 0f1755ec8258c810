"""Where the MariaDB client library finds the server's Unix socket.

gromox never names a socket: it connects to ``localhost`` with
``MYSQL_READ_DEFAULT_GROUP "client"`` and lets libmariadb take ``socket``
from the ``[client]``, ``[client-server]`` or ``[client-mariadb]`` groups of
the option files, falling back to the path compiled into the library --
which differs per distribution.  ``find_socket`` does the same, so the check
dials the socket gromox dials:

1. ``/etc/my.cnf``, then ``/etc/mysql/my.cnf``, following ``!include FILE``
   and ``!includedir DIR`` (every ``*.cnf`` in DIR, sorted, as the server and
   the ``mysql`` client read them; libmariadb itself reads only DIR/my.cnf,
   but the distributions' drop-ins agree with their compiled-in default);
   the later setting wins;
2. else the first that exists of the distributions' compiled-in defaults:
   Debian/Ubuntu ``/run/mysqld/mysqld.sock``, openSUSE/SLES
   ``/run/mysql/mysql.sock``, RHEL family ``/var/lib/mysql/mysql.sock``.

The file syntax follows libmariadb's reader: ``[group]`` headers, ``key =
value`` (quotes stripped, backslash escapes), ``#`` and ``;`` comments, and
``-``/``_`` alike in option names.
"""

import os

from ..base import smallfile

OPTION_FILES = ("/etc/my.cnf", "/etc/mysql/my.cnf")
GROUPS = frozenset(("client", "client-server", "client-mariadb"))
DEFAULT_SOCKETS = ("/run/mysqld/mysqld.sock", "/run/mysql/mysql.sock", "/var/lib/mysql/mysql.sock")
MAX_DEPTH = 64           # libmariadb's include recursion limit
FILE_LIMIT = 1 << 20     # bytes read of one option file
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "s": " ", '"': '"', "'": "'", "\\": "\\"}


class Setting:
    """One option's value and where it was set (for messages)."""

    __slots__ = ("value", "path", "group")

    def __init__(self, value, path, group):
        self.value = value
        self.path = path
        self.group = group

    def __str__(self):
        return "[%s] in %s" % (self.group, self.path)


def _unquote(value):
    if value[:1] in ("'", '"'):
        value = value[1:]
        if value[-1:] in ("'", '"'):
            value = value[:-1]
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(_ESCAPES.get(value[i + 1], value[i:i + 2]))
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _read_text(path):
    """The text of a regular file, or ``None`` (missing, unreadable, a FIFO, huge)."""
    try:
        return smallfile.read(path, FILE_LIMIT)[0].decode("utf-8", "surrogateescape")
    except OSError:  # the client library skips what it cannot read; so do we
        return None


def _parse(path, found, read, seen, depth):
    """Add the client options of ``path`` (and what it includes) to ``found``."""
    if depth >= MAX_DEPTH:
        return
    text = read(path)
    if text is None:
        return
    seen.append(path)
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if line[:1] == "!":
            word, _, target = line[1:].partition(" ")
            target = target.strip()
            if word == "include" and target:
                _parse(target, found, read, seen, depth + 1)
            elif word == "includedir" and target:
                for name in _cnf_files(target):
                    _parse(name, found, read, seen, depth + 1)
            continue
        if not line or line[0] in "#;'\"":
            continue
        if line[0] == "[":
            close = line.find("]")
            if close < 0:
                return  # libmariadb stops reading a file at a broken group header
            group = line[1:close].rstrip()  # "[ client]" is no client group for libmariadb
            continue
        if group is None:
            return  # an option before any group: libmariadb gives up on the file
        if group not in GROUPS:
            continue
        key, sep, value = line.partition("=")
        key = key.strip().replace("_", "-")
        found[key] = Setting(_unquote(value.strip()) if sep else None, path, group)


def _cnf_files(directory):
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [os.path.join(directory, n) for n in names if n.endswith(".cnf")]


def client_options(files=OPTION_FILES, read=_read_text):
    """``({option: Setting}, [files read])`` for the client groups; later files win."""
    found, seen = {}, []
    for path in files:
        _parse(path, found, read, seen, 0)
    return found, seen


def find_socket(files=OPTION_FILES, defaults=DEFAULT_SOCKETS, exists=None):
    """``(path, why)`` of the socket the client library would use.

    ``LookupError`` (its text says where it looked) when the option files
    name none and no default exists.
    """
    exists = exists or os.path.exists
    options, seen = client_options(files)
    setting = options.get("socket")
    if setting is not None and setting.value:
        return setting.value, "socket from %s" % setting
    for path in defaults:
        if exists(path):
            return path, "the first default socket that exists"
    where = ", ".join(seen) if seen else "none of %s exists" % ", ".join(files)
    raise LookupError("no MariaDB socket: none of %s exists, and the option files (%s) "
                      "set no socket in [client]" % (", ".join(defaults), where))
