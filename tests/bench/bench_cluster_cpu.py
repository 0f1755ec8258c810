#!/usr/bin/python3
"""Benchmark: monitor CPU per hour in a real cluster, the guide's configuration vs migrated.

Starts the test cluster of tests/cluster (corosync + pacemaker, one node) in
a private mount namespace and measures, per scenario, the CPU time that the
resource agents' recurring monitors take, the way Pacemaker runs them:

  A  guide:    7 x ocf:heartbeat:Filesystem (fstype=none options=bind) in a
               group, op monitor interval=20s timeout=40s (guide.crm)
  B  migrated: 1 x ocf:grommunio:grodata-binds with the same 7 binds,
               op monitor interval=20s timeout=40s (migrated.crm)
  C  B + ocf:grommunio:stack-health (monitor 30s, six checks against real
       Dovecot IMAP + LMTP, MariaDB, redis, an admin-api stand-in and a
       milter stand-in) + ocf:grommunio:postfix-maps (monitor 60s,
       OCF_CHECK_LEVEL=10, against a Postfix config_directory on that MariaDB)

The agents are children of pacemaker-execd; the kernel adds a child's CPU
to its parent's cutime/cstime when the parent reaps it.  So the monitors'
CPU over a window is the delta of execd's cutime+cstime (fields 16 and 17
of /proc/PID/stat), taken after the resources started and the cluster
settled.  Every process execd forks is followed with the kernel's proc
connector (netlink): that counts the monitor runs in the window and proves
nothing else ran under execd.  Then, by hand: each resource's monitor N
times with the environment Pacemaker gave it (read from /proc/PID/environ
of one of its monitors), CPU from os.wait4, times the runs per hour at the
configured interval.

Exit status: 0 when it ran; 1 when it could not run (not root, a fixture,
the cluster or a resource did not start, a monitor failed); 2 on usage
errors.  Standard library only (the fixtures import pytest).
"""

import argparse
import collections
import errno
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import benchlib
from benchlib import (FILESYSTEM, OCF_ROOT, GUIDE_BINDS, BenchError, Cleanups, Spawner, detach_all,
                      exit_on_signals, mount_points_under, private_mount_namespace,
                      start_mariadb, table_head, tests_on_path, write_mysql_config)

tests_on_path()

AGENT_DIR = OCF_ROOT + "/resource.d/grommunio"
# Not the tests' /run/grommunio-ocf-test-cluster: Cluster.start() ends the
# daemons recorded in its state dir, and those may be another run's.
STATE = "/run/grommunio-ocf-bench-cluster"
# What systemd gives pacemaker.service: the cluster gets this, not our caller's environment.
SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CLK_TCK = os.sysconf("SC_CLK_TCK")
WARMUP = 2
# The window starts this long after the cluster settled.  A new resource's
# first recurring monitor runs just before that, and Pacemaker schedules the
# next one ``interval`` after the previous one *ended*: a window starting on
# the first run would end just before the run due at its very end (a 120 s
# window would see 5 runs at 20 s, not 6).
PHASE_OFFSET = 5.0

# Resource ids, agents and monitor intervals (s) of the scenarios.
FS_IDS = tuple("bench_bind_" + name.replace("-", "_") for name in GUIDE_BINDS)
BINDS_ID, HEALTH_ID, POSTFIX_ID = "bench_grodata_binds", "bench_stack_health", "bench_postfix_maps"
INTERVAL = dict({rid: 20 for rid in FS_IDS}, **{BINDS_ID: 20, HEALTH_ID: 30, POSTFIX_ID: 60})
RESOURCES = {"A": FS_IDS, "B": (BINDS_ID,), "C": (BINDS_ID, HEALTH_ID, POSTFIX_ID)}
TITLES = {
    "A": "guide: 7 x ocf:heartbeat:Filesystem bind (one group), monitor 20s",
    "B": "migrated: ocf:grommunio:grodata-binds (the 7 binds), monitor 20s",
    "C": "B + stack-health (6 checks) 30s + postfix-maps (OCF_CHECK_LEVEL=10) 60s",
}


