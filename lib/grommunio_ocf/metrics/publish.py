"""The metrics step after an action: write the resource's file, or remove it.

``agent.run`` calls ``after`` once start, monitor or stop has its result,
when ``metrics_dir`` is set:

* start and monitor replace ``grommunio_ocf-AGENT-RESOURCE.prom`` with what
  the action observed (``op.observed``) and its result;
* stop (when it succeeded) and a probe that found the resource not running
  remove it: the resource does not run on this node, so after a failover,
  or a reboot with a persistent directory, no stale file stays behind.

Metrics are a side show: nothing here raises or changes the result.  A
failure is logged once per start -- a marker beside the agent's state in
``HA_RSCTMP`` remembers that it was, start clears it -- so that a full disk
does not write a warning every 30 seconds.
"""

import os
import time

from ..ocf.state import state_path
from ..ocf.status import Status
from . import model, textfile

MARKER = ".metrics-failed"


def _stem(agent_name, instance):
    """``AGENT-RESOURCE`` as the state file has it: no '/', bounded."""
    return os.path.basename(state_path("", agent_name, instance))[:-len(".state")]


def file_name(agent_name, instance):
    return "grommunio_ocf-%s.prom" % _stem(agent_name, instance)


def marker_path(agent_name, op):
    return state_path(op.rsctmp, agent_name, op.instance)[:-len(".state")] + MARKER


def node_name(environ):
    """The node as Pacemaker knows it; outside the cluster, the host's name."""
    return environ.get("OCF_RESKEY_CRM_meta_on_node") or os.uname().nodename


def snapshot(agent, op, values, status, now=None):
    observed = op.observed
    checks = observed.get("checks")
    return model.Snapshot(
        agent.name, op.instance, node_name(op.environ), status,
        time.time() if now is None else now,
        interval=op.interval_ms / 1000.0 if op.action != "start" and op.interval_ms > 0 else None,
        check_timeout=values.__dict__.get("check_timeout"),
        checks=None if checks is None else model.check_samples(*checks),
        binds=observed.get("binds"), lookups=observed.get("lookups"))


def after(agent, op, values, status):
    """Write or remove the resource's file for ``status``; never raises."""
    directory = values.metrics_dir
    try:
        name = file_name(agent.name, op.instance)
        if op.action == "stop":
            if status == Status.SUCCESS:
                _forget(agent.name, op)
                error = textfile.remove(directory, name)
                if error:
                    agent.log.warning("metrics_dir %s: cannot remove %s: %s" % (directory, name, error))
            return
        if op.action == "start":
            _forget(agent.name, op)
        probe = op.action in ("monitor", "status") and op.interval_ms == 0
        if probe and status == Status.NOT_RUNNING:
            error = textfile.remove(directory, name)
            what = "remove"
        else:
            data = model.text(snapshot(agent, op, values, status)).encode("utf-8")
            error = textfile.replace(directory, name, data)
            what = "write"
    except Exception as exc:  # noqa: BLE001 -- a bug here must not change the result
        what, error = "write", "failed unexpectedly: %s: %s" % (type(exc).__name__, exc)
        name = "the metrics file"
    if error:
        _complain(agent, op, "metrics_dir %s: cannot %s %s: %s (metrics stay stale; the "
                  "resource is not affected; logged once per start)" % (directory, what, name, error))


def _forget(agent_name, op):
    try:
        os.unlink(marker_path(agent_name, op))
    except OSError:
        pass


def _complain(agent, op, message):
    """Log ``message`` unless the marker says it was logged since the last start."""
    try:
        fd = os.open(marker_path(agent.name, op),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return
    except OSError:
        pass  # no HA_RSCTMP: better a warning too many than none
    else:
        os.close(fd)
    agent.log.warning(message)
