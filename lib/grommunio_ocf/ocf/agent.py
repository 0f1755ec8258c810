"""The ``Agent`` base class and ``run``, the one place that exits.

An agent file declares its descriptions, parameters and actions and
implements the actions as methods taking ``(values, op)``.  ``run`` parses
the command line and the environment, calls the method and turns whatever
happens -- a returned status, an ``OCFError``, an unexpected exception --
into an exit code and at most one ``ocf-exit-reason:`` line.
"""

import os
import sys

from .. import __version__
from .deadline import Deadline, reserve_for
from ..base.text import printable, quoted
from .log import Log
from .params import PATH, Param, Problem, at_least_one, parse, unknown, worst
from .status import OCFError, Status, checked, ocf_name

# Action name on the command line -> method name on the agent.
METHODS = {
    "start": "start",
    "stop": "stop",
    "monitor": "monitor",
    "status": "monitor",  # the pre-OCF name; some tools still call it
    "validate-all": "validate_all",
    "promote": "promote",
    "demote": "demote",
    "notify": "notify",
    "reload": "reload",
    "migrate_to": "migrate_to",
    "migrate_from": "migrate_from",
}

# States a monitor reports without a reason; every other result gets exactly one.
QUIET = (Status.SUCCESS, Status.NOT_RUNNING, Status.RUNNING_PROMOTED, Status.FAILED_PROMOTED)

DEFAULT_TIMEOUT = 20.0
DEFAULT_RSCTMP = "/run/resource-agents"
VERBOSE_FLAGS = ("--verbose", "-v")
# Declared here, not beside the writer (.metrics), so that no run of any agent
# loads the writer and the state module for a parameter that is off by default.
METRICS_DIR = Param(
    "metrics_dir", PATH, "off", off=True,
    shortdesc="Directory for a Prometheus textfile (node_exporter's textfile collector); "
              "off: no metrics",
    longdesc="When set (Debian: /var/lib/prometheus/node-exporter; the directory given to "
             "node_exporter's --collector.textfile.directory elsewhere), every start and "
             "monitor replaces the file grommunio_ocf-AGENT-RESOURCE.prom there atomically "
             "(mode 0644; never through a symlink); stop, and a probe that finds the resource "
             "not running here, remove it. Labels: agent, resource, node (the node's name in "
             "Pacemaker), and check and target per check. Metrics: "
             "grommunio_ocf_result_code (the last start's or monitor's OCF exit code: 0 ok, "
             "190 degraded, 1 failed, 7 not running); "
             "grommunio_ocf_last_monitor_timestamp_seconds (when that start or monitor "
             "ended, Unix time); grommunio_ocf_monitor_interval_seconds (the recurring "
             "monitor's interval; not written by start and probes); "
             "grommunio_ocf_check_timeout_seconds (check_timeout); per check "
             "grommunio_ocf_check_up (1 unless the check failed), grommunio_ocf_check_critical "
             "(1 when its failure fails the resource, 0 when it degrades it), "
             "grommunio_ocf_check_degraded "
             "(1 when it works but needs attention) and grommunio_ocf_check_duration_seconds; "
             "grommunio_ocf_checks_omitted (checks left out to keep the file small); "
             "grodata-binds: grommunio_ocf_binds_proved and grommunio_ocf_binds_not_proved; "
             "postfix-maps: grommunio_ocf_postfix_lookup_duration_seconds per map and table. "
             "The directory must exist; a write that fails never changes the action's "
             "result and is logged once per start.")
# Parameters the framework itself acts on, which every agent offers.
FRAMEWORK_PARAMS = (METRICS_DIR,)
# Actions after which metrics_dir's file is written or removed.
METRICS_ACTIONS = ("start", "stop", "monitor", "status")


class Action:
    """One ``<action>`` line of the metadata: the defaults an admin starts from."""

    __slots__ = ("name", "timeout", "interval", "depth", "role")

    def __init__(self, name, timeout, interval=None, depth=None, role=None):
        self.name = name
        self.timeout = timeout
        self.interval = interval
        self.depth = depth
        self.role = role


