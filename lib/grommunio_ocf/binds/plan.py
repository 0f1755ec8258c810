"""The ``binds`` list of grodata-binds: parse it, check it, order it.

Pure functions over strings -- no filesystem access -- so that every rule is
checked the same way for every action, including ``stop`` and probes.
"""

from ..base.paths import absolute_path, is_under, path_limits
from ..base.text import quoted

DEFAULT_TARGET_DIR = "/var/lib"


def bind_options(words):
    """The ``options`` parameter (known flags already): none may contradict another."""
    from .mounts import contradictions
    clash = contradictions(words)
    if clash:
        raise ValueError(clash)
    return words


def grodata_path(path):
    """The ``grodata`` parameter (already an absolute path): anything but ``/``."""
    if path == "/":
        raise ValueError("must not be /")
    return path


class Bind:
    """One ``source`` directory under grodata bound onto ``target``."""

    __slots__ = ("source", "target")

    def __init__(self, source, target):
        self.source = source
        self.target = target

    def __repr__(self):
        return "%s:%s" % (self.source, self.target)

    def __eq__(self, other):
        return isinstance(other, Bind) and (self.source, self.target) == (other.source, other.target)

    def __hash__(self):
        return hash((self.source, self.target))


def _item(item, grodata):
    """One ``source:target`` or bare ``name`` -> Bind, or ValueError."""
    if ":" in item:
        source, _, target = item.partition(":")
        if ":" in target:
            raise ValueError("%s has more than one ':'" % quoted(item))
        try:
            source, target = absolute_path(source), absolute_path(target)
        except ValueError as exc:
            raise ValueError("%s: %s" % (quoted(item, 40), exc)) from None
        if source is None or target is None:
            raise ValueError("%s needs both source and target" % quoted(item))
    else:
        if "/" in item or item in (".", ".."):
            raise ValueError("%s is neither a name nor source:target" % quoted(item))
        try:
            path_limits(item)
            path_limits(grodata.rstrip("/") + "/" + item)
        except ValueError as exc:
            raise ValueError("%s: %s" % (quoted(item, 40), exc)) from None
        source = grodata.rstrip("/") + "/" + item
        target = DEFAULT_TARGET_DIR + "/" + item
    if source == grodata or not is_under(source, grodata):
        raise ValueError("source %s is not under grodata %s" % (source, grodata))
    if target == "/":
        raise ValueError("target / is not allowed")
    if is_under(target, grodata):
        raise ValueError("target %s is inside grodata %s" % (target, grodata))
    if is_under(grodata, target):
        raise ValueError("target %s would cover grodata %s" % (target, grodata))
    return Bind(source, target)


def parse(items, grodata):
    """``items`` (already split) -> ``(binds in mount order, [error texts])``."""
    binds, errors = [], []
    if not items:
        return [], ["empty: give at least one name or source:target"]
    by_target, by_source = {}, {}
    for item in items:
        try:
            bind = _item(item, grodata)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if bind.target in by_target:
            errors.append("target %s is listed twice (%s, %s)" % (bind.target, by_target[bind.target], bind))
            continue
        if bind.source in by_source:
            errors.append("source %s is listed twice (%s, %s)" % (bind.source, by_source[bind.source], bind))
            continue
        by_target[bind.target] = by_source[bind.source] = bind
        binds.append(bind)
    return ordered(binds), errors


def ordered(binds):
    """Mount order: every target after the targets it lies inside.

    Each bind sorts by the list positions of its chain of enclosing targets,
    outermost first, then its own: a nested target moves right behind its
    parent, and the admin's order is kept everywhere else.
    """
    position = {b.target: i for i, b in enumerate(binds)}

    def chain(bind):
        keys = [position[bind.target]]
        path = bind.target
        while path != "/":
            path = path.rsplit("/", 1)[0] or "/"
            if path in position:
                keys.append(position[path])
        return keys[::-1]

    return sorted(binds, key=chain)
