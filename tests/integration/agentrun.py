"""Running an agent as Pacemaker would, measured, and the output rules every run must keep.

``run(argv, env, timeout)`` spawns the agent with a bytes-clean environment
(values may be ``bytes``: non-UTF-8 on purpose), collects stdout and stderr
as bytes, and reaps it with ``wait4()``: wall time, the peak RSS of the
agent itself, and the peak RSS of its process tree -- the agent and every
program it started, summed, sampled every 20 ms (what a monitor costs the
node: issue "the bounds must hold for the whole process tree").  ``assert_clean(result)`` checks what the issue-11 tests demand of any
run: no traceback, a valid OCF exit code, at most one ``ocf-exit-reason:``
line -- exactly one on failure --, every line of it printable and bounded.
"""

import os
import subprocess
import tempfile
import time

VALID_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 190, 191}
QUIET_CODES = {0, 7, 8, 9}            # states a monitor reports without a reason
REASON_PREFIX = b"ocf-exit-reason:"
REASON_LIMIT = 512                    # bytes after the prefix (doc/bounds.md)
LOG_LINE_LIMIT = 4096 + 200           # a log message plus level and tag

# The memory bounds of doc/bounds.md: the agent's own peak RSS, and
# what each program it runs at once may add -- RLIMIT_DATA (spawn.MEMORY_LIMIT,
# 32 MiB) plus its code, libraries and stack (a healthy postmap with a MySQL
# map: 18.5 MiB resident, nearly all of it libraries).
AGENT_RSS_MB = 50.0
PROGRAM_RSS_MB = 64.0


def tree_bound_mb(agent, programs=0):
    """The bound on ``agent``'s process tree with ``programs`` running at once."""
    return AGENT_RSS_MB + programs * PROGRAM_RSS_MB


BASE_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
            "HA_LOGFACILITY": "none"}


class Run:
    """One run: exit code, output, wall time; ``rss_mb`` the largest single
    process (wait4's ru_maxrss: the agent, or a program it reaped), ``tree_mb``
    the largest sum over the agent's process tree (at least ``rss_mb``)."""

    def __init__(self, argv, rc, stdout, stderr, wall, rss_kb, tree_kb=0):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.wall = wall
        self.rss_mb = rss_kb / 1024.0
        self.tree_mb = max(rss_kb, tree_kb) / 1024.0

    @property
    def reasons(self):
        return [line[len(REASON_PREFIX):] for line in self.stderr.split(b"\n")
                if line.startswith(REASON_PREFIX)]

    @property
    def reason(self):
        reasons = self.reasons
        return reasons[0].decode("utf-8", "replace") if reasons else None

    def __repr__(self):
        return "Run(%r: rc=%s, %.2fs, %.1f MB, tree %.1f MB, stderr=%r)" % (
            self.argv[1:], self.rc, self.wall, self.rss_mb, self.tree_mb, self.stderr[-1500:])


# Why a launcher: Linux counts in a child's peak RSS the memory of the
# process it was forked (or vforked, as posix_spawn does) from, up to its
# exec() -- from pytest or a benchmark, that is tens of MB which are not the
# agent's.  A bare interpreter forks the agent instead, so the floor is a
# bare interpreter's size (below any agent's own), and reports the agent's
# exit status, peak RSS (KiB), wall time and the peak of its tree (KiB) on
# the descriptor given as its first argument.  It kills the agent (SIGKILL)
# at the time limit, its second.
#
# The tree is the agent and its descendants, found through
# /proc/PID/task/TID/children (every thread's children: the agents spawn from
# check threads), their VmRSS from /proc/PID/statm summed, every 20 ms while
# the agent runs.  A walk costs ~10 us; a scan of all of /proc (by session)
# ~1 ms of CPU, 50 times a second, for each of the hundreds of runs of the
# hostile tests.  What it cannot see: a program that leaves the tree (double
# fork) -- the agents' programs do not, and spawn reaps each of them.
# Shared pages (libc, a tool's libraries) count once per process: the sum is
# an upper bound of what the tree holds, as the OOM killer sees it.
LAUNCHER = r"""
import os, signal, sys, time
report, limit, argv = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

def tree_kb(pid):
    total, todo = 0, [pid]
    while todo:
        pid = todo.pop()
        try:
            with open("/proc/%d/statm" % pid, "rb") as statm:
                total += int(statm.read().split()[1]) * PAGE_KB
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, tid), "rb") as children:
                    todo.extend(int(child) for child in children.read().split())
        except (OSError, ValueError, IndexError):
            pass  # gone meanwhile
    return total

started = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.setitimer(signal.ITIMER_REAL, limit)
peak = 0
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    peak = max(peak, tree_kb(pid))
    time.sleep(0.02)
wall = time.monotonic() - started
os.write(report, b"%d %d %.6f %d" % (os.waitstatus_to_exitcode(status), usage.ru_maxrss, wall,
                                    peak))
"""
PYTHON = "/usr/bin/python3"


def run(argv, env, timeout=30.0, cwd=None, measure=True):
    """Run ``argv`` with exactly ``env`` (str or bytes values); killed after ``timeout``.

    ``measure=False`` spawns it directly (no launcher: faster, but the peak
    RSS it reports is the caller's, not the agent's).
    """
    environ = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
    if not measure:
        started = time.monotonic()
        proc = subprocess.run(argv, env=environ, cwd=cwd, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout)
        return Run(argv, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, 0)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        report_r, report_w = os.pipe()
        try:
            proc = subprocess.Popen([PYTHON, "-IS", "-c", LAUNCHER, str(report_w), str(timeout),
                                     *argv], env=environ, cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, pass_fds=(report_w,))
        finally:
            os.close(report_w)
        with os.fdopen(report_r, "rb") as report:
            words = report.read().split()
        proc.wait(timeout + 10)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if len(words) != 4:
        raise AssertionError("the launcher failed (rc %s): %r" % (proc.returncode, stderr))
    return Run(argv, int(words[0]), stdout, stderr, float(words[2]), int(words[1]), int(words[3]))


