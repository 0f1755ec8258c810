"""``CheckAgent``: the actions of an agent that watches services it does not run.

``stack-health`` and ``postfix-maps`` start nothing: "started" is a state
file (``state.py``), and their value is the monitor, which runs the agent's
checks in parallel and maps the outcomes to 0 / 190 / 1 (``contract``).
A subclass declares its own parameters and ``checks()``.  The parameters
``CheckAgent`` itself acts on come from here, through ``shared(name)`` in
the subclass's ``params`` (which may give another default or description):
``check_timeout`` every check agent must offer, ``fall`` and
``health_attribute`` are optional.  A missing ``check_timeout``, a shared
name declared by hand with another type, or a missing ``checks()`` fail at
class creation, not at a monitor in the night.

* start: record the state, then run the checks until no critical one
  fails (``start_waits``) or once; fail with the reasons otherwise.
* monitor: 7 without the state; else the verdict, softened to DEGRADED
  until ``fall`` consecutive monitors have failed.
* stop: remove the state; always 0.

The node-health attribute (``health_attribute``) has this life cycle, so
that ``node-health-strategy=migrate-on-red`` can move the stack off a sick
node and keep it off:

* start publishes the colour of its result: green or yellow, or red when
  the start fails (the stack was started here and does not work here);
* monitor publishes the colour whenever it changes;
* stop deletes the attribute only when the last verdict was green or
  yellow.  After a red one it leaves red in place (publishing it again if
  that had failed): the scheduler's move begins with this very stop, and
  deleting red here would abort the move and start the stack again on
  the sick node.  Red stays until a start on this node proves the stack
  healthy or an admin clears it (``crm node status-attr NODE delete 'NAME'``
  or ``attrd_updater -N NODE -n 'NAME' -D``: quoted, "#" starts a shell comment);
* a probe, or any action on a node where the resource was never started,
  leaves the attribute alone: a passive node is never marked.

The state remembers the attribute's name, so a stop acts on the attribute
that start published even if the parameter changed meanwhile.
"""

import time

from ..ocf.agent import Agent
from .contract import Outcome, report, run_all, verdict
from ..base.text import quoted
from ..ocf.params import INTEGER, SECONDS, STRING, Param
from ..ocf.state import StateFile, number
from ..ocf.status import OCFError, Status

MIN_ROUND = 0.5  # seconds a start round gets at least (less for tiny budgets)
COLOURS = {Status.SUCCESS: "green", Status.DEGRADED: "yellow", Status.ERR_GENERIC: "red"}


def _attribute_name(name):
    if name and not all(c.isascii() and (c.isalnum() or c in "#-_.") for c in name):
        raise ValueError("%s is not an attribute name (letters, digits, '#-_.')" % quoted(name))
    if len(name) > 128:
        raise ValueError("%s is longer than 128 characters" % quoted(name))
    return name or None


# The parameters CheckAgent acts on, with the value an agent that does not
# offer one of them gets.
SHARED = {
    "fall": (Param(
        "fall", INTEGER, "1", minimum=1,
        shortdesc="Consecutive failed monitors before the resource fails",
        longdesc="A critical failure fails the resource only after this many monitors in "
                 "a row failed; before that the monitor returns OCF_DEGRADED with "
                 "'failed N of M monitors in a row'. Counted in HA_RSCTMP."), 1),
    "check_timeout": (Param(
        "check_timeout", SECONDS, "5",
        shortdesc="Upper bound for each check, in seconds",
        longdesc="Each check may take this long; the real bound is the smaller of this "
                 "and what is left of the operation's timeout. Checks run in parallel, so "
                 "a monitor takes about as long as its slowest check."), None),
    "health_attribute": (Param(
        "health_attribute", STRING, "", validator=_attribute_name,
        shortdesc="Node attribute for the health colour, e.g. #health-grommunio; empty: off",
        longdesc="When set, publish green (healthy), yellow (degraded) or red (failed) "
                 "with attrd_updater on every change. With a '#health-' name and the "
                 "cluster property node-health-strategy=migrate-on-red, Pacemaker moves "
                 "resources off a sick node. Stop deletes the attribute unless the last "
                 "verdict was red: a red node stays red until a start there passes or an "
                 "admin clears it (crm node status-attr NODE delete '#health-grommunio')."), None),
}
NEEDED = ("check_timeout",)  # no check agent without a bound per check


