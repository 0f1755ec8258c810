"""What the benchmarks in tests/bench share: timing children, statistics, tables,
Pacemaker's environment, mount namespaces and mounts, clean-up, fixtures.

Imported by bench_grodata_binds.py, bench_health.py and bench_cluster_cpu.py
(they run as scripts, so this directory is on ``sys.path``).  Standard
library only; the fixture helpers import ``tests/services`` lazily, after
``tests_on_path()``.
"""

import ctypes
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTS = os.path.join(REPO, "tests")

PYTHON = "/usr/bin/python3"
OCF_ROOT = "/usr/lib/ocf"
FILESYSTEM = OCF_ROOT + "/resource.d/heartbeat/Filesystem"
OCF_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"     # PATH of an agent run by Pacemaker's executor
# The guide's bind mounts (grodata/NAME on /var/lib/NAME).
GUIDE_BINDS = ("mysql", "redis", "gromox", "grommunio-web", "grommunio-antispam",
        "grommunio-dav", "grommunio-admin-api")

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 2


class BenchError(Exception):
    """The benchmark cannot run (or go on): the scripts print it and exit 1."""


# -- small things ------------------------------------------------------------------

def log(text):
    """One line on stderr, flushed (the tables go to stdout)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def exit_on_signals():
    """SIGTERM and SIGHUP raise SystemExit(128 + signum), so ``finally`` blocks clean up."""
    def interrupted(signum, frame):
        raise SystemExit(128 + signum)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)


def shebang(path):
    """The first line of ``path``, stripped (an agent's ``#!`` line)."""
    with open(path, "rb") as handle:
        return handle.readline().decode(errors="replace").strip()


def require_executable(path, message):
    """Raise BenchError(``message % path``) unless ``path`` is executable."""
    if not os.access(path, os.X_OK):
        raise BenchError(message % path)


def tests_on_path():
    """Put ``tests/`` first on sys.path, for ``services`` (the fixtures) and ``cluster``."""
    if TESTS not in sys.path:
        sys.path.insert(0, TESTS)


# -- Pacemaker's environment ---------------------------------------------------------

def ocf_env(instance, rtype, provider, interval_ms, timeout_ms, rsctmp=None):
    """The environment Pacemaker's executor gives an agent (the parts that matter).

    ``rsctmp``, if given, is ``HA_RSCTMP`` (the agents' state dir).
    """
    env = {
        "PATH": OCF_PATH,
        "LANG": "C",
        "OCF_ROOT": OCF_ROOT,
        "OCF_RA_VERSION_MAJOR": "1",
        "OCF_RA_VERSION_MINOR": "1",
        "OCF_RESOURCE_INSTANCE": instance,
        "OCF_RESOURCE_TYPE": rtype,
        "OCF_RESOURCE_PROVIDER": provider,
        "OCF_RESKEY_CRM_meta_interval": str(interval_ms),
        "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms),
    }
    if rsctmp is not None:
        env["HA_RSCTMP"] = rsctmp
    env["HA_LOGFACILITY"] = "none"
    return env


# -- running children ----------------------------------------------------------------

class Spawner:
    """Runs children with posix_spawn and times them with wait4.

    Call it for ``(rc, wall s, cpu s)``: the CPU is user+sys of the child and
    of the children it reaped.  The child's stdin is /dev/null, so are its
    stdout and stderr, except with ``capture()``, which needs a ``directory``
    for two scratch files.  ``close()`` closes the descriptors.
    """

    def __init__(self, directory=None):
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.out = self.err = None
        if directory is not None:
            self.out = os.open(os.path.join(directory, "child.out"),
                               os.O_RDWR | os.O_CREAT, 0o600)
            self.err = os.open(os.path.join(directory, "child.err"),
                               os.O_RDWR | os.O_CREAT, 0o600)

    def _run(self, argv, env, out, err):
        actions = [(os.POSIX_SPAWN_DUP2, self.devnull, 0),
                   (os.POSIX_SPAWN_DUP2, out, 1),
                   (os.POSIX_SPAWN_DUP2, err, 2)]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime

    def __call__(self, argv, env):
        """Run ``argv``, output to /dev/null; (rc, wall s, cpu s)."""
        return self._run(argv, env, self.devnull, self.devnull)

    def capture(self, argv, env):
        """Run ``argv``; (rc, wall s, cpu s, stdout, stderr).  Needs a directory."""
        if self.out is None:
            raise ValueError("Spawner() without a directory cannot capture")
        for fd in (self.out, self.err):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        result = self._run(argv, env, self.out, self.err)
        return result + (_read_all(self.out), _read_all(self.err))

    def explain(self, argv, env):
        """Run once more with output captured, for an error message: 'rc N: output'."""
        rc, _, _, out, err = self.capture(argv, env)
        return "rc %d: %s" % (rc, (out + err).strip()[-600:] or "(no output)")

    def close(self):
        for fd in (self.devnull, self.out, self.err):
            if fd is not None:
                os.close(fd)
        self.devnull = self.out = self.err = None


def _read_all(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks).decode("utf-8", "replace")
        chunks.append(chunk)


# -- statistics ------------------------------------------------------------------------

def pct(values, p):
    """The ``p``-th percentile of ``values``, linear between ranks; nan when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Series:
    """One row of a timing table: the wall and CPU times (ms) of the successful runs.

    ``failed`` counts the runs that returned non-zero (not in the lists);
    ``key`` names the row in JSON output.
    """

    def __init__(self, label, key=None):
        self.label = label
        self.key = key
        self.wall = []
        self.cpu = []
        self.failed = 0

    def add(self, wall, cpu):
        """One run, times in seconds (as Spawner returns them)."""
        self.wall.append(wall * 1000.0)
        self.cpu.append(cpu * 1000.0)

    @property
    def median(self):
        """Median wall time in ms; nan when no run succeeded."""
        return statistics.median(self.wall) if self.wall else float("nan")

    def timing_row(self):
        """(label, runs, median, p90, min wall ms, median cpu ms) for timing_table()."""
        if not self.wall:
            return (self.label, 0, None, None, None, None)
        return (self.label, len(self.wall), self.median, pct(self.wall, 90), min(self.wall),
                statistics.median(self.cpu))


def measure_round(spawn, calls, log):
    """One run of each ``(argv, env, series)`` in ``calls``, in order.

    A run that returns 0 adds its times to its series; one that does not
    counts in ``series.failed`` and is logged with its output (run again).
    """
    for argv, env, series in calls:
        rc, wall, cpu = spawn(argv, env)
        if rc != 0:
            series.failed += 1
            log("FAIL: %s: %s" % (series.label, spawn.explain(argv, env)))
        else:
            series.add(wall, cpu)


# -- tables ------------------------------------------------------------------------------

TIMING_TITLES = ("wall clock per run", "runs", "median ms", "p90 ms", "min ms", "cpu ms(med)")


def table_head(fmt, titles):
    """[header line, a rule of dashes as long as it]."""
    head = fmt % tuple(titles)
    return [head, "-" * len(head)]


def timing_table(rows, label_width, widths, decimals):
    """The lines of a wall-clock table: head, rule, one line per row.

    ``rows``: (label, runs, median, p90, min wall ms, median cpu ms), as
    Series.timing_row() gives them; a row with 0 runs says so instead.
    ``widths``: of the four number columns; ``decimals``: their precision.
    """
    fmt = "%%-%ds %%5s " % label_width + " ".join("%%%ds" % w for w in widths)
    row_fmt = "%%-%ds %%5d " % label_width + " ".join("%%%d.%df" % (w, decimals) for w in widths)
    lines = table_head(fmt, TIMING_TITLES)
    for label, runs, *numbers in rows:
        if not runs:
            lines.append("%%-%ds %%5d %%s" % label_width % (label, 0, "(no successful run)"))
        else:
            lines.append(row_fmt % ((label, runs) + tuple(numbers)))
    return lines


def verdict(ok, text, value, target, text_width=44, value_width=12):
    """A check line: 'PASS  text   value   (target ...)', or FAIL."""
    return "%-4s  %-*s %*s   (target %s)" % ("PASS" if ok else "FAIL", text_width, text,
                                              value_width, value, target)


# -- mount namespaces and mounts -------------------------------------------------------

def mount_namespace(pid):
    """The mount namespace of ``pid`` (or "self"), as /proc/PID/ns/mnt names it."""
    return os.readlink("/proc/%s/ns/mnt" % pid)


def root_is_shared():
    """Whether / is a shared mount (its propagation reaches other namespaces)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if fields[4] == "/" and any(f.startswith("shared:")
                                        for f in fields[6:fields.index("-")]):
                return True
    return False


def private_mount_namespace():
    """unshare(CLONE_NEWNS) + mount --make-rprivate /, as tests/helpers.py does.

    Must run while the process is single-threaded.  Children (a cluster's
    daemons, every resource) inherit the namespace: their mounts die with it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --make-rprivate /")


def reexec_in_private_namespace(marker, script, argv):
    """Re-run ``script argv`` under ``unshare -m --propagation private``, unless this is that run.

    The environment variable ``marker`` carries the outer process's pid; in
    the inner run this checks that the namespace differs from the outer one
    and that / is not shared, and returns.  The outer process waits (^C goes
    to the inner run, which cleans up) and exits with the inner one's status.
    """
    outer = os.environ.get(marker)
    if outer:
        try:
            same = mount_namespace("self") == mount_namespace(outer)
        except OSError:
            same = False  # the outer process is gone: nothing to compare with
        if same:
            raise BenchError("%s is set but this is the same mount namespace as pid %s"
                             % (marker, outer))
        if root_is_shared():
            raise BenchError("/ is still a shared mount in this namespace")
        return
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    env = dict(os.environ, **{marker: str(os.getpid())})
    cmd = [unshare, "-m", "--propagation", "private", "--", sys.executable,
           os.path.abspath(script)] + list(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    rc = subprocess.call(cmd, env=env)
    sys.exit(rc if rc >= 0 else 1)


def mount_points_under(top):
    """Mount points at or below ``top``, in mount order (from /proc/self/mountinfo)."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            point = line.split()[4].replace("\\040", " ")
            if point == top or point.startswith(top + "/"):
                points.append(point)
    return points


def detach_all(top):
    """Lazily unmount everything at or below ``top``, latest first; True when none is left."""
    libc = ctypes.CDLL(None, use_errno=True)
    for _ in range(5):
        points = mount_points_under(top)
        if not points:
            return True
        for point in reversed(points):
            libc.umount2(os.fsencode(point), MNT_DETACH)
    return not mount_points_under(top)


# -- clean-up and fixtures -----------------------------------------------------------

class Cleanups:
    """A stack of clean-up callables; close() runs them latest first, logging failures."""

    def __init__(self, log=log):
        self.log = log
        self._stack = []    # (what, callable)

    def add(self, what, closer):
        self._stack.append((what, closer))

    def keep(self, what, obj, method="close"):
        """Register ``obj.method()`` for close(); return ``obj``."""
        self.add(what, getattr(obj, method))
        return obj

    def started(self, what, service):
        """A tests/services fixture: register its cleanup(), then start() it; return it."""
        self.keep(what, service, "cleanup")
        service.start()
        return service

    def close(self):
        while self._stack:
            what, closer = self._stack.pop()
            try:
                closer()
            except Exception as exc:  # noqa: BLE001 -- clean up the rest regardless
                self.log("cleanup: %s: %s" % (what, exc))


def start_mariadb(cleanups):
    """A private MariaDB (tests/services) with the grommunio schema; stopped by ``cleanups``."""
    from services.mariadb import MariaDB
    server = cleanups.started("mariadb", MariaDB())
    server.provision()
    return server


def write_mysql_config(path, host, port):
    """A gromox ``mysql_adaptor.cfg`` for the fixtures' database (mode 0600); returns ``path``.

    ``host`` "localhost" means MariaDB's unix socket, as in gromox.
    """
    from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("mysql_host = %s\nmysql_port = %d\nmysql_username = %s\n"
                     "mysql_password = %s\nmysql_dbname = %s\n"
                     % (host, port, DB_USER, DB_PASSWORD, DB_NAME))
    os.chmod(path, 0o600)
    return path
