"""The migration as pcs commands, for clusters run with pcs (RHEL and its family).

``steps`` turns a Plan into ``pcs -f FILE ...`` command lines that make in a
copy of the CIB what the crm script makes in a shadow: delete the
constraints and tags that name the group or its members, delete the group
(pcs deletes its members with it), create the grodata-binds primitive with
exactly the converted operations (``--no-default-ops``), and re-create the
constraints and tags, renamed where needed, with their ids.

pcs has a command for the plain forms only (two resources, a score or kind,
roles and actions); a constraint with resource sets or a rule that has to be
re-created cannot be written as a pcs command and raises UsageError naming
it, rather than being silently lost.
"""

import re
import shlex

from .convert import AGENT, UsageError

FILE = '"$cib"'    # the shell variable holding the CIB copy, in the script
_KINDS = {"mandatory": "Mandatory", "optional": "Optional", "serialize": "Serialize",
          "inf": "Mandatory", "+inf": "Mandatory", "infinity": "Mandatory",
          "+infinity": "Mandatory", "0": "Optional"}
_ACTIONS = frozenset(("start", "stop", "promote", "demote"))
# Role names as pcs 0.12 takes them (legacy.modernise has renamed Master and Slave).
_ROLES = frozenset(("Started", "Stopped", "Promoted", "Unpromoted"))


def _q(word):
    return shlex.quote(word)


def _pcs(*words, flags=()):
    # "--" ends pcs's options: a score of -INFINITY would otherwise be read as one.
    dashes = ["--"] if any(w.startswith("-") for w in words) else []
    return " ".join(["pcs", "-f", FILE] + list(flags) + dashes + [_q(w) for w in words])


def _score(word):
    low = word.lower()
    if low in ("inf", "+inf", "infinity", "+infinity"):
        return "INFINITY"
    if low in ("-inf", "-infinity"):
        return "-INFINITY"
    if re.fullmatch(r"[+-]?\d+", word):
        return word
    return None


def _split(tokens):
    """(score/kind word or None, resource references, name=value options) of a constraint."""
    words = tokens[2:]
    head = words[0][:-1] if words and words[0].endswith(":") else None
    if head is not None:
        words = words[1:]
    refs = [w for w in words if "=" not in w]
    options = [w for w in words if "=" in w]
    return head, refs, options


def _unsupported(stmt, why):
    return UsageError("%s %s %s: pcs has no command for that; use --format script with crmsh, or "
                      "re-create it by hand" % (stmt.kind, stmt.id, why))


def _order(stmt, tokens):
    head, refs, options = _split(tokens)
    kind = _KINDS.get((head or "Mandatory").lower())
    if kind is None or len(refs) != 2 or any(c in w for w in refs for c in "()[]{}"):
        raise _unsupported(stmt, "has a score, a resource set or more than two resources")
    words = ["constraint", "order"]
    for i, ref in enumerate(refs):
        rsc, _, action = ref.partition(":")
        if action and action not in _ACTIONS:
            raise _unsupported(stmt, "has the action %r" % action)
        words += ([action] if action else []) + [rsc] + (["then"] if i == 0 else [])
    return _pcs(*words, "kind=" + kind, *options, "id=" + stmt.id)


def _colocation(stmt, tokens):
    head, refs, options = _split(tokens)
    score = _score(head or "")
    if score is None or len(refs) != 2 or any(c in w for w in refs for c in "()[]{}"):
        raise _unsupported(stmt, "has a resource set or more than two resources")
    words = ["constraint", "colocation", "add"]
    for i, ref in enumerate(refs):
        rsc, _, role = ref.partition(":")
        if role and role not in _ROLES:
            raise _unsupported(stmt, "has the role %r" % role)
        words += ([role] if role else []) + [rsc] + (["with"] if i == 0 else [])
    return _pcs(*words, score, *options, "id=" + stmt.id)


def _location(stmt, tokens):
    words = tokens[2:]
    options = [w for w in words if "=" in w and not w.endswith(":")]
    rest = [w for w in words if w not in options]
    if len(rest) != 3 or not rest[1].endswith(":") or rest[0].startswith(("{", "/")) \
            or [o for o in options if not o.startswith("role=")]:
        raise _unsupported(stmt, "has a rule, a pattern or a resource set")
    score = _score(rest[1][:-1])
    if score is None:
        raise _unsupported(stmt, "has the score %r" % rest[1][:-1])
    if options:
        raise _unsupported(stmt, "is limited to a role")
    return _pcs("constraint", "location", "add", stmt.id, rest[0], rest[2], score)


def _tag(stmt, tokens):
    return _pcs("tag", "create", stmt.id, *tokens[2:])


RECREATE = {"order": _order, "colocation": _colocation, "collocation": _colocation,
            "location": _location, "tag": _tag}


def _primitive(conv):
    words = ["resource", "create", conv.name, AGENT]
    words += ["%s=%s" % item for item in conv.params.items()]
    for name, attrs in conv.ops:
        words += ["op", name] + ["%s=%s" % item for item in attrs.items()]
    if conv.meta:
        words += ["meta"] + ["%s=%s" % item for item in conv.meta.items()]
    return _pcs(*words, flags=["--no-default-ops"])


def steps(result):
    """[(comment, [command lines])] of the migration (UsageError if one cannot be written)."""
    recreate = []
    for stmt, tokens in result.referring:
        if tokens is not None:
            if stmt.kind not in RECREATE:
                raise _unsupported(stmt, "is of a kind without a pcs command")
            recreate.append(RECREATE[stmt.kind](stmt, tokens))
    constraints = [s.id for s, _ in result.referring if s.kind != "tag"]
    tags = [s.id for s, _ in result.referring if s.kind == "tag"]
    delete = ([_pcs("constraint", "delete", *constraints)] if constraints else []) + [
        _pcs("tag", "delete", *tags) for _ in tags[:1]]
    groups = [_pcs("resource", "delete", conv.group.id) for conv in result.conversions]
    for conv in result.conversions:
        if conv.group.description is not None:
            result.warn("group %s: pcs cannot give %s its description: add it by hand"
                        % (conv.group.id, conv.name))
    return [
        ("1. Delete the constraints and tags that name them (re-created in step 3).", delete),
        ("2. Delete each group of bind primitives (pcs deletes its members with it);\n"
         "#    create the grodata-binds primitive with exactly these operations.",
         groups + [_primitive(c) for c in result.conversions]),
        ("3. Re-create the constraints and tags, renamed where needed.", recreate),
    ]
