"""The Monitoring Plugins format: a status line, performance data, the exit code.

As the Monitoring Plugins development guidelines (and Icinga's, Nagios',
Checkmk's readers of them) define it:

    SERVICE STATUS - text | 'label'=value[UOM];[warn];[crit];[min];[max] ...
    long text, one line per check

The first line is what a dashboard shows and a notification carries, so it
holds the verdict and, when not OK, the agent's own reason (the failing
check first).  A ``|`` in any text would start performance data, and a
newline a new line of output: both are taken out of every text written.
"""

from ..base.text import printable
from ..ocf.status import Status

SERVICE = "GROMMUNIO"
OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
WORDS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}

# OCF result -> plugin exit code.  Configuration and installation problems
# (2-6) are UNKNOWN: the checks did not run, so nothing is known of the
# service.  NOT_RUNNING is CRITICAL: the resource is not running here.
_EXIT = {Status.SUCCESS: OK, Status.RUNNING_PROMOTED: OK,
         Status.DEGRADED: WARNING, Status.DEGRADED_PROMOTED: WARNING,
         Status.ERR_GENERIC: CRITICAL, Status.NOT_RUNNING: CRITICAL,
         Status.FAILED_PROMOTED: CRITICAL}

TEXT_LIMIT = 1024   # bytes of the status line's text (NRPE 2 passes 1 KiB in all)
LINE_LIMIT = 512    # bytes of one long-text line


def exit_code(status):
    """The plugin's exit code for an OCF result (anything unknown: UNKNOWN)."""
    return _EXIT.get(status, UNKNOWN)


def text(value, limit=LINE_LIMIT):
    """One printable line without a '|' (it would start performance data)."""
    return printable(value, limit).replace("|", "/")


def number(value):
    """A value as the guidelines want it: digits, '.', '-' -- never an exponent."""
    shown = ("%.3f" % value).rstrip("0").rstrip(".")
    return "0" if shown in ("", "-0") else shown


def label(name):
    """A perfdata label: no '=' or "'" (they end or quote it), quoted if it has a space."""
    cleaned = printable(name, 64).replace("=", "_").replace("'", "_").replace("|", "_")
    return "'%s'" % cleaned if " " in cleaned else cleaned


class Perf:
    """One performance datum: ``label=value[uom];[warn];[crit];[min];[max]``."""

    __slots__ = ("label", "value", "uom", "warn", "crit", "min", "max")

    def __init__(self, name, value, uom="", warn=None, crit=None, min=None, max=None):
        self.label = name
        self.value = value
        self.uom = uom
        self.warn = warn
        self.crit = crit
        self.min = min
        self.max = max

    def __str__(self):
        fields = [number(self.value) + self.uom] + [
            "" if x is None else number(x) for x in (self.warn, self.crit, self.min, self.max)]
        while fields[-1] == "":  # trailing empty fields may be left off
            fields.pop()
        return "%s=%s" % (label(self.label), ";".join(fields))


def render(code, summary, perfdata=(), details=()):
    """The whole output: status line with performance data, then the long text."""
    head = "%s %s - %s" % (SERVICE, WORDS[code], text(summary, TEXT_LIMIT))
    perf = " ".join(str(p) for p in perfdata)
    lines = [head + (" | " + perf if perf else "")]
    lines += [text(line) for line in details]
    return "\n".join(lines) + "\n"