def _int_env(environ, name, default):
    """An integer Pacemaker passes (milliseconds); anything else is ``default``.

    Bounded to 12 digits: a 5,000-digit timeout is no timeout, and int() of
    it would fail (Python >= 3.11) or overflow float() later.
    """
    text = (environ.get(name) or "").strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        return default
    return int(text)


class Operation:
    """What Pacemaker asked for, beyond the parameters.

    ``deadline`` is the action's budget (``OCF_RESKEY_CRM_meta_timeout``, or
    the agent's declared default) less a reserve for reporting the result.
    """

    def __init__(self, action, environ, default_timeout, verbose=False, stdout=None):
        self.action = action
        self.environ = environ
        self.instance = environ.get("OCF_RESOURCE_INSTANCE") or ""
        self.interval_ms = _int_env(environ, "OCF_RESKEY_CRM_meta_interval", 0)
        timeout_ms = _int_env(environ, "OCF_RESKEY_CRM_meta_timeout", 0)
        self.timeout = timeout_ms / 1000.0 if timeout_ms > 0 else default_timeout
        self.deadline = Deadline(self.timeout - reserve_for(self.timeout))
        self.rsctmp = environ.get("HA_RSCTMP") or DEFAULT_RSCTMP
        self.ocf_root = environ.get("OCF_ROOT") or "/usr/lib/ocf"
        self.verbose = verbose
        self.depth = 0  # OCF_CHECK_LEVEL of a monitor, checked against the agent's levels
        self.stdout = stdout if stdout is not None else sys.stdout
        # What the action saw, for metrics_dir: "checks" (the checks' outcomes and
        # the critical names), "binds" (proved, not proved), "lookups".
        self.observed = {}

    def check_level_text(self):
        for name in ("OCF_CHECK_LEVEL", "OCF_RESKEY_OCF_CHECK_LEVEL"):
            text = self.environ.get(name)
            if text is not None and text.strip() != "":
                return text.strip()
        return None

    def check_level(self, levels, default=0):
        """The requested depth, which must be one of ``levels`` (unset: ``default``)."""
        text = self.check_level_text()
        if text is None:
            return default
        try:
            level = int(text)
        except ValueError:
            level = None
        if level not in levels:
            raise OCFError(Status.ERR_CONFIGURED, "OCF_CHECK_LEVEL: %r is not one of %s"
                           % (text, ", ".join(str(x) for x in levels)))
        return level

    def say(self, text):
        """One free-form line of human mode (``--verbose``)."""
        if self.verbose:
            _write(self.stdout, printable(text, 2048) + "\n")

    def report(self, name, target, result, detail="", latency=None):
        """One line of human mode: ``name target result latency detail``."""
        if not self.verbose:
            return
        took = "" if latency is None else "%.1fms" % (latency * 1000)
        _write(self.stdout, "%-12s %-36s %-9s %8s  %s\n" % (
            printable(name, 64), printable(target, 512), result, took, printable(detail, 1024)))


