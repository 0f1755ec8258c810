#!/usr/bin/python3
"""Benchmark: what bounding a child's memory costs, by each way of doing it, and what it must allow.

The agents run Postfix's and Pacemaker's tools through ``spawn.run``
(``posix_spawn``), from threads.  ``posix_spawn`` takes no rlimit, and a
``setrlimit`` of the agent's own around the spawn would race with the other
threads, so the candidates are measured here side by side, interleaved:

  none          posix_spawn, no limit (the cost floor)
  prlimit(2)    posix_spawn, then resource.prlimit() on the child (what spawn.run does)
  prlimit(1)    posix_spawn of util-linux' ``prlimit --data=N:N -- PROGRAM``
  sh ulimit     posix_spawn of ``/bin/sh -c 'ulimit -d KiB && exec "$0" "$@"' PROGRAM``
  fork+exec     os.fork, resource.setrlimit in the child, os.execv (measured single-
                threaded here; in an agent its checks run in threads, where a fork may
                deadlock the child and Python 3.12+ warns about it on stderr)

For each: the wall time from the spawn to the reap and the CPU of the child
(wait4), medians over ``--runs`` runs, for ``/bin/true`` and for the
postfix-maps agent's own ``postconf -c DIR -x ...`` call.  Then:

* the import of ``resource`` (``python3 -X importtime``), which prlimit(2)
  and fork+exec need;
* how often a child spawned with prlimit(2) runs before its limit lands
  (``cat /proc/self/limits`` with ``--busy`` threads of the parent holding the
  GIL, as a monitor's checks do), and the peak RSS of a child that grows as
  fast as it can from its first moment (``postconf`` with a main.cf of
  ``/dev/zero``; ``postmap`` with a ``.cf`` of it): the price of the race;
* with ``--mysql`` (root; starts the MariaDB fixture): the least data (and
  address space) a healthy ``postmap -q`` with a MySQL map and ``postconf``
  need, found by bisection, and their peak RSS (``VmHWM`` sampled every
  millisecond) -- the numbers the chosen limit must stay far above; and the
  peak of a healthy level-10 postfix-maps monitor's process tree (the work
  tree's agent, through tests/integration/agentrun.py's sampling launcher).

Standard library only; ``--json`` for machine-readable output.  Exit status
0 when it ran, 1 when it could not, 2 on usage errors.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import REPO, Cleanups, exit_on_signals, log, tests_on_path

sys.path.insert(0, os.path.join(REPO, "lib"))

from grommunio_ocf.base import spawn  # noqa: E402
from grommunio_ocf.ocf.deadline import Deadline  # noqa: E402

LIMIT = spawn.MEMORY_LIMIT
POSTCONF = "/usr/sbin/postconf"
POSTMAP = "/usr/sbin/postmap"
PRLIMIT = shutil.which("prlimit") or "/usr/bin/prlimit"
AGENT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}  # no LANG: what the agents pass on


# -- the candidates: each returns the pid of a child running argv, bounded ------------------

def _actions():
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    return null, [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                  (os.POSIX_SPAWN_DUP2, null, 2)]


def start_none(argv, null, actions):
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)


def start_prlimit_call(argv, null, actions):
    return spawn._start(argv, os.environ, actions, LIMIT)


def start_prlimit_program(argv, null, actions):
    return os.posix_spawn(PRLIMIT, [PRLIMIT, "--data=%d:%d" % (LIMIT, LIMIT), "--", *argv],
                          os.environ, file_actions=actions)


def start_sh_ulimit(argv, null, actions):
    return os.posix_spawn("/bin/sh", ["sh", "-c", 'ulimit -d %d && exec "$0" "$@"' % (LIMIT >> 10),
                                      *argv], os.environ, file_actions=actions)


def start_fork(argv, null, actions):
    pid = os.fork()
    if pid == 0:
        try:
            resource.setrlimit(resource.RLIMIT_DATA, (LIMIT, LIMIT))
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    return pid


CANDIDATES = [("none", start_none), ("prlimit(2)", start_prlimit_call),
              ("prlimit(1)", start_prlimit_program), ("sh ulimit", start_sh_ulimit),
              ("fork+exec", start_fork)]


def one(start, argv):
    """(wall seconds from spawn to reap, child CPU seconds)."""
    null, actions = _actions()
    try:
        began = time.perf_counter()
        pid = start(argv, null, actions)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - began
    finally:
        os.close(null)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s exited %d" % (argv, os.waitstatus_to_exitcode(status)))
    return wall, usage.ru_utime + usage.ru_stime


def costs(programs, runs):
    """{program label: {candidate: (median wall ms, median CPU ms)}}, interleaved."""
    result = {}
    for label, argv in programs:
        samples = {name: ([], []) for name, _ in CANDIDATES}
        for _ in range(3):  # warm-up: page cache, dynamic linker
            for name, start in CANDIDATES:
                one(start, argv)
        for _ in range(runs):
            for name, start in CANDIDATES:
                wall, cpu = one(start, argv)
                samples[name][0].append(wall)
                samples[name][1].append(cpu)
        result[label] = {name: (statistics.median(w) * 1000, statistics.median(c) * 1000)
                         for name, (w, c) in samples.items()}
    return result


# -- import resource ---------------------------------------------------------------------------

def import_cost(runs):
    """Median self+cumulative microseconds of ``import resource`` in a fresh ``python3 -IS``."""
    values = []
    for _ in range(runs):
        err = subprocess.run(["/usr/bin/python3", "-IS", "-X", "importtime", "-c", "import resource"],
                             capture_output=True, text=True, check=True).stderr
        for line in err.splitlines():
            if line.rstrip().endswith("| resource"):
                values.append(int(line.split("|")[1]))
    return statistics.median(values)


# -- the race of prlimit(2) ------------------------------------------------------------------

def race(runs, busy):
    """How many of ``runs`` children read /proc/self/limits before their limit landed."""
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            sum(range(1000))  # pure Python: holds the GIL as a check's own work does

    threads = [threading.Thread(target=spin, daemon=True) for _ in range(busy)]
    for thread in threads:
        thread.start()
    early = 0
    try:
        for _ in range(runs):
            done = spawn.run(["/bin/cat", "/proc/self/limits"], Deadline(5))
            line = [x for x in done.stdout.splitlines() if x.startswith("Max data size")][0]
            early += line.split()[3] == "unlimited"
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return early


def runaway_peak(argv, runs, busy):
    """The largest VmHWM (KiB) of ``argv`` (a tool reading /dev/zero) under prlimit(2)."""
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            sum(range(1000))

    threads = [threading.Thread(target=spin, daemon=True) for _ in range(busy)]
    for thread in threads:
        thread.start()
    peaks = []
    try:
        for _ in range(runs):
            null, actions = _actions()
            try:
                pid = spawn._start(argv, os.environ, actions, LIMIT)
                peaks.append(_sample_hwm(pid, argv[0]))
            finally:
                os.close(null)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return max(peaks)


def _sample_hwm(pid, program):
    """Sample ``pid``'s VmHWM every millisecond until it exits; reap it; the largest (KiB).

    Only once it runs ``program``: a forked child is a copy of this process until its exec.
    """
    peak = 0
    program = os.path.realpath(program)
    while True:
        try:
            if os.readlink("/proc/%d/exe" % pid) == program:
                with open("/proc/%d/status" % pid) as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return peak
        time.sleep(0.001)


# -- what a healthy tool needs (--mysql) ------------------------------------------------------

def needs(argv, ok):
    """(least RLIMIT_DATA, least RLIMIT_AS, peak VmHWM KiB) of ``argv``; ``ok(stdout)`` says success."""
    def runs_with(which, limit):
        with tempfile.TemporaryFile() as out:
            pid = os.fork()
            if pid == 0:
                try:
                    if which is not None:
                        resource.setrlimit(which, (limit, limit))
                    os.dup2(out.fileno(), 1)
                    null = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(null, 2)
                    os.execve(argv[0], argv, AGENT_ENV)
                finally:
                    os._exit(127)
            peak = _sample_hwm(pid, argv[0]) if which is None else (os.waitpid(pid, 0) and 0)
            out.seek(0)
            return peak, out.read()

    peak, output = runs_with(None, None)
    if not ok(output):
        raise RuntimeError("%s fails even without a limit: %r" % (argv, output))
    least = []
    for which in (resource.RLIMIT_DATA, resource.RLIMIT_AS):
        low, high = 1 << 16, 1 << 32
        while high - low > 1 << 16:
            middle = (low + high) // 2
            if ok(runs_with(which, middle)[1]):
                high = middle
            else:
                low = middle
        least.append(high)
    return least[0], least[1], peak


def healthy_needs(cleanups):
    tests_on_path()
    from benchlib import start_mariadb
    from services.postfix import PostfixConfig
    server = start_mariadb(cleanups)
    directory = tempfile.mkdtemp(prefix="bench-spawn-postfix.")
    cleanups.add("postfix dir", lambda: shutil.rmtree(directory, ignore_errors=True))
    config = PostfixConfig(directory, server)
    table = "mysql:" + config.maps["virtual_alias_maps"]
    result = {
        "postmap -q (MySQL, found)": needs([POSTMAP, "-c", directory, "-q", "info@example.com", table],
                                            lambda out: out.strip() == b"alice@example.com"),
        "postconf -c DIR -x (4 maps)": needs(
            [POSTCONF, "-c", directory, "-x", *sorted(config.maps), "virtual_transport"],
            lambda out: out.count(b"\n") == 5),
    }
    return result, healthy_tree(directory, config)


def healthy_tree(directory, config, runs=20):
    """Peak RSS of a healthy postfix-maps level-10 monitor (the work tree's agent) and of
    its tree (agent + postconf + 4 postmap), through agentrun's sampling launcher:
    (median tree MB, max tree MB, max single process MB)."""
    sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
    from agentrun import BASE_ENV, run
    rsctmp = os.path.join(directory, "rsctmp")
    os.mkdir(rsctmp)
    with open(os.path.join(rsctmp, "postfix-maps-bench.state"), "w") as state:
        state.write("fails=0\n")
    env = dict(BASE_ENV, OCF_RESOURCE_INSTANCE="bench", HA_RSCTMP=rsctmp, OCF_CHECK_LEVEL="10",
               OCF_RESKEY_CRM_meta_timeout="30000", OCF_RESKEY_config_directory=directory,
               OCF_RESKEY_milters="off",
               OCF_RESKEY_maps=" ".join("%s=mysql:%s" % item for item in sorted(config.maps.items())))
    results = [run([os.path.join(REPO, "agents", "postfix-maps"), "monitor"], env)
               for _ in range(runs)]
    if any(r.rc != 0 for r in results):
        raise RuntimeError("a healthy monitor failed: %r" % [r for r in results if r.rc][0])
    trees = [r.tree_mb for r in results]
    return statistics.median(trees), max(trees), max(r.rss_mb for r in results)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="spawns per candidate (default 200)")
    parser.add_argument("--busy", type=int, default=4,
                        help="GIL-holding threads during the race measurement (default 4)")
    parser.add_argument("--mysql", action="store_true",
                        help="also measure a healthy postmap/postconf (root; starts MariaDB)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if args.runs < 5 or args.busy < 0:
        parser.error("--runs must be at least 5, --busy not negative")
    for tool in (POSTCONF, POSTMAP, PRLIMIT):
        if not os.access(tool, os.X_OK):
            log("ERROR: %s is not installed" % tool)
            return 1
    exit_on_signals()
    cleanups = Cleanups()
    started = time.monotonic()
    try:
        directory = tempfile.mkdtemp(prefix="bench-spawn.")
        cleanups.add("temp dir", lambda: shutil.rmtree(directory, ignore_errors=True))
        with open(os.path.join(directory, "main.cf"), "w") as main_cf:
            main_cf.write("compatibility_level = 3.6\nvirtual_transport = smtp:[::1]:24\n")
        open(os.path.join(directory, "master.cf"), "w").close()
        then = time.time() - 60  # cooled: Postfix re-reads a file changed this second
        for name in ("main.cf", "master.cf"):
            os.utime(os.path.join(directory, name), (then, then))
        log("spawn costs ...")
        table = costs([("/bin/true", ["/bin/true"]),
                       ("postconf -c DIR -x", [POSTCONF, "-c", directory, "-x",
                                               "virtual_transport", "smtpd_milters"])], args.runs)
        log("import resource ...")
        imported = import_cost(20)
        log("the race of prlimit(2) ...")
        early_idle = race(args.runs, 0)
        early_busy = race(args.runs, args.busy)
        zero = os.path.join(directory, "zero")
        os.mkdir(zero)
        os.symlink("/dev/zero", os.path.join(zero, "main.cf"))
        runaway = {"postmap, a .cf of /dev/zero": runaway_peak(
                       [POSTMAP, "-c", directory, "-q", "x", "mysql:/dev/zero"], 20, args.busy),
                   "postconf, a main.cf of /dev/zero": runaway_peak(
                       [POSTCONF, "-c", zero, "-x", "virtual_transport"], 20, args.busy)}
        healthy, tree = healthy_needs(cleanups) if args.mysql else ({}, None)
    finally:
        cleanups.close()
    if args.json:
        print(json.dumps({"limit_bytes": LIMIT, "costs_ms": table, "import_resource_us": imported,
                          "race": {"runs": args.runs, "early_idle": early_idle,
                                   "early_busy": early_busy, "busy_threads": args.busy,
                                   "runaway_hwm_kib": runaway},
                          "healthy": {k: {"least_data": v[0], "least_as": v[1], "hwm_kib": v[2]}
                                      for k, v in healthy.items()},
                          "healthy_monitor_tree_mb": tree}, indent=1))
        return 0
    lines = ["RLIMIT_DATA for every child: %d MiB" % (LIMIT >> 20), ""]
    fmt = "%-14s" + " %22s" * len(table)
    lines.append(fmt % ("candidate", *["%s: wall / CPU" % label for label in table]))
    lines.append("-" * (14 + 23 * len(table)))
    floor = {label: rows["none"] for label, rows in table.items()}
    for name, _ in CANDIDATES:
        cells = []
        for label, rows in table.items():
            wall, cpu = rows[name]
            cells.append("%.2f / %.2f ms%s" % (wall, cpu, "" if name == "none" else
                                                " (%+.2f)" % (wall - floor[label][0])))
        lines.append(fmt % (name, *cells))
    lines.append("")
    lines.append("import resource (prlimit(2), fork+exec): %d us, once per agent run" % imported)
    lines.append("prlimit(2): children that ran before their limit landed: %d of %d idle, "
                 "%d of %d with %d GIL-holding threads" % (early_idle, args.runs, early_busy,
                                                           args.runs, args.busy))
    for label, peak in runaway.items():
        lines.append("prlimit(2): largest VmHWM of %s (20 runs, %d busy threads): %.1f MiB"
                     % (label, args.busy, peak / 1024.0))
    for label, (data, space, hwm) in healthy.items():
        lines.append("healthy %s needs RLIMIT_DATA >= %.1f MiB, RLIMIT_AS >= %.1f MiB; peak RSS "
                     "%.1f MiB" % (label, data / 2**20, space / 2**20, hwm / 1024.0))
    if tree:
        lines.append("healthy postfix-maps monitor, level 10, 4 MySQL maps (20 runs): tree peak "
                     "%.1f MB median, %.1f MB max; largest single process %.1f MB" % tree)
    lines.append("")
    lines.append("(%d runs per candidate; benchmark took %.0f s)" % (args.runs,
                                                                   time.monotonic() - started))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