def log(text):
    """benchlib.log with the time of day (a run takes minutes)."""
    benchlib.log("[%s] %s" % (time.strftime("%H:%M:%S"), text))


# -- processes -------------------------------------------------------------------

def _stat(pid):
    """Fields of /proc/PID/stat after the command name (index 0 is field 3, state)."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def cpu_ticks(pid):
    """(utime+stime, cutime+cstime) of ``pid`` in clock ticks (fields 14-17)."""
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def children(pid):
    """Pids whose parent is ``pid``, zombies included (their CPU is not in cutime yet)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if int(_stat(int(name))[1]) == pid:
                    found.append(int(name))
            except (OSError, IndexError, ValueError):
                pass
    return found


def group_cpu_ticks(pgid):
    """utime+stime+cutime+cstime summed over the live processes of group ``pgid``.

    A delta of two sums is the group's CPU in between: a child that was
    alive at the first reading and reaped before the second moved its whole
    CPU into its parent's cutime, of which only the part after the first
    reading is new.
    """
    total = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = _stat(int(name))
                if int(fields[2]) == pgid:
                    total += sum(int(x) for x in fields[11:15])
            except (OSError, IndexError, ValueError):
                pass
    return total


class ProcWatch:
    """Every process one parent (pacemaker-execd) forks, from the kernel's proc connector.

    A thread reads fork, exec and exit events (netlink, NETLINK_CONNECTOR,
    CN_IDX_PROC; root only).  For a child of ``parent`` it keeps: the
    kernel's timestamps (CLOCK_MONOTONIC, as time.monotonic_ns), its command
    line and environment (read from /proc at its exec, while it runs: the
    agents run for tens of milliseconds at least), and its exit code.
    """

    NETLINK_CONNECTOR = 11
    CN_IDX_PROC = CN_VAL_PROC = 1
    PROC_CN_MCAST_LISTEN = 1
    FORK, EXEC, EXIT = 0x1, 0x2, 0x80000000

    def __init__(self):
        self.parent = None
        self.lost = 0                   # ENOBUFS: events dropped, counts may be short
        self._live = {}
        self._done = []
        self._lock = threading.Lock()
        self._stop = False
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, self.NETLINK_CONNECTOR)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            self.sock.bind((0, self.CN_IDX_PROC))
            op = struct.pack("=I", self.PROC_CN_MCAST_LISTEN)
            cn = struct.pack("=IIIIHH", self.CN_IDX_PROC, self.CN_VAL_PROC, 0, 0, len(op), 0) + op
            self.sock.send(struct.pack("=IHHII", 16 + len(cn), 3, 0, 0, 0) + cn)  # NLMSG_DONE
            self.sock.settimeout(0.2)
        except OSError:
            self.sock.close()
            raise
        self._thread = threading.Thread(target=self._loop, daemon=True, name="ProcWatch")
        self._thread.start()

    def _loop(self):
        while not self._stop:
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    self.lost += 1
                    continue
                return
            offset = 0
            while offset + 52 <= len(data):
                length = struct.unpack_from("=I", data, offset)[0]
                if length < 52:
                    break
                what, _, stamp = struct.unpack_from("=IIQ", data, offset + 36)
                self._event(what, stamp, data, offset + 52)
                offset += (length + 3) & ~3

    def _event(self, what, stamp, data, at):
        parent = self.parent
        if parent is None:
            return
        if what == self.FORK:
            _, ptgid, pid, tgid = struct.unpack_from("=IIII", data, at)
            if ptgid == parent and pid == tgid:
                with self._lock:
                    self._live[pid] = {"pid": pid, "fork": stamp, "exit": None, "rc": None,
                                       "argv": None, "env": None}
        elif what == self.EXEC:
            pid, tgid = struct.unpack_from("=II", data, at)
            rec = self._live.get(pid)
            if rec is not None and rec["env"] is None:
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as handle:
                        argv = [a.decode("utf-8", "replace") for a in handle.read().split(b"\0")[:-1]]
                    with open("/proc/%d/environ" % pid, "rb") as handle:
                        env = dict(item.decode("utf-8", "replace").partition("=")[::2]
                                   for item in handle.read().split(b"\0") if item)
                    rec["argv"], rec["env"] = argv, env
                except OSError:
                    pass                # gone already: it is still counted, as "unidentified"
        elif what == self.EXIT:
            pid, tgid, code, _ = struct.unpack_from("=IIII", data, at)
            if pid != tgid:
                return
            with self._lock:
                rec = self._live.pop(pid, None)
                if rec is not None:
                    rec["exit"] = stamp
                    rec["rc"] = (code >> 8) & 0xff if code & 0x7f == 0 else -(code & 0x7f)
                    self._done.append(rec)

    def finished_between(self, start_ns, end_ns):
        """Records of children of ``parent`` that exited in [start_ns, end_ns]."""
        with self._lock:
            return [r for r in self._done if start_ns <= r["exit"] <= end_ns]

    def last_monitor(self, rid):
        """The last recorded recurring monitor of resource ``rid`` (argv and env known), or None."""
        with self._lock:
            for rec in reversed(self._done):
                env = rec["env"] or {}
                if (env.get("OCF_RESOURCE_INSTANCE") == rid and describe(rec)[1] == "monitor"
                        and env.get("OCF_RESKEY_CRM_meta_interval", "0") != "0"):
                    return rec
        return None

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


