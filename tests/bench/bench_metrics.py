#!/usr/bin/python3
"""Benchmark: what metrics_dir adds to a healthy monitor (target: at most 1 ms).

Two measurements, both with the agents of this tree (or --agent-dir):

  a) end to end: ``stack-health monitor`` of a healthy stack -- an IMAP
     server (greeting, CAPABILITY) and a TCP acceptor in this process, so the checks take well
     under a millisecond and the difference is the metrics' -- run by
     posix_spawn + wait4 in Pacemaker's environment, interleaved: one run
     with ``metrics_dir`` off, one with it in a directory on the disk
     (``--disk-dir``, default /var/tmp: node_exporter's directory is on the
     disk too), one with it on tmpfs (/dev/shm), and so on.  Reported: the
     median wall and CPU time of each, and the differences of the medians.
     The two directories differ by what ext4 does when a file is renamed
     over another (auto_da_alloc: it starts writing the new file's data at
     once, so that a crash cannot leave an empty file).
  b) in process, without the interpreter's start-up noise: in 21 fresh
     ``python3 -IS`` that have already imported the framework, the import
     of the metrics modules, then ``publish.after`` (snapshot, text,
     temporary file, rename) for a stack-health monitor with 6 checks and a
     postfix-maps monitor with 15 checks and 4 lookups, each timed over
     many calls; the medians over the interpreters.

The verdict: (a)'s median difference and (b)'s import + one write must
each stay within 1 ms.  Exit status: 0 when the benchmark ran, whatever the
targets say; 1 when it could not run or a monitor did not return 0; 2 on
usage errors.  Standard library only; no root needed.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from benchlib import (PYTHON, REPO, BenchError, Series, Spawner, exit_on_signals, log, ocf_env,
                      require_executable, tests_on_path, timing_table, verdict)

tests_on_path()

TARGET_MS = 1.0
DEFAULT_AGENT_DIR = os.path.join(REPO, "agents")

# Run in a fresh interpreter by (b): the framework first (a monitor has it
# loaded anyway), then the metrics modules, then publish.after N times.
IN_PROCESS = r"""
import json, os, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
rounds = int(sys.argv[2])
from grommunio_ocf.ocf.agent import Agent, Operation
from grommunio_ocf.ocf.params import parse
t0 = time.perf_counter()
from grommunio_ocf.ocf import metrics as publish
import_ms = (time.perf_counter() - t0) * 1000


class Quiet:
    def warning(self, text):
        raise SystemExit("unexpected warning: " + text)


def case(name, checks, lookups):
    class A(Agent):
        pass
    A.name = name
    directory = tempfile.mkdtemp()
    env = {"OCF_RESOURCE_INSTANCE": "bench", "OCF_RESKEY_CRM_meta_interval": "30000",
           "OCF_RESKEY_CRM_meta_on_node": "node-a", "HA_RSCTMP": directory,
           "OCF_RESKEY_metrics_dir": directory}
    values, _ = parse(A.params, env)
    values.check_timeout = 5.0
    op = Operation("monitor", env, 20.0)
    op.observed["checks"] = [(n, t, True, False, 0.0012, True) for n, t in checks]
    if lookups:
        op.observed["lookups"] = [(m, t, 0.02) for m, t in lookups]
    agent = A(Quiet())
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        publish.after(agent, op, values, 0)
        times.append((time.perf_counter() - t) * 1000)
    size = os.path.getsize(os.path.join(directory, publish.file_name(name, "bench")))
    return sorted(times), size


stack = [("imap", "imap://localhost:143"), ("admin_api", "http://localhost:8080/api/v1/status"),
         ("mysql", "/etc/gromox/mysql_adaptor.cfg"), ("lmtp", "[::1]:24"),
         ("redis", "127.0.0.1:6379"), ("milter", "localhost:11332")]
