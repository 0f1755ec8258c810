"""What one start or monitor observed, as metric samples, and their text.

The data model is deliberately small and shared: a ``Snapshot`` holds the
resource's last result (an OCF code), when it was taken, the monitor's
interval and ``check_timeout``, one ``CheckSample`` per check (name,
target, up, degraded, duration, critical) and the agent's own counts (grodata-binds'
binds, postfix-maps' lookups).  ``families`` turns a snapshot into
Prometheus families, ``text`` into the file, bounded in size.

Every name is in ``HELP``, which the docs and the metadata of
``metrics_dir`` describe in the same words.

The text is Prometheus' exposition format (version 0.0.4), as
node_exporter's textfile collector reads it.  A ``Family`` is one metric
name with its HELP text and its samples; each sample is a tuple of
``(label, value)`` pairs and a number.  ``render`` writes families in the
given order, each with its ``# HELP`` and ``# TYPE`` lines, and skips
families without samples.  Label values come from the CIB and the
environment, so they are made printable and bounded first
(``base.text.printable``, exact: control characters, line ends and
undecodable bytes escaped, spaces kept, at most ``LABEL_LIMIT`` bytes of
UTF-8), then escaped as the format requires: backslash, double quote and
newline.

One module for both, and no I/O: the writer's import is part of every
monitor's cost (see tests/bench/bench_metrics.py).
"""

from .text import printable

PREFIX = "grommunio_ocf_"

MAX_CHECKS = 64       # per-check series in one file; the rest are counted as omitted
MAX_BYTES = 65536     # the file never grows beyond this

# name (after PREFIX) -> HELP text, in the order the file lists them.
HELP = {
    "result_code": "OCF exit code of the last start or monitor (0 ok, 190 degraded, 1 failed, "
                   "7 not running)",
    "last_monitor_timestamp_seconds": "Unix time the last start or monitor ended",
    "monitor_interval_seconds": "Interval of the recurring monitor (CRM_meta_interval)",
    "check_timeout_seconds": "Upper bound of each check (the check_timeout parameter)",
    "check_up": "1 unless the check failed",
    "check_critical": "1 when a failure of the check fails the resource (0: it degrades it)",
    "check_degraded": "1 when the check works but needs attention",
    "check_duration_seconds": "How long the check took",
    "checks_omitted": "Checks left out of this file to keep it small",
    "binds_proved": "Binds proved to come from their source",
    "binds_not_proved": "Binds not bound, or not from their source",
    "postfix_lookup_duration_seconds": "How long postmap -q took for the map's table",
}


class CheckSample:
    """One check's result: ``up`` unless it failed, ``degraded`` when it works
    but needs attention, ``duration`` in seconds; ``critical`` whether its
    failure fails the resource."""

    __slots__ = ("name", "target", "up", "degraded", "duration", "critical")

    def __init__(self, name, target, up, degraded, duration, critical=True):
        self.name = name
        self.target = target
        self.up = up
        self.degraded = degraded
        self.duration = duration
        self.critical = critical

    def __repr__(self):
        return "CheckSample(%r, %r, up=%d, degraded=%d, %.4fs)" % (
            self.name, self.target, self.up, self.degraded, self.duration)


class Snapshot:
    """Everything one file says about one resource on one node."""

    def __init__(self, agent, resource, node, result, timestamp, interval=None,
                 check_timeout=None, checks=None, binds=None, lookups=None):
        self.agent = agent
        self.resource = resource
        self.node = node
        self.result = int(result)
        self.timestamp = timestamp
        self.interval = interval            # seconds; None: not known (start, probe)
        self.check_timeout = check_timeout  # seconds; None: the agent has none
        self.checks = checks                # [CheckSample] or None (no checks)
        self.binds = binds                  # (proved, not proved) or None
        self.lookups = lookups              # [(map, table, seconds)] or None


def _family(name):
    return Family(PREFIX + name, HELP[name])


def families(snap, max_checks=MAX_CHECKS):
    """The snapshot as exposition families; at most ``max_checks`` checks, each once."""
    base = (("agent", snap.agent), ("resource", snap.resource), ("node", snap.node))
    result = [_family("result_code").add(base, snap.result),
              _family("last_monitor_timestamp_seconds").add(base, snap.timestamp)]
    if snap.interval:
        result.append(_family("monitor_interval_seconds").add(base, snap.interval))
    if snap.check_timeout is not None:
        result.append(_family("check_timeout_seconds").add(base, snap.check_timeout))
    if snap.checks is not None:
        up, critical, degraded, duration = (_family(n) for n in (
            "check_up", "check_critical", "check_degraded", "check_duration_seconds"))
        seen = set()
        for sample in snap.checks:
            # One series per (check, target): two checks of the same target
            # (or targets alike in their first LABEL_LIMIT bytes) would make
            # the whole file unreadable to node_exporter.
            key = (label_value(sample.name), label_value(sample.target))
            if key in seen or len(seen) >= max_checks:
                continue
            seen.add(key)
            labels = base + (("check", sample.name), ("target", sample.target))
            up.add(labels, bool(sample.up))
            critical.add(labels, bool(sample.critical))
            degraded.add(labels, bool(sample.degraded))
            duration.add(labels, sample.duration)
        omitted = _family("checks_omitted").add(base, len(snap.checks) - len(seen))
        result += [up, critical, degraded, duration, omitted]
    if snap.binds is not None:
        result.append(_family("binds_proved").add(base, snap.binds[0]))
        result.append(_family("binds_not_proved").add(base, snap.binds[1]))
    if snap.lookups is not None:
        lookups = _family("postfix_lookup_duration_seconds")
        seen = set()
        for parameter, table, seconds in snap.lookups[:max_checks]:
            key = (label_value(parameter), label_value(table))  # as for the checks
            if key not in seen:
                seen.add(key)
                lookups.add(base + (("map", parameter), ("table", table)), seconds)
        result.append(lookups)
    return result


def text(snap):
    """The file's text, at most ``MAX_BYTES`` (fewer checks when they would not fit)."""
    limit = MAX_CHECKS
    while True:
        body = render(families(snap, limit))
        if len(body.encode("utf-8")) <= MAX_BYTES or limit == 0:
            return body
        limit //= 2


# -- the text exposition format --------------------------------------------------


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
    if isinstance(value, str) and value.isascii() and value.isprintable() and len(value) <= LABEL_LIMIT:
        text = value  # the common case, as printable() would leave it, ten times faster
    else:
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
    rendered = {}  # labels -> their text: the same label sets recur in every family
    for family in families:
        if not family.samples:
            continue
        lines.append("# HELP %s %s" % (family.name, _help(family.help)))
        lines.append("# TYPE %s %s" % (family.name, family.type))
        for labels, value in family.samples:
            inner = rendered.get(labels)
            if inner is None:
                inner = rendered[labels] = ",".join('%s="%s"' % (key, label_value(text))
                                                    for key, text in labels)
            lines.append("%s{%s} %s" % (family.name, inner, number(value)))
    return "\n".join(lines) + "\n" if lines else ""
