"""grommunio-ocf-migrate: bind-mount Filesystem primitives -> one grodata-binds.

Reads ``crm configure show`` output, finds each group whose members are all
bind-mount ``ocf:heartbeat:Filesystem`` primitives, and writes what replaces
the group and its members with one ``ocf:grommunio:grodata-binds`` primitive.

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

Output
------
``--format script`` (default) is a POSIX shell script.  Its shape follows
from two things crmsh does: ``crm configure delete GROUP`` hands the group's
constraints to its first member (and deleting that member then drops them),
and a batch of crm commands commits even after one of them failed.  So the
script works on a shadow copy of the CIB (``crm_shadow``): it deletes the
constraints that name the group or a bind primitive, the group and the
primitives; loads the new primitive and the re-created constraints with
``crm configure load update -``; and only if both succeeded commits the
shadow to the cluster.  Any failure leaves the cluster untouched.  (No
``crm_verify`` gate: the shadow carries the live status, in which the deleted
primitives are active orphans until the next probe, and crm_verify fails on
that warning as on an error.)  The script refuses to run unless
``maintenance-mode`` is true: otherwise Pacemaker would stop the deleted
primitives, unmounting the data under running services.

``--format crm`` is the whole configuration with the replacement made and
every other statement copied verbatim: for ``diff -u`` against the input, for
checks in an offline CIB, or for ``crm configure load replace``.

Exit status: 0 something was converted, 1 nothing to convert, 2 bad usage or
input.  Whatever could not be converted is a ``warning:`` line on standard
error (and a comment in the script).
"""

import argparse
import re
import shlex
import sys

from . import __version__
from .binds import DEFAULT_TARGET_DIR
from .binds import parse as parse_binds
from .mounts import BIND_FLAGS, is_under
from .params import TRUE_WORDS, absolute_path

PROG = "grommunio-ocf-migrate"
AGENT = "ocf:grommunio:grodata-binds"
SHADOW = "grodata-binds-migration"

# The agent's advertised timeouts (its meta-data).  Pacemaker never reads them
# from there: an op the old primitives did not set would get the cluster's 20s
# default, short for one resource that stops every bind in turn.
AGENT_OPS = (("start", "0s", "60s"), ("stop", "0s", "60s"))
AGENT_ACTIONS = ("start", "stop", "monitor")
AGENT_DEPTHS = ("0", "10", "20")

# Statement keywords of crm configure (crmsh 4.4).
KEYWORDS = frozenset((
    "node", "primitive", "monitor", "group", "clone", "ms", "master", "bundle", "rsc_template",
    "location", "colocation", "collocation", "order", "rsc_ticket", "property", "rsc_defaults",
    "op_defaults", "fencing_topology", "role", "user", "acl_target", "acl_group", "tag",
    "alert", "xml", "schema"))
REFERRING = frozenset(("location", "colocation", "collocation", "order", "rsc_ticket", "tag"))
INERT = frozenset(("node", "property", "rsc_defaults", "op_defaults"))   # name no resource

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


# -- reading crm configure show ---------------------------------------------------

class Statement:
    """One crm configure statement: its tokens, its text, the lines before it."""

    __slots__ = ("kind", "tokens", "lines", "lead", "line")

    def __init__(self, tokens, lines=(), lead=(), line=0):
        self.tokens = tokens
        self.kind = tokens[0].lower() if tokens else None
        self.lines = list(lines)      # raw text, continuation lines included
        self.lead = list(lead)        # raw comment and blank lines before it
        self.line = line              # number of its first line

    @property
    def id(self):
        if self.kind in INERT or len(self.tokens) < 2:
            return None
        return self.tokens[1].rstrip(":")

    def __repr__(self):
        return "Statement(%d: %s)" % (self.line, " ".join(self.tokens[:2]))


