"""What grommunio-ocf-migrate changes: bind-mount Filesystem primitives -> one grodata-binds.

``plan`` finds each group whose members are all bind-mount
``ocf:heartbeat:Filesystem`` primitives and works out the
``ocf:grommunio:grodata-binds`` primitive that replaces the group and its
members, and what becomes of every constraint and tag that names them.  It
works on the statements crmconf read and does no I/O: the command reads the
input and writes the resulting Plan out.

The new primitive takes over the group's name
---------------------------------------------
Constraints (order, colocation, location, rsc_ticket) and tags name the group,
not its members.  Giving the primitive the group's id keeps every one of them
textually unchanged: their meaning is preserved by construction, a reviewer
sees no rewritten constraint, and runbooks that say ``crm resource restart
grodata_binds`` keep working.  The alternative, a one-member group of the
same name around a new primitive, keeps a group whose only job is to carry a
name.  (``--name`` picks another id; the constraints are then rewritten.)
A constraint that names an individual bind primitive is rewritten to the new
primitive, with a warning; one that related bind primitives only to each
other is dropped, since they are one resource now.
"""

import posixpath
import re

from ..binds import plan as bindplan
from ..binds.plan import DEFAULT_TARGET_DIR
from ..base.paths import absolute_path, is_under
from .crmconf import INERT, REFERRING, Group, Primitive, duration_ms, mentions, references, rewrite
from .legacy import modernise

AGENT = "ocf:grommunio:grodata-binds"

# What the new primitive accepts and the old ones mean, stated here rather
# than borrowed from the agent's modules: the tool describes the agent's
# interface (its meta-data; tests/unit/test_migrate.py checks that the two
# agree) and Filesystem's, and loads none of the agent's code.
AGENT_OPTIONS = frozenset(("ro", "nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime"))
# ocf-shellfuncs' ocf_is_true, which Filesystem applies to force_unmount
# (whose default is true, and whose "safe" is true without fuser).
FS_TRUE = frozenset(("yes", "true", "1", "YES", "TRUE", "True", "ja", "on", "ON", "safe"))

# The agent's advertised timeouts (its meta-data).  Pacemaker never reads them
# from there: an op the old primitives did not set would get the cluster's 20s
# default, short for one resource that stops every bind in turn.
AGENT_OPS = (("start", "0s", "60s"), ("stop", "0s", "60s"))
AGENT_ACTIONS = ("start", "stop", "monitor")
AGENT_DEPTHS = ("0", "10", "20")

# Filesystem parameters converted on their own, or meaningless for a bind mount;
# any other is named in a warning.
FS_IGNORED = frozenset(("device", "directory", "fstype", "options", "force_unmount",
                        "run_fsck", "fast_stop", "statusfile_prefix"))
OPTIONS_DEFAULT = frozenset(("rw", "defaults", "bind", "rbind"))
# Meta values that say the same as leaving them out (``crm resource start``
# leaves target-role=Started behind on one primitive and not on the next).
META_DEFAULTS = {"target-role": "started", "is-managed": "true", "maintenance": "false"}


class UsageError(Exception):
    """Bad arguments or input that is not crm configure syntax: exit 2."""


# -- Filesystem primitives ---------------------------------------------------------

def _is_filesystem(prim):
    """``prim``'s agent is ocf:heartbeat:Filesystem, spelt out or short."""
    parts = prim.agent.split(":")
    return parts[-1] == "Filesystem" and (
        len(parts) == 1 or (parts[0] == "ocf" and parts[1:-1] in ([], [""], ["heartbeat"])))


def _options(prim):
    """The mount options of a Filesystem primitive."""
    return [w for w in prim.params.get("options", "").split(",") if w]


def _is_bind(prim):
    return _is_filesystem(prim) and bool({"bind", "rbind"} & set(_options(prim)))


def _path(prim, param):
    """The absolute path in ``prim``'s parameter ``param``, or None."""
    try:
        return absolute_path(prim.params.get(param, ""))
    except ValueError:
        return None


# -- the conversion ----------------------------------------------------------------

class Conversion:
    """One group of bind primitives and the grodata-binds primitive replacing it."""

    def __init__(self, group, members, name):
        self.group = group
        self.members = members          # [Primitive], in group order
        self.name = name                # id of the new primitive
        self.params, self.meta, self.ops = {}, {}, []   # ops: [(name, {attr: value})]

    @property
    def old_ids(self):
        return [self.group.id] + [p.id for p in self.members]


