"""A resource's small state file under ``HA_RSCTMP``.

For agents that start nothing of their own (the health checks), "started"
is this file: Pacemaker's resource tmp dir is emptied at boot, so a node
that rebooted reports the resource stopped, as it should.  The file holds
``key=value`` lines (the fall counter, the last published health colour)
and is replaced atomically, so a monitor killed halfway leaves the old one.

Whatever ``HA_RSCTMP`` and the instance name hold, the file name is one
the kernel takes, and a path that cannot exist (a name too long, a parent
that is no directory) means "not started" -- never a traceback, and never
a failed stop.
"""

import errno
import os

from ..base.paths import path_limits
from .status import OCFError, Status

NAME_LIMIT = 200  # bytes of the instance part of the file name
# Errors that mean the file cannot be there at all.
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP)


def _safe(instance):
    """The instance as a file name part: no '/', bounded, still telling."""
    safe = (instance or "default").replace("/", "_")
    data = os.fsencode(safe)
    if len(data) <= NAME_LIMIT:
        return safe
    import zlib  # only for absurd names: a short, stable fingerprint of the whole
    return "%s~%08x" % (os.fsdecode(data[:NAME_LIMIT - 9]), zlib.crc32(data))


def state_path(rsctmp, agent, instance):
    # A clone's instance is "name:0"; "/" cannot be in an id but never trust it.
    return os.path.join(rsctmp, "%s-%s.state" % (agent, _safe(instance)))


def number(values, key):
    """``values[key]`` as a small non-negative integer (0 when absent or garbled)."""
    text = values.get(key, "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0


class StateFile:
    def __init__(self, path):
        self.path = path

    @classmethod
    def of(cls, agent_name, op):
        return cls(state_path(op.rsctmp, agent_name, op.instance))

    def _failure(self, what, exc):
        return OCFError(Status.ERR_GENERIC, "cannot %s the state file %s: %s"
                        % (what, self.path, exc.strerror or exc))

    def read(self):
        """The stored values, or ``None`` when the resource is not started."""
        try:
            with open(self.path, encoding="utf-8", errors="replace") as stream:
                text = stream.read(65536)
        except OSError as exc:
            if exc.errno in _ABSENT:
                return None
            raise self._failure("read", exc) from None
        values = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
        return values

    def write(self, values):
        temporary = "%s.%d.tmp" % (self.path, os.getpid())
        try:
            # Never half-create a directory tree for a path that cannot be.
            path_limits(temporary)
        except ValueError:
            raise self._failure("write", OSError(errno.ENAMETOOLONG, "path too long")) from None
        try:
            os.makedirs(os.path.dirname(self.path) or ".", mode=0o755, exist_ok=True)
            with open(temporary, "w", encoding="utf-8") as stream:
                for key in sorted(values):
                    stream.write("%s=%s\n" % (key, values[key]))
            os.replace(temporary, self.path)
        except OSError as exc:
            raise self._failure("write", exc) from None

    def remove(self):
        try:
            os.unlink(self.path)
        except OSError as exc:
            if exc.errno not in _ABSENT:
                raise self._failure("remove", exc) from None
