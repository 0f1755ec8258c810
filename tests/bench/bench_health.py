#!/usr/bin/python3
"""Benchmark: ocf:grommunio:stack-health and ocf:grommunio:postfix-maps monitors.

Runs as root against private, real services (the fixtures of tests/services:
MariaDB, Dovecot IMAP (resident login processes) and LMTP, redis, an admin-api stand-in, a milter
stand-in that answers SMFIC_OPTNEG) and measures, by wall clock over many interleaved runs (median and
p90), plus the CPU time (user+sys, from wait4, reaped grandchildren included)
of each child:

  stack-health
    a) ``monitor --verbose`` with the six older checks, each service behind
       a 100 ms DelayProxy: the monitor must take about the slowest check
       (target <= 200 ms), not the sum (600 ms); the sum comes from the
       latencies of the verbose output
    b) an IMAP peer that accepts and never greets, check_timeout=60 and an
       operation timeout of 10 s: the monitor must return within 10 s and
       name the IMAP failure in its ``ocf-exit-reason:`` line
    c) ``monitor`` of the healthy stack (no added latency, six checks) next
       to ``/usr/bin/python3 -c pass`` and the heartbeat ``Dummy`` monitor

  the guide's whole group (section ``group``)
    d) ``monitor`` with every check on -- the six above plus gromox-http,
       exmdb, midb, zcore, event, timer, pop3, the sync front and nginx's
       robots.txt over TLS, rspamd's ping and the delivery queue, the
       gromox ones against stand-ins answering with gromox's bytes
       (tests/services/gromox.py) -- within 3x ``python3 -c pass`` of the
       same rounds, and within 2x with the two TLS checks off

  postfix-maps
    ``monitor`` at OCF_CHECK_LEVEL=10 (4 live postmap lookups + milter) and
    0 (postconf and the .cf files only), next to ``python3 -c pass``, the
    Dummy monitor and one bare ``postmap -q example.com mysql:FILE``

Exit status: 0 when the benchmark ran, whatever the targets say; 1 when it
could not run (not root, a fixture or an agent start failed) or when a
monitor that should succeed did not; 2 on usage errors.  Standard library
only (the fixtures import pytest, which the test suite installs anyway).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import (OCF_ROOT, PYTHON, BenchError, Cleanups, Series, Spawner, exit_on_signals,
                      log, measure_round, ocf_env, pct, require_executable, shebang, start_mariadb,
                      tests_on_path, timing_table, verdict, write_mysql_config)

tests_on_path()

DEFAULT_AGENT_DIR = "/usr/lib/ocf/resource.d/grommunio"
DUMMY = OCF_ROOT + "/resource.d/heartbeat/Dummy"
POSTMAP = "/usr/sbin/postmap"
POSTCONF = "/usr/sbin/postconf"
CHECKS = ("imap", "admin_api", "mysql", "lmtp", "redis", "milter")
GROUP_CHECKS = ("imap", "admin_api", "mysql", "lmtp", "gromox_http", "exmdb", "midb", "zcore",
                "sync", "pop3", "event", "timer", "web", "antispam", "redis", "milter", "queue")
TLS_CHECKS = ("sync", "web")

TARGET_DELAYED_MS = 200.0   # (a) monitor median with every check 100 ms slow
TARGET_HANG_S = 10.0        # (b) the operation timeout: the monitor must be back before it
TARGET_STACK_RATIO = 2.0    # healthy stack-health, six checks, no TLS / python3 -c pass
TARGET_POSTFIX_RATIO = 2.5  # postfix-maps level 10, tools stubbed / python3 -c pass
TARGET_GROUP_RATIO = 3.0    # every check on, TLS included / python3 -c pass
TARGET_GROUP_PLAIN = 2.0    # every check on but the TLS ones / python3 -c pass
HANG_TIMEOUT_MS = 10000     # (b) OCF_RESKEY_CRM_meta_timeout
HANG_CHECK_TIMEOUT = "60"   # (b) check_timeout, far above the operation's

# What each monitor imports (the agent file, the library modules and the
# protocol modules its checks load), for the "imports only" info rows.
STACK_IMPORTS = ("grommunio_ocf.ocf.agent", "grommunio_ocf.checks.agent", "grommunio_ocf.checks.contract",
                 "grommunio_ocf.base.netaddr", "grommunio_ocf.ocf.params", "grommunio_ocf.ocf.status",
                 "grommunio_ocf.ocf.state", "grommunio_ocf.stack.checks", "grommunio_ocf.stack.params",
                 "grommunio_ocf.stack.gromoxcfg",
                 "grommunio_ocf.stack.gromoxdb", "grommunio_ocf.base.jsonread", "_thread",
                 "grommunio_ocf.protocols.imap", "grommunio_ocf.protocols.adminapi",
                 "grommunio_ocf.protocols.mysql", "grommunio_ocf.protocols.smtp",
                 "grommunio_ocf.protocols.redis", "grommunio_ocf.protocols.milter")
GROUP_IMPORTS = STACK_IMPORTS + (
    "grommunio_ocf.protocols.gromoxhttp",
    "grommunio_ocf.protocols.exmdb", "grommunio_ocf.protocols.gromoxline",
    "grommunio_ocf.protocols.zcore", "grommunio_ocf.protocols.activesync",
    "grommunio_ocf.protocols.pop3", "grommunio_ocf.protocols.robots",
    "grommunio_ocf.protocols.rspamd", "grommunio_ocf.stack.queue", "grommunio_ocf.protocols.tls",
    "grommunio_ocf.protocols.rawtls")
POSTFIX_IMPORTS = ("grommunio_ocf.ocf.agent", "grommunio_ocf.checks.agent", "grommunio_ocf.checks.contract",
                   "grommunio_ocf.base.netaddr", "grommunio_ocf.ocf.params", "grommunio_ocf.ocf.status",
                   "grommunio_ocf.ocf.state", "grommunio_ocf.postfix.checks", "grommunio_ocf.postfix.tools",
                   "grommunio_ocf.base.spawn", "_thread", "grommunio_ocf.protocols.tcp")

# ``monitor --verbose``: "unit: PART; PART", each PART "[check] detail in 2.1 ms" (the
# check's name left out when it is the unit's).
VERBOSE_PART = re.compile(r"(?:^|; )(?:\[(\w+)\] )?(.*?) in ([0-9.]+) ms(?=; |$)")


# -- running children -----------------------------------------------------------

class Runner(Spawner):
    """benchlib.Spawner with stdout/stderr captured in two scratch files of ``directory``."""

    def checked(self, argv, env, what):
        rc, wall, cpu, out, err = self.capture(argv, env)
        if rc != 0:
            raise BenchError("%s failed, rc %d: %s" % (what, rc, (out + err).strip()[-800:]))
        return wall


def start_agent(runner, fx, agent, env, what):
    """``agent start`` as Pacemaker runs it (interval 0, timeout 60 s); stop registered in ``fx``."""
    start_env = dict(env, OCF_RESKEY_CRM_meta_interval="0", OCF_RESKEY_CRM_meta_timeout="60000")
    stop_env = dict(start_env, OCF_RESKEY_CRM_meta_timeout="20000")
    fx.add("%s stop" % os.path.basename(agent), lambda: runner([agent, "stop"], stop_env))
    runner.checked([agent, "start"], start_env, what)


def exit_reason(stderr):
    for line in stderr.splitlines():
        if line.startswith("ocf-exit-reason:"):
            return line[len("ocf-exit-reason:"):]
    return None


def parse_verbose(stdout):
    """{check name: latency ms} from ``monitor --verbose`` output (one line per unit)."""
    found = {}
    for line in stdout.splitlines():
        unit, sep, rest = line.partition(": ")
        if not sep:
            continue
        for match in VERBOSE_PART.finditer(rest):
            found[match.group(1) or unit.replace("-", "_")] = float(match.group(3))
    return found


def checks_off():
    """OCF_RESKEY_* turning off the checks a section does not measure."""
    from services.gromox import NEW_CHECKS_OFF
    return {"OCF_RESKEY_" + name: value for name, value in NEW_CHECKS_OFF.items()}


# -- output ---------------------------------------------------------------------------

def table(series):
    return timing_table([s.timing_row() for s in series], 46, (10, 9, 9, 11), 1)


def ratio_line(text, num, den, note=""):
    return "      %-44s %11.2fx%s" % (text, num / den, ("   " + note) if note else "")


# -- the fixtures --------------------------------------------------------------------

class Fixtures(Cleanups):
    """Everything started, closed in reverse order by close(); one MariaDB for both agents."""

    mariadb = None
    six = None

    def shared_mariadb(self):
        if self.mariadb is None:
            self.mariadb = start_mariadb(self)
        return self.mariadb

    def six_services(self):
        """``(mariadb, dovecot, redis, admin-api, milter)``: the peers of the six older
        checks, started once for both stack-health sections.

        Dovecot with resident login processes: gromox-imap, which it stands in
        for, greets from a running thread, while Dovecot's default forks a
        login process per connection (~5 ms before each greeting, which is
        Dovecot's cost, not the agent's).  See services.dovecot.Dovecot.
        """
        if self.six is None:
            from services.adminapi import AdminApi
            from services.dovecot import Dovecot
            from services.gromox import Milter
            from services.redis import Redis
            self.six = (self.shared_mariadb(),
                        self.started("dovecot", Dovecot(resident_login=True)),
                        self.started("redis", Redis()),
                        self.keep("admin-api", AdminApi()),
                        self.keep("milter", Milter()))
        return self.six


def installed_agent(args, name):
    agent = os.path.join(args.agent_dir, name)
    require_executable(agent, "agent %s is not executable (run packaging/install)")
    return agent


def libdir_of(agent):
    """The agent's LIBDIR (packaging/install writes it; in a checkout it is ../lib)."""
    with open(agent, encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r'LIBDIR = "([^"]+)"\s*$', line)
            if match:
                return match.group(1)
    return os.path.join(os.path.dirname(os.path.abspath(agent)), "..", "lib")


