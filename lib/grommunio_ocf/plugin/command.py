"""grommunio-ocf-check: run a resource's checks once and report as a monitoring plugin.

The checks are the agent's own, with the parameters the cluster passes
(read from the CIB by ``cib``) or given with ``--set``, through the
agent's ``inspect()``: the monitor's verdict without the monitor's side
effects -- no state file, no node attribute, no ``fall`` counting, no
metrics file.  So a monitoring system may run it on any schedule, on the
active node or a passive one, and the cluster never notices.

Exit codes are the plugin API's, from the OCF result: 0 OK (OCF 0),
1 WARNING (190, degraded), 2 CRITICAL (1 failed, 7 not running here),
3 UNKNOWN (2-6: a configuration or installation problem, or bad usage --
the checks did not run, so nothing is known of the service).
"""

import argparse
import os
import sys
import time

from .. import __version__
from ..ocf.agent import Operation, parameters
from ..base.text import printable
from ..ocf.log import Log
from ..ocf.params import worst
from ..ocf.status import OCFError, Status, checked, ocf_name
from . import output
from .agents import AgentError, load, names
from .cib import CibError, query, resource

PROG = "grommunio-ocf-check"
CIB_BUDGET = 30.0  # seconds for reading the CIB without -t (cibadmin gets at most 10 of them)


class UsageError(Exception):
    """Bad command line: UNKNOWN, with the usage on standard error."""


class Formatter(argparse.HelpFormatter):
    """Lines broken at spaces only: 'stack-health' must stay whole (the man page
    is made from --help, and joins its lines with spaces)."""

    def _split_lines(self, text, width):
        import textwrap
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text, width, indent):
        import textwrap
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2; a plugin's bad usage is UNKNOWN (3)
        raise UsageError(message)


def parser():
    p = Parser(
        prog=PROG, formatter_class=Formatter,
        description="Run the checks of a grommunio resource once, read-only, and print the "
                    "result as a monitoring plugin (Icinga, Nagios, Checkmk, Zabbix, NRPE). The "
                    "parameters come from the live CIB (read with cibadmin, which honours "
                    "CIB_file), or from --set with --agent. Nothing in the cluster changes: no "
                    "state file, no node attribute, no metrics file; failures are not counted "
                    "towards fall. Runs as root: it reads the CIB and mysql_adaptor.cfg.",
        epilog="Exit status: 0 OK (the monitor would return 0), 1 WARNING (190, degraded), "
               "2 CRITICAL (1 failed; 7 not running on this node), 3 UNKNOWN (2-6: a "
               "configuration or installation problem; bad usage).")
    p.add_argument("resource", nargs="?", metavar="RESOURCE",
                   help="the resource's id in the CIB: a primitive, a clone instance (name:0), "
                        "or a group or clone holding one grommunio resource. With --agent only "
                        "a name for the output")
    p.add_argument("--agent", metavar="AGENT",
                   help="run this agent (%s) with --set values and defaults, without reading "
                        "the CIB" % ", ".join(_agent_names()))
    p.add_argument("--set", metavar="NAME=VALUE", action="append", default=[], dest="settings",
                   help="a parameter's value, over the CIB's; repeat for more")
    p.add_argument("--depth", metavar="LEVEL", type=int,
                   help="OCF_CHECK_LEVEL of the checks (default: the agent's monitor default; "
                        "grodata-binds' 20 writes and removes a probe file in grodata)")
    p.add_argument("-t", "--timeout", metavar="SECONDS", type=float,
                   help="time for all checks (default: the agent's monitor timeout; give the "
                        "monitoring system's, e.g. check_nrpe -t, a little more)")
    p.add_argument("-V", "--version", action="version", version="%s %s" % (PROG, __version__))
    return p


def _agent_names():
    try:
        return names()
    except AgentError:
        return ["none found"]


class Inspection(Operation):
    """A monitor operation whose per-check reports are kept, not printed."""

    def __init__(self, environ, timeout):
        super().__init__("monitor", environ, timeout, verbose=True)
        self.rows = []

    def report(self, name, target, result, detail="", latency=None):
        self.rows.append((name, target, result, detail, latency))


def settings(texts, agent_cls):
    """``--set`` texts -> {name: value}; every name a parameter of the agent."""
    known = {p.name for p in agent_cls.params}
    values = {}
    for text in texts:
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError("--set %s: expected NAME=VALUE" % printable(text, 64))
        if name not in known:
            raise UsageError("--set %s: %s has no parameter %s (it has: %s)" % (
                printable(name, 64), agent_cls.name, printable(name, 64),
                ", ".join(p.name for p in agent_cls.params)))
        values[name] = value
    return values


def environment(base, params, instance, timeout, depth):
    """The agent's environment as Pacemaker builds it, on the caller's (PATH, CIB_file)."""
    environ = {k: v for k, v in base.items()
               if not k.startswith("OCF_RESKEY_") and k not in ("OCF_CHECK_LEVEL", "HA_RSCTMP")}
    for name, value in params.items():
        environ["OCF_RESKEY_" + name] = value
    environ["OCF_RESOURCE_INSTANCE"] = instance
    environ["OCF_RESKEY_CRM_meta_timeout"] = str(int(timeout * 1000))
    if depth is not None:
        environ["OCF_CHECK_LEVEL"] = str(depth)
    # Agent warnings go to standard error only: a check every minute must
    # not fill the cluster's syslog.
    environ["HA_LOGFACILITY"] = "none"
    return environ