def assert_clean(result, action=None):
    """The rules of issue 11 for any run of any agent with any input."""
    assert b"Traceback" not in result.stderr + result.stdout, result
    assert b"failed unexpectedly" not in result.stderr, result
    assert result.rc in VALID_CODES, result
    reasons = result.reasons
    assert len(reasons) <= 1, result
    if result.rc not in QUIET_CODES:
        assert len(reasons) == 1, result
    for reason in reasons:
        assert len(reason) <= REASON_LIMIT, result
        assert reason.decode("utf-8").isprintable(), result
    for line in result.stderr.split(b"\n"):
        text = line.decode("utf-8")          # valid UTF-8: undecodable bytes are escaped
        assert text.isprintable() and len(line) <= LOG_LINE_LIMIT, (line[:300], result)
    if action == "stop":
        assert (result.rc, reasons) == (0, []), result


def monitor_against(agent, case, rsctmp, check_timeout=2.0, instance="hostile"):
    """One measured ``stack-health monitor`` against a fresh peer of ``case``
    (services.hostile): started (a state file in ``rsctmp``), operation
    timeout 10 s, only the case's check enabled."""
    with case.make() as peer:
        env = dict(BASE_ENV, OCF_RESOURCE_INSTANCE=instance, HA_RSCTMP=rsctmp,
                   OCF_RESKEY_CRM_meta_timeout="10000", OCF_RESKEY_CRM_meta_interval="30000",
                   OCF_RESKEY_check_timeout=str(check_timeout))
        os.makedirs(rsctmp, exist_ok=True)
        for name, value in case.params(peer, rsctmp).items():
            env["OCF_RESKEY_" + name] = value
        with open(os.path.join(rsctmp, "stack-health-%s.state" % instance), "w") as state:
            state.write("fails=0\n")      # started: the monitor runs its checks
        return run([agent, "monitor"], env, timeout=30)


GOOD_CF = ("user = grommunio\npassword = not-used\nhosts = inet:127.0.0.1:{port}\n"
           "dbname = grommunio\nquery = SELECT 1 FROM domains WHERE domainname='%s'\n")


def write_cooled(path, text, mode=0o644):
    """A Postfix file as Postfix wants it: root:postfix, ``mode``, and a minute old
    (Postfix re-reads a file changed within the last second until it cools down)."""
    import grp
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)
    try:
        gid = grp.getgrnam("postfix").gr_gid
    except KeyError:
        gid = 0
    os.chown(path, 0, gid)
    os.chmod(path, mode)
    then = os.stat(path).st_mtime - 60
    os.utime(path, (then, then))


def postfix_maps_against(agent, place, kind, directory, action="monitor", check_timeout=2.0):
    """One measured ``postfix-maps ACTION`` with a hostile file (services.hostile_files)
    of ``kind`` at ``place``, in the fresh ``directory``: started (a state file),
    operation timeout 10 s, milters and virtual_transport off; a good map beside it
    points at a closed port.  A ``.cf`` only main.cf names is checked at level 0
    (postconf reads it; no lookup of ours would), every other place at level 10."""
    from services.hostile_files import made
    from services.listeners import closed_port
    os.makedirs(directory)
    rsctmp = os.path.join(directory, "rsctmp")
    os.mkdir(rsctmp)
    with open(os.path.join(rsctmp, "postfix-maps-hostile.state"), "w") as state:
        state.write("fails=0\n")
    config = os.path.join(directory, "postfix")
    os.mkdir(config)
    good = os.path.join(config, "good.cf")
    write_cooled(good, GOOD_CF.format(port=closed_port()), 0o640)
    write_cooled(os.path.join(config, "master.cf"), "")
    params = {"milters": "off", "virtual_transport": "off", "config_directory": config,
              "check_timeout": str(check_timeout), "maps": "virtual_alias_maps=mysql:%s" % good}
    main_cf = "virtual_alias_maps = mysql:%s\n" % good
    fixed = "main.cf" if place == "main.cf" else None
    with made(kind, config if fixed else directory, fixed) as path:
        if place == "maps":
            params["maps"] = "virtual_alias_maps=mysql:%s" % path
            main_cf = "virtual_alias_maps = mysql:%s\n" % path
        elif place == "main.cf-maps":
            main_cf = "virtual_alias_maps = mysql:%s, mysql:%s\n" % (good, path)
        elif place == "config_directory":
            params["config_directory"] = path
        if not fixed:
            write_cooled(os.path.join(config, "main.cf"), "compatibility_level = 3.6\n" + main_cf)
        env = dict(BASE_ENV, OCF_RESOURCE_INSTANCE="hostile", HA_RSCTMP=rsctmp,
                   OCF_RESKEY_CRM_meta_timeout="10000", OCF_RESKEY_CRM_meta_interval="30000",
                   OCF_CHECK_LEVEL="0" if place == "main.cf-maps" else "10")
        env.update({"OCF_RESKEY_" + name: value for name, value in params.items()})
        return run([agent, action], env, timeout=30)
