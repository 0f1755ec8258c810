"""What grodata-binds remembers from start to stop: where its binds came from.

Stop unmounts only its own binds: those from the grodata filesystem.  Which
filesystem that is, mountinfo tells as long as grodata is mounted -- but if
grodata was unmounted under running binds (they keep the filesystem alive),
the binds are all that is left of it, and grodata's path now leads to the
root filesystem.  So start records the origin (device and root) of grodata
in the resource's state file under ``HA_RSCTMP``, and stop takes a bind
from any recorded origin as its own too.  The record goes when stop leaves
nothing of ours behind.  ``HA_RSCTMP`` is emptied at boot, as are mounts.

A state file that cannot be written or read costs only this knowledge, never
the action: start logs a warning, stop falls back to what mountinfo shows.
"""

from .mounts import origin_text, parse_origin
from ..ocf.state import StateFile
from ..ocf.status import OCFError

MAX_ORIGINS = 8  # a few failovers' worth; more is not a record but a leak
KEY = "origin"


def _file(agent, op):
    return StateFile.of(agent, op)


def recalled(agent, op, log):
    """The origins recorded by earlier starts (``[(dev, root)]``, oldest first)."""
    try:
        values = _file(agent, op).read() or {}
    except OCFError as exc:
        log.warning("cannot recall where the binds came from: %s" % exc.reason)
        return []
    origins = []
    for key in sorted(values, key=lambda k: (len(k), k)):
        if key.startswith(KEY):
            origin = parse_origin(values[key])
            if origin is not None and origin not in origins:
                origins.append(origin)
    return origins


def remember(agent, op, origin, log):
    """Add ``origin`` to the record (bounded, newest kept)."""
    origins = [o for o in recalled(agent, op, log) if o != origin] + [origin]
    origins = origins[-MAX_ORIGINS:]
    try:
        _file(agent, op).write({"%s%d" % (KEY, i): origin_text(o) for i, o in enumerate(origins)})
    except OCFError as exc:
        log.warning("cannot record where the binds come from (stop will judge by mountinfo "
                    "alone): %s" % exc.reason)


def forget(agent, op, log):
    try:
        _file(agent, op).remove()
    except OCFError as exc:
        log.warning(exc.reason)
