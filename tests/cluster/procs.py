"""Processes of the test cluster: finding, recording and ending them by PID.

Nothing here kills by name: names only tell whether a recorded PID still is
the process it was (PIDs get reused), and whether some cluster daemon that
nobody recorded is running.
"""

import os
import shutil
import signal
import time

# Daemon names as /proc/PID/comm has them, cut to 15 characters ("pacemaker-contr").
# Short-lived processes carry them too: the daemons' own forks (pacemaker-based
# writes the CIB to disk from one) and crmsh's "pacemaker-controld metadata" calls.
CLUSTER_COMMS = {name[:15] for name in (
    "corosync", "pacemakerd", "pacemaker-based", "pacemaker-fenced", "pacemaker-execd",
    "pacemaker-attrd", "pacemaker-schedulerd", "pacemaker-controld")}


class ProcessError(AssertionError):
    pass


def poll(condition, timeout, interval=0.1):
    """Call ``condition`` until it returns something true, or until ``timeout``; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return None


def _stat(pid):
    """The fields of /proc/PID/stat after the command name: state, ppid, ..."""
    with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def ppid(pid):
    try:
        return int(_stat(pid)[1])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid):
    """True while ``pid`` exists and is not a zombie (PID 1 may take its time to reap)."""
    try:
        return _stat(pid)[0] != "Z"
    except (OSError, IndexError):
        return False


def cluster_processes():
    """{pid: comm} of every live process that has a cluster daemon's name."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            name = comm(int(entry))
            if name in CLUSTER_COMMS and alive(int(entry)):
                found[int(entry)] = name
    return found


def describe(processes):
    return ", ".join("%s (pid %d, parent %s)" % (name, pid, ppid(pid))
                     for pid, name in sorted(processes.items()))


def terminate(pid, name, grace):
    """SIGTERM ``pid`` if it still is ``name``; SIGKILL it after ``grace`` seconds."""
    if not pid or comm(pid) != name[:15]:      # gone, or the PID was reused
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if poll(lambda: not alive(pid), wait, 0.05):
            return
    raise ProcessError("%s (%d) survived SIGKILL" % (name, pid))


def remove_ipc_files(pids):
    """libqb's shared-memory IPC files of ``pids``, which stay in /dev/shm after a SIGKILL."""
    pids = {str(pid) for pid in pids}
    for entry in os.listdir("/dev/shm"):
        if entry.startswith("qb-") and pids & set(entry.split("-")):
            path = os.path.join("/dev/shm", entry)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


class PidFiles:
    """Files of "PID NAME" lines in ``directory``, so a later run can end what a killed one left."""

    def __init__(self, directory):
        self.directory = directory

    def write(self, filename, processes):
        with open(os.path.join(self.directory, filename), "w", encoding="utf-8") as handle:
            handle.writelines("%d %s\n" % (pid, name) for pid, name in processes)

    def read(self, filename):
        """[(pid, name)], empty when there is no such file."""
        try:
            with open(os.path.join(self.directory, filename), encoding="utf-8") as handle:
                return [(int(pid), name) for pid, name in (line.split() for line in handle if line.strip())]
        except (OSError, ValueError):
            return []

    def pid(self, filename):
        found = self.read(filename)
        return found[0][0] if found else 0

    def remove(self, filename):
        try:
            os.unlink(os.path.join(self.directory, filename))
        except FileNotFoundError:
            pass