def _agree(what, values, warn):
    """The one value all of ``values`` (id -> value or None) have, else None and a warning."""
    distinct = set(values.values())
    if len(distinct) == 1:
        return distinct.pop()
    warn("%s differs (%s): dropped" % (what, ", ".join(
        "%s=%s" % (i, "(unset)" if v is None else v) for i, v in values.items())))
    return None


def _choose_grodata(sources, mounted, override):
    """--grodata; else the deepest mounted directory above every source (so that
    require_mountpoint holds); else their common parent.  ValueError if none."""
    if override:
        outside = [s for s in sources if s == override or not is_under(s, override)]
        if outside:
            raise ValueError("not under --grodata %s: %s" % (override, ", ".join(outside)))
        return override
    above = [m for m in mounted if m != "/" and all(s != m and is_under(s, m) for s in sources)]
    if above:
        return max(above, key=len)
    # The paths are normalised (absolute_path): dirname is their parent directory.
    common = posixpath.dirname(sources[0])
    for source in sources[1:]:
        while not is_under(posixpath.dirname(source), common):
            common = posixpath.dirname(common)
    if common == "/":
        raise ValueError("the sources have no common directory below /: %s" % ", ".join(sources))
    return common


def _convert_binds(conv, mounted, override, warn):
    """grodata and binds (ValueError if the sources make no binds list)."""
    pairs = []
    for prim in conv.members:
        source, target = _path(prim, "device"), _path(prim, "directory")
        if source is None or target is None:
            raise ValueError("%s: device and directory must be absolute paths" % prim.id)
        if re.search(r"[\s,]", source + target):
            raise ValueError("%s: a path with a space or comma cannot be a binds item" % prim.id)
        pairs.append((source, target))
    grodata = _choose_grodata([s for s, _ in pairs], mounted, override)
    items = []
    for source, target in pairs:
        name = source[len(grodata) + 1:]
        bare = "/" not in name and target == DEFAULT_TARGET_DIR + "/" + name
        items.append(name if bare else "%s:%s" % (source, target))
    errors = bindplan.parse(items, grodata)[1]
    if errors:
        raise ValueError("; ".join(errors))
    conv.params.update(grodata=grodata, binds=" ".join(items))
    if grodata not in mounted:
        warn("group %s: no Filesystem primitive mounts %s: grodata-binds refuses to bind unless "
             "it is a mount point (require_mountpoint=true)" % (conv.group.id, grodata))


def _convert_options(conv, warn):
    flags = {}
    for prim in conv.members:
        if "rbind" in _options(prim):
            warn("%s uses rbind: grodata-binds binds without the mounts below %s"
                 % (prim.id, prim.params.get("device")))
        unknown = [w for w in _options(prim) if w not in AGENT_OPTIONS and w not in OPTIONS_DEFAULT]
        if unknown:
            warn("%s: mount option %s has no grodata-binds equivalent: dropped"
                 % (prim.id, ",".join(unknown)))
        flags[prim.id] = [w for w in _options(prim) if w in AGENT_OPTIONS]
    first = flags[conv.members[0].id]
    common = [w for w in first if all(w in f for f in flags.values())]
    if len({frozenset(f) for f in flags.values()}) > 1:
        # The flags every bind had: none gets one it lacked (noexec would break a service).
        warn("options differ (%s): using those all of them have: %s" % (
            ", ".join("%s=%s" % (i, ",".join(f) or "(none)") for i, f in flags.items()),
            ",".join(common) or "(none)"))
    if common:
        conv.params["options"] = ",".join(common)


def _convert_other_params(conv, warn):
    force = {}
    for prim in conv.members:
        # Filesystem's force_unmount (default true; "safe" is true without fuser)
        # is grodata-binds' kill_holders.
        force[prim.id] = str(prim.params.get("force_unmount", "true") in FS_TRUE).lower()
        for name, value in prim.params.items():
            if name not in FS_IGNORED:
                warn("%s: parameter %s=%s has no grodata-binds equivalent: dropped"
                     % (prim.id, name, value))
    if _agree("force_unmount", force, warn) == "false":
        conv.params["kill_holders"] = "false"


