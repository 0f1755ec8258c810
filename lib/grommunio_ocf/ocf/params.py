"""Declarative instance parameters: one spec gives metadata, parsing and checks.

An agent lists its parameters as ``Param`` objects.  ``parse`` reads
``OCF_RESKEY_<name>`` for each of them, converts the text with the
parameter's type, applies the default and runs the validator, collecting
*every* problem instead of stopping at the first: an admin who fixes one typo
should not have to find the next one by another failed start.
"""

import os

from ..base.paths import absolute_path, path_limits
from ..base.text import quoted
from .status import Status, checked, ocf_name

TRUE_WORDS = frozenset(("1", "true", "yes", "on", "y"))
FALSE_WORDS = frozenset(("0", "false", "no", "off", "n"))
OFF_WORD = "off"  # for parameters whose empty value turns something off (Param.off)


class ParamType:
    """How the text of one kind of parameter becomes a value.

    ``xml_type`` is what the metadata says: both the ra-api-1.dtd checked by
    ocf-tester and the OCF 1.1 schema only know string, integer and boolean,
    so richer types (port, path, list) are strings or integers there.
    """

    __slots__ = ("name", "xml_type", "convert")

    def __init__(self, name, xml_type, convert):
        self.name = name
        self.xml_type = xml_type
        self.convert = convert

    def __repr__(self):
        return "ParamType(%r)" % self.name


def _string(text):
    return text


def _boolean(text):
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("%s is not a boolean (use true or false)" % quoted(text))


# Longest integer a parameter may have: far beyond any count or port, and
# far below int()'s own limit (4,300 digits from Python 3.11 on).
MAX_DIGITS = 18


def _integer(text):
    # int() alone would also take "1_000" and non-ASCII digits.
    digits = text.strip()
    unsigned = digits[1:] if digits[:1] in ("+", "-") else digits
    if not (unsigned.isascii() and unsigned.isdigit()):
        raise ValueError("%s is not an integer" % quoted(text))
    if len(unsigned) > MAX_DIGITS:
        raise ValueError("%s has %d digits: too large" % (quoted(text, 20), len(unsigned)))
    return int(digits, 10)



def _seconds(text):
    # Pacemaker's own duration forms for the common cases: 5, 2.5, 5s, 500ms.
    word = text.strip().lower()
    scale = 1.0
    if word.endswith("ms"):
        word, scale = word[:-2], 0.001
    elif word.endswith("s"):
        word = word[:-1]
    digits = word.replace(".", "", 1)
    if not (digits.isascii() and digits.isdigit()):  # float() would take "1e3", "inf", "nan"
        raise ValueError("%s is not a duration (e.g. 5, 2.5s or 500ms)" % quoted(text))
    value = float(word) * scale
    if value <= 0:
        raise ValueError("%s must be more than zero" % quoted(text))
    if value > 86400:  # also keeps "9" * 400 (float infinity) out
        raise ValueError("%s is more than a day" % quoted(text))
    return value


def split_list(text):
    """Items separated by whitespace and/or commas, empty items dropped."""
    return tuple(text.replace(",", " ").split())


STRING = ParamType("string", "string", _string)
BOOLEAN = ParamType("boolean", "boolean", _boolean)
INTEGER = ParamType("integer", "integer", _integer)
PATH = ParamType("path", "string", absolute_path)
LIST = ParamType("list", "string", split_list)
SECONDS = ParamType("seconds", "string", _seconds)


class Param:
    """One instance parameter of an agent.

    ``default`` is given as text, exactly as an admin would type it in
    ``crm configure``: the metadata shows that text and parsing it goes through
    the same conversion as a configured value, so the two cannot disagree.

    The rules a value must keep are data, checked in this order with one
    wording for every agent:

    * ``nonempty``: the value may not be empty (a default is not enough: an
      admin can still set ``""``);
    * ``choices``: the words allowed -- for a ``LIST`` every item must be
      one of them; the metadata's longdesc lists them;
    * ``minimum``: the smallest number allowed (``INTEGER``, ``SECONDS``);
    * ``off``: the word ``off`` means what the empty value means ("not
      checked"): pcs cannot store an empty value (``name=`` deletes the
      attribute, and the default comes back), so a pcs user needs a word;
    * ``validator``: what no data can say, given the converted value; it
      returns it (possibly normalised) or raises ``ValueError`` with a
      message that does not repeat the parameter's name.

    ``error_status`` is the exit code a bad value earns: ``ERR_CONFIGURED``
    (the default) says the configuration is wrong on every node.
    ``reloadable`` is kept in the spec for agents that implement ``reload``;
    it is not rendered, because ra-api-1.dtd (which ocf-tester validates
    against) has no such attribute.
    """

    __slots__ = ("name", "type", "default", "required", "unique", "reloadable",
                 "shortdesc", "longdesc", "validator", "error_status", "nonempty", "choices",
                 "minimum", "off")

    def __init__(self, name, type=STRING, default=None, *, shortdesc, longdesc=None,
                 required=False, unique=False, reloadable=False, nonempty=False, choices=None,
                 minimum=None, off=False, validator=None, error_status=Status.ERR_CONFIGURED):
        if required and default is not None:
            raise TypeError("parameter %s: a required parameter has no default" % name)
        if minimum is not None and type not in (INTEGER, SECONDS):
            raise TypeError("parameter %s: minimum is for numbers" % name)
        if choices is not None and type not in (STRING, LIST):
            raise TypeError("parameter %s: choices are for strings and lists" % name)
        self.name = name
        self.type = type
        self.default = default
        self.required = required
        self.unique = unique
        self.reloadable = reloadable
        self.shortdesc = shortdesc
        self.longdesc = longdesc or shortdesc
        self.nonempty = nonempty
        self.choices = tuple(choices) if choices is not None else None
        self.minimum = minimum
        self.off = off
        self.validator = validator
        self.error_status = checked(error_status)

    def __repr__(self):
        return "Param(%r, %s)" % (self.name, self.type.name)

    def replace(self, **changes):
        """A copy with some attributes changed (``default="10"``, ``longdesc=...``)."""
        fields = {name: getattr(self, name) for name in self.__slots__ if name not in ("name", "type")}
        fields.update(changes)
        return Param(self.name, self.type, **fields)

    def convert(self, text):
        """Text -> value, raising ``ValueError`` with the reason."""
        if self.off and text.strip().lower() == OFF_WORD:
            text = ""
        value = self.type.convert(text)
        if self.nonempty and (value is None or value == "" or value == ()):
            raise ValueError("must not be empty")
        if self.choices is not None and value is not None:
            words = value if self.type is LIST else (value,) if value else ()
            unknown = [w for w in words if w not in self.choices]
            if unknown:
                raise ValueError("unknown %s (choose from %s)" % (
                    ", ".join(quoted(w, 20) for w in unknown[:5]), ", ".join(self.choices)))
        if self.minimum is not None and value is not None and value < self.minimum:
            raise ValueError("%s is less than %s" % (_number(value), _number(self.minimum)))
        if self.validator is not None:
            value = self.validator(value)
        return value

    def described(self):
        """The longdesc as the metadata shows it: the text, the choices, the off word."""
        text = self.longdesc.rstrip()
        if self.choices is not None:
            text += " %s: %s." % ("Any of" if self.type is LIST else "One of", ", ".join(self.choices))
        if self.off:
            text += " '%s' is the same as empty (pcs cannot set an empty value)." % OFF_WORD
        return text


