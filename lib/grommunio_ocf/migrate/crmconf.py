"""crm configure syntax: read ``crm configure show``, follow its references, write it back.

What any tool that edits a crmsh (4.4) configuration as text needs, and
nothing about what it changes: statements with their continuation lines and
comments, the ``primitive`` and ``group`` forms, the resources a constraint
or tag names and renaming them, quoting a token so that crm's lexer reads it
back, and Pacemaker's durations.

The text is kept beside the tokens so that whatever a tool leaves alone can
be copied through verbatim: comments, layout and quoting included.
"""

import re
import shlex

# Statement keywords of crm configure (crmsh 4.4).
KEYWORDS = frozenset((
    "node", "primitive", "monitor", "group", "clone", "ms", "master", "bundle", "rsc_template",
    "location", "colocation", "collocation", "order", "rsc_ticket", "property", "rsc_defaults",
    "op_defaults", "fencing_topology", "role", "user", "acl_target", "acl_group", "tag",
    "alert", "xml", "schema"))
REFERRING = frozenset(("location", "colocation", "collocation", "order", "rsc_ticket", "tag"))
INERT = frozenset(("node", "property", "rsc_defaults", "op_defaults"))   # name no resource


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


# -- writing tokens back -----------------------------------------------------------

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


def render_statement(stmt, tokens):
    """``stmt`` with ``tokens`` as lines of text: its own lines while the tokens
    are unchanged (its layout and quoting kept), else the tokens on one line."""
    return stmt.lines if tokens == stmt.tokens else [render_tokens(tokens)]


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