def _convert_meta(conv, warn):
    # A group's meta attributes are its members' defaults: judge what each had.
    effective = {}
    for prim in conv.members:
        values = dict(conv.group.meta, **prim.meta)
        effective[prim.id] = {n: v for n, v in values.items() if META_DEFAULTS.get(n) != v.lower()}
        if prim.utilization:
            warn("%s: utilization is not carried over: set it on %s" % (prim.id, conv.name))
    names = list(dict.fromkeys(n for values in effective.values() for n in values))
    for name in names:
        value = _agree("meta %s" % name, {i: v.get(name) for i, v in effective.items()}, warn)
        if value is not None:
            conv.meta[name] = value
    if conv.group.params:
        warn("group %s: params are not carried over" % conv.group.id)


def _convert_ops(conv, warn):
    same = {}
    for prim in conv.members:
        for op in prim.ops:
            if op.name not in AGENT_ACTIONS:
                warn("%s: op %s is not an action of grodata-binds: dropped" % (prim.id, op.name))
            elif op.key[2] not in AGENT_DEPTHS:
                warn("%s: OCF_CHECK_LEVEL=%s is not a grodata-binds depth (%s): dropped"
                     % (prim.id, op.key[2], ", ".join(AGENT_DEPTHS)))
            else:
                same.setdefault(op.key, []).append((prim.id, op))
    for name, interval, timeout in AGENT_OPS:
        if not any(key[0] == name for key in same):
            conv.ops.append((name, {"interval": interval, "timeout": timeout}))
    for key in sorted(same, key=lambda k: (k[1], int(k[2]))):
        attrs = _merge_op(key[0], same[key], warn)
        if key[0] == "monitor" and "interval" not in attrs:
            warn("op monitor OCF_CHECK_LEVEL=%s has no valid interval: dropped" % key[2])
            continue
        conv.ops.append((key[0], dict({"interval": "0s"}, **attrs)))
    conv.ops.sort(key=lambda op: AGENT_ACTIONS.index(op[0]))     # stable: depths stay in order
    intervals = [duration_ms(a["interval"]) for n, a in conv.ops if n == "monitor"]
    if not intervals:
        warn("no monitor op: %s would not be monitored (the agent advises "
             "op monitor interval=20s timeout=40s)" % conv.name)
    elif len(set(intervals)) < len(intervals):
        warn("%s: two monitor ops share an interval: Pacemaker needs distinct ones" % conv.name)


def _merge_op(name, ops, warn):
    """The same op of several primitives as one: the largest timeout, the smallest
    monitor interval (the old ones ran in turn, the new one checks all at once);
    any other attribute where all of them agree."""
    attrs = {}
    for attr, pick in (("interval", min if name == "monitor" else max), ("timeout", max)):
        values = []
        for pid, op in ops:
            try:
                if attr in op.attrs:
                    values.append((duration_ms(op.attrs[attr]), op.attrs[attr]))
            except ValueError as exc:
                warn("%s: op %s %s: %s: ignored" % (pid, name, attr, exc))
        if values:
            attrs[attr] = pick(values)[1]
    others = dict.fromkeys(n for _, op in ops for n in op.attrs if n not in ("interval", "timeout"))
    for attr in others:
        value = _agree("op %s %s" % (name, attr), {p: op.attrs.get(attr) for p, op in ops}, warn)
        if value is not None:
            attrs[attr] = value
    return attrs


CONVERT = (_convert_options, _convert_other_params, _convert_meta, _convert_ops)


class Plan:
    """What changes: the conversions, the statements naming their ids, the warnings."""

    def __init__(self, statements, trailing=(), warnings=()):
        self.statements = statements
        self.trailing = list(trailing)
        self.conversions = []
        self.referring = []           # [(Statement, new tokens, or None to drop it)]
        self.legacy = {}              # id(Statement): what legacy.modernise changed or found
        self.warnings = []
        for text in warnings:
            self.warn(text)

    def warn(self, text):
        if text not in self.warnings:
            self.warnings.append(text)


