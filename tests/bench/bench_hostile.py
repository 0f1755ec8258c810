#!/usr/bin/python3
"""Benchmark: stack-health under hostile peers -- each monitor's time and peak RSS.

Runs ``stack-health monitor`` against every peer of tests/services/hostile.py
(IMAP literals of 1.5 GB and 20 digits, endless streams, trickles, 1 MiB
lines, HTTP status ``²²²`` and 5,000 digits, JSON nested 30,000 deep, ...;
MariaDB's hostile peers are in its own tests), ``--runs`` times each, one
check enabled per case, ``check_timeout`` as given (default 2 s) and an
operation timeout of 10 s.  Each run goes through the launcher of
tests/integration/agentrun.py: a bare interpreter forks the agent and reaps
it with wait4(), so the peak RSS is the agent's own (measured from this
process directly, it would include this process's memory: Linux charges a
child with its parent's pages up to exec).

Prints per case the exit code, the wall time (median and max) and the peak
RSS (median and max), next to ``python3 -IS -c pass`` and a healthy monitor
(an IMAP greeter and a TCP acceptor), and checks the bounds the README
promises:

  every monitor back within check_timeout + 0.5 s     (time)
  every monitor's peak RSS <= 50 MB                    (memory)
  one exit reason of at most 512 bytes on failure      (words)

Needs neither root nor the test services; times the installed agent unless
``--agent`` says otherwise.  Exit status: 0 when it ran (whatever the bounds
say), 1 when it could not, 2 on usage errors.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from benchlib import TESTS, exit_on_signals, log, tests_on_path, verdict

tests_on_path()
sys.path.insert(0, os.path.join(TESTS, "integration"))

from agentrun import BASE_ENV, REASON_LIMIT, monitor_against, run  # noqa: E402
from services.hostile import CASES  # noqa: E402
from services.listeners import FakeImap, TcpAcceptor  # noqa: E402

DEFAULT_AGENT = "/usr/lib/ocf/resource.d/grommunio/stack-health"
RSS_BOUND_MB = 50.0
TIME_SLACK = 0.5


class Healthy:
    """The baseline: an IMAP greeter and a milter acceptor, both fine."""

    name = "healthy: imap + milter"
    check = "imap"
    rc = 0

    def make(self):
        return _Pair()

    def params(self, pair, directory):
        return {"imap_url": "imap://%s" % pair.imap.address, "admin_api_url": "",
                "mysql_config": "", "lmtp_address": "", "redis_address": "",
                "milter_address": pair.milter.address, "critical": "imap,milter"}


class _Pair:
    def __enter__(self):
        self.imap = FakeImap(b"* OK [CAPABILITY IMAP4rev1] ready")  # answers LOGOUT
        self.milter = TcpAcceptor()
        return self

    def __exit__(self, *exc):
        self.imap.close()
        self.milter.close()


def monitor(agent, case, check_timeout, rsctmp):
    """One monitor of ``agent`` against a fresh peer of ``case``: an agentrun.Run."""
    return monitor_against(agent, case, rsctmp, check_timeout, instance="bench")


def bounded(result, check_timeout):
    """(time ok, memory ok, words ok) for one run."""
    reasons = result.reasons
    words = len(reasons) <= 1 and all(len(r) <= REASON_LIMIT for r in reasons) \
        and (result.rc == 0 or len(reasons) == 1) and b"Traceback" not in result.stderr
    return (result.wall <= check_timeout + TIME_SLACK, result.rss_mb <= RSS_BOUND_MB, words)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="monitors per case (default 3)")
    parser.add_argument("--check-timeout", type=float, default=2.0,
                        help="stack-health's check_timeout in seconds (default 2)")
    parser.add_argument("--agent", default=DEFAULT_AGENT,
                        help="the stack-health agent to run (default %s)" % DEFAULT_AGENT)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if args.runs < 1 or not 0 < args.check_timeout <= 8:
        parser.error("--runs must be positive, --check-timeout in (0, 8]")
    if not os.access(args.agent, os.X_OK):
        log("ERROR: %s is not executable (run packaging/install, or give --agent)" % args.agent)
        return 1
    exit_on_signals()
    started = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix="hostile-bench.") as tmp:
        bare = [run(["/usr/bin/python3", "-IS", "-c", "pass"], BASE_ENV) for _ in range(args.runs)]
        for case in [Healthy()] + CASES:
            log("%s ..." % case.name)
            runs = [monitor(args.agent, case, args.check_timeout, tmp) for _ in range(args.runs)]
            rows.append((case, runs))
    bounds = [[bounded(r, args.check_timeout) for r in runs] for _, runs in rows]
    slowest = max(r.wall for _, runs in rows for r in runs)
    largest = max(r.rss_mb for _, runs in rows for r in runs)
    longest = max((len(x) for _, runs in rows for r in runs for x in r.reasons), default=0)
    if args.json:
        print(json.dumps({
            "check_timeout": args.check_timeout, "runs": args.runs,
            "bare_rss_mb": statistics.median(r.rss_mb for r in bare),
            "cases": {case.name: {"rc": [r.rc for r in runs], "wall_s": [r.wall for r in runs],
                                  "rss_mb": [r.rss_mb for r in runs]} for case, runs in rows},
            "slowest_s": slowest, "largest_rss_mb": largest, "longest_reason": longest},
            indent=1))
        return 0
    fmt = "%-40s %4s %9s %9s %9s %9s  %s"
    lines = [fmt % ("case (check)", "rc", "wall med", "wall max", "RSS med", "RSS max", "exit reason"),
             "-" * 120]
    lines.append(fmt % ("python3 -IS -c pass", "", "", "", "%.1f MB" % statistics.median(
        r.rss_mb for r in bare), "%.1f MB" % max(r.rss_mb for r in bare), ""))
    for case, runs in rows:
        walls = [r.wall for r in runs]
        rss = [r.rss_mb for r in runs]
        codes = sorted({r.rc for r in runs})
        reason = runs[-1].reason or ""
        lines.append(fmt % ("%s (%s)" % (case.name, case.check),
                            "/".join(str(c) for c in codes),
                            "%.2f s" % statistics.median(walls), "%.2f s" % max(walls),
                            "%.1f MB" % statistics.median(rss), "%.1f MB" % max(rss),
                            reason[:60] + ("..." if len(reason) > 60 else "")))
    lines.append("")
    flat = [b for per_case in bounds for b in per_case]
    lines.append(verdict(all(b[0] for b in flat), "slowest monitor", "%.2f s" % slowest,
                         "<= check_timeout %.1f s + %.1f s" % (args.check_timeout, TIME_SLACK)))
    lines.append(verdict(all(b[1] for b in flat), "largest peak RSS", "%.1f MB" % largest,
                         "<= %.0f MB" % RSS_BOUND_MB))
    lines.append(verdict(all(b[2] for b in flat), "longest exit reason", "%d bytes" % longest,
                         "<= %d bytes, one on failure" % REASON_LIMIT))
    expected = sum(1 for case, runs in rows for r in runs if r.rc == case.rc)
    lines.append(verdict(expected == sum(len(runs) for _, runs in rows),
                         "exit codes as the cases expect", "%d of %d" % (
                             expected, sum(len(runs) for _, runs in rows)), "all"))
    lines.append("")
    lines.append("(%d cases x %d runs, check_timeout %.1f s; benchmark took %.0f s)" % (
        len(rows), args.runs, args.check_timeout, time.monotonic() - started))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