class Agent:
    """Base class: subclasses fill in the class attributes and the actions."""

    name = None
    version = __version__  # the package's: one version for agents, packages and man pages
    shortdesc = ""
    longdesc = ""
    params = ()
    actions = ()           # Action entries for start/stop/monitor/... (metadata)
    check_levels = (0,)    # OCF_CHECK_LEVEL values monitor understands
    default_check_level = 0  # the depth of a monitor without OCF_CHECK_LEVEL
    # False: stop runs even with invalid parameters (it must not depend on them).
    stop_needs_valid_params = True
    # Groups of parameters of which at least one must be set (e.g. "some check
    # is enabled"): a rule across parameters, checked for every action.
    at_least_one = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        declared = {p.name for p in cls.params}
        cls.params = tuple(cls.params) + tuple(p for p in FRAMEWORK_PARAMS if p.name not in declared)

    def __init__(self, log=None):
        self.log = log

    @classmethod
    def metadata_actions(cls):
        """Declared actions plus the ones every agent has."""
        listed = list(cls.actions)
        names = {a.name for a in listed}
        for name, timeout in (("validate-all", 20), ("meta-data", 5)):
            if name not in names:
                listed.append(Action(name, timeout))
        return listed

    @classmethod
    def implements(cls, action):
        method = METHODS.get(action)
        return method is not None and callable(getattr(cls, method, None))

    @classmethod
    def default_timeout(cls, action):
        name = "monitor" if METHODS.get(action) == "monitor" else action
        for declared in cls.actions:
            if declared.name == name:
                return float(declared.timeout)
        return DEFAULT_TIMEOUT

    def derive(self, values):
        """Checks across parameters; may add derived entries to ``values``.

        Yields ``Problem`` objects and runs for every action except
        ``meta-data``, so that ``stop`` and probes see the same rules as
        ``start``.  Parameters that failed to parse are ``None`` here.
        """
        return ()

    def check(self, values, op):
        """Checks beyond single parameters (the node, files, combinations).

        Yields ``Problem`` objects; the default has none.  Runs for
        ``validate-all`` and before ``start``.
        """
        return ()

    def validate_all(self, values, op):
        return Status.SUCCESS

    def inspect(self, values, op):
        """The monitor's verdict, changing nothing on the node or in the cluster.

        What grommunio-ocf-check runs: a ``Status``, or ``OCFError`` with
        the reason, and one ``op.report`` per check.  The default is the
        monitor itself, right for an agent whose monitor only looks (at
        OCF_CHECK_LEVEL 20 grodata-binds' writes and removes its probe
        file, which the command runs only when asked to); an agent whose
        monitor keeps state or publishes anything overrides it.
        """
        return self.monitor(values, op)


def usage(agent):
    actions = ["meta-data"] + [a for a in METHODS if a != "status" and agent.implements(a)]
    return "usage: %s {%s} [--verbose]\n" % (agent.name, "|".join(actions))


def run(agent_cls, argv=None, environ=None, stdout=None, stderr=None):
    """Run one action; returns the exit code (``main`` exits with it)."""
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr

    words = [w for w in argv[1:] if w not in VERBOSE_FLAGS]
    verbose = len(words) < len(argv) - 1 or _isatty(stdout)
    action = words[0] if words else None
    log = Log(agent_cls.name, environ.get("OCF_RESOURCE_INSTANCE"), environ, stderr)
    try:
        status = _run(agent_cls, action, words, verbose, environ, stdout, stderr, log)
    except OCFError as exc:
        log.error("%s: %s" % (action or "usage", exc.reason))
        log.exit_reason(exc.reason)
        status = exc.status
    except Exception as exc:  # the cluster gets a code and a line, never a traceback
        import traceback
        log.debug_lines(traceback.format_exc())
        reason = "%s failed unexpectedly: %s: %s" % (action, type(exc).__name__, printable(exc, 200))
        log.error(reason + " (HA_debug=1 logs the traceback)")
        log.exit_reason(reason)
        status = Status.ERR_GENERIC
    if status not in QUIET and not log.reasons:  # every failure says why, once
        log.exit_reason("%s returned %s" % (action, ocf_name(status)))
    return status


def _run(agent_cls, action, words, verbose, environ, stdout, stderr, log):
    if action in ("meta-data", "meta_data"):
        from .metadata import render
        _write(stdout, render(agent_cls))
        return Status.SUCCESS
    if action in ("usage", "help", "--help", "-h"):
        _write(stdout, usage(agent_cls))
        return Status.SUCCESS
    if action is None or len(words) > 1:
        _write(stderr, usage(agent_cls))
        raise OCFError(Status.ERR_ARGS, "expected exactly one action, got %s"
                       % (quoted(" ".join(words)) if words else "none"))
    if not agent_cls.implements(action):
        log.exit_reason("%s does not implement the %s action" % (agent_cls.name, quoted(action)))
        return Status.ERR_UNIMPLEMENTED
    op = Operation(action, environ, agent_cls.default_timeout(action), verbose, stdout)
    return _dispatch(agent_cls(log), action, op, environ, log)


