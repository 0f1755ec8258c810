"""Legacy crm forms -> the forms Pacemaker 2.1 and 3.0, crmsh 4 and 5, pcs 0.11 and 0.12 all accept.

A configuration written for Pacemaker 1.1 or 2.0 may hold two spellings that
newer tools refuse:

* ``ms`` (``master``) resources.  Pacemaker 3.0's schema (pacemaker-4.0) has
  no ``<master>`` element and crmsh 5 no ``ms`` command; a promotable clone,
  ``clone ID CHILD meta promotable=true``, means the same and has been read
  since Pacemaker 2.0 (crmsh 4 included).  Its ``master-max`` and
  ``master-node-max`` are ``promoted-max`` and ``promoted-node-max`` there.
* the role names ``Master`` and ``Slave``.  pcs 0.12 refuses them and crmsh 5
  writes ``Promoted`` and ``Unpromoted``, which Pacemaker reads since 2.1.

So the migration writes the current form whatever it read: there is one form
every supported target takes, and no ``--target`` to get wrong.  ``modernise``
returns a statement in that form (the very object when nothing changes, so
that its text is copied through verbatim), and says what it changed.

What Pacemaker 3.0 rejects and no rewrite can decide for the admin --
``lifetime`` in a constraint, several rules in one location constraint -- is
named in a warning and left as it is.
"""

import re
import shlex
import xml.etree.ElementTree as ET

from .crmconf import Statement, reference_slots, render_tokens

ROLES = {"master": "Promoted", "slave": "Unpromoted"}
# Meta attributes of a master resource that a promotable clone names otherwise.
META = {"master-max": "promoted-max", "master-node-max": "promoted-node-max"}
# crm tokens whose value is a role: an op's or a location's role, a rule's
# $role, a resource's target-role, a set's or a colocation's role in XML terms.
_ROLE_TOKEN = re.compile(r"(\$?role|target-role|rsc-role|with-rsc-role)=(master|slave)\Z", re.I)
# The same in the XML of crm's ``xml`` statement: attributes, and nvpairs of target-role.
_ROLE_ATTR = re.compile(r'\b(role|rsc-role|with-rsc-role)="(master|slave)"', re.I)
_TARGET_ROLE = re.compile(r'(name="target-role"[^>]*?value=")(master|slave)"', re.I)
# Section keywords of a resource statement: crm configure show starts a line at each.
_SECTIONS = frozenset(("params", "meta", "utilization", "op"))


def role(name):
    """A role name as every target spells it (``Master`` -> ``Promoted``)."""
    return ROLES.get(name.lower(), name) if name else name


def modernise(stmt):
    """(statement in the current form, [what changed]): ``stmt`` itself if nothing did."""
    if stmt.kind == "xml":
        return _xml(stmt)
    if not stmt.kind:
        return stmt, []
    tokens, notes = list(stmt.tokens), []
    if stmt.kind in ("ms", "master") and len(tokens) > 2:
        tokens = _promotable(tokens)
        notes.append("%s %s is now a promotable clone (clone ... meta promotable=true)"
                     % (stmt.kind, stmt.id))
    renamed = 0
    for i, token in enumerate(tokens):
        match = _ROLE_TOKEN.match(token)
        if match:
            tokens[i] = "%s=%s" % (match.group(1), role(match.group(2)))
            renamed += 1
    for i in reference_slots(Statement(tokens)) if stmt.kind in ("colocation", "collocation",
                                                                  "rsc_ticket", "location") else ():
        name, colon, qualifier = tokens[i].partition(":")
        if colon and qualifier.rstrip(")]}").lower() in ROLES:
            tail = qualifier[len(qualifier.rstrip(")]}")):]
            tokens[i] = name + colon + role(qualifier.rstrip(")]}")) + tail
            renamed += 1
    if renamed:
        notes.append("%s %s: role Master/Slave is now Promoted/Unpromoted" % (stmt.kind, stmt.id))
    notes += _rejected(stmt, tokens)
    if tokens == stmt.tokens:
        return stmt, notes
    return Statement(tokens, render_lines(tokens), stmt.lead, stmt.line), notes


def _promotable(tokens):
    """``ms ID CHILD ...`` as ``clone ID CHILD ... meta promotable=true``."""
    tokens = ["clone"] + tokens[1:]
    section = None
    for i, token in enumerate(tokens[3:], 3):
        if token in ("meta", "params"):
            section = token
        elif section == "meta" and "=" in token:
            name, _, value = token.partition("=")
            tokens[i] = META.get(name, name) + "=" + value
    if any(t.startswith("promotable=") for t in tokens):
        return tokens
    if "meta" in tokens:
        at = tokens.index("meta") + 1
        return tokens[:at] + ["promotable=true"] + tokens[at:]
    return tokens + ["meta", "promotable=true"]


def _rejected(stmt, tokens):
    """What Pacemaker 3.0's schema refuses in a crm statement: named, not changed."""
    if stmt.kind == "location" and tokens.count("rule") > 1:
        return ["location %s has %d rules: Pacemaker 3.0 takes one rule per location "
                "constraint (make one constraint of each, or join them with or/and)"
                % (stmt.id, tokens.count("rule"))]
    return []


def _xml(stmt):
    """crm's ``xml`` statement: role attributes renamed in its XML text."""
    text = " ".join(line.strip().rstrip("\\") for line in stmt.lines)
    new = _ROLE_ATTR.sub(lambda m: '%s="%s"' % (m.group(1), role(m.group(2))), text)
    new = _TARGET_ROLE.sub(lambda m: '%s%s"' % (m.group(1), role(m.group(2))), new)
    notes = []
    head = re.match(r"xml\s+<([\w-]+)[^>]*?\bid=\"([^\"]*)\"", new)
    what = "xml <%s %s>" % head.groups() if head else "xml statement"
    if new != text:
        notes.append("%s: role Master/Slave is now Promoted/Unpromoted" % what)
    notes += _xml_rejected(new, what)
    if new == text:
        return stmt, notes
    try:
        tokens = shlex.split(new)
    except ValueError:
        return stmt, notes
    return Statement(tokens, [new], stmt.lead, stmt.line), notes


def _xml_rejected(text, what):
    """What Pacemaker 3.0's schema refuses in the XML of an ``xml`` statement."""
    try:
        element = ET.fromstring(text[len("xml"):].strip())
    except ET.ParseError:
        return []
    notes = []
    if any(e.tag == "master" for e in element.iter()):
        notes.append("%s holds a master resource: Pacemaker 3.0 has none (make it a "
                     "promotable clone)" % what)
    if any(e.tag == "lifetime" for e in element.iter()):
        notes.append("%s has a lifetime: Pacemaker 3.0 takes none (use a rule)" % what)
    if element.tag == "rsc_location" and len(element.findall("rule")) > 1:
        notes.append("%s has %d rules: Pacemaker 3.0 takes one per location constraint"
                     % (what, len(element.findall("rule"))))
    return notes


def render_lines(tokens):
    """Tokens as crm configure show lays a resource out: a line per section."""
    if not tokens or tokens[0] not in ("primitive", "clone", "group", "rsc_template", "ms",
                                       "master", "bundle"):
        return [render_tokens(tokens)]
    lines = [[tokens[0]]]
    for i, token in enumerate(tokens[1:], 1):
        # An op's op_params/op_meta stay on its line.
        if token in _SECTIONS and i > 2:
            lines.append([])
        lines[-1].append(token)
    text = [render_tokens(lines[0])] + ["\t" + render_tokens(words) for words in lines[1:]]
    return [line + " \\" for line in text[:-1]] + text[-1:]
