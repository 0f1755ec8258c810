"""``CheckAgent``: the actions of an agent that watches services it does not run.

``stack-health`` and ``postfix-maps`` start nothing: "started" is a state
file (``state.py``), and their value is the monitor, which runs the agent's
checks in parallel and maps the outcomes to 0 / 190 / 1 (``health.py``).
A subclass declares its parameters and ``checks()``; the optional
parameters ``fall``, ``check_timeout`` and ``health_attribute`` are used
when the subclass declares them.

* start: record the state, then run the checks until no critical one
  fails (``start_waits``) or once; fail with the reasons otherwise.
* monitor: 7 without the state; else the verdict, softened to DEGRADED
  until ``fall`` consecutive monitors have failed.
* stop: remove the state and the node attribute; always 0.
"""

import time

from .agent import Agent
from .health import WARNING, report, run_all, verdict
from .state import StateFile, number
from .status import OCFError, Status

MIN_ROUND = 0.5  # seconds a start round gets at least (less for tiny budgets)
COLOURS = {Status.SUCCESS: "green", Status.DEGRADED: "yellow", Status.ERR_GENERIC: "red"}


class CheckAgent(Agent):
    start_waits = True     # start polls until the critical checks pass
    poll_interval = 1.0    # seconds between start attempts
    # Stop must remove the state file even when the parameters became
    # invalid after start: its path does not depend on them.
    stop_needs_valid_params = False

    def checks(self, values, op):
        """The ``health.Check`` list for these parameters (enabled ones only)."""
        raise NotImplementedError

    def critical(self, values):
        """Names of checks whose failure fails the resource (default: all)."""
        return None

    # -- helpers ---------------------------------------------------------------

    def _evaluate(self, values, op, depth):
        checks = [c for c in self.checks(values, op) if c.level <= depth]
        outcomes = run_all(checks, op.deadline, getattr(values, "check_timeout", None), self.log)
        critical = self.critical(values)
        if critical is None:
            critical = {c.name for c in checks}
        status, reason = verdict(outcomes, critical)
        return outcomes, critical, status, reason

    def _publish(self, values, op, state, status, force=False):
        """Keep the node-health attribute in step; only calls attrd on a change."""
        name = getattr(values, "health_attribute", None)
        if not name:
            return
        colour = COLOURS[status]
        if force or state.get("health") != colour:
            from . import attrd  # subprocess: only for agents that publish
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
        report(outcomes, op, critical)
        for outcome in outcomes:  # once per start; monitors only show them with --verbose
            if outcome.state == WARNING:
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
        report(outcomes, op, critical)
        updated = dict(state)
        fails = number(state, "fails")
        fall = getattr(values, "fall", None) or 1
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

    def stop(self, values, op):
        StateFile.of(self.name, op).remove()
        name = getattr(values, "health_attribute", None)
        if name:
            from . import attrd
            error = attrd.clear(name, min(5.0, op.deadline.remaining()))
            if error:
                self.log.warning("cannot clear %s: %s" % (name, error))
        return Status.SUCCESS