def describe(rec):
    """(resource, action, agent path) of a ProcWatch record; unknowns are None."""
    env, argv = rec["env"] or {}, rec["argv"] or []
    agent = action = None
    for i, arg in enumerate(argv):
        if "/resource.d/" in arg:
            agent = arg
            action = argv[i + 1] if i + 1 < len(argv) else None
            break
    return env.get("OCF_RESOURCE_INSTANCE"), action, agent


# -- scratch grodata ---------------------------------------------------------------

class Scratch:
    """A loop-mounted ext4 "grodata" with the guide's 7 directories, targets under var/lib."""

    def __init__(self, root):
        self.root = root
        self.grodata = os.path.join(root, "grodata")
        self.varlib = os.path.join(root, "var", "lib")
        source = os.path.join(root, "image-source")
        image = os.path.join(root, "grodata.img")
        for name in GUIDE_BINDS:
            os.makedirs(os.path.join(source, name))
            os.makedirs(os.path.join(self.varlib, name))
        os.makedirs(self.grodata)
        run(["mkfs.ext4", "-q", "-F", "-d", source, image, "64M"])
        run(["mount", "-o", "loop", image, self.grodata])
        self.pairs = [(os.path.join(self.grodata, n), os.path.join(self.varlib, n)) for n in GUIDE_BINDS]

    def bound(self):
        """Targets that are mount points now."""
        points = set(mount_points_under(self.varlib))
        return [t for _, t in self.pairs if t in points]


def run(argv, **kw):
    proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=120, **kw)
    if proc.returncode != 0:
        raise BenchError("%s exited %d: %s" % (" ".join(argv), proc.returncode,
                                                (proc.stdout + proc.stderr).strip()[-600:]))
    return proc.stdout


# -- fixtures --------------------------------------------------------------------