def plan(statements, trailing=(), warnings=(), grodata=None, name=None):
    """Find what to convert in ``statements``: a Plan (UsageError for a bad --name).

    Every statement is read in the form current tools accept (legacy): the
    plan, and whatever is written from it, never holds an ``ms`` or a
    Master/Slave role.
    """
    current = []
    for stmt in statements:
        stmt, notes = modernise(stmt)
        current.append((stmt, notes))
    result = Plan([s for s, _ in current], trailing, warnings)
    result.legacy = {id(s): notes for s, notes in current if notes}
    warn = result.warn
    primitives, groups, parent = {}, {}, {}
    for stmt in statements:
        if stmt.kind == "primitive":
            try:
                prim = Primitive(stmt)
                primitives[prim.id] = prim
            except ValueError as exc:
                warn("line %d: cannot read primitive %s (%s): left as it is"
                     % (stmt.line, stmt.id, exc))
        elif stmt.kind == "group" and len(stmt.tokens) > 1:
            group = groups[stmt.tokens[1]] = Group(stmt)
            parent.update(dict.fromkeys(group.members, group.id))
        elif stmt.kind in ("clone", "ms", "master") and len(stmt.tokens) > 2:
            parent[stmt.tokens[2]] = stmt.tokens[1]
    binds = {i: p for i, p in primitives.items() if _is_bind(p)}
    candidates = _candidates(groups, binds, parent, warn)
    if name is not None and len(candidates) > 1:
        raise UsageError("--name needs one group to convert, but there are %d: %s"
                         % (len(candidates), ", ".join(g.id for g in candidates)))
    mounts = [p for p in primitives.values() if _is_filesystem(p) and not _is_bind(p)]
    mounted = [m for m in (_path(p, "directory") for p in mounts) if m]
    for group in candidates:
        conv = Conversion(group, [binds[m] for m in group.members], name or group.id)
        try:
            _convert_binds(conv, mounted, grodata, warn)
        except ValueError as exc:
            warn("group %s: %s: not converted" % (group.id, exc))
            continue
        for step in CONVERT:
            step(conv, warn)
        result.conversions.append(conv)
    _other_filesystems(mounts, binds, warn)
    taken = {s.id for s in statements if s.id}
    for conv in result.conversions:
        if conv.name in taken and conv.name not in conv.old_ids:
            raise UsageError("--name %s: that id is taken" % conv.name)
    _find_referring(result, warn)
    return result


def _candidates(groups, binds, parent, warn):
    """The groups to convert: every member a bind primitive, the group in no clone."""
    out = []
    for group in groups.values():
        others = [m for m in group.members if m not in binds]
        if len(others) == len(group.members):
            continue
        if others:
            warn("group %s holds bind primitives and other resources (%s): not converted"
                 % (group.id, ", ".join(others)))
        elif group.id in parent:
            warn("group %s is inside %s: not converted" % (group.id, parent[group.id]))
        else:
            out.append(group)
    for bind in binds:
        if bind not in parent:
            warn("%s is a bind primitive outside any group: not converted" % bind)
        elif parent[bind] not in groups:
            warn("%s is a bind primitive inside %s: not converted" % (bind, parent[bind]))
    return out


def _other_filesystems(mounts, binds, warn):
    # The filesystem the bind sources live on is expected; any other is worth a word.
    sources = [_path(p, "device") for p in binds.values()]
    for prim in mounts:
        where = _path(prim, "directory")
        if not any(s and where and s != where and is_under(s, where) for s in sources):
            warn("%s is a Filesystem primitive but not a bind mount (%s on %s): left alone"
                 % (prim.id, prim.params.get("device", "?"), prim.params.get("directory", "?")))


def _find_referring(result, warn):
    """Rewrite every constraint and tag naming a converted id; warn about any other mention."""
    mapping, members = {}, {}
    for conv in result.conversions:
        mapping.update(dict.fromkeys(conv.old_ids, conv.name))
        members.update(dict.fromkeys((p.id for p in conv.members), conv.name))
    old = sorted(mapping)
    for stmt in result.statements:
        if stmt.kind in REFERRING:
            if stmt.kind == "location" and stmt.tokens[2:3] and stmt.tokens[2].startswith("/"):
                pattern = stmt.tokens[2].strip("/")
                hit = [i for i in old if _search(pattern, i)]
                if hit:
                    warn("location %s: pattern /%s/ matches %s: not rewritten"
                         % (stmt.id, pattern, ", ".join(hit)))
            named = [n for n in dict.fromkeys(references(stmt)) if n in mapping]
            if not named:
                continue
            tokens = rewrite(stmt, mapping)
            for member in (n for n in named if n in members):
                warn("%s %s names bind primitive %s: %s" % (
                    stmt.kind, stmt.id, member, "now %s" % members[member] if tokens else
                    "dropped, it related only what is now %s" % members[member]))
            result.referring.append((stmt, tokens))
        elif stmt.kind not in INERT and stmt.kind not in ("primitive", "group"):
            hit = [i for i in mentions(stmt, old) if i != stmt.id]
            if hit:
                warn("line %d: %s names %s: not rewritten" % (
                    stmt.line, " ".join(stmt.tokens[:2]) or "unparsed text", ", ".join(hit)))


def _search(pattern, text):
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False
