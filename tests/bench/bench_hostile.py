#!/usr/bin/python3
"""Benchmark: every agent under hostile input -- each run's time, its peak RSS and its tree's.

Three sets of cases, each run ``--runs`` times:

* stack-health against every peer of tests/services/hostile.py (IMAP
  literals of 1.5 GB and 20 digits, endless streams, trickles, 1 MiB lines,
  HTTP status ``²²²`` and 5,000 digits, JSON nested 30,000 deep, ...), one
  check enabled per case, plus a healthy monitor (an IMAP greeter and a TCP
  acceptor);
* postfix-maps against every hostile file of tests/services/hostile_files.py
  (``/dev/zero``, ``/dev/urandom``, an endless FIFO, a sparse 64 MiB file, a
  growing file, a symlink to each) in every place its tools would read one:
  the ``.cf`` of ``maps``, a ``.cf`` only main.cf names, config_directory,
  main.cf;
* grodata-binds with hostile ``binds`` (1,000 binds, 5,000 characters,
  bytes that are not UTF-8, a path beyond PATH_MAX) on an unmounted scratch
  directory: ``monitor`` and ``validate-all``.

``check_timeout`` as given (default 2 s), operation timeout 10 s.  Each run
goes through the launcher of tests/integration/agentrun.py: a bare
interpreter forks the agent, samples its process tree (the agent and every
program it started, resident memory summed) every 20 ms and reaps it with
wait4().  So "RSS" is the largest single process (the agent, or a program it
reaped) and "tree" the tree's peak: what the run cost the node.  Measured
from this process directly, Linux would charge the agent with this
process's memory (a child's peak counts its parent's pages up to exec).

Prints per case the exit code, wall time, RSS and tree (median and max),
next to ``python3 -IS -c pass``, and checks the bounds doc/bounds.md states:

  every run back within check_timeout + 0.5 s                    (time)
  every agent's own peak RSS <= 50 MB                             (memory)
  every tree <= 50 MB + 64 MB per program it may run at once      (memory)
  one exit reason of at most 512 bytes on failure                 (words)

Needs neither root nor the test services (postfix-maps needs Postfix's
tools installed; the device nodes of the main.cf cases need root); runs the
installed agents unless ``--agents DIR`` says otherwise.  Exit status: 0
when it ran (whatever the bounds say), 1 when it could not, 2 on usage
errors.
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

from agentrun import (AGENT_RSS_MB, BASE_ENV, REASON_LIMIT, monitor_against,  # noqa: E402
                      postfix_maps_against, run, tree_bound_mb)
from services.gromox import CHECKS_OFF, Milter  # noqa: E402
from services.hostile import CASES  # noqa: E402
from services.hostile_files import KINDS, PLACES  # noqa: E402
from services.listeners import FakeImap  # noqa: E402

DEFAULT_AGENTS = "/usr/lib/ocf/resource.d/grommunio"
TIME_SLACK = 0.5


class PeerCase:
    """stack-health against one hostile peer (services.hostile)."""

    agent = "stack-health"
    programs = 0

    def __init__(self, case):
        self.case = case
        self.name = "%s (%s)" % (case.name, case.check)
        self.rc = (case.rc,)

    def __call__(self, agents, check_timeout, tmp, index):
        return monitor_against(os.path.join(agents, "stack-health"), self.case,
                               os.path.join(tmp, "peer-%d" % index), check_timeout,
                               instance="bench")


class FileCase:
    """postfix-maps with one hostile file at one place (services.hostile_files)."""

    agent = "postfix-maps"
    programs = 2  # postconf and one postmap

    def __init__(self, place, kind):
        self.place, self.kind = place, kind
        self.name = "%s: %s" % (place, kind)
        self.rc = (0, 1) if place == "main.cf-maps" else (1,)

    def __call__(self, agents, check_timeout, tmp, index):
        return postfix_maps_against(os.path.join(agents, "postfix-maps"), self.place, self.kind,
                                    os.path.join(tmp, "file-%d" % index), "monitor", check_timeout)


class BindsCase:
    """grodata-binds with a hostile ``binds`` value on an unmounted scratch grodata."""

    agent = "grodata-binds"
    programs = 0

    def __init__(self, name, binds, action, rc):
        self.name, self.binds, self.action, self.rc = "%s, %s" % (name, action), binds, action, rc

    def __call__(self, agents, check_timeout, tmp, index):
        root = os.path.join(tmp, "binds-%d" % index)
        os.makedirs(os.path.join(root, "grodata"))
        binds = self.binds.replace(b"ROOT", os.fsencode(root))
        env = dict(BASE_ENV, OCF_RESOURCE_INSTANCE="bench", HA_RSCTMP=root,
                   OCF_RESKEY_CRM_meta_timeout="10000", OCF_RESKEY_grodata=root + "/grodata",
                   OCF_RESKEY_binds=binds)
        return run([os.path.join(agents, "grodata-binds"), self.action], env, timeout=30)


def binds_cases():
    many = b" ".join(b"ROOT/grodata/d%d:ROOT/t/d%d" % (i, i) for i in range(1000))
    values = [("guide's 7 binds", b" ".join(b"ROOT/grodata/%s:ROOT/t/%s" % (n, n) for n in (
                  b"mysql", b"redis", b"gromox", b"web", b"antispam", b"dav", b"admin-api"))),
              ("1,000 binds", many), ("5,000 characters", b"x" * 5000),
              ("not UTF-8", b"ROOT/grodata/\xff:ROOT/t/\xff"),
              ("beyond PATH_MAX", b"ROOT/grodata/" + b"/".join([b"d" * 250] * 17) + b":ROOT/t/x")]
    result = []
    for name, value in values:
        valid = name in ("guide's 7 binds", "1,000 binds")
        result.append(BindsCase(name, value, "monitor", (7,) if valid else (6,)))
        result.append(BindsCase(name, value, "validate-all", (0, 5) if valid else (6,)))
    return result


class Healthy(PeerCase):
    """The baseline: an IMAP greeter and a milter, both fine."""

    def __init__(self):
        self.case = _HealthyPeers()
        self.name = "healthy: imap + milter"
        self.rc = (0,)


class _HealthyPeers:
    name, check, rc = "healthy", "imap", 0

    def make(self):
        return _Pair()

    def params(self, pair, directory):
        return dict(CHECKS_OFF, imap_url="imap://%s" % pair.imap.address,
                    milter_address=pair.milter.address, critical="imap,milter")


class _Pair:
    def __enter__(self):
        self.imap = FakeImap(b"* OK [CAPABILITY IMAP4rev1] ready")  # answers LOGOUT
        self.milter = Milter()
        return self

    def __exit__(self, *exc):
        self.imap.close()
        self.milter.close()


def bounded(case, result, check_timeout):
    """(time ok, agent memory ok, tree ok, words ok) for one run."""
    reasons = result.reasons
    words = len(reasons) <= 1 and all(len(r) <= REASON_LIMIT for r in reasons) \
        and (result.rc in (0, 7) or len(reasons) == 1) and b"Traceback" not in result.stderr
    # rss_mb is the largest single process: the agent, or a program it reaped at its limit.
    agent_ok = result.rss_mb <= AGENT_RSS_MB or case.programs > 0
    return (result.wall <= check_timeout + TIME_SLACK, agent_ok,
            result.tree_mb <= tree_bound_mb(case.agent, case.programs), words)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument("--check-timeout", type=float, default=2.0,
                        help="the agents' check_timeout in seconds (default 2)")
    parser.add_argument("--agents", default=DEFAULT_AGENTS,
                        help="the directory of the three agents (default %s)" % DEFAULT_AGENTS)
    parser.add_argument("--only", choices=("stack-health", "postfix-maps", "grodata-binds"),
                        help="run one agent's cases only")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if args.runs < 1 or not 0 < args.check_timeout <= 8:
        parser.error("--runs must be positive, --check-timeout in (0, 8]")
    for agent in ("stack-health", "postfix-maps", "grodata-binds"):
        if not os.access(os.path.join(args.agents, agent), os.X_OK):
            log("ERROR: %s/%s is not executable (run packaging/install, or give --agents)"
                % (args.agents, agent))
            return 1
    exit_on_signals()
    started = time.monotonic()
    cases = [Healthy()] + [PeerCase(case) for case in CASES] + \
        [FileCase(place, kind) for place in PLACES for kind in KINDS] + binds_cases()
    if args.only:
        cases = [case for case in cases if case.agent == args.only]
    rows = []
    with tempfile.TemporaryDirectory(prefix="hostile-bench.") as tmp:
        bare = [run(["/usr/bin/python3", "-IS", "-c", "pass"], BASE_ENV) for _ in range(args.runs)]
        index = 0
        for case in cases:
            log("%s: %s ..." % (case.agent, case.name))
            runs = []
            for _ in range(args.runs):
                index += 1
                runs.append(case(args.agents, args.check_timeout, tmp, index))
            rows.append((case, runs))
    per_agent = {}
    for case, runs in rows:
        entry = per_agent.setdefault(case.agent, {"rss": 0.0, "tree": 0.0, "bound": 0.0})
        entry["rss"] = max([entry["rss"]] + [r.rss_mb for r in runs])
        entry["tree"] = max([entry["tree"]] + [r.tree_mb for r in runs])
        entry["bound"] = max(entry["bound"], tree_bound_mb(case.agent, case.programs))
    bounds = [bounded(case, r, args.check_timeout) for case, runs in rows for r in runs]
    slowest = max(r.wall for _, runs in rows for r in runs)
    longest = max((len(x) for _, runs in rows for r in runs for x in r.reasons), default=0)
    if args.json:
        print(json.dumps({
            "check_timeout": args.check_timeout, "runs": args.runs,
            "bare_rss_mb": statistics.median(r.rss_mb for r in bare),
            "cases": {"%s: %s" % (case.agent, case.name): {
                "rc": [r.rc for r in runs], "wall_s": [r.wall for r in runs],
                "rss_mb": [r.rss_mb for r in runs], "tree_mb": [r.tree_mb for r in runs]}
                for case, runs in rows},
            "agents": per_agent, "slowest_s": slowest, "longest_reason": longest}, indent=1))
        return 0
    fmt = "%-52s %5s %8s %8s %8s %8s %8s %8s  %s"
    lines = [fmt % ("case", "rc", "wall med", "wall max", "RSS med", "RSS max", "tree med",
                    "tree max", "exit reason"), "-" * 150]
    lines.append(fmt % ("python3 -IS -c pass", "", "", "", "%.1f MB" % statistics.median(
        r.rss_mb for r in bare), "%.1f MB" % max(r.rss_mb for r in bare), "", "", ""))
    agent = None
    for case, runs in rows:
        if case.agent != agent:
            agent = case.agent
            lines.append("-- %s" % agent)
        walls = [r.wall for r in runs]
        rss = [r.rss_mb for r in runs]
        tree = [r.tree_mb for r in runs]
        codes = sorted({r.rc for r in runs})
        reason = runs[-1].reason or ""
        lines.append(fmt % (case.name[:52], "/".join(str(c) for c in codes),
                            "%.2f s" % statistics.median(walls), "%.2f s" % max(walls),
                            "%.1f MB" % statistics.median(rss), "%.1f MB" % max(rss),
                            "%.1f MB" % statistics.median(tree), "%.1f MB" % max(tree),
                            reason[:50] + ("..." if len(reason) > 50 else "")))
    lines.append("")
    lines.append(verdict(all(b[0] for b in bounds), "slowest run", "%.2f s" % slowest,
                         "<= check_timeout %.1f s + %.1f s" % (args.check_timeout, TIME_SLACK)))
    for name, entry in sorted(per_agent.items()):
        if name == "postfix-maps":
            lines.append(verdict(True, "%s: largest single process" % name,
                                 "%.1f MB" % entry["rss"], "(a tool at its 32 MiB data limit)"))
        else:
            lines.append(verdict(entry["rss"] <= AGENT_RSS_MB, "%s: largest peak RSS" % name,
                                 "%.1f MB" % entry["rss"], "<= %.0f MB" % AGENT_RSS_MB))
        lines.append(verdict(entry["tree"] <= entry["bound"], "%s: largest tree" % name,
                             "%.1f MB" % entry["tree"], "<= %.0f MB" % entry["bound"]))
    lines.append(verdict(all(b[3] for b in bounds), "longest exit reason", "%d bytes" % longest,
                         "<= %d bytes, one on failure" % REASON_LIMIT))
    expected = sum(1 for case, runs in rows for r in runs if r.rc in case.rc)
    total = sum(len(runs) for _, runs in rows)
    lines.append(verdict(expected == total, "exit codes as the cases expect",
                         "%d of %d" % (expected, total), "all"))
    lines.append("")
    lines.append("(%d cases x %d runs, check_timeout %.1f s; benchmark took %.0f s)" % (
        len(rows), args.runs, args.check_timeout, time.monotonic() - started))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