class Fixtures:
    """The real services scenario C's monitors talk to; close() in reverse order."""

    def __init__(self, root):
        self.root = root
        self._cleanups = Cleanups(log)
        self.pgids = {}                 # service name -> process group, for their CPU

    def start(self):
        root = self.root
        from services.adminapi import AdminApi
        from services.dovecot import Dovecot
        from services.listeners import TcpAcceptor
        from services.postfix import PostfixConfig
        from services.redis import Redis

        cleanups = self._cleanups
        self.mariadb = start_mariadb(cleanups)
        self.dovecot = cleanups.started("dovecot", Dovecot())
        self.redis = cleanups.started("redis", Redis())
        self.api = cleanups.keep("admin-api", AdminApi())
        self.milter = cleanups.keep("milter", TcpAcceptor())
        self.pgids = {"MariaDB": self.mariadb._proc.pid, "Dovecot": self.dovecot.pid,
                      "redis": self.redis.pid}
        # gromox's own file: mysql_host = localhost means the unix socket.
        self.mysql_config = write_mysql_config(os.path.join(root, "mysql_adaptor.cfg"),
                                               "localhost", self.mariadb.port)
        directory = os.path.join(root, "postfix")
        os.mkdir(directory)
        self.postfix = PostfixConfig(directory, self.mariadb)
        self.milter_spec = "inet:%s" % self.milter.address
        self.postfix.set("smtpd_milters", self.milter_spec)

    def close(self):
        self._cleanups.close()

    def cpu_ticks(self):
        return {name: group_cpu_ticks(pgid) for name, pgid in self.pgids.items()}


# -- configurations ---------------------------------------------------------------

def config_a(scratch):
    lines = []
    for rid, (src, tgt) in zip(FS_IDS, scratch.pairs):
        lines.append('primitive %s Filesystem \\\n\tparams device="%s" directory="%s" '
                     'fstype=none options=bind \\\n\top monitor interval=20s timeout=40s'
                     % (rid, src, tgt))
    lines.append("group bench_grodata_binds_group %s" % " ".join(FS_IDS))
    return "\n".join(lines) + "\n"


def config_b(scratch):
    binds = " ".join("%s:%s" % pair for pair in scratch.pairs)
    return ('primitive %s ocf:grommunio:grodata-binds \\\n\tparams grodata="%s" binds="%s" \\\n'
            '\top start interval=0s timeout=60s \\\n\top stop interval=0s timeout=60s \\\n'
            '\top monitor interval=20s timeout=40s\n' % (BINDS_ID, scratch.grodata, binds))


def config_c_extra(fx):
    d = fx.dovecot
    lmtp = d.lmtp6_address or "127.0.0.1:%d" % d.lmtp_port
    maps = " ".join("%s=mysql:%s" % item for item in fx.postfix.maps.items())
    return (
        'primitive %s ocf:grommunio:stack-health \\\n'
        '\tparams imap_url="imap://127.0.0.1:%d" admin_api_url="%s" mysql_config="%s" '
        'mysql_socket="%s" lmtp_address="%s" redis_address="%s" milter_address="%s" \\\n'
        '\top start interval=0s timeout=60s \\\n\top stop interval=0s timeout=20s \\\n'
        '\top monitor interval=30s timeout=30s\n'
        'primitive %s ocf:grommunio:postfix-maps \\\n'
        '\tparams config_directory="%s" maps="%s" milters="%s" \\\n'
        '\top start interval=0s timeout=60s \\\n\top stop interval=0s timeout=20s \\\n'
        '\top monitor interval=60s timeout=30s OCF_CHECK_LEVEL=10\n'
        % (HEALTH_ID, d.imap_port, fx.api.status_url, fx.mysql_config, fx.mariadb.socket, lmtp,
           fx.redis.address, fx.milter.address,
           POSTFIX_ID, fx.postfix.directory, maps, fx.milter_spec))


# -- the cluster --------------------------------------------------------------------

