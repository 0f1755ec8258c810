"""What the private test servers (services.mariadb, services.dovecot, services.redis) share.

Free TCP ports, and run directories: every server keeps its files in a
directory of its own (``new_run_dir()``) that records the pytest process
owning it.  A later run removes the directories of dead owners, after
ending what they left running (pytest killed with -9), so that neither
directories nor servers pile up.
"""

import os
import shutil
import socket
import subprocess
import tempfile


def free_port(host="127.0.0.1"):
    """A TCP port the kernel just considered free (a tiny race: start() retries on "in use")."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name (state first), or None if gone."""
    try:
        with open("/proc/%s/stat" % pid, encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError, ValueError):
        return None


def start_time(pid, zombie_lives=True):
    """The kernel's start time of ``pid`` (tells a live process from a reused pid), or None
    if it is gone; with ``zombie_lives=False`` also if it is a zombie."""
    fields = proc_stat(pid)
    if fields is None or len(fields) < 20:
        return None
    if not zombie_lives and fields[0] in ("Z", "X"):
        return None
    return fields[19]


def record_pid(path, pid):
    """Write "PID STARTTIME" to ``path``, for ``recorded_pid()``."""
    with open(path, "w", encoding="ascii") as handle:
        handle.write("%d %s\n" % (pid, start_time(pid)))


def recorded_pid(path, zombie_lives=True):
    """The pid ``record_pid()`` wrote to ``path`` if that very process still lives, else None
    (also if there is no such file, or it is incomplete)."""
    try:
        with open(path, encoding="ascii") as handle:
            pid, started = handle.read().split()
        pid = int(pid)
    except (OSError, ValueError):
        return None
    return pid if start_time(pid, zombie_lives) == started else None


def reap_leftovers(root, kill):
    """Remove the run directories under ``root`` whose owner is dead, calling ``kill(run)``
    first to end what the run left running.

    An owner that is a zombie counts as dead (in containers without an init
    that reaps, a killed pytest stays one).  A directory without an owner
    file belongs to a run that died while creating it.  A directory whose
    owner still lives belongs to a concurrent run (maybe another engineer's)
    and is left alone.
    """
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return
    for name in names:
        run = os.path.join(root, name)
        if recorded_pid(os.path.join(run, "owner"), zombie_lives=False) is not None:
            continue
        kill(run)
        shutil.rmtree(run, ignore_errors=True)


def new_run_dir(root, kill):
    """A fresh run directory under ``root`` owned by this process, after reaping the
    leftovers of dead runs there (``kill`` as for ``reap_leftovers()``)."""
    os.makedirs(root, exist_ok=True)
    reap_leftovers(root, kill)
    directory = tempfile.mkdtemp(prefix="run-", dir=root)
    record_pid(os.path.join(directory, "owner"), os.getpid())
    return directory


def self_signed(cert_path, key_path, name):
    """A self-signed certificate (EC P-256, milliseconds to make) for ``name``, its only
    subjectAltName: ``cert_path`` is both the server certificate and the CA to trust."""
    proc = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "7", "-subj", "/CN=%s" % name, "-addext", "subjectAltName=DNS:%s" % name,
         "-keyout", key_path, "-out", cert_path],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError("openssl req failed: %s" % proc.stderr)


def serving(service):
    """A session fixture's body: ``service`` started, and cleaned up at the end
    whatever happened (``yield from serving(Dovecot())``)."""
    try:
        service.start()
        yield service
    finally:
        service.cleanup()


def repaired(service):
    """A per-test fixture's body over the session's ``service``: running before the
    test and again after it, whatever the test did (kill(), stop(), pause())."""
    service.ensure_running()
    yield service
    service.ensure_running()
