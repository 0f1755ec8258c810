"""What one start or monitor observed, as metric samples.

The data model is deliberately small and shared: a ``Snapshot`` holds the
resource's last result (an OCF code), when it was taken, the monitor's
interval and ``check_timeout``, one ``CheckSample`` per check (name,
target, up, degraded, duration) and the agent's own counts (grodata-binds'
binds, postfix-maps' lookups).  ``check_samples`` makes the per-check part
from ``checks.contract.Outcome`` objects, so that anything else that runs the checks
reports them in the same terms.  ``families`` turns a snapshot into
Prometheus families, ``text`` into the file, bounded in size.

Every name is in ``HELP``, which the docs and the metadata of
``metrics_dir`` describe in the same words.
"""

PREFIX = "grommunio_ocf_"
from .exposition import Family, label_value, render

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


def check_samples(outcomes, critical=None):
    """``CheckSample`` per ``checks.contract.Outcome``; ``critical``: names (``None``: all)."""
    from ..checks.contract import Outcome
    return [CheckSample(o.name, o.target, o.state != Outcome.FAILED, o.state == Outcome.DEGRADED,
                        o.latency, critical is None or o.name in critical) for o in outcomes]


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
        up, degraded, duration = (_family(n) for n in (
            "check_up", "check_degraded", "check_duration_seconds"))
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
            degraded.add(labels, bool(sample.degraded))
            duration.add(labels, sample.duration)
        omitted = _family("checks_omitted").add(base, len(snap.checks) - len(seen))
        result += [up, degraded, duration, omitted]
    if snap.binds is not None:
        result.append(_family("binds_proved").add(base, snap.binds[0]))
        result.append(_family("binds_not_proved").add(base, snap.binds[1]))
    if snap.lookups is not None:
        lookups = _family("postfix_lookup_duration_seconds")
        seen = set()
        for parameter, table, seconds in snap.lookups[:max_checks]:
            if (parameter, table) not in seen:
                seen.add((parameter, table))
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