def parameters(agent, environ):
    """``(values, problems)``: the agent's parameters from ``environ``, each
    checked and then checked across each other -- the same for every action
    and for grommunio-ocf-check."""
    values, problems = parse(agent.params, environ)
    problems.extend(filter(None, (at_least_one(group, values) for group in agent.at_least_one)))
    problems.extend(agent.derive(values))
    return values, problems


def _dispatch(agent, action, op, environ, log):
    try:
        values, problems = parameters(agent, environ)
    except Exception:
        if action != "stop":
            raise
        # A bug in a parameter check must not fail a stop (that means
        # fencing); "unexpectedly" still reaches the log.
        import traceback
        log.debug_lines(traceback.format_exc())
        log.error("stop: the parameters could not be checked (a bug): nothing to stop")
        return Status.SUCCESS
    if METHODS[action] == "monitor":
        try:
            op.depth = op.check_level(agent.check_levels, agent.default_check_level)
        except OCFError as exc:
            problems.append(Problem(exc.status, exc.reason))
    if action == "stop" and problems:
        # Pacemaker stops a resource after a failed validation, and a failed
        # stop escalates to fencing.  Start refuses these parameters, so no
        # start can have made anything with them: there is nothing to stop
        # -- unless the agent's stop does not depend on them at all.
        invalid = "; ".join(p.text for p in problems)
        if agent.stop_needs_valid_params:
            log.warning("stop with invalid parameters (%s): nothing was started with them, "
                        "nothing to stop" % invalid)
            return Status.SUCCESS
        log.warning("stop with invalid parameters (%s): stopping all the same" % invalid)
        problems = []
    if action in ("validate-all", "start"):
        extra = unknown(agent.params, environ)
        if extra:  # a warning, not an error: an older agent may meet a newer CIB
            log.warning("ignoring unknown parameters: %s" % ", ".join(extra))
        if not problems:
            problems.extend(agent.check(values, op))
    if problems:
        raise OCFError(worst(problems), "; ".join(p.text for p in problems))
    method = getattr(agent, METHODS[action])
    if values.__dict__.get("metrics_dir") is None or action not in METRICS_ACTIONS:
        result = method(values, op)
        return Status.SUCCESS if result is None else checked(result)
    status = Status.ERR_GENERIC  # what run() makes of an unexpected exception
    try:
        result = method(values, op)
        status = Status.SUCCESS if result is None else checked(result)
        return status
    except OCFError as exc:
        status = exc.status
        raise
    finally:
        from . import metrics
        metrics.after(agent, op, values, status)


def _write(stream, text):
    """Human-mode output; a closed or narrow stdout must not change the result."""
    try:
        try:
            stream.write(text)
        except UnicodeError:
            stream.write(text.encode("ascii", "backslashreplace").decode("ascii"))
    except Exception:  # noqa: BLE001
        pass


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _flush(stream):
    try:
        stream.flush()
    except Exception:  # noqa: BLE001 -- closed by the caller: drop what is left
        pass


def main(agent_cls):
    """Run the action and leave with its code, skipping the interpreter's finalization.

    Tearing down sixty modules, the checks' thread states and OpenSSL costs a
    monitor about 3 ms -- a third of what it spends beyond the interpreter's
    own start -- and buys nothing: everything the agent writes is out by now
    (syslog sends each message as it is logged, stderr is flushed line by
    line, files are written and closed where they are made, and children are
    waited for), except stdout, flushed here.  A check thread abandoned in
    name resolution cannot delay the exit either.
    """
    status = int(run(agent_cls))
    _flush(sys.stdout)
    _flush(sys.stderr)
    os._exit(status)


__all__ = ["Action", "Agent", "Operation", "Problem", "main", "run"]