def read_statements(text):
    """``crm configure show`` text -> (statements, trailing lines, warnings).

    A line ending in a backslash continues; ``#`` lines are comments and, as
    in crmsh, belong to the statement after them.  What crm would not take (an
    unknown keyword, an unclosed quote) becomes a statement without tokens
    and a warning: copied through, never interpreted.
    """
    statements, warnings, lead, lines, first = [], [], [], [], 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not lines and (not raw.strip() or raw.lstrip().startswith("#")):
            lead.append(raw)
            continue
        if not lines:
            first = number
        lines.append(raw)
        if raw.rstrip().endswith("\\"):
            continue
        joined = " ".join(line.strip().rstrip("\\") for line in lines)
        try:
            tokens = shlex.split(joined)
        except ValueError as exc:
            warnings.append("line %d: cannot parse (%s): left as it is" % (first, exc))
            tokens = []
        if tokens and tokens[0].lower() not in KEYWORDS:
            warnings.append("line %d: not a crm configure statement: %s" % (first, _short(joined)))
            tokens = []
        statements.append(Statement(tokens, lines, lead, first))
        lead, lines = [], []
    if lines:
        warnings.append("line %d: the input ends inside a continued statement" % first)
        statements.append(Statement([], lines, lead, first))
        lead = []
    return statements, lead, warnings


def _short(text, width=60):
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def check_input(text, statements):
    """Refuse input that is no crm configure syntax at all (UsageError)."""
    start = text.lstrip()
    if start.startswith("<"):
        raise UsageError("the input is XML: give crm configure syntax "
                         "(CIB_file=FILE.xml crm configure show converts it)")
    if start.startswith("pcs "):
        raise UsageError("the input is pcs commands: give 'crm configure show' output "
                         "(crmsh reads a cluster made with pcs)")
    if "\0" in text:
        raise UsageError("the input is binary, not crm configure syntax")
    if statements and not any(s.kind for s in statements):
        raise UsageError("the input has no crm configure statement: "
                         "give 'crm configure show' output")


# -- primitives and groups ---------------------------------------------------------

class Op:
    """One ``op NAME attr=value ...`` of a primitive, its op_params included."""

    __slots__ = ("name", "attrs")

    def __init__(self, name):
        self.name = name
        self.attrs = {}

    @property
    def key(self):
        """What makes two ops "the same op" of different primitives."""
        return (self.name, self.attrs.get("role", ""), self.attrs.get("OCF_CHECK_LEVEL", "0"))


class Primitive:
    """``primitive ID AGENT [description=] [params|meta|utilization ...] [op ...]``."""

    SECTIONS = ("params", "meta", "utilization")

    def __init__(self, stmt):
        if len(stmt.tokens) < 3:
            raise ValueError("needs an id and an agent")
        self.id, self.agent = stmt.tokens[1], stmt.tokens[2]
        self.params, self.meta, self.utilization, self.ops = {}, {}, {}, []
        section = None
        words = iter(stmt.tokens[3:])
        for word in words:
            if word in self.SECTIONS:
                section = getattr(self, word)
            elif word == "op":
                self.ops.append(Op(next(words, "")))
                if not self.ops[-1].name or "=" in self.ops[-1].name:
                    raise ValueError("'op' without an operation name")
                section = self.ops[-1].attrs
            elif word in ("op_params", "op_meta") and self.ops:
                section = self.ops[-1].attrs
            elif word == "operations":
                section = {}                      # only an $id=...
            elif "=" in word and (section is not None or word.startswith("description=")):
                name, _, value = word.partition("=")
                if section is not None and not name.startswith("$"):
                    section[name] = value
            else:
                raise ValueError("unexpected %r" % word)

    @property
    def is_filesystem(self):
        parts = self.agent.split(":")
        return parts[-1] == "Filesystem" and (
            len(parts) == 1 or (parts[0] == "ocf" and parts[1:-1] in ([], [""], ["heartbeat"])))

    @property
    def options(self):
        return [w for w in self.params.get("options", "").split(",") if w]

    @property
    def is_bind(self):
        return self.is_filesystem and bool({"bind", "rbind"} & set(self.options))

    def path(self, param):
        """The absolute path in ``param``, or None."""
        try:
            return absolute_path(self.params.get(param, ""))
        except ValueError:
            return None


