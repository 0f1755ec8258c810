#!/usr/bin/python3
"""Benchmark: ocf:grommunio:grodata-binds monitor vs. ocf:heartbeat:Filesystem.

Runs as root, in a private mount namespace of its own (it re-executes itself
under ``unshare -m --propagation private``), so no mount reaches the host.
Measures, by wall clock over many runs (median and p90):

  a) ``/usr/bin/python3 -c pass``              bare interpreter start
     (and, for information, ``python3 -IS -c pass``, the agent's shebang)
  b) ``grodata-binds monitor``, 7 binds         what replaces ...
  c) 7 x ``Filesystem monitor``, same binds     ... one 20 s round of the guide's cluster
  d) ``grodata-binds monitor``, 1,000 binds

plus the CPU time (user+sys, from wait4) of each child, and checks the
targets: Filesystem round / ours >= 10x, ours / bare python <= 1.1x,
1,000-bind monitor < 100 ms.  Exit status: 0 when it ran (whatever the
targets say), 1 when it could not run or an agent returned a wrong code,
2 on usage errors.  Standard library only.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchlib import (FILESYSTEM, OCF_PATH, PYTHON, REPO, GUIDE_BINDS, BenchError, Series, Spawner,
                      detach_all, log, mount_points_under, ocf_env, pct,
                      reexec_in_private_namespace, require_executable, shebang, timing_table,
                      verdict)

DEFAULT_AGENT = os.path.join(REPO, "agents", "grodata-binds")
INSTALLED_AGENT = "/usr/lib/ocf/resource.d/grommunio/grodata-binds"
NS_MARKER = "GRODATA_BINDS_BENCH_NS"   # value: pid of the process outside the namespace

TARGET_RATIO_FS = 10.0     # Filesystem round / ours, at least
TARGET_RATIO_PY = 1.1      # ours / bare python, at most
TARGET_1000_MS = 100.0     # 1,000-bind monitor median, below
FS_BUDGET_S = 15.0         # wall-clock budget for the Filesystem rounds


# -- namespace, environment, children ----------------------------------------

def ensure_private_namespace(argv):
    """Re-run this script under unshare unless this process already is in one.

    Returns only inside the private namespace; the outer process exits with
    the inner one's status.
    """
    if not os.environ.get(NS_MARKER) and os.geteuid() != 0:
        raise BenchError("must run as root (it mounts tmpfs and bind mounts)")
    reexec_in_private_namespace(NS_MARKER, __file__, argv)


def ours_env(grodata, pairs, monitor=True):
    env = ocf_env("grodata-binds", "grodata-binds", "grommunio", 20000 if monitor else 0,
                  40000 if monitor else 120000)
    env["OCF_RESKEY_grodata"] = grodata
    env["OCF_RESKEY_binds"] = " ".join("%s:%s" % pair for pair in pairs)
    return env


def fs_env(name, source, target):
    env = ocf_env("fs-" + name, "Filesystem", "heartbeat", 20000, 40000)
    env.update(OCF_RESKEY_device=source, OCF_RESKEY_directory=target,
               OCF_RESKEY_fstype="none", OCF_RESKEY_options="bind")
    return env


def run_checked(spawn, argv, env, what):
    rc, wall, cpu = spawn(argv, env)
    if rc != 0:
        raise BenchError("%s failed: %s" % (what, spawn.explain(argv, env)))
    return wall, cpu


# -- the grodata -------------------------------------------------------------------

class Setup:
    """A tmpfs "grodata" with ``n`` source dirs and ``n`` targets elsewhere."""

    def __init__(self, root, label, names):
        self.grodata = os.path.join(root, label, "grodata")
        self.targets = os.path.join(root, label, "targets")
        os.makedirs(self.grodata)
        os.makedirs(self.targets)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755",
                        "bench-" + label, self.grodata], check=True)
        self.pairs = []
        for name in names:
            source = os.path.join(self.grodata, name)
            os.mkdir(source)
            with open(os.path.join(source, ".keep"), "w") as handle:
                handle.write(name)
            self.pairs.append((source, os.path.join(self.targets, name)))


# -- statistics ----------------------------------------------------------------------

def summary(series):
    """A series for the JSON output (and render())."""
    return {
        "label": series.label,
        "runs": len(series.wall),
        "wall_ms": {"median": series.median, "p90": pct(series.wall, 90),
                    "min": min(series.wall), "max": max(series.wall)},
        "cpu_ms": {"median": statistics.median(series.cpu),
                   "mean": statistics.fmean(series.cpu)},
    }


# -- the benchmark ----------------------------------------------------------------------

def bench(args, log):
    agent = os.path.abspath(args.agent)
    require_executable(agent, "agent %s is not executable")
    require_executable(FILESYSTEM, "%s missing (apt install resource-agents)")
    # Filesystem's check_binary fails every action (rc 5) without these.
    for binary, package in (("modprobe", "kmod"), ("fuser", "psmisc"), ("fsck", "util-linux"),
                            ("mount", "mount"), ("umount", "mount")):
        if shutil.which(binary, path=OCF_PATH) is None:
            raise BenchError("Filesystem needs %s (apt install %s)" % (binary, package))

    root = tempfile.mkdtemp(prefix="grodata-binds-bench.")
    spawn = Spawner(root)
    started = []  # (argv, env) to stop in the finally block
    out = {"agent": agent, "shebang": shebang(agent), "python": sys.version.split()[0],
           "cpus": os.cpu_count(), "results": {}, "checks": [], "info": {}}
    try:
        # -- the guide's 7 binds -------------------------------------------------------
        guide = Setup(root, "guide", GUIDE_BINDS)
        env_start = ours_env(guide.grodata, guide.pairs, monitor=False)
        env_mon = ours_env(guide.grodata, guide.pairs)
        started.append(([agent, "stop"], env_start))
        run_checked(spawn, [agent, "start"], env_start, "grodata-binds start (7 binds)")
        missing = [t for _, t in guide.pairs if not os.path.ismount(t)]
        if missing:
            raise BenchError("start returned 0 but not bound: %s" % ", ".join(missing))

        bare_argv = [PYTHON, "-c", "pass"]
        floor_argv = [PYTHON, "-IS", "-c", "pass"]
        ours_argv = [agent, "monitor"]
        fs_calls = [([FILESYSTEM, "monitor"], fs_env(os.path.basename(t), s, t))
                    for s, t in guide.pairs]

        bare = Series("/usr/bin/python3 -c pass", "bare_python")
        floor = Series("/usr/bin/python3 -IS -c pass (info)", "bare_python_IS")
        ours = Series("grodata-binds monitor, 7 binds", "ours_monitor_7")
        fsr = Series("7 x Filesystem monitor (one round)", "filesystem_round_7")
        fs_one = Series("Filesystem monitor, one call", "filesystem_monitor_1")
        bad = {"ours": 0, "filesystem": 0}

        def fs_round():
            wall = cpu = 0.0
            for argv, env in fs_calls:
                rc, w, c = spawn(argv, env)
                if rc != 0:
                    bad["filesystem"] += 1
                    raise BenchError("Filesystem monitor of %s returned %s"
                                     % (env["OCF_RESKEY_directory"], spawn.explain(argv, env)))
                fs_one.add(w, c)
                wall += w
                cpu += c
            return wall, cpu

        # Warm-up: page cache, __pycache__ of the library, the heartbeat helpers.
        for _ in range(2):
            spawn(bare_argv, env_mon)
            spawn(floor_argv, env_mon)
            spawn(ours_argv, env_mon)
        w, c = fs_round()
        fs_one.wall.clear()
        fs_one.cpu.clear()
        fs_repeat = args.fs_repeat
        if fs_repeat is None:
            fs_repeat = max(5, min(args.repeat, int(FS_BUDGET_S / max(w, 1e-3))))
        out["info"]["fs_rounds"] = fs_repeat
        log("measuring: %d x bare python, %d x our monitor, %d x Filesystem round (interleaved)"
            % (args.repeat, args.repeat, fs_repeat))

        # Interleaved, so that drift of the machine hits all series alike.
        for i in range(max(args.repeat, fs_repeat)):
            if i < args.repeat:
                rc, w, c = spawn(bare_argv, env_mon)
                if rc != 0:
                    raise BenchError("python3 -c pass returned %d" % rc)
                bare.add(w, c)
                rc, w, c = spawn(floor_argv, env_mon)
                if rc != 0:
                    raise BenchError("python3 -IS -c pass returned %d" % rc)
                floor.add(w, c)
                rc, w, c = spawn(ours_argv, env_mon)
                if rc != 0:
                    bad["ours"] += 1
                    log("FAIL: grodata-binds monitor (7 binds) %s" % spawn.explain(ours_argv, env_mon))
                else:
                    ours.add(w, c)
            if i < fs_repeat:
                fsr.add(*fs_round())

        run_checked(spawn, [agent, "stop"], env_start, "grodata-binds stop (7 binds)")
        started.clear()
        left = [t for _, t in guide.pairs if os.path.ismount(t)]
        if left:
            raise BenchError("stop returned 0 but still mounted: %s" % ", ".join(left))

        # -- 1,000 binds --------------------------------------------------------------
        n = args.many
        big = Setup(root, "many", ["d%04d" % i for i in range(n)])
        env_start = ours_env(big.grodata, big.pairs, monitor=False)
        env_mon = ours_env(big.grodata, big.pairs)
        out["info"]["many_binds"] = n
        out["info"]["binds_env_bytes"] = len(env_mon["OCF_RESKEY_binds"])
        started.append(([agent, "stop"], env_start))
        w, c = run_checked(spawn, [agent, "start"], env_start, "grodata-binds start (%d binds)" % n)
        out["info"]["many_start_ms"] = w * 1000
        bound = sum(1 for _, t in big.pairs if os.path.ismount(t))
        if bound != n:
            raise BenchError("start returned 0 but only %d of %d targets are bound" % (bound, n))
        many = Series("grodata-binds monitor, %d binds" % n, "ours_monitor_%d" % n)
        spawn(ours_argv, env_mon)  # warm-up
        for _ in range(args.repeat):
            rc, w, c = spawn(ours_argv, env_mon)
            if rc != 0:
                bad["ours"] += 1
                log("FAIL: grodata-binds monitor (%d binds) %s" % (n, spawn.explain(ours_argv, env_mon)))
            else:
                many.add(w, c)
        w, c = run_checked(spawn, [agent, "stop"], env_start, "grodata-binds stop (%d binds)" % n)
        out["info"]["many_stop_ms"] = w * 1000
        started.clear()

        series = [bare, floor, ours, fsr, fs_one, many]
        for s in series:
            if not s.wall:
                raise BenchError("no successful run for: %s" % s.label)
        out["results"] = {s.key: summary(s) for s in series}
        out["failed_runs"] = bad
        out["info"]["ours_over_python_IS"] = ours.median / floor.median

        r_fs = fsr.median / ours.median
        r_py = ours.median / bare.median
        out["checks"] = [
            {"name": "Filesystem round / ours (7 binds)", "value": r_fs, "unit": "x",
             "target": ">= %gx" % TARGET_RATIO_FS, "pass": r_fs >= TARGET_RATIO_FS},
            {"name": "ours / bare python", "value": r_py, "unit": "x",
             "target": "<= %gx" % TARGET_RATIO_PY, "pass": r_py <= TARGET_RATIO_PY},
            {"name": "monitor with %d binds (median)" % n, "value": many.median, "unit": "ms",
             "target": "< %g ms" % TARGET_1000_MS, "pass": many.median < TARGET_1000_MS},
            {"name": "our monitors returned 0", "value": bad["ours"], "unit": " failed",
             "target": "0 failed", "pass": bad["ours"] == 0},
        ]
        return out
    finally:
        for argv, env in reversed(started):
            try:
                rc, _, _ = spawn(argv, env)
                if rc != 0:
                    log("cleanup: %s stop returned %d" % (argv[0], rc))
            except OSError as exc:
                log("cleanup: %s" % exc)
        spawn.close()
        if not detach_all(root):
            log("cleanup: still mounted under %s: %s" % (root, mount_points_under(root)))
        else:
            shutil.rmtree(root, ignore_errors=True)


def render(out):
    lines = []
    add = lines.append
    add("grodata-binds monitor benchmark")
    add("  agent   : %s  (%s)" % (out["agent"], out["shebang"]))
    add("  python  : %s, %s CPUs, Filesystem rounds: %s, many-bind start %.0f ms, stop %.0f ms"
        % (out["python"], out["cpus"], out["info"]["fs_rounds"],
           out["info"]["many_start_ms"], out["info"]["many_stop_ms"]))
    add("")
    lines += timing_table([(r["label"], r["runs"], r["wall_ms"]["median"], r["wall_ms"]["p90"],
                            r["wall_ms"]["min"], r["cpu_ms"]["median"])
                           for r in out["results"].values()], 40, (10, 10, 10, 12), 2)
    add("")
    add("info  ours / python3 -IS -c pass             %13.2fx   (the agent's own cost above "
        "its interpreter)" % out["info"]["ours_over_python_IS"])
    for c in out["checks"]:
        value = ("%.2f%s" % (c["value"], c["unit"])) if isinstance(c["value"], float) \
            else "%s%s" % (c["value"], c["unit"])
        add(verdict(c["pass"], c["name"], value, c["target"], 36, 14))
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30,
                        help="runs per measurement (default 30)")
    parser.add_argument("--fs-repeat", type=int, default=None,
                        help="Filesystem rounds (default: --repeat, fewer if a round is slow)")
    parser.add_argument("--many", type=int, default=1000,
                        help="binds for the large monitor (default 1000)")
    parser.add_argument("--agent", default=DEFAULT_AGENT,
                        help="agent to time (default %s; or %s)" % (DEFAULT_AGENT, INSTALLED_AGENT))
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.many < 1 or (args.fs_repeat is not None and args.fs_repeat < 1):
        parser.error("counts must be positive")

    try:
        ensure_private_namespace(argv)
        out = bench(args, log)
    except BenchError as exc:
        log("ERROR: %s" % exc)
        return 1
    except subprocess.CalledProcessError as exc:
        log("ERROR: %s" % exc)
        return 1
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
    else:
        print(render(out))
    return 1 if out["failed_runs"]["ours"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