def _number(value):
    return "%g" % value if isinstance(value, float) else str(value)


class Problem:
    """One thing wrong, with the exit code it deserves."""

    __slots__ = ("status", "text")

    def __init__(self, status, text):
        self.status = checked(status)
        self.text = text

    def __repr__(self):
        return "Problem(%s, %r)" % (ocf_name(self.status), self.text)

    def __eq__(self, other):
        return isinstance(other, Problem) and (self.status, self.text) == (other.status, other.text)


class Values:
    """Parsed parameters, by attribute (``values.grodata``) or by name."""

    def __init__(self, mapping):
        self.__dict__.update(mapping)

    def __getitem__(self, name):
        return self.__dict__[name]

    def __repr__(self):
        return "Values(%r)" % self.__dict__


def parse(params, environ):
    """Read every parameter of ``params`` from ``environ``.

    Returns ``(values, problems)``.  A parameter that is invalid or missing
    is ``None`` in ``values`` and has one ``Problem`` in ``problems``.
    """
    values = {}
    problems = []
    for param in params:
        text = environ.get("OCF_RESKEY_" + param.name)
        if text is None:
            text = param.default
        if text is None:
            values[param.name] = None
            if param.required:
                problems.append(Problem(param.error_status,
                                        "%s: required parameter is not set" % param.name))
            continue
        if not _utf8(text):
            # The CIB is XML in UTF-8: no configured value can hold these bytes.
            values[param.name] = None
            problems.append(Problem(param.error_status, "%s: %s is not valid UTF-8"
                                    % (param.name, quoted(text, 40))))
            continue
        try:
            values[param.name] = param.convert(text)
        except ValueError as exc:
            values[param.name] = None
            problems.append(Problem(param.error_status, "%s: %s" % (param.name, exc)))
            continue
        if values[param.name] is None and param.required:  # e.g. a path set to ""
            problems.append(Problem(param.error_status,
                                    "%s: required parameter is empty" % param.name))
    return Values(values), problems


def _utf8(text):
    """The bytes behind ``text`` (as the environment gave them) are UTF-8."""
    try:
        os.fsencode(text).decode("utf-8")
    except UnicodeError:
        return False
    return True





def at_least_one(names, values):
    """A ``Problem`` unless one of the parameters ``names`` is set (not empty, not invalid)."""
    if any(values[name] not in (None, "", ()) for name in names):
        return None
    return Problem(Status.ERR_CONFIGURED, "at least one of %s must be set (each is empty or "
                   "invalid)" % ", ".join(names))


# OCF_RESKEY_* names Pacemaker itself passes to every action.

_PACEMAKER_KEYS = ("CRM_meta_", "crm_feature_set", "OCF_CHECK_LEVEL")


def unknown(params, environ):
    """``OCF_RESKEY_*`` names that are no parameter of the agent (typos)."""
    known = {p.name for p in params}
    prefix = "OCF_RESKEY_"
    return sorted(key[len(prefix):] for key in environ
                  if key.startswith(prefix) and key[len(prefix):] not in known
                  and not key[len(prefix):].startswith(_PACEMAKER_KEYS))


# Which exit code wins when problems of several kinds come together: a wrong
# configuration is wrong on every node, so it outranks a node-local defect.
_SEVERITY = (Status.ERR_CONFIGURED, Status.ERR_INSTALLED, Status.ERR_PERM, Status.ERR_ARGS,
             Status.ERR_GENERIC)


def worst(problems):
    """The exit code for a list of problems (the most severe kind among them)."""
    present = {p.status for p in problems}
    for status in _SEVERITY:
        if status in present:
            return status
    return problems[0].status