def shared(name, **changes):
    """CheckAgent's parameter ``name`` for an agent's ``params``; ``changes``:
    another ``default``, ``shortdesc`` or ``longdesc``."""
    return SHARED[name][0].replace(**changes)


class CheckAgent(Agent):
    start_waits = True     # start polls until the critical checks pass
    poll_interval = 1.0    # seconds between start attempts
    # Stop must remove the state file even when the parameters became
    # invalid after start: its path does not depend on them.
    stop_needs_valid_params = False

    # Names of the SHARED parameters this agent offers (set at class creation).
    offers = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        declared = {p.name: p for p in cls.params}
        for name, (param, _default) in SHARED.items():
            mine = declared.get(name)
            if mine is not None and (mine.type, mine.validator) != (param.type, param.validator):
                raise TypeError("%s: parameter %s is CheckAgent's: declare it with shared(%r)"
                                % (cls.__name__, name, name))
        missing = [name for name in NEEDED if name not in declared]
        if missing:
            raise TypeError("%s: a check agent needs the parameter %s: add shared(%r) to its "
                            "params" % (cls.__name__, missing[0], missing[0]))
        if cls.checks is CheckAgent.checks:
            raise TypeError("%s: a check agent must define checks()" % cls.__name__)
        cls.offers = frozenset(name for name in SHARED if name in declared)

    def shared_value(self, values, name):
        """The agent's value of a SHARED parameter, or the value for agents without it."""
        return values[name] if name in self.offers else SHARED[name][1]

    def checks(self, values, op):
        """The ``health.Check`` list for these parameters (enabled ones only)."""
        raise NotImplementedError

    def critical(self, values):
        """Names of checks whose failure fails the resource (default: all)."""
        return None

    def observe(self, op, outcomes, critical):
        """Keep what the checks found for metrics_dir (``op.observed``): per check its
        name, target, up (unless it failed, or was skipped because what it needs
        failed), degraded, duration and whether it is critical."""
        op.observed["checks"] = [(o.name, o.target, o.state not in (Outcome.FAILED, Outcome.SKIPPED),
                                  o.state == Outcome.DEGRADED, o.latency, o.name in critical)
                                 for o in outcomes]

    def report(self, outcomes, op, critical):
        """Human mode (``--verbose``): one line per check, unless an agent says otherwise.

        Only start and monitor print through this; ``inspect`` (grommunio-ocf-check)
        always hands over one row per check.
        """
        report(outcomes, op, critical)

    # -- helpers ---------------------------------------------------------------

    def _evaluate(self, values, op, depth):
        checks = [c for c in self.checks(values, op) if c.level <= depth]
        outcomes = run_all(checks, op.deadline, values.check_timeout, self.log)
        critical = self.critical(values)
        if critical is None:
            critical = {c.name for c in checks}
        status, reason = verdict(outcomes, critical)
        self.observe(op, outcomes, critical)
        return outcomes, critical, status, reason

    def _publish(self, values, op, state, status, force=False):
        """Keep the node-health attribute in step; only calls attrd on a change.

        ``state`` records the verdict's colour (``verdict``), the attribute's
        name and the colour attrd last accepted (``health``).
        """
        name = self.shared_value(values, "health_attribute")
        if not name:
            return
        colour = COLOURS[status]
        state["verdict"] = colour
        state["attribute"] = name
        if force or state.get("health") != colour:
            self._set_colour(name, colour, op, state)

    def _set_colour(self, name, colour, op, state):
        from ..ocf import attrd  # a program to run: only for agents that publish
        error = attrd.publish(name, colour, min(5.0, op.deadline.remaining()))
        if error:
            self.log.warning("cannot publish %s=%s: %s" % (name, colour, error))
            state.pop("health", None)  # try again next time
        else:
            state["health"] = colour

    def _finish(self, status, reason):
        if status == Status.ERR_GENERIC:
            self.log.error(reason)
        elif status == Status.DEGRADED:
            self.log.warning(reason)
        if status != Status.SUCCESS:
            self.log.exit_reason(reason)
        return status

    # -- actions ---------------------------------------------------------------

    def start(self, values, op):
        state_file = StateFile.of(self.name, op)
        state = {"fails": "0"}
        state_file.write(state)
        depth = max(self.check_levels)  # start proves everything once
        attempts = 0
        while True:
            attempts += 1
            outcomes, critical, status, reason = self._evaluate(values, op, depth)
            if status != Status.ERR_GENERIC or not self.start_waits:
                break
            # Another round needs time to sleep and still give each check a
            # fair chance; a starved round would only report "out of time".
            if op.deadline.remaining() <= self.poll_interval + min(MIN_ROUND, op.timeout / 10):
                break
            time.sleep(self.poll_interval)
        self.report(outcomes, op, critical)
        for outcome in outcomes:  # once per start; monitors only show them with --verbose
            if outcome.state == Outcome.WARNED:
                self.log.warning("%s: %s" % (outcome.name, outcome.detail))
        self._publish(values, op, state, status, force=True)
        state_file.write(state)
        if status == Status.ERR_GENERIC:
            if self.start_waits:  # the checks first: Pacemaker keeps 128 characters
                reason = "%s (still failing after %d attempts in %.0fs)" % (
                    reason, attempts, op.timeout)
            raise OCFError(Status.ERR_GENERIC, reason)
        if status == Status.DEGRADED:
            self.log.warning("started, degraded: %s" % reason)
        return Status.SUCCESS

    def monitor(self, values, op):
        state_file = StateFile.of(self.name, op)
        state = state_file.read()
        if state is None:
            return Status.NOT_RUNNING
        outcomes, critical, status, reason = self._evaluate(values, op, op.depth)
        self.report(outcomes, op, critical)
        updated = dict(state)
        fails = number(state, "fails")
        fall = self.shared_value(values, "fall")
        if status == Status.ERR_GENERIC:
            fails += 1
            if fails < fall:
                status = Status.DEGRADED
                reason = "failed %d of %d monitors in a row: %s" % (fails, fall, reason)
        else:
            fails = 0
        updated["fails"] = str(fails)
        self._publish(values, op, updated, status)
        if updated != state:
            state_file.write(updated)
        return self._finish(status, reason)

    def inspect(self, values, op):
        """The checks' verdict at ``op.depth`` as it stands: no state file is
        read or written, no attribute published, and no ``fall`` softens a
        failure (that counts monitors, and this is none)."""
        outcomes, critical, status, reason = self._evaluate(values, op, op.depth)
        report(outcomes, op, critical)
        if status != Status.SUCCESS:
            raise OCFError(status, reason)
        return status

    def stop(self, values, op):
        state_file = StateFile.of(self.name, op)
        try:
            state = state_file.read()
        except OCFError as exc:
            # A failed stop means fencing: remove it all the same, and leave
            # the attribute as it is (red, if it is, must not be lost).
            self.log.warning("%s; leaving any node attribute as it is" % exc.reason)
            state = None
        state_file.remove()
        if state is None:
            return Status.SUCCESS  # not started here: no attribute of ours to touch
        # A state from before the attribute's name was recorded: the parameter's.
        name = state.get("attribute") or self.shared_value(values, "health_attribute")
        if not name:
            return Status.SUCCESS
        if state.get("verdict", state.get("health")) == "red":
            if state.get("health") != "red":
                self._set_colour(name, "red", op, state)
            self.log.warning("leaving %s=red: the stack failed its checks on this node; once "
                             "it is fixed, clear it: crm node status-attr NODE delete '%s'" % (name, name))
            return Status.SUCCESS
        from ..ocf import attrd
        error = attrd.clear(name, min(5.0, op.deadline.remaining()))
        if error:
            self.log.warning("cannot clear %s: %s" % (name, error))
        return Status.SUCCESS
