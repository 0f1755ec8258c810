"""Prometheus' text exposition format (version 0.0.4), as node_exporter's textfile collector reads it.

A ``Family`` is one metric name with its HELP text and its samples; each
sample is a tuple of ``(label, value)`` pairs and a number.  ``render``
writes families in the given order, each with its ``# HELP`` and
``# TYPE`` lines, and skips families without samples (an empty family is
legal, but says nothing).

Label values come from the CIB and the environment, so they are made
printable and bounded first (``base.text.printable``, exact: control
characters, line ends and undecodable bytes escaped, spaces kept, at most
``LABEL_LIMIT`` bytes of UTF-8), then
escaped as the format requires: backslash, double quote and newline.
"""

from ..base.text import printable

LABEL_LIMIT = 200  # bytes of one label value


class Family:
    __slots__ = ("name", "help", "type", "samples")

    def __init__(self, name, help, type="gauge"):
        self.name = name
        self.help = help
        self.type = type
        self.samples = []

    def add(self, labels, value):
        self.samples.append((labels, value))
        return self


def label_value(value):
    """A label value as the format wants it between its double quotes."""
    text = printable(value, LABEL_LIMIT, exact=True)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value):
    """Booleans as 0/1, integers as they are, floats without needless digits
    (but a Unix time to the millisecond)."""
    if isinstance(value, int):  # bool included
        return "%d" % value
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return "%.6g" % value if abs(value) < 1e6 else "%.3f" % value


def _help(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def render(families):
    """The text of ``families``, one line per sample, ending in a newline."""
    lines = []
    for family in families:
        if not family.samples:
            continue
        lines.append("# HELP %s %s" % (family.name, _help(family.help)))
        lines.append("# TYPE %s %s" % (family.name, family.type))
        for labels, value in family.samples:
            inner = ",".join('%s="%s"' % (key, label_value(text)) for key, text in labels)
            lines.append("%s{%s} %s" % (family.name, inner, number(value)))
    return "\n".join(lines) + "\n" if lines else ""