class Group:
    """``group ID MEMBER... [description=...] [meta ...] [params ...]``."""

    def __init__(self, stmt):
        self.id = stmt.tokens[1]
        self.members, self.meta, self.params, self.description = [], {}, {}, None
        section = None
        for word in stmt.tokens[2:]:
            if word in ("meta", "params"):
                section = getattr(self, word)
            elif "=" in word:
                name, _, value = word.partition("=")
                if section is not None:
                    section[name] = value
                elif name == "description":
                    self.description = value
            elif section is None:
                self.members.append(word)


# -- statements that name resources ----------------------------------------------

_BRACKETS = frozenset("([{)]}")


def _split_brackets(word):
    """'(a' -> ('(', 'a', ''): crmsh allows a set bracket glued to a name."""
    head = word[0] if len(word) > 1 and word[0] in "([{" else ""
    tail = word[-1] if len(word) > 1 and word[-1] in ")]}" else ""
    return head, word[len(head):len(word) - len(tail)], tail


def reference_slots(stmt):
    """Token positions of ``stmt`` that name a resource (``rsc[:role|:action]``)."""
    tokens = stmt.tokens
    if stmt.kind == "location":
        if tokens[2:3] == ["{"]:
            end = tokens.index("}") if "}" in tokens else len(tokens)
            return list(range(3, end))
        return [2] if len(tokens) > 2 and not tokens[2].startswith("/") else []
    if stmt.kind == "tag":
        return list(range(2, len(tokens)))
    # order, colocation, rsc_ticket: a "kind:", "score:" or "ticket:" word first.
    start = 3 if len(tokens) > 2 and tokens[2].endswith(":") else 2
    return [i for i in range(start, len(tokens))
            if "=" not in tokens[i] and tokens[i] not in _BRACKETS]


def references(stmt):
    """The resource ids ``stmt`` names, in order."""
    names = (_split_brackets(stmt.tokens[i])[1].partition(":")[0] for i in reference_slots(stmt))
    return [n for n in names if n]


def rewrite(stmt, mapping):
    """``stmt``'s tokens with ids renamed by ``mapping``; None if it relates nothing now.

    Renaming can make a reference repeat its neighbour in a set (two bind
    primitives side by side): the repeat goes.  An order or colocation left
    with one resource related bind primitives to each other: it goes.
    """
    tokens = list(stmt.tokens)
    previous, last = None, None
    for i in reference_slots(stmt):
        if last is not None and _BRACKETS & set(tokens[last + 1:i]):
            previous = None                       # a set began or ended in between
        last = i
        head, word, tail = _split_brackets(tokens[i])
        name, colon, qualifier = word.partition(":")
        new = mapping.get(name, name) + colon + qualifier
        if new == previous and not head and name in mapping:
            tokens[i] = tail or None
            continue
        tokens[i] = head + new + tail
        previous = None if tail else new
    tokens = [t for t in tokens if t is not None]
    if stmt.kind in ("order", "colocation", "collocation") and \
            len(set(references(Statement(tokens)))) < 2:
        return None
    return tokens


def mentions(stmt, ids):
    """The ids among ``ids`` that ``stmt``'s text names as a whole word."""
    text = "\n".join(stmt.lines)
    return [i for i in ids if re.search(r"(?<![\w.-])%s(?![\w.-])" % re.escape(i), text)]


# -- durations ---------------------------------------------------------------------

_UNIT_MS = {"": 1000, "s": 1000, "sec": 1000, "ms": 1, "msec": 1, "us": 0.001, "usec": 0.001,
            "m": 60000, "min": 60000, "h": 3600000, "hr": 3600000}
_ISO = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def duration_ms(text):
    """Pacemaker's interval and timeout syntax (``40``, ``40s``, ``1min``, ``PT1M``) -> ms."""
    match = re.fullmatch(r"(\d+)\s*([a-z]*)", text.strip().lower())
    if match and match.group(2) in _UNIT_MS:
        return int(match.group(1)) * _UNIT_MS[match.group(2)]
    match = _ISO.fullmatch(text.strip().upper())
    if match and any(match.groups()):
        d, h, m, s = (int(g or 0) for g in match.groups())
        return ((d * 24 + h) * 60 + m) * 60000 + s * 1000
    raise ValueError("%r is not a duration" % text)


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
    common = sources[0].rsplit("/", 1)[0] or "/"
    for source in sources[1:]:
        while not is_under(source.rsplit("/", 1)[0] or "/", common):
            common = common.rsplit("/", 1)[0] or "/"
    if common == "/":
        raise ValueError("the sources have no common directory below /: %s" % ", ".join(sources))
    return common