def wait_for_no_cluster(max_wait):
    """Poll every 10 s until no corosync/pacemaker process runs (another run's cluster)."""
    from cluster import procs
    began = time.monotonic()
    said = None
    while True:
        found = procs.cluster_processes()
        if not found:
            return
        waited = time.monotonic() - began
        if waited >= max_wait:
            raise BenchError("another cluster still runs after %d s: %s"
                             % (max_wait, procs.describe(found)))
        if said is None:
            log("another cluster runs (%s); waiting, up to %d s" % (procs.describe(found), max_wait))
            said = waited
        elif waited - said >= 60:
            log("still waiting (%d s)" % waited)
            said = waited
        time.sleep(10)


def start_cluster(cluster, max_wait, state):
    from cluster.cluster import ClusterError
    deadline = time.monotonic() + max_wait
    while True:
        wait_for_no_cluster(max(0, deadline - time.monotonic()))
        state["cluster"] = cluster      # from now on cleanup() stops it
        try:
            return cluster.start()
        except ClusterError as exc:
            # Lost a race against another run starting its cluster: wait again.
            if "did not start" not in str(exc) or time.monotonic() >= deadline:
                raise


def execd_pid(cluster):
    pids = [pid for pid, name in cluster.pids.read("daemons.pids") if name == "pacemaker-execd"]
    if len(pids) != 1:
        raise BenchError("pacemaker-execd not found among %s" % cluster.pids.read("daemons.pids"))
    return pids[0]


def check_started(mon, rids, cluster):
    bad = [rid for rid in rids if mon.role(rid) != "Started" or mon.failures_of(rid)]
    if bad:
        raise BenchError("not started cleanly: %s\n%s\n--- pacemaker.log (tail) ---\n%s"
                         % (", ".join(bad), mon, cluster.log_tail(40)))


def wait_quiet(execd, timeout=60):
    """Wait until execd has no child, not even an unreaped one; False on timeout."""
    deadline = time.monotonic() + timeout
    while children(execd):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def reading(execd, fx):
    """A consistent (monotonic ns, execd self ticks, execd children ticks, services) reading."""
    while True:
        quiet = wait_quiet(execd)
        if not quiet:
            log("warning: pacemaker-execd not idle for 60 s; reading anyway")
        stamp = time.monotonic_ns()
        own, kids = cpu_ticks(execd)
        services = fx.cpu_ticks() if fx else {}
        if not quiet or not children(execd):    # else a child came meanwhile: again
            return stamp, own, kids, services


def measure_window(key, execd, watch, fx, seconds):
    rids = RESOURCES[key]
    time.sleep(PHASE_OFFSET)
    t0, own0, kids0, svc0 = reading(execd, fx)
    log("scenario %s: measuring for %.0f s" % (key, seconds))
    end = t0 / 1e9 + seconds
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
    t1, own1, kids1, svc1 = reading(execd, fx)
    window = (t1 - t0) / 1e9
    records = watch.finished_between(t0, t1)
    runs = collections.Counter()
    others = collections.Counter()
    failed = []
    for rec in records:
        rid, action, agent = describe(rec)
        if rid in rids and action == "monitor":
            runs[rid] += 1
            if rec["rc"] != 0:
                failed.append("%s rc %s" % (rid, rec["rc"]))
        else:
            others["%s %s (%s)" % (rid or "?", action or "?", agent or " ".join(rec["argv"] or [])
                                   or "unidentified")] += 1
    expected = sum(round(window / INTERVAL[rid]) for rid in rids)
    return {
        "window": window,
        "cpu": (kids1 - kids0) / CLK_TCK,
        "execd_own": (own1 - own0) / CLK_TCK,
        "runs": runs, "total_runs": sum(runs.values()), "expected": expected,
        "others": others, "failed": failed,
        "services": {name: (svc1[name] - svc0[name]) / CLK_TCK for name in svc0},
    }


# -- by hand -----------------------------------------------------------------------

def agent_label(rid):
    return {BINDS_ID: "grodata-binds, 7 binds", HEALTH_ID: "stack-health, 6 checks",
            POSTFIX_ID: "postfix-maps, OCF_CHECK_LEVEL=10"}.get(rid, "Filesystem bind")