def imports_argv(agent, modules):
    """``python3 -IS`` importing what the monitor imports, and nothing else."""
    code = "import sys; sys.path.insert(0, %r); import %s" % (libdir_of(agent), ", ".join(modules))
    return [PYTHON, "-IS", "-c", code]


def dummy_setup(runner, fx, tmp):
    """A started heartbeat Dummy (stop registered in ``fx``); its monitor's environment."""
    require_executable(DUMMY, "%s missing (apt install resource-agents)")
    env = ocf_env("dummy", "Dummy", "heartbeat", 30000, 20000, rsctmp=tmp)
    env["OCF_RESKEY_state"] = os.path.join(tmp, "Dummy-dummy.state")
    start_env = dict(env, OCF_RESKEY_CRM_meta_interval="0")
    runner.checked([DUMMY, "start"], start_env, "Dummy start")
    fx.add("Dummy stop", lambda: runner([DUMMY, "stop"], start_env))
    return env


# -- stack-health ----------------------------------------------------------------------

def bench_stack(args, runner, tmp, fx, log, out):
    from services.listeners import DelayProxy, SilentListener

    agent = installed_agent(args, "stack-health")
    t0 = time.monotonic()
    mariadb, dovecot, redis, api, milter = fx.six_services()
    silent = fx.keep("silent imap", SilentListener())

    def proxy(host, port):
        return fx.keep("proxy", DelayProxy(host, port, delay=args.delay))

    host = "127.0.0.1"
    p_imap = proxy(host, dovecot.imap_port)
    p_api = proxy(api.host, api.port)
    p_mysql = proxy(mariadb.host, mariadb.port)
    p_lmtp = proxy(host, dovecot.lmtp_port)
    p_redis = proxy(redis.host, redis.port)
    p_milter = proxy(milter.host, milter.port)
    cfg_direct = write_mysql_config(os.path.join(tmp, "mysql_adaptor.cfg"), host, mariadb.port)
    cfg_delayed = write_mysql_config(os.path.join(tmp, "mysql_adaptor-delayed.cfg"), host,
                                     p_mysql.port)
    setup_s = time.monotonic() - t0

    def env(instance, imap_port, api_port, cfg, lmtp_port, redis_port, milter_port,
            timeout_ms=30000, check_timeout="5"):
        e = ocf_env(instance, "stack-health", "grommunio", 30000, timeout_ms, rsctmp=tmp)
        e.update(checks_off())
        e.update({
            "OCF_RESKEY_imap_url": "imap://%s:%d" % (host, imap_port),
            "OCF_RESKEY_admin_api_url": "http://%s:%d/api/v1/status" % (host, api_port),
            "OCF_RESKEY_mysql_config": cfg,
            "OCF_RESKEY_lmtp_address": "%s:%d" % (host, lmtp_port),
            "OCF_RESKEY_redis_address": "%s:%d" % (host, redis_port),
            "OCF_RESKEY_milter_address": "%s:%d" % (host, milter_port),
            "OCF_RESKEY_critical": ",".join(CHECKS),
            "OCF_RESKEY_check_timeout": check_timeout,
        })
        return e

    def started(e):
        start_agent(runner, fx, agent, e, "stack-health start (%s)" % e["OCF_RESOURCE_INSTANCE"])

    healthy = env("health-healthy", dovecot.imap_port, api.port, cfg_direct, dovecot.lmtp_port,
                  redis.port, milter.port)
    delayed = env("health-delayed", p_imap.port, p_api.port, cfg_delayed, p_lmtp.port,
                  p_redis.port, p_milter.port)
    started(healthy)
    started(delayed)
    dummy_env = dummy_setup(runner, fx, tmp)

    bare_argv = [PYTHON, "-c", "pass"]
    floor_argv = [PYTHON, "-IS", "-c", "pass"]
    imports = imports_argv(agent, STACK_IMPORTS)
    dummy_argv = [DUMMY, "monitor"]
    mon_argv = [agent, "monitor"]
    verbose_argv = [agent, "monitor", "--verbose"]

    bare = Series("/usr/bin/python3 -c pass")
    floor = Series("/usr/bin/python3 -IS -c pass (info)")
    imported = Series("python3 -IS + the monitor's imports (info)")
    dummy = Series("heartbeat Dummy monitor (shell floor)")
    ours = Series("stack-health monitor, healthy, 6 checks")
    slow = Series("stack-health monitor -v, +%.0f ms per check" % (args.delay * 1000))
    before = before_argv = None
    if args.before_dir:
        before_argv = [os.path.join(args.before_dir, "stack-health"), "monitor"]
        before = Series("stack-health monitor, healthy, before (%s)" % args.before_dir)
    per_check = {name: [] for name in CHECKS}
    sums, slowest = [], []

    for _ in range(2):  # warm-up: page cache, __pycache__, the services' first sessions
        for argv, e in ((bare_argv, healthy), (floor_argv, healthy), (imports, healthy),
                        (dummy_argv, dummy_env),
                        (mon_argv, healthy), (verbose_argv, delayed)):
            runner(argv, e)
    log("stack-health: %d interleaved rounds of python, Dummy, healthy and delayed monitor"
        % args.runs)
    for _ in range(args.runs):
        measure_round(runner, ((bare_argv, healthy, bare), (floor_argv, healthy, floor),
                               (imports, healthy, imported), (dummy_argv, dummy_env, dummy),
                               (mon_argv, healthy, ours))
                      + (((before_argv, healthy, before),) if before else ()), log)
        rc, wall, cpu, stdout, stderr = runner.capture(verbose_argv, delayed)
        latencies = parse_verbose(stdout)
        if rc != 0 or set(latencies) != set(CHECKS):
            slow.failed += 1
            log("FAIL: delayed monitor rc %d: %s" % (rc, (stdout + stderr).strip()[-600:]))
            continue
        slow.add(wall, cpu)
        for name, ms in latencies.items():
            per_check[name].append(ms)
        sums.append(sum(latencies.values()))
        slowest.append(max(latencies.values()))

    # (b): IMAP accepts and never greets; the operation timeout must bound the monitor.
    hang = env("health-hang", dovecot.imap_port, api.port, cfg_direct, dovecot.lmtp_port,
               redis.port, milter.port, timeout_ms=HANG_TIMEOUT_MS,
               check_timeout=HANG_CHECK_TIMEOUT)
    started(hang)   # started against the real IMAP; the monitors then meet the silent one
    hang["OCF_RESKEY_imap_url"] = "imap://%s" % silent.address
    hangs = []
    log("stack-health: %d monitor(s) against a silent IMAP peer (up to %.0f s each)"
        % (args.hang_runs, HANG_TIMEOUT_MS / 1000.0))
    for _ in range(args.hang_runs):
        rc, wall, _, stdout, stderr = runner.capture(verbose_argv, hang)
        hangs.append((rc, wall, exit_reason(stderr), parse_verbose(stdout)))

    series = [bare, floor, imported, dummy, ours, slow] + ([before] if before else [])
    out["stack"] = dict(agent=agent, setup_s=setup_s, series=series, before=before,
                        bare=bare, floor=floor, imported=imported, dummy=dummy, ours=ours, slow=slow,
                        per_check=per_check, sums=sums, slowest=slowest, hangs=hangs,
                        shebang=shebang(agent))