def _convert_binds(conv, mounted, override, warn):
    """grodata and binds (ValueError if the sources make no binds list)."""
    pairs = []
    for prim in conv.members:
        source, target = prim.path("device"), prim.path("directory")
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
    errors = parse_binds(items, grodata)[1]
    if errors:
        raise ValueError("; ".join(errors))
    conv.params.update(grodata=grodata, binds=" ".join(items))
    if grodata not in mounted:
        warn("group %s: no Filesystem primitive mounts %s: grodata-binds refuses to bind unless "
             "it is a mount point (require_mountpoint=true)" % (conv.group.id, grodata))


def _convert_options(conv, warn):
    flags = {}
    for prim in conv.members:
        if "rbind" in prim.options:
            warn("%s uses rbind: grodata-binds binds without the mounts below %s"
                 % (prim.id, prim.params.get("device")))
        unknown = [w for w in prim.options if w not in BIND_FLAGS and w not in OPTIONS_DEFAULT]
        if unknown:
            warn("%s: mount option %s has no grodata-binds equivalent: dropped"
                 % (prim.id, ",".join(unknown)))
        flags[prim.id] = [w for w in prim.options if w in BIND_FLAGS]
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
        force[prim.id] = str(prim.params.get("force_unmount", "true").lower()
                             in TRUE_WORDS | {"safe"}).lower()
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
        self.warnings = []
        for text in warnings:
            self.warn(text)

    def warn(self, text):
        if text not in self.warnings:
            self.warnings.append(text)


def plan(statements, trailing=(), warnings=(), grodata=None, name=None):
    """Find what to convert in ``statements``: a Plan (UsageError for a bad --name)."""
    result = Plan(statements, trailing, warnings)
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
            groups[stmt.tokens[1]] = Group(stmt)
            parent.update(dict.fromkeys(groups[stmt.tokens[1]].members, stmt.tokens[1]))
        elif stmt.kind in ("clone", "ms", "master") and len(stmt.tokens) > 2:
            parent[stmt.tokens[2]] = stmt.tokens[1]
    binds = {i: p for i, p in primitives.items() if p.is_bind}
    candidates = _candidates(groups, binds, parent, warn)
    if name is not None and len(candidates) > 1:
        raise UsageError("--name needs one group to convert, but there are %d: %s"
                         % (len(candidates), ", ".join(g.id for g in candidates)))
    mounted = [p.path("directory") for p in primitives.values() if p.is_filesystem and not p.is_bind]
    mounted = [m for m in mounted if m]
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
    _other_filesystems(primitives, binds, warn)
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


def _other_filesystems(primitives, binds, warn):
    # The filesystem the bind sources live on is expected; any other is worth a word.
    sources = [p.path("device") for p in binds.values()]
    for prim in primitives.values():
        where = prim.path("directory")
        if prim.is_filesystem and not prim.is_bind and not any(
                s and where and s != where and is_under(s, where) for s in sources):
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


# -- output ------------------------------------------------------------------------

_SPECIAL = re.compile(r"[\s\"'\\]")     # what crm's lexer (shlex, POSIX) splits or unquotes


def quote(token):
    """``token`` as crm's lexer reads it back: ``k="v w"`` when the value needs quotes."""
    if token and not _SPECIAL.search(token):
        return token
    name, eq, value = token.partition("=")
    if not eq or _SPECIAL.search(name):
        name, eq, value = "", "", token
    return '%s%s"%s"' % (name, eq, value.replace("\\", "\\\\").replace('"', '\\"'))


def render_tokens(tokens):
    return " ".join(quote(t) for t in tokens)