def measure_by_hand(key, watch, spawn, runs):
    """Each resource of ``key``: ``runs`` monitors in the env Pacemaker gave its last one."""
    rids = RESOURCES[key]
    calls = {}
    for rid in rids:
        rec = watch.last_monitor(rid)
        if rec is None:
            raise BenchError("no monitor of %s seen under pacemaker-execd: no environment "
                             "to run it with" % rid)
        calls[rid] = ([describe(rec)[2], "monitor"], rec["env"])
    cpu = {rid: [] for rid in rids}
    wall = {rid: [] for rid in rids}
    log("scenario %s: %d monitors by hand per resource" % (key, runs))
    for i in range(WARMUP + runs):
        for rid in rids:
            argv, env = calls[rid]
            rc, w, c = spawn(argv, env)
            if rc != 0:
                raise BenchError("by hand: %s monitor of %s returned %d" % (argv[0], rid, rc))
            if i >= WARMUP:
                cpu[rid].append(c)
                wall[rid].append(w)
    # One row per agent: the 7 Filesystem resources pooled.
    rows = collections.OrderedDict()
    for rid in rids:
        label = agent_label(rid)
        row = rows.setdefault(label, {"cpu": [], "wall": [], "count": 0,
                                      "interval": INTERVAL[rid]})
        row["cpu"] += cpu[rid]
        row["wall"] += wall[rid]
        row["count"] += 1
    for row in rows.values():
        row["per_hour"] = statistics.mean(row["cpu"]) * row["count"] * 3600 / row["interval"]
    return rows


# -- the run -------------------------------------------------------------------------

def bench(args, keys, state):
    from cluster.cluster import Cluster

    root = state["root"] = tempfile.mkdtemp(prefix="cluster-cpu-bench.")
    os.chmod(root, 0o755)
    scratch = state["scratch"] = Scratch(root)
    fx = None
    if "C" in keys:
        log("starting the services: MariaDB, Dovecot, redis, admin-api and milter stand-ins")
        fx = state["fx"] = Fixtures(root)
        fx.start()
    watch = state["watch"] = ProcWatch()
    spawn = state["spawn"] = Spawner()     # (rc, wall s, cpu s of it and what it reaped)

    cluster = Cluster(state=STATE)
    log("starting the cluster (state in %s)" % STATE)
    start_cluster(cluster, args.wait, state)
    state["cluster_t0"] = time.monotonic()
    execd = execd_pid(cluster)
    watch.parent = execd
    cluster.wait_settled()
    results = {}
    loaded = None
    for key in keys:
        if key == "A" or loaded == "A":
            if loaded is not None:
                cluster.reset()
            if scratch.bound():
                raise BenchError("still bound after reset: %s" % scratch.bound())
        text = {"A": config_a(scratch), "B": config_b(scratch)}.get(key)
        if key == "C":
            text = ("" if loaded == "B" else config_b(scratch)) + config_c_extra(fx)
        log("scenario %s: loading %s" % (key, TITLES[key]))
        mon = cluster.load(text)
        check_started(mon, RESOURCES[key], cluster)
        if len(scratch.bound()) != len(GUIDE_BINDS):
            raise BenchError("scenario %s: only %s bound" % (key, scratch.bound()))
        loaded = key
        res = results[key] = measure_window(key, execd, watch, fx, args.window)
        if res["failed"]:
            raise BenchError("scenario %s: monitors failed in the window: %s"
                             % (key, ", ".join(res["failed"])))
        if args.runs:
            res["by_hand"] = measure_by_hand(key, watch, spawn, args.runs)
    state["lost"] = watch.lost
    return results