def render_stack(args, r):
    lines = []
    add = lines.append
    delay_ms = args.delay * 1000
    add("stack-health monitor benchmark")
    add("  agent   : %s  (%s)" % (r["agent"], r["shebang"]))
    add("  python  : %s, %s CPUs, %d runs per row, interleaved; fixtures up in %.1f s"
        % (sys.version.split()[0], os.cpu_count(), args.runs, r["setup_s"]))
    add("")
    lines += table(r["series"])
    slow, ours = r["slow"], r["ours"]
    add("")
    add("(a) six checks, each service behind a %.0f ms DelayProxy (monitor --verbose)" % delay_ms)
    add("      %-44s %12s %10s" % ("per-check latency (from --verbose)", "median ms", "p90 ms"))
    for name in CHECKS:
        values = r["per_check"][name]
        if values:
            add("      %-44s %12.1f %10.1f" % (name, statistics.median(values), pct(values, 90)))
    if r["sums"]:
        sum_med = statistics.median(r["sums"])
        slowest_med = statistics.median(r["slowest"])
        add("      %-44s %12.1f %10.1f" % ("sum of the six (per run)", sum_med,
                                             pct(r["sums"], 90)))
        add("      %-44s %12.1f %10.1f" % ("slowest check (per run)", slowest_med,
                                             pct(r["slowest"], 90)))
        add("      %-44s %12.1f" % ("monitor wall, median", slow.median))
        add("      %-44s %12.1f   (interpreter, imports, threads)"
            % ("monitor wall - slowest check", slow.median - slowest_med))
        add(ratio_line("monitor wall / sum of checks", slow.median, sum_med,
                       "(1.00x would be sequential)"))
    add(verdict(slow.wall and slow.median <= TARGET_DELAYED_MS,
                "(a) monitor median, every check +%.0f ms" % delay_ms,
                "%.1f ms" % slow.median, "<= %.0f ms, the slowest check, not the sum"
                % TARGET_DELAYED_MS))
    add(verdict(slow.failed == 0, "(a) delayed monitors returned 0",
                "%d failed" % slow.failed, "0 failed"))
    add("")
    add("(b) IMAP peer accepts and never greets; check_timeout=%s, "
        "OCF_RESKEY_CRM_meta_timeout=%d" % (HANG_CHECK_TIMEOUT, HANG_TIMEOUT_MS))
    for rc, wall, reason, latencies in r["hangs"]:
        imap = latencies.get("imap")
        add("      rc %d in %.2f s%s" % (rc, wall, "" if imap is None
                                         else "   (imap check gave up after %.0f ms)" % imap))
        add("      ocf-exit-reason:%s" % (reason if reason is not None else " (none)"))
    if r["hangs"]:
        worst = max(wall for _, wall, _, _ in r["hangs"])
        named = all(rc == 1 and reason is not None and reason.startswith("imap:")
                    for rc, _, reason, _ in r["hangs"])
        add(verdict(worst < TARGET_HANG_S, "(b) monitor returns before the op timeout",
                    "%.2f s" % worst, "< %.0f s" % TARGET_HANG_S))
        add(verdict(named, "(b) rc 1, exit reason names imap first",
                    "yes" if named else "no", "'imap: ...'"))
    add("")
    add("(c) healthy stack, six checks, no added latency")
    add(ratio_line("stack-health monitor / python3 -c pass", ours.median, r["bare"].median))
    add(ratio_line("stack-health monitor / python3 -IS -c pass", ours.median, r["floor"].median,
                   "(the agent's shebang: its own interpreter floor)"))
    add(ratio_line("stack-health monitor / heartbeat Dummy monitor", ours.median,
                   r["dummy"].median))
    add("      %-44s %11.1f ms  (the checks' own work, threads, exit)"
        % ("stack-health monitor - its imports alone", ours.median - r["imported"].median))
    add(verdict(ours.failed == 0, "(c) healthy monitors returned 0",
                "%d failed" % ours.failed, "0 failed"))
    add(verdict(ours.median <= TARGET_STACK_RATIO * r["bare"].median,
                "(c) healthy monitor / python3 -c pass",
                "%.2fx" % (ours.median / r["bare"].median), "<= %.1fx" % TARGET_STACK_RATIO))
    if r["before"]:
        add(ratio_line("before / python3 -c pass", r["before"].median, r["bare"].median))
        add(ratio_line("before / now", r["before"].median, ours.median))
    return lines