def check(args, environ, stderr):
    """Run the checks; ``(exit code, output text)``."""
    started = time.monotonic()
    if args.agent is None and not args.resource:
        raise UsageError("give a RESOURCE of the CIB, or --agent")
    if args.timeout is not None and not 0 < args.timeout <= 86400:
        raise UsageError("--timeout %s: give seconds, more than 0" % args.timeout)
    try:
        label, agent_cls, params = _target(args, environ)
    except (AgentError, CibError) as exc:
        return output.UNKNOWN, output.render(output.UNKNOWN, "%s: %s"
                                             % (args.resource or args.agent, exc))
    if args.depth is not None and args.depth not in agent_cls.check_levels:
        raise UsageError("--depth %d: %s has the levels %s" % (
            args.depth, agent_cls.name, ", ".join(str(x) for x in agent_cls.check_levels)))
    params.update(settings(args.settings, agent_cls))
    timeout = args.timeout or agent_cls.default_timeout("monitor")
    # The checks get what reading the CIB left of the whole run's budget.
    left = max(0.1, timeout - (time.monotonic() - started))
    env = environment(environ, params, label, left, args.depth)
    agent = agent_cls(Log(agent_cls.name, label, env, stderr))
    op = Inspection(env, left)
    values, problems = parameters(agent, env)
    status, reason = _verdict(agent, values, problems, op)
    code = output.exit_code(status)
    took = time.monotonic() - started
    summary = "%s (%s): %s" % (label, agent_cls.name, _summary(status, reason, op.rows))
    per_check = values["check_timeout"] if not problems and _has(agent_cls, "check_timeout") \
        else None
    return code, output.render(code, summary, _perfdata(op.rows, per_check, timeout, took),
                               _details(op.rows))


def _target(args, environ):
    """``(label, agent class, parameters)``: from --agent, else the CIB's resource."""
    if args.agent is not None:
        return args.resource or args.agent, load(args.agent), {}
    from ..ocf.deadline import Deadline
    found = resource(query(Deadline(args.timeout or CIB_BUDGET), environ), args.resource)
    return found.id, load(found.type), found.params


def _verdict(agent, values, problems, op):
    """``(OCF status, reason)`` of the checks -- or of the parameters, when they are wrong."""
    if problems:
        return worst(problems), "; ".join(p.text for p in problems)
    try:
        op.depth = op.check_level(agent.check_levels, agent.default_check_level)
        return checked(agent.inspect(values, op)), ""
    except OCFError as exc:
        return exc.status, exc.reason


def _has(agent_cls, name):
    return any(p.name == name for p in agent_cls.params)


def _summary(status, reason, rows):
    if status in (Status.SUCCESS, Status.RUNNING_PROMOTED):
        counts = _counted(rows)
        text = ", ".join("%d %s%s ok" % (n, what, "" if n == 1 else "s")
                         for what, n in counts) or "ok"
        warned = [r for r in rows if r[2] == "warning"]
        if warned:
            text += "; warning: " + "; ".join("%s: %s" % (r[0], r[3]) for r in warned)
        return text
    if status == Status.NOT_RUNNING and not reason:
        return "not running on this node"
    if output.exit_code(status) == output.UNKNOWN:
        return "%s (%s)" % (reason or "no reason given", ocf_name(status))
    return reason or ocf_name(status)


def _counted(rows):
    """[(what, count)] in the order first seen: 'check' for the timed checks, else the
    row's name ('bind', 'write')."""
    counts = {}
    for name, _target, _result, _detail, latency in rows:
        what = "check" if latency is not None else name
        counts[what] = counts.get(what, 0) + 1
    return list(counts.items())


def _labels(rows):
    """A unique perfdata label per row: the check's name, or name_TARGET when it repeats."""
    names = [r[0] for r in rows]
    labels = []
    for name, target, _result, _detail, _latency in rows:
        if names.count(name) == 1:
            labels.append(name)
            continue
        word = target.split()[0] if target.split() else target
        word = word.rstrip("/").rpartition("/")[2] or word  # a file: its name says enough
        labels.append("%s_%s" % (name, word))
    for index, text in enumerate(labels):  # still the same: the whole target
        if labels.count(text) > 1:
            labels[index] = "%s_%s" % (rows[index][0], "_".join(rows[index][1].split()))
    return labels


def _perfdata(rows, per_check, timeout, took):
    """Each timed check's duration against its limit; counts for untimed ones; the total."""
    perf = []
    limit = min(per_check, timeout) if per_check else timeout
    counted = {}
    for label, (name, _target, result, _detail, latency) in zip(_labels(rows), rows):
        if latency is not None:
            perf.append(output.Perf(label, latency * 1000, "ms", crit=limit * 1000, min=0))
        else:
            ok, bad = counted.setdefault(name, [0, 0])
            counted[name] = [ok + (result == "ok"), bad + (result != "ok")]
    for name, (ok, bad) in counted.items():
        perf.append(output.Perf(name + "_ok", ok, min=0, max=ok + bad))
        perf.append(output.Perf(name + "_bad", bad, crit=0, min=0, max=ok + bad))
    perf.append(output.Perf("time", took * 1000, "ms", crit=timeout * 1000, min=0))
    return perf


def _details(rows):
    lines = []
    for name, target, result, detail, latency in rows:
        took = "" if latency is None else " (%.1fms)" % (latency * 1000)
        lines.append("%s %s: %s%s%s" % (name, target, result, " - " + detail if detail else "", took))
    return lines


def main(argv=None, environ=None, stdout=None, stderr=None):
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    p = parser()
    try:
        args = p.parse_args(argv)
        code, text = check(args, environ, stderr)
    except UsageError as exc:
        stderr.write(p.format_usage())
        code, text = output.UNKNOWN, output.render(output.UNKNOWN, "usage: %s" % exc)
    stdout.write(text)
    return code