def cleanup(state):
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)     # cleanup must not be cut short
    cluster = state.get("cluster")
    if cluster is not None:
        log("stopping the cluster")
        try:
            cluster.stop()
        except Exception as exc:  # noqa: BLE001
            log("cleanup: cluster stop: %s" % exc)
        if "cluster_t0" in state:
            state["cluster_s"] = time.monotonic() - state["cluster_t0"]
    for name, method in (("watch", "close"), ("spawn", "close"), ("fx", "close")):
        if state.get(name) is not None:
            try:
                getattr(state[name], method)()
            except Exception as exc:  # noqa: BLE001
                log("cleanup: %s: %s" % (name, exc))
    root = state.get("root")
    if root:
        if detach_all(root):
            shutil.rmtree(root, ignore_errors=True)
        else:
            log("cleanup: still mounted under %s: %s" % (root, mount_points_under(root)))


# -- output ---------------------------------------------------------------------------

def per_hour(res):
    return res["cpu"] * 3600 / res["window"]


def render(args, keys, results, state, took):
    out = []
    add = out.append
    version = run(["pacemakerd", "--version"]).splitlines()[0]
    add("Monitor CPU per hour: the guide's 7 Filesystem binds vs migrated, in a real cluster")
    add("  %s, kernel %s, %d CPUs, USER_HZ %d; window %.0f s per scenario; by hand: %d runs"
        % (version, os.uname().release, os.cpu_count(), CLK_TCK, args.window, args.runs))
    for key in keys:
        add("  %s  %s" % (key, TITLES[key]))
    add("")
    add("In the cluster: delta of pacemaker-execd's cutime+cstime (its reaped monitors) "
        "over the window")
    out += table_head("%-4s %8s %14s %8s %9s %7s %8s %13s", (
        "", "window s", "runs (nominal)", "cpu s", "cpu s/h", "% core", "ms/run", "execd own s/h"))
    for key in keys:
        r = results[key]
        add("%-4s %8.1f %14s %8.2f %9.1f %7.3f %8.1f %13.1f" % (
            key, r["window"], "%d (%d)" % (r["total_runs"], r["expected"]), r["cpu"], per_hour(r),
            per_hour(r) / 36, 1000 * r["cpu"] / max(1, r["total_runs"]),
            r["execd_own"] * 3600 / r["window"]))
    for key in keys:
        counts = [results[key]["runs"][rid] for rid in RESOURCES[key]]
        if key == "A" and len(set(counts)) == 1:
            text = "%d resources x %d" % (len(counts), counts[0])
        else:
            text = ", ".join("%s %d" % (rid, n) for rid, n in zip(RESOURCES[key], counts))
        add("  %s monitor runs: %s" % (key, text))
    others = collections.Counter()
    for key in keys:
        others.update(results[key]["others"])
    add("  other processes pacemaker-execd ran in the windows: %s"
        % (", ".join("%s x%d" % item for item in sorted(others.items())) or "none"))
    if state.get("lost"):
        add("  WARNING: the proc connector dropped events %d times: run counts may be short"
            % state["lost"])
    for key in keys:
        r = results[key]
        if r["services"]:
            add("  %s: the services' own CPU (not above; idle work included): %s"
                % (key, ", ".join("%s %.1f s/h" % (name, sec * 3600 / r["window"])
                                  for name, sec in r["services"].items())))
    by_hand = {key: results[key].get("by_hand") for key in keys if results[key].get("by_hand")}
    if by_hand:
        add("")
        add("By hand: os.wait4 rusage of each monitor run with the environment Pacemaker gave "
            "it, x runs/h at its interval")
        out += table_head("%-34s %8s %7s %9s %9s %9s %8s", (
            "monitor", "interval", "runs/h", "cpu ms", "(median)", "wall ms", "cpu s/h"))
        seen = set()
        for key in keys:
            for label, row in by_hand.get(key, {}).items():
                if label in seen:
                    continue
                seen.add(label)
                runs_h = 3600 // row["interval"]
                add("%-34s %7ds %7s %9.1f %9.1f %9.1f %8.1f" % (
                    label, row["interval"],
                    ("%dx%d" % (row["count"], runs_h)) if row["count"] > 1 else str(runs_h),
                    1000 * statistics.mean(row["cpu"]), 1000 * statistics.median(row["cpu"]),
                    1000 * statistics.median(row["wall"]), row["per_hour"]))
    add("")
    add("CPU seconds per hour")
    out += table_head("%-4s %-16s %-16s", ("", "in the cluster", "by hand"))
    hand_total = {key: sum(row["per_hour"] for row in by_hand[key].values()) for key in by_hand}
    for key in keys:
        add("%-4s %-16s %-16s" % (key, "%.1f" % per_hour(results[key]),
                                   "%.1f" % hand_total[key] if key in hand_total else "-"))
    for num, den in (("A", "B"), ("A", "C")):
        if num in results and den in results:
            hand = ("%.1fx" % (hand_total[num] / hand_total[den])
                    if num in hand_total and den in hand_total else "-")
            add("%-4s %-16s %-16s" % ("%s/%s" % (num, den),
                                       "%.1fx" % (per_hour(results[num]) / per_hour(results[den])),
                                       hand))
    add("")
    add("(benchmark took %.0f s; the cluster ran %.0f s)" % (took, state.get("cluster_s", 0)))
    return "\n".join(out)