# -- postfix-maps ----------------------------------------------------------------------

def bench_postfix(args, runner, tmp, fx, log, out):
    from services.listeners import TcpAcceptor
    from services.postfix import PostfixConfig

    agent = installed_agent(args, "postfix-maps")
    require_executable(POSTMAP, "%s missing (apt install postfix postfix-mysql)")
    t0 = time.monotonic()
    mariadb = fx.shared_mariadb()
    milter = fx.keep("pf milter", TcpAcceptor())
    directory = os.path.join(tmp, "postfix")
    os.mkdir(directory)
    config = PostfixConfig(directory, mariadb)
    milter_spec = "inet:%s" % milter.address
    config.set("smtpd_milters", milter_spec)
    setup_s = time.monotonic() - t0

    env = ocf_env("postfix-maps", "postfix-maps", "grommunio", 60000, 30000, rsctmp=tmp)
    env.update({
        "OCF_RESKEY_config_directory": directory,
        "OCF_RESKEY_maps": " ".join("%s=mysql:%s" % (param, path)
                                    for param, path in config.maps.items()),
        "OCF_RESKEY_milters": milter_spec,
    })
    start_agent(runner, fx, agent, env, "postfix-maps start")
    env10 = dict(env, OCF_CHECK_LEVEL="10")
    env0 = dict(env, OCF_CHECK_LEVEL="0")
    dummy_env = dummy_setup(runner, fx, tmp)
    domains_cf = config.maps["virtual_mailbox_domains"]
    postmap_argv = [POSTMAP, "-c", directory, "-q", "example.com", "mysql:" + domains_cf]
    postconf_argv = [POSTCONF, "-c", directory, "-x", "recipient_bcc_maps", "smtpd_milters",
                     "virtual_alias_maps", "virtual_mailbox_domains", "virtual_mailbox_maps",
                     "virtual_transport"]
    rc, _, _, stdout, stderr = runner.capture(postmap_argv, env)
    if rc != 0 or stdout.strip() != "1":
        raise BenchError("postmap -q example.com did not find it: rc %d %s"
                         % (rc, (stdout + stderr).strip()))
    # The verbose output of one level-10 monitor: what it checks and how long each took.
    rc, _, _, stdout, stderr = runner.capture([agent, "monitor", "--verbose"], env10)
    if rc != 0:
        raise BenchError("postfix-maps monitor (level 10) failed, rc %d: %s"
                         % (rc, (stdout + stderr).strip()[-800:]))
    sample = stdout.rstrip("\n").replace(directory + "/", "DIR/").splitlines()

    # The agent's own cost, Postfix's excluded: the same monitor with postconf
    # and postmap replaced by shell stubs (postconf: its real answer, recorded
    # once; postmap: "not found").
    stubs = os.path.join(tmp, "postfix-stubs")
    os.mkdir(stubs)
    answer = os.path.join(stubs, "postconf.answer")
    with open(answer, "w") as handle:
        handle.write(runner.capture(postconf_argv, env)[3])
    for name, body in (("postconf", "exec cat %s\n" % answer), ("postmap", "exit 1\n")):
        path = os.path.join(stubs, name)
        with open(path, "w") as handle:
            handle.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)
    env_stub = dict(env10, PATH=stubs + ":" + env10.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"))

    runs = [
        ([PYTHON, "-c", "pass"], env, Series("/usr/bin/python3 -c pass")),
        ([PYTHON, "-IS", "-c", "pass"], env, Series("/usr/bin/python3 -IS -c pass (info)")),
        (imports_argv(agent, POSTFIX_IMPORTS), env,
         Series("python3 -IS + the monitor's imports (info)")),
        ([DUMMY, "monitor"], dummy_env, Series("heartbeat Dummy monitor (shell floor)")),
        ([agent, "monitor"], env10, Series("postfix-maps monitor, OCF_CHECK_LEVEL=10")),
        ([agent, "monitor"], env0, Series("postfix-maps monitor, OCF_CHECK_LEVEL=0")),
        (postmap_argv, env, Series("postmap -q example.com mysql:FILE (one)")),
        (postconf_argv, env, Series("postconf -c DIR -x (the agent's one call)")),
        ([agent, "monitor"], env_stub, Series("level 10, postconf/postmap stubbed (own cost)")),
    ]
    if args.before_dir:
        before = os.path.join(args.before_dir, "postfix-maps")
        runs += [([before, "monitor"], env10, Series("postfix-maps level 10, before (%s)"
                                                     % args.before_dir)),
                 ([before, "monitor"], env0, Series("postfix-maps level 0, before"))]
    for _ in range(2):
        for argv, e, _series in runs:
            runner(argv, e)
    log("postfix-maps: %d interleaved rounds" % args.runs)
    for _ in range(args.runs):
        measure_round(runner, runs, log)
    out["postfix"] = dict(agent=agent, setup_s=setup_s, series=[s for _, _, s in runs],
                          sample=sample, shebang=shebang(agent))


def render_postfix(args, r):
    lines = []
    add = lines.append
    bare, floor, imported, dummy, l10, l0, postmap, postconf, stubbed = r["series"][:9]
    before = r["series"][9:]
    add("postfix-maps monitor benchmark")
    add("  agent   : %s  (%s)" % (r["agent"], r["shebang"]))
    add("  python  : %s, %s CPUs, %d runs per row, interleaved; fixtures up in %.1f s"
        % (sys.version.split()[0], os.cpu_count(), args.runs, r["setup_s"]))
    add("  maps    : the four grommunio mysql: maps over MariaDB's unix socket, milter a TCP "
        "acceptor")
    add("")
    lines += table(r["series"])
    add("")
    add("one level-10 monitor --verbose (DIR = the test config_directory):")
    for line in r["sample"]:
        add("      " + line)
    add("")
    add(ratio_line("level 10 / heartbeat Dummy monitor", l10.median, dummy.median))
    add(ratio_line("level 10 / one bare postmap -q", l10.median, postmap.median,
                   "(4 lookups run in parallel, after one postconf)"))
    add(ratio_line("level 0 / python3 -c pass", l0.median, bare.median))
    add(ratio_line("level 0 / heartbeat Dummy monitor", l0.median, dummy.median))
    add("      %-44s %11.1f ms  (postconf, the .cf files, threads, exit)"
        % ("level 0 - its imports alone", l0.median - imported.median))
    add("      %-44s %11.1f ms  (postconf, 4 x postmap in parallel, the milter)"
        % ("level 10 - its imports alone", l10.median - imported.median))
    add("      %-44s %11.1f ms  (postconf %.1f + one postmap %.1f, as they run here)"
        % ("level 10 - postconf - one postmap", l10.median - postconf.median - postmap.median,
           postconf.median, postmap.median))
    add(ratio_line("level 10 / python3 -c pass (Postfix's tools included)", l10.median,
                   bare.median))
    add(verdict(stubbed.median <= TARGET_POSTFIX_RATIO * bare.median,
                "level 10, Postfix's tools stubbed / python3 -c pass",
                "%.2fx" % (stubbed.median / bare.median), "<= %.1fx" % TARGET_POSTFIX_RATIO))
    if before:
        add(ratio_line("level 10 before / python3 -c pass", before[0].median, bare.median))
        add(ratio_line("level 0 before / python3 -c pass", before[1].median, bare.median))
        add(ratio_line("level 10: before / now", before[0].median, l10.median))
        add(ratio_line("level 0: before / now", before[1].median, l0.median))
    failed = l10.failed + l0.failed
    add(verdict(failed == 0, "postfix-maps monitors returned 0", "%d failed" % failed,
                "0 failed"))
    return lines


# -- the guide's whole group ----------------------------------------------------------

def bench_group(args, runner, tmp, fx, log, out):
    """(d): every check on, TLS included, and the same without the TLS checks."""
    from services.gromox import (Exmdb, LineDaemon, Zcore, gromox_http, nginx_front,
                                 rspamd_controller, self_signed)
    from services.listeners import Greeter

    agent = installed_agent(args, "stack-health")
    t0 = time.monotonic()
    mariadb, dovecot, redis, api, milter = fx.six_services()
    # gromox's daemons listen on [::1] (their allow-list compares address strings).
    loop = "::1"
    midb = fx.keep("midb", LineDaemon("midb", host=loop))
    event = fx.keep("event", LineDaemon("event", host=loop))
    timer = fx.keep("timer", LineDaemon("timer", host=loop))
    exmdb = fx.keep("exmdb", Exmdb(host=loop))
    zcore = fx.keep("zcore", Zcore(os.path.join(tmp, "zcore.sock")))
    http = fx.keep("gromox-http", gromox_http())
    nginx = fx.keep("nginx (TLS)", nginx_front(tls=self_signed(tmp)))
    rspamd = fx.keep("rspamd", rspamd_controller())
    pop3 = fx.keep("pop3", Greeter(b"+OK node1 pop service ready\r\n"))
    queue = os.path.join(tmp, "queue")
    for name in ("mess", "save"):
        os.makedirs(os.path.join(queue, name))
    cfg = write_mysql_config(os.path.join(tmp, "mysql_adaptor-group.cfg"), "127.0.0.1",
                             mariadb.port)
    setup_s = time.monotonic() - t0

    full = ocf_env("health-group", "stack-health", "grommunio", 30000, 30000, rsctmp=tmp)
    full.update({"OCF_RESKEY_" + name: value for name, value in (
        ("imap_url", "imap://127.0.0.1:%d" % dovecot.imap_port),
        ("admin_api_url", "http://%s:%d/api/v1/status" % (api.host, api.port)),
        ("mysql_config", cfg), ("lmtp_address", "127.0.0.1:%d" % dovecot.lmtp_port),
        ("gromox_http_url", http.url()), ("exmdb_address", exmdb.address),
        ("midb_address", midb.address), ("zcore_socket", zcore.path),
        ("event_address", event.address), ("timer_address", timer.address),
        ("pop3_address", pop3.address),
        ("sync_url", nginx.url("/Microsoft-Server-ActiveSync")),
        ("web_url", nginx.url("/robots.txt")), ("antispam_url", rspamd.url("/ping")),
        ("redis_address", "%s:%d" % (redis.host, redis.port)),
        ("milter_address", milter.address), ("queue_dir", queue),
        ("critical", ",".join(GROUP_CHECKS)))})
    plain = dict(full, OCF_RESOURCE_INSTANCE="health-group-plain", OCF_RESKEY_sync_url="off",
                 OCF_RESKEY_web_url="off")
    for e in (full, plain):
        start_agent(runner, fx, agent, e, "stack-health start (%s)" % e["OCF_RESOURCE_INSTANCE"])
    rc, _, _, stdout, stderr = runner.capture([agent, "monitor", "--verbose"], full)
    if rc != 0 or set(parse_verbose(stdout)) != set(GROUP_CHECKS):
        raise BenchError("the whole-group monitor failed, rc %d: %s"
                         % (rc, (stdout + stderr).strip()[-1200:]))
    sample = stdout.rstrip("\n").replace(tmp + "/", "TMP/").splitlines()

    runs = [
        ([PYTHON, "-c", "pass"], full, Series("/usr/bin/python3 -c pass")),
        ([PYTHON, "-IS", "-c", "pass"], full, Series("/usr/bin/python3 -IS -c pass (info)")),
        (imports_argv(agent, GROUP_IMPORTS), full,
         Series("python3 -IS + every check's imports (info)")),
        ([agent, "monitor"], full, Series("monitor, all 17 checks, TLS included")),
        ([agent, "monitor"], plain, Series("monitor, 15 checks, the 2 TLS ones off")),
    ]
    for _ in range(2):
        for argv, e, _series in runs:
            runner(argv, e)
    log("the whole group: %d interleaved rounds" % args.runs)
    latencies = {name: [] for name in GROUP_CHECKS}
    for _ in range(args.runs):
        measure_round(runner, runs, log)
    for _ in range(min(args.runs, 10)):
        rc, _, _, stdout, _ = runner.capture([agent, "monitor", "--verbose"], full)
        for name, ms in parse_verbose(stdout).items():
            latencies[name].append(ms)
    out["group"] = dict(agent=agent, setup_s=setup_s, series=[s for _, _, s in runs],
                        sample=sample, latencies=latencies, shebang=shebang(agent))


def render_group(args, r):
    lines = []
    add = lines.append
    bare, floor, imported, full, plain = r["series"]
    add("stack-health over the guide's whole group")
    add("  agent   : %s  (%s)" % (r["agent"], r["shebang"]))
    add("  python  : %s, %s CPUs, %d runs per row, interleaved; fixtures up in %.1f s"
        % (sys.version.split()[0], os.cpu_count(), args.runs, r["setup_s"]))
    add("  peers   : real MariaDB, Dovecot (IMAP with resident login processes, LMTP), redis;")
    add("            stand-ins for the admin-api,")
    add("            gromox-http, exmdb, midb, zcore, event, timer, POP3, nginx (TLS, self-signed),")
    add("            rspamd and the milter; the queue an empty mess/ and save/")
    add("")
    lines += table(r["series"])
    add("")
    add("one monitor --verbose (every check on):")
    for line in r["sample"]:
        add("      " + line)
    add("")
    add("      %-44s %12s %10s" % ("per-check latency (from --verbose)", "median ms", "p90 ms"))
    for name in GROUP_CHECKS:
        values = r["latencies"][name]
        if values:
            add("      %-44s %12.1f %10.1f" % (name, statistics.median(values), pct(values, 90)))
    add("")
    add(ratio_line("every check, TLS included / python3 -c pass", full.median, bare.median))
    add(ratio_line("TLS checks off / python3 -c pass", plain.median, bare.median))
    add(ratio_line("python3 -IS + every check's imports / -c pass", imported.median,
                   bare.median))
    add(verdict(full.failed + plain.failed == 0, "(d) monitors returned 0",
                "%d failed" % (full.failed + plain.failed), "0 failed"))
    add(verdict(full.median <= TARGET_GROUP_RATIO * bare.median,
                "(d) every check on, TLS included",
                "%.2fx" % (full.median / bare.median), "<= %.1fx" % TARGET_GROUP_RATIO))
    add(verdict(plain.median <= TARGET_GROUP_PLAIN * bare.median,
                "(d) every check on, the TLS ones off",
                "%.2fx" % (plain.median / bare.median), "<= %.1fx" % TARGET_GROUP_PLAIN))
    return lines


# -- main ----------------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("section", nargs="?", default="all",
                        choices=("all", "stack-health", "group", "postfix-maps"),
                        help="what to benchmark: stack-health's six older checks, the "
                             "guide's whole group, postfix-maps (default: all)")
    parser.add_argument("--runs", type=int, default=30,
                        help="runs per measurement (default 30)")
    parser.add_argument("--hang-runs", type=int, default=2,
                        help="monitors against the silent IMAP peer, up to 10 s each (default 2)")
    parser.add_argument("--delay", type=float, default=0.1,
                        help="latency each DelayProxy adds, in seconds (default 0.1)")
    parser.add_argument("--agent-dir", default=DEFAULT_AGENT_DIR,
                        help="directory of the installed agents (default %s)" % DEFAULT_AGENT_DIR)
    parser.add_argument("--before-dir", default=None,
                        help="agents of an earlier version (e.g. a worktree's agents/), measured "
                             "in the same interleaved rounds for a before/after table")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.hang_runs < 0 or args.delay < 0:
        parser.error("--runs must be positive, --hang-runs and --delay not negative")

    if os.geteuid() != 0:
        log("ERROR: must run as root (MariaDB, Dovecot and the agents' state dir)")
        return 1
    # SIGTERM/SIGHUP: unwind through the finally blocks so every fixture goes away.
    exit_on_signals()

    tmp = tempfile.mkdtemp(prefix="health-bench.")
    os.chmod(tmp, 0o755)
    fx = Fixtures(log)
    runner = Runner(tmp)
    out = {}
    started = time.monotonic()
    try:
        if args.section in ("all", "stack-health"):
            bench_stack(args, runner, tmp, fx, log, out)
        if args.section in ("all", "group"):
            bench_group(args, runner, tmp, fx, log, out)
        if args.section in ("all", "postfix-maps"):
            bench_postfix(args, runner, tmp, fx, log, out)
    except BenchError as exc:
        log("ERROR: %s" % exc)
        return 1
    except subprocess.CalledProcessError as exc:
        log("ERROR: %s: %s" % (exc, (exc.stderr or "").strip()))
        return 1
    finally:
        fx.close()
        runner.close()
        shutil.rmtree(tmp, ignore_errors=True)
    lines = []
    if "stack" in out:
        lines += render_stack(args, out["stack"])
    if "group" in out:
        if lines:
            lines.append("")
        lines += render_group(args, out["group"])
    if "postfix" in out:
        if lines:
            lines.append("")
        lines += render_postfix(args, out["postfix"])
    lines.append("")
    lines.append("(benchmark took %.0f s, fixtures included)" % (time.monotonic() - started))
    print("\n".join(lines))
    failed = 0
    if "stack" in out:
        failed += out["stack"]["ours"].failed + out["stack"]["slow"].failed
    if "group" in out:
        failed += sum(s.failed for s in out["group"]["series"][3:])
    if "postfix" in out:
        failed += sum(s.failed for s in out["postfix"]["series"][4:6])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