def render_primitive(conv):
    """The new primitive, after a comment that says where it came from."""
    def attrs(values):
        return render_tokens("%s=%s" % item for item in values.items())
    # No "--" in the comment: crmsh stores comments as XML comments, which may not hold one.
    head = "primitive %s %s" % (conv.name, AGENT)
    if conv.group.description is not None:
        head += " " + quote("description=" + conv.group.description)
    lines = [head, "\tparams " + attrs(conv.params)]
    if conv.meta:
        lines.append("\tmeta " + attrs(conv.meta))
    lines += ["\top %s %s" % (name, attrs(values)) for name, values in conv.ops]
    return "# %s replaces group %s of %d Filesystem bind primitives (%s %s)\n%s" % (
        conv.name, conv.group.id, len(conv.members), PROG, __version__, " \\\n".join(lines))


def render_crm(result):
    """The whole configuration: the replacements made, every other line verbatim."""
    replace, drop = {}, set()
    for conv in result.conversions:
        first = next(s for s in result.statements
                     if s.kind == "primitive" and s.tokens[1] == conv.members[0].id)
        replace[id(first)] = render_primitive(conv)
        drop.update(id(s) for s in result.statements
                    if s.kind in ("primitive", "group") and s.tokens[1] in conv.old_ids)
    for stmt, tokens in result.referring:
        if tokens is None:
            drop.add(id(stmt))
        elif tokens != stmt.tokens:
            replace[id(stmt)] = render_tokens(tokens)
    out = []
    for stmt in result.statements:
        # A dropped statement's comments described it: they go with it.
        out += [line for line in stmt.lead if id(stmt) not in drop or not line.strip()]
        if id(stmt) in replace:
            out.append(replace[id(stmt)])
        elif id(stmt) not in drop:
            out += stmt.lines
    out += result.trailing
    squeezed = [line for i, line in enumerate(out)
                if line.strip() or (i and out[i - 1].strip())]   # no blank runs
    return "\n".join(squeezed).strip("\n") + "\n"


def render_script(result, source):
    """The sh script: delete and re-create in a shadow CIB, then commit it."""
    kept = [(s, t) for s, t in result.referring if t is not None]
    dropped = [s.id for s, t in result.referring if t is None]
    summary = []
    for conv in result.conversions:
        summary += ["group %s, %d Filesystem bind primitives:" % (conv.group.id, len(conv.members))]
        summary += ["  " + line for line in _wrap([p.id for p in conv.members], 72)]
        summary += ["-> primitive %s %s" % (conv.name, AGENT)]
    if kept:
        summary += ["re-created:"] + ["  " + line for line in _wrap([s.id for s, _ in kept], 72)]
    if dropped:
        summary += ["dropped:"] + ["  " + line for line in _wrap(dropped, 72)]
    deletions = [s.id for s, _ in result.referring] + [
        i for conv in result.conversions for i in conv.old_ids]
    body = "\n".join([render_primitive(c) for c in result.conversions] + [
        "\n".join([line for line in s.lead if line.strip()]
                  + (s.lines if t == s.tokens else [render_tokens(t)])) for s, t in kept])
    delimiter = "CRM"
    while delimiter in body.split("\n"):
        delimiter += "_END"
    return SCRIPT.format(
        prog=PROG, version=__version__, source=source, shadow=SHADOW, body=body,
        summary="\n".join("#   " + line for line in summary),
        warnings="\n".join("#   " + w for w in result.warnings or ["(none)"]),
        deletions=" \\\n    ".join(_wrap(deletions, 76)), delimiter=delimiter,
        names=", ".join(c.name for c in result.conversions))