maps = ["virtual_mailbox_domains", "virtual_mailbox_maps", "virtual_alias_maps", "recipient_bcc_maps"]
tables = ["mysql:/etc/postfix/grommunio-%s.cf" % m for m in maps]
postfix = ([("setting", m) for m in maps + ["virtual_transport", "smtpd_milters"]]
           + [("cf", t[6:]) for t in tables]
           + [("lookup", "%s %s" % mt) for mt in zip(maps, tables)] + [("milter", "inet:localhost:11332")])
out = {"import_ms": import_ms}
for name, checks, lookups in (("stack-health", stack, None),
                              ("postfix-maps", postfix, list(zip(maps, tables)))):
    times, size = case(name, checks, lookups)
    out[name] = {"median_ms": times[len(times) // 2], "p90_ms": times[int(len(times) * 0.9)],
                 "min_ms": times[0], "bytes": size, "checks": len(checks)}
print(json.dumps(out))
"""


def end_to_end(agent_dir, runs, work, tmpfs=None):
    """(off, on, on tmpfs) Series: interleaved healthy stack-health monitors.

    ``on`` writes into ``work`` (a directory on the disk, as node_exporter's
    usually is), ``on tmpfs`` into ``tmpfs`` (skipped when None): ext4
    flushes a file renamed over another (auto_da_alloc), which is the
    largest part of the cost, and the difference shows it."""
    from services.gromox import NEW_CHECKS_OFF, Milter
    from services.listeners import FakeImap
    agent = os.path.join(agent_dir, "stack-health")
    require_executable(agent, "%s is not executable")
    rsctmp = os.path.join(work, "rsctmp")
    metrics = os.path.join(work, "metrics")
    os.makedirs(rsctmp)
    os.makedirs(metrics)
    off, on = Series("monitor, metrics_dir off", "off"), Series("monitor, metrics_dir on disk", "on")
    shm = Series("monitor, metrics_dir on tmpfs", "tmpfs")
    spawn = Spawner(work)
    try:
        with FakeImap() as imap, Milter() as milter:
            env = ocf_env("bench", "stack-health", "grommunio", 30000, 20000, rsctmp)
            env.update({"OCF_RESKEY_" + name: value for name, value in NEW_CHECKS_OFF.items()})
            env.update({"OCF_RESKEY_imap_url": "imap://%s" % imap.address,
                        "OCF_RESKEY_admin_api_url": "off", "OCF_RESKEY_mysql_config": "off",
                        "OCF_RESKEY_lmtp_address": "off",
                        "OCF_RESKEY_milter_address": milter.address,
                        "OCF_RESKEY_critical": "imap"})
            with_metrics = dict(env, OCF_RESKEY_metrics_dir=metrics)
            on_tmpfs = dict(env, OCF_RESKEY_metrics_dir=tmpfs) if tmpfs else None
            start = dict(with_metrics, OCF_RESKEY_CRM_meta_interval="0")
            rc, _, _, out, err = spawn.capture([agent, "start"], start)
            if rc != 0:
                raise BenchError("stack-health start failed: rc %d: %s" % (rc, (out + err)[-600:]))
            for _ in range(5):  # warm-up: page cache, __pycache__
                spawn([agent, "monitor"], env)
                spawn([agent, "monitor"], with_metrics)
            for _ in range(runs):
                pairs = [(off, env), (on, with_metrics)] + ([(shm, on_tmpfs)] if tmpfs else [])
                for series, environ in pairs:
                    rc, wall, cpu = spawn([agent, "monitor"], environ)
                    if rc != 0:
                        series.failed += 1
                        log("FAIL: %s: %s" % (series.label, spawn.explain([agent, "monitor"],
                                                                          environ)))
                    else:
                        series.add(wall, cpu)
            if os.listdir(metrics) != ["grommunio_ocf-stack-health-bench.prom"]:
                raise BenchError("the monitors wrote %r" % os.listdir(metrics))
            spawn([agent, "stop"], start)
    finally:
        spawn.close()
    return off, on, shm


def in_process(agent_dir, rounds, runs=21):
    """(b), in ``runs`` fresh interpreters (an import happens once per process):
    the median of their import times and of their per-call medians."""
    lib = os.path.join(os.path.dirname(os.path.abspath(agent_dir)), "lib")
    if agent_dir.startswith("/usr/lib/ocf"):
        lib = "/usr/lib/ocf/lib/grommunio"
    results = []
    for _ in range(runs):
        proc = subprocess.run([PYTHON, "-IS", "-c", IN_PROCESS, lib, str(max(1, rounds // runs))],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise BenchError("the in-process measurement failed: %s" % proc.stderr[-600:])
        results.append(json.loads(proc.stdout))
    merged = {"import_ms": statistics.median(r["import_ms"] for r in results), "runs": runs}
    for name in ("stack-health", "postfix-maps"):
        rows = [r[name] for r in results]
        merged[name] = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200,
                        help="interleaved monitor pairs for (a) (default 200)")
    parser.add_argument("--rounds", type=int, default=2000,
                        help="publish.after calls per case for (b) (default 2000)")
    parser.add_argument("--agent-dir", default=DEFAULT_AGENT_DIR,
                        help="the agents to measure (default: this tree's agents/)")
    parser.add_argument("--disk-dir", default="/var/tmp",
                        help="where the on-disk metrics directory is made (default /var/tmp)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    if args.runs < 1 or args.rounds < 1:
        parser.error("--runs and --rounds must be at least 1")
    exit_on_signals()
    work = tempfile.mkdtemp(prefix="bench-metrics.", dir=args.disk_dir)
    tmpfs = tempfile.mkdtemp(prefix="bench-metrics.", dir="/dev/shm") \
        if os.path.isdir("/dev/shm") else None
    try:
        off, on, shm = end_to_end(args.agent_dir, args.runs, work, tmpfs)
        inner = in_process(args.agent_dir, args.rounds)
    except BenchError as exc:
        log("bench_metrics: %s" % exc)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if tmpfs:
            shutil.rmtree(tmpfs, ignore_errors=True)
    added = on.median - off.median
    added_cpu = statistics.median(on.cpu) - statistics.median(off.cpu)
    step = inner["import_ms"] + inner["stack-health"]["median_ms"]
    if args.json:
        print(json.dumps({"off": off.timing_row(), "on": on.timing_row(),
                          "on_tmpfs": shm.timing_row(), "added_ms": added,
                          "added_cpu_ms": added_cpu, "in_process": inner}, indent=2))
    else:
        print("a) stack-health monitor, healthy (IMAP greeter + TCP milter), %d interleaved pairs"
              % args.runs)
        rows = [off.timing_row(), on.timing_row()] + ([shm.timing_row()] if shm.wall else [])
        print("\n".join(timing_table(rows, 30, (9, 8, 8, 11), 2)))
        print("added by metrics_dir on disk: %.3f ms wall (median vs median), %.3f ms CPU"
              % (added, added_cpu))
        if shm.wall:
            print("added by metrics_dir on tmpfs: %.3f ms wall, %.3f ms CPU" % (
                shm.median - off.median, statistics.median(shm.cpu) - statistics.median(off.cpu)))
        print()
        print("b) in process: %d fresh interpreters, %d calls each in all (medians of their medians)"
              % (inner["runs"], args.rounds))
        print("import of the metrics modules       %8.3f ms (once per monitor)" % inner["import_ms"])
        for name in ("stack-health", "postfix-maps"):
            row = inner[name]
            print("publish.after, %-12s %2d checks %8.3f ms median, %.3f p90, %.3f min; file %d bytes"
                  % (name, row["checks"], row["median_ms"], row["p90_ms"], row["min_ms"], row["bytes"]))
        print()
        print(verdict(added <= TARGET_MS, "a) added to a healthy monitor (median)", "%.3f ms" % added,
                      "<= %.1f ms" % TARGET_MS))
        print(verdict(step <= TARGET_MS, "b) import + one write (stack-health)", "%.3f ms" % step,
                      "<= %.1f ms" % TARGET_MS))
        failed = off.failed + on.failed + shm.failed
        print(verdict(not failed, "monitors that returned 0", "%d failed" % failed, "0 failed"))
    return 1 if off.failed or on.failed or shm.failed else 0


if __name__ == "__main__":
    sys.exit(main())
