"""Prometheus metrics: the step after an action that writes the resource's file,
or removes it (the ``metrics_dir`` parameter is declared in ``agent``).

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

The file is put in place so that nothing planted in the directory is ever
followed (``replace``, ``remove``): node_exporter's directory is often
owned by the prometheus user, so a name in it may be anything when we
come -- a symlink to /etc/shadow, a hard link, a directory, a FIFO.  With
the directory opened once and every step relative to that descriptor:

* the new text goes into a fresh temporary name (``O_CREAT | O_EXCL |
  O_NOFOLLOW``: a name planted there fails the open, nothing is followed),
  hidden and ending in ``.tmp`` so that the collector (``*.prom``) skips it;
* it gets mode 0644 whatever the umask (``fchmod`` on that descriptor);
* ``rename`` puts it in place: it replaces whatever the name was -- a
  symlink is replaced, never followed -- and a reader sees the old file or
  the new one, never half of one;
* ``unlink`` removes a name and never what a link points to.

The directory itself is the admin's choice (``metrics_dir``) and may be a
symlink.  ``replace`` and ``remove`` return ``None`` or the error as text.
"""

import os
import time

from .state import state_path
from .status import Status

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
    from ..base import exposition
    return exposition.Snapshot(
        agent.name, op.instance, node_name(op.environ), status,
        time.time() if now is None else now,
        interval=op.interval_ms / 1000.0 if op.action != "start" and op.interval_ms > 0 else None,
        check_timeout=values.__dict__.get("check_timeout"),
        checks=None if checks is None else [exposition.CheckSample(*c) for c in checks],
        binds=observed.get("binds"), lookups=observed.get("lookups"))


def after(agent, op, values, status):
    """Write or remove the resource's file for ``status``; never raises."""
    directory = values.metrics_dir
    try:
        name = file_name(agent.name, op.instance)
        if op.action == "stop":
            if status == Status.SUCCESS:
                _forget(agent.name, op)
                error = remove(directory, name)
                if error:
                    agent.log.warning("metrics_dir %s: cannot remove %s: %s" % (directory, name, error))
            return
        if op.action == "start":
            _forget(agent.name, op)
        probe = op.action in ("monitor", "status") and op.interval_ms == 0
        if probe and status == Status.NOT_RUNNING:
            error = remove(directory, name)
            what = "remove"
        else:
            from ..base import exposition  # only when metrics_dir is set
            data = exposition.text(snapshot(agent, op, values, status)).encode("utf-8")
            error = replace(directory, name, data)
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


# -- the file, never through a link ---------------------------------------------


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
MODE = 0o644


def _reason(exc):
    return exc.strerror or str(exc)


def replace(directory, name, data):
    """Put ``data`` (bytes) in ``directory/name``; ``None`` or why not."""
    try:
        dir_fd = os.open(directory, _DIR_FLAGS)
    except OSError as exc:
        return _reason(exc)
    temporary = None
    try:
        # A name that is taken (a killed run's leftover, or something planted)
        # is removed -- unlink never follows -- and the next name tried.
        for attempt in range(3):
            candidate = ".%s.%d.%d.tmp" % (name, os.getpid(), attempt)
            try:
                fd = os.open(candidate, _NEW_FLAGS, MODE, dir_fd=dir_fd)
            except FileExistsError:
                os.unlink(candidate, dir_fd=dir_fd)  # ours by name; unlink never follows
                continue
            temporary = candidate
            break
        if temporary is None:
            return "cannot create a temporary file"
        try:
            os.fchmod(fd, MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        temporary = None
        return None
    except OSError as exc:
        return _reason(exc)
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary, dir_fd=dir_fd)
            except OSError:
                pass
        os.close(dir_fd)


def remove(directory, name):
    """Remove ``directory/name`` if it is there; ``None`` or why not."""
    try:
        os.unlink(os.path.join(directory, name))
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # the directory is gone or a file: no file of ours in it
    except OSError as exc:
        return _reason(exc)
    return None