def _wrap(words, width):
    lines = [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append("")
        lines[-1] = (lines[-1] + " " + word).lstrip()
    return lines


SCRIPT = """\
#!/bin/sh
# Generated by {prog} {version} from {source}.
#
# Replaces bind-mount Filesystem primitives with ocf:grommunio:grodata-binds:
{summary}
#
# Warnings:
{warnings}
#
# Run as root on one cluster node, with the cluster in maintenance mode and
# the package installed on every node (MIGRATION.md). The changes are made in
# a shadow copy of the CIB and committed only if all of them succeeded (crm
# refuses what fails its checks or the CIB schema): on an error the cluster
# is untouched.
set -eu

# Without maintenance mode Pacemaker would stop the deleted primitives
# (unmounting the data under running services) and start the new one.
case $(crm_attribute --type crm_config --name maintenance-mode --query --quiet 2>/dev/null |
       tr 'A-Z' 'a-z') in
    true|yes|on|y|1) ;;
    *) echo "{prog}: maintenance-mode is not true: run" \\
            "'crm configure property maintenance-mode=true' first" >&2
       exit 1 ;;
esac

shadow={shadow}
crm_shadow --batch --force --create "$shadow" >/dev/null
trap 'crm_shadow --batch --force --delete "$shadow" >/dev/null 2>&1 || :' EXIT
CIB_shadow=$shadow
export CIB_shadow

# 1. Delete the constraints that name them (deleting a group would hand its
#    constraints to its first member), the group, the bind primitives.
crm configure delete \\
    {deletions}

# 2. Create the grodata-binds primitive; re-create the constraints.
crm configure load update - <<'{delimiter}'
{body}
{delimiter}

# 3. Commit the shadow's configuration to the cluster.
unset CIB_shadow
crm_shadow --batch --force --commit "$shadow" >/dev/null
echo "{prog}: committed {names}: now run 'crm resource refresh' (MIGRATION.md)"
"""


# -- command -----------------------------------------------------------------------

def _arguments():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Write what replaces the bind-mount Filesystem primitives of a "
        "grommunio cluster (and their group) with one ocf:grommunio:grodata-binds primitive.",
        epilog="Exit status: 0 converted, 1 nothing to convert, 2 bad usage or input. "
        "Warnings go to standard error.")
    parser.add_argument("file", nargs="?", default="-",
                        help="'crm configure show' output (default: standard input)")
    parser.add_argument("--grodata", metavar="PATH",
                        help="grodata of the new primitive (default: the Filesystem mount "
                        "holding every source, else their common parent directory)")
    parser.add_argument("--name", metavar="ID",
                        help="id of the new primitive (default: the group's, so that every "
                        "constraint still names it)")
    parser.add_argument("--format", choices=("script", "crm"), default="script",
                        help="script: a sh script that makes the change (default); crm: the "
                        "whole new configuration, for diff or 'crm configure load replace'")
    parser.add_argument("--version", action="version", version="%s %s" % (PROG, __version__))
    return parser


def _read(path, stdin):
    try:
        if path == "-":
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except OSError as exc:
        raise UsageError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    try:
        return data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("cannot read %s: not UTF-8 text" % path) from None


def _check_options(args):
    if args.grodata is not None:
        try:
            args.grodata = absolute_path(args.grodata)
        except ValueError as exc:
            raise UsageError("--grodata: %s" % exc) from None
        if args.grodata in (None, "/"):
            raise UsageError("--grodata: give a directory below /")
    if args.name is not None and not re.fullmatch(r"[A-Za-z_][\w.-]*", args.name):
        raise UsageError("--name %r is not an id (a letter or _, then letters, digits, "
                         "'.', '-' or '_')" % args.name)


def main(argv=None, stdin=None, stdout=None, stderr=None):
    """The command; returns its exit status."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = _arguments().parse_args(argv)
    try:
        _check_options(args)
        text = _read(args.file, stdin)
        statements, trailing, warnings = read_statements(text)
        check_input(text, statements)
        result = plan(statements, trailing, warnings, grodata=args.grodata, name=args.name)
    except UsageError as exc:
        stderr.write("%s: %s\n" % (PROG, exc))
        return 2
    for warning in result.warnings:
        stderr.write("warning: %s\n" % warning)
    if not result.conversions:
        stderr.write("%s: nothing to convert: no group of bind-mount Filesystem primitives\n"
                     % PROG)
        return 1
    render = render_crm(result) if args.format == "crm" else render_script(
        result, "standard input" if args.file == "-" else args.file)
    stdout.write(render)
    return 0