def parse_scenarios(text):
    keys = []
    for part in text.replace(",", " ").split():
        key = part.strip().upper()
        if key not in RESOURCES:
            raise ValueError(part)
        if key not in keys:
            keys.append(key)
    return sorted(keys)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--window", type=float, default=120.0,
                        help="seconds measured per scenario (default 120: 6 runs at 20 s, "
                             "4 at 30 s, 2 at 60 s)")
    parser.add_argument("--scenarios", default="A,B,C",
                        help="any of A (the guide's), B (migrated binds), C (B + stack-health + "
                             "postfix-maps), comma-separated (default A,B,C)")
    parser.add_argument("--runs", type=int, default=20,
                        help="monitors by hand per resource and scenario (default 20; 0: none)")
    parser.add_argument("--wait", type=float, default=900.0,
                        help="seconds to wait for another cluster to go away (default 900)")
    args = parser.parse_args(argv)
    try:
        keys = parse_scenarios(args.scenarios)
    except ValueError as exc:
        parser.error("unknown scenario %s (A, B or C)" % exc)
    if not keys or args.window <= 0 or args.runs < 0 or args.wait < 0:
        parser.error("need a scenario, a positive --window, --runs and --wait not negative")
    if os.geteuid() != 0:
        log("ERROR: must run as root (mounts, the cluster, MariaDB, Dovecot)")
        return 1
    for tool in ("corosync", "pacemakerd", "crm", "mkfs.ext4", "losetup"):
        if not shutil.which(tool, path=SERVICE_PATH):
            log("ERROR: %s not found (apt: corosync pacemaker crmsh e2fsprogs util-linux)" % tool)
            return 1
    for path in [FILESYSTEM] + [os.path.join(AGENT_DIR, a) for a in
                                ("grodata-binds", "stack-health", "postfix-maps")]:
        if not os.access(path, os.X_OK):
            log("ERROR: %s missing (resource-agents; packaging/install)" % path)
            return 1
    private_mount_namespace()
    # The cluster inherits our environment: give it what a systemd service gets.
    for name in list(os.environ):
        if name not in ("LANG", "HOME"):
            del os.environ[name]
    os.environ["PATH"] = SERVICE_PATH

    exit_on_signals()

    started = time.monotonic()
    state = {}
    try:
        results = bench(args, keys, state)
    except BenchError as exc:
        log("ERROR: %s" % exc)
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 1
    except (AssertionError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
        # ClusterError is an AssertionError; the fixtures raise RuntimeErrors.
        log("ERROR: %s: %s" % (type(exc).__name__, exc))
        return 1
    finally:
        cleanup(state)
    print(render(args, keys, results, state, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
