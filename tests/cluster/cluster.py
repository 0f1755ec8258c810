"""Real corosync + pacemaker clusters for the tests.

``ClusterBase`` is what every test cluster shares: querying (crm_mon,
the CIB status, the scheduler), waiting for a condition or for a settled
cluster, loading configuration, cleanup and reset.  It runs the cluster's
tools through ``tool()``, which subclasses point at their cluster.
``Cluster`` (this module) is a single node running in the test session's
own mount namespace; ``nodes.NodeCluster`` is N nodes, each in namespaces
of its own.

The single-node ``Cluster``:

Start it only inside a private mount namespace (tests/conftest.py makes the
pytest process one): the daemons, and so the resources, inherit it, which
keeps every mount a resource makes away from the host, and lets start()
put a fresh tmpfs over pacemaker's compiled-in state directories (CIB and
scheduler inputs) without touching the host's.

Corosync runs from a private config (``corosync -c``) with its state and
log under STATE.  The CIB is written offline before pacemaker starts: with
``dc-deadtime=2s`` the first DC is elected in ~4 s instead of ~22 s, and
``stonith-enabled=false`` is what lets resources start at all without a
fencing device.

Both daemons run in the foreground as children of the pytest process.  Their
PIDs, and those of pacemakerd's sub-daemons, are written to STATE so that the
next start() can end what a killed run left behind.
"""

import functools
import grp
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

from helpers import in_private_mount_namespace

from . import procs
from .crmmon import (EXIT_STATUS, INFINITY, OP_DONE, Failure, Mon, Node, Resource,  # noqa: F401 (the API)
                     parse_mon)

STATE = "/run/grommunio-ocf-test-cluster"
# Pacemaker's state directories are compiled in; start() mounts a fresh tmpfs
# on each (in the private mount namespace, so the host's stay untouched).
CIB_DIR = "/var/lib/pacemaker/cib"
PRIVATE_DIRS = (CIB_DIR, "/var/lib/pacemaker/pengine")
TMPFS_SOURCE = "grommunio-ocf-test-cluster"
# Pacemaker's default log directory; start() binds STATE/log over it.
LOG_DIR = "/var/log/pacemaker"
CLUSTER_NAME = "grommunio-ocf-test"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Cluster options written into the CIB before the first start and restored
# by reset(); everything else keeps pacemaker's defaults.
BASE_OPTIONS = {
    "stonith-enabled": "false",     # no fencing device on a test machine
    "dc-deadtime": "2s",            # a lone node need not wait 20 s for peers
    "cluster-recheck-interval": "1min",
}
# Options the controller itself maintains in cib-bootstrap-options.
PACEMAKER_OPTIONS = {"dc-version", "cluster-infrastructure", "cluster-name", "have-watchdog",
                     "last-lrm-refresh"}

COROSYNC_CONF = """\
# Written by tests/cluster/cluster.py: a one-node test cluster on loopback.
totem {
    version: 2
    cluster_name: %(name)s
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}
nodelist {
    node {
        name: %(node)s
        nodeid: 1
        ring0_addr: 127.0.0.1
    }
}
quorum {
    provider: corosync_votequorum
    expected_votes: 1
}
logging {
    to_stderr: no
    to_syslog: no
    to_logfile: yes
    logfile: %(state)s/corosync.log
    timestamp: on
}
system {
    state_dir: %(state)s/corosync
}
"""


class ClusterError(AssertionError):
    """The cluster did not do what a test waited for; the message has the evidence."""


# What systemd gives the daemons on a real node: the agents must not depend
# on anything the test session happens to have (a pyenv PATH, PYTEST_*).
DAEMON_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


# Stand-ins for what a node has and a test cluster has not (systemd): first in
# the tools' PATH.
STANDIN_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


def tool_env(**extra):
    """The environment for cluster tools: no CIB_* leaking in from the caller, STANDIN_BIN first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIB_")}
    env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(extra)
    env["PATH"] = STANDIN_BIN + ":" + env["PATH"]
    return env


def _run(argv, input=None, check=True, timeout=60, **extra_env):
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout,
                          env=tool_env(**extra_env), stdin=None if input is not None else subprocess.DEVNULL)
    proc.stdout = ANSI.sub("", proc.stdout)
    proc.stderr = ANSI.sub("", proc.stderr)
    if check and proc.returncode != 0:
        raise ClusterError("%s exited %d\nstdout: %s\nstderr: %s"
                           % (" ".join(argv), proc.returncode, proc.stdout, proc.stderr))
    return proc


def why_not_here(tools):
    """Why a test cluster cannot run here (a pytest skip reason), or None.

    Root, the tools, and the session's private mount namespace (made by
    the session fixture in tests/conftest.py): pacemaker and the nodes
    inherit it, and without it mounts made by resources would land on the
    host.
    """
    if os.geteuid() != 0:
        return "the cluster tests need root"
    if not in_private_mount_namespace():
        return "the cluster tests need the session's private mount namespace (root)"
    missing = [tool for tool in tools if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if missing:
        return "not installed: %s (tests/run installs them)" % " ".join(missing)
    return None


@functools.lru_cache(maxsize=None)
def pacemaker_version():
    """The installed Pacemaker's version as a tuple, from ``pacemakerd --version`` ("Pacemaker 3.0.0")."""
    words = _run(["pacemakerd", "--version"]).stdout.split()
    if len(words) < 2 or words[0] != "Pacemaker":
        raise ClusterError("pacemakerd --version: unexpected output %r" % " ".join(words))
    return tuple(int(part) for part in re.findall(r"\d+", words[1])[:3])


def tail(path, lines):
    """The last ``lines`` lines of a log file (or why it cannot be read)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError as err:
        return "(%s)" % err


def read_from(path, mark):
    """What was appended to ``path`` after it had ``mark`` bytes."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        handle.seek(mark)
        return handle.read()


def mount_source(path):
    """The source ("device") of the visible mount at ``path`` in our namespace, or None."""
    source = None
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if fields[4] == path:
                source = fields[fields.index("-", 6) + 2]
    return source


def write_cib(path, options):
    """An empty CIB holding ``options``, written offline (CIB_file) before pacemaker starts."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(_run(["cibadmin", "--empty"]).stdout)
    for name, value in options.items():
        _run(["crm_attribute", "--type", "crm_config", "--name", name, "--update", value], CIB_file=path)
    shutil.chown(path, "hacluster", "haclient")
    os.chmod(path, 0o600)


class ClusterBase:
    """What every test cluster offers the tests; see the module docstring."""

    # Cluster options written into the CIB before the first start and restored by reset().
    base_options = BASE_OPTIONS
    # Where temporary files the tools must read or write go (None: the default /tmp).
    tmpdir = None

    # -- to provide

    def tool(self, argv, input=None, check=True, timeout=60):
        """Run a cluster tool (crm_mon, cibadmin, crm, ...) against this cluster."""
        raise NotImplementedError

    def dc_name(self):
        """The node that is DC now, or None."""
        raise NotImplementedError

    def log_tail(self, lines=60):
        """The end of the pacemaker log that tells most about a failure."""
        raise NotImplementedError

    # -- queries

    @staticmethod
    def exit_status(code):
        """How this Pacemaker's crm_mon words an agent's exit ``code`` (crmmon.EXIT_STATUS)."""
        return EXIT_STATUS[pacemaker_version()[0]][code]

    @staticmethod
    def op_done():
        """How this Pacemaker's crm_mon words an operation that ran to its end (crmmon.OP_DONE)."""
        return OP_DONE[pacemaker_version()[0]]

    def crm(self, *args, input=None, check=True, timeout=120):
        """Run crmsh; its output (ANSI colours stripped: crmsh colours even into a pipe)."""
        return self.tool(["crm", *args], input=input, check=check, timeout=timeout)

    def mon(self):
        return parse_mon(self.tool(["crm_mon", "-1", "--output-as=xml"]).stdout)

    def pending_ops(self):
        """Non-recurring operations in flight per the CIB status (rc-code 193, op-status -1).

        Recurring monitors are left out: a monitor whose first run failed keeps
        its pending record (call-id -1) for as long as the resource's history
        lives, though nothing runs.  The controller leaves S_IDLE until the
        first result of a new recurring monitor anyway.
        """
        root = ET.fromstring(self.tool(["cibadmin", "--query", "--scope", "status"]).stdout)
        return ["%s on %s" % (op.get("operation_key"), op.get("on_node")) for op in root.iter("lrm_rsc_op")
                if op.get("op-status") == "-1" and op.get("interval", "0") == "0"]

    # -- waiting

    def wait(self, predicate, timeout=30, what=None):
        """Poll crm_mon until ``predicate(mon)`` is true; return that Mon, or raise with the evidence."""
        last = [None]

        def check():
            last[0] = self.mon()
            return predicate(last[0])

        if procs.poll(check, timeout, 0.2):
            return last[0]
        raise ClusterError("timed out after %s s waiting for %s\n--- last crm_mon ---\n%s\n"
                           "--- pacemaker.log (tail) ---\n%s"
                           % (timeout, what or getattr(predicate, "__name__", "a condition"),
                              last[0], self.log_tail()))

    def wait_settled(self, timeout=60):
        """Wait until the cluster has nothing left to do; return the settled Mon.

        Settled: the DC's controller is idle, no operation is in flight, and
        the scheduler, run on the live CIB, would schedule no action.  The
        scheduler check closes the gap right after a CIB change, before the
        controller has left S_IDLE.  (``crm_resource --wait`` asks the same
        question but sleeps 2 s before its first look, even when idle.)
        """
        last = {}

        def settled():
            # crm_mon last: a snapshot taken before the other checks could
            # predate a whole transition (starting a few Dummies takes 0.1 s),
            # and would then be returned as the settled state.  crmadmin only
            # once the cheaper checks pass, as each of its calls logs a line.
            last.update(state=None, pending=None, actions=None, mon=None)
            last["actions"] = self.scheduled_actions()
            if last["actions"]:
                return False
            last["pending"] = self.pending_ops()
            if last["pending"]:
                return False
            last["state"] = self._controller_state(self.dc_name())
            if last["state"] != "S_IDLE":
                return False
            last["mon"] = self.mon()
            return not last["mon"].busy

        if procs.poll(settled, timeout, 0.1):
            return last["mon"]
        mon = last["mon"] or self.mon()
        raise ClusterError("cluster not settled after %s s: scheduled: %s, in flight: %s %s, "
                           "controller: %s\n--- last crm_mon ---\n%s\n--- pacemaker.log (tail) ---\n%s"
                           % (timeout, last["actions"], last["pending"], mon.busy, last["state"],
                              mon, self.log_tail()))

    def _controller_state(self, node):
        """The controller's state on ``node`` ("S_IDLE" on an idle DC), or None."""
        if node is None:
            return None
        proc = self.tool(["crmadmin", "--quiet", "--status", node], check=False, timeout=10)
        return (proc.stdout.strip() or proc.stderr.strip()) if proc.returncode == 0 else None

    def scheduled_actions(self):
        """The real (not pseudo) actions the scheduler would run now, from the live CIB."""
        with tempfile.NamedTemporaryFile(prefix="graph.", suffix=".xml", dir=self.tmpdir) as graph:
            self.tool(["crm_simulate", "--live-check", "--quiet", "--save-graph", graph.name])
            root = ET.parse(graph.name).getroot()
        return sorted({"%s %s" % (op.get("operation"), op.get("operation_key"))
                       for tag in ("rsc_op", "crm_event") for op in root.iter(tag)})

    # -- changes

    def load(self, text, settle=True):
        """``crm configure load update`` of ``text``; then wait until the cluster has acted on it."""
        with tempfile.NamedTemporaryFile("w", prefix="crm-load.", suffix=".crm", dir=self.tmpdir) as handle:
            handle.write(text)
            handle.flush()
            self.crm("configure", "load", "update", handle.name)
        return self.wait_settled() if settle else None

    def cleanup(self, resource=None, settle=True):
        """Forget failures (and fail counts) of ``resource``, or of all resources."""
        argv = ["crm_resource", "--cleanup"]
        if resource:
            argv += ["--resource", resource]
        self.tool(argv)
        return self.wait_settled() if settle else None

    def reset(self):
        """Back to an empty configuration: no resources, constraints, defaults or node attributes.

        One ``cibadmin --replace`` of the configuration section: removing
        resources and the constraints that point at them in separate steps
        would fail schema validation in between.  Pacemaker stops the now
        orphaned resources and drops their history; a refresh then clears
        any fail counts left.  The cluster options go back to ``base_options``
        (see _reset_options).  Nothing needs to settle first: pacemaker aborts
        whatever transition is in flight, so a module that left a resource
        flapping cannot stall this.
        """
        config = ET.fromstring(self.tool(["cibadmin", "--query", "--scope", "configuration"]).stdout)
        for section in ("resources", "constraints"):
            elem = config.find(section)
            for child in list(elem):
                elem.remove(child)
        for section in ("rsc_defaults", "op_defaults", "fencing-topology", "tags", "acls", "alerts"):
            elem = config.find(section)
            if elem is not None:
                config.remove(elem)
        for node in config.findall("nodes/node"):
            for child in list(node):
                node.remove(child)
        self._reset_options(config.find("crm_config"))
        self.tool(["cibadmin", "--replace", "--scope", "configuration", "--xml-pipe"],
                  input=ET.tostring(config, encoding="unicode"))
        self.wait_settled()
        self.tool(["crm_resource", "--refresh"])
        mon = self.wait_settled()
        # Transient attributes live in attrd, not in the configuration.
        for node in mon.nodes.values():
            for name in node.attributes:
                self.tool(["attrd_updater", "--node", node.name, "--name", name, "--delete"])
        if any(node.attributes for node in mon.nodes.values()):
            mon = self.wait(lambda m: not any(n.attributes for n in m.nodes.values()), 30,
                            "transient node attributes to be deleted")
        if mon.resources or mon.failures:
            raise ClusterError("reset left resources or failures behind:\n%s" % mon)
        return mon

    def _reset_options(self, crm_config):
        """Make ``crm_config`` hold the base options and pacemaker's own options, in one set.

        Left as it is when it already does: the controller re-reads its
        options after any change there, which costs a second.
        """
        bootstrap = "cib-bootstrap-options"
        options = {nv.get("name"): nv.get("value") for nv in crm_config.iter("nvpair")
                   if nv.get("name") in PACEMAKER_OPTIONS}
        options.update(self.base_options)
        current = [(s.get("id"), nv.get("name"), nv.get("value")) for s in crm_config for nv in s]
        if sorted(current) == sorted((bootstrap, k, v) for k, v in options.items()):
            return
        for child in list(crm_config):
            crm_config.remove(child)
        props = ET.SubElement(crm_config, "cluster_property_set", id=bootstrap)
        for name, value in options.items():
            ET.SubElement(props, "nvpair", id="%s-%s" % (bootstrap, name), name=name, value=value)


class Cluster(ClusterBase):
    """Start, drive, query and stop the single-node test cluster; see the module docstring."""

    def __init__(self, state=STATE):
        self.state = state
        self.logdir = os.path.join(state, "log")
        self.pacemaker_log = os.path.join(self.logdir, "pacemaker.log")
        self.corosync_log = os.path.join(state, "corosync.log")
        self.corosync_conf = os.path.join(state, "corosync.conf")
        self.pids = procs.PidFiles(state)
        self._procs = {}                 # "corosync"/"pacemakerd" -> Popen
        self._node = None
        self.start_seconds = None        # how long start() took, from spawning corosync

    # -- life cycle

    def start(self, timeout=90):
        """Start corosync and pacemaker from a clean CIB and wait for an elected DC."""
        self.kill_leftovers()
        self._prepare()
        started = time.monotonic()
        self._spawn("corosync", ["corosync", "-f", "-c", self.corosync_conf])
        quorate = procs.poll(lambda: self._check_alive("corosync") and self._quorate(), 30)
        if not quorate:
            self._fail_start("corosync did not become quorate within 30 s")
        # PCMK_logfile: everything the daemons log, the place to look when a test fails.
        # It names the default path, where STATE/log is bound: Pacemaker 3.0's
        # sub-daemons open any other path twice and write every line twice.
        self._spawn("pacemakerd", ["pacemakerd"], PCMK_logfile=os.path.join(LOG_DIR, "pacemaker.log"),
                    PCMK_logfacility="none", PCMK_stderr="no")
        remaining = max(5, timeout - (time.monotonic() - started))
        ready = procs.poll(lambda: self._check_alive("corosync", "pacemakerd") and self._has_dc(),
                           remaining, 0.2)
        if not ready:
            self._fail_start("pacemaker elected no DC within %d s" % timeout)
        self._record_daemons()
        self.start_seconds = time.monotonic() - started
        return self

    def stop(self, timeout=120):
        """SIGTERM pacemakerd (it stops the resources first), then corosync; SIGKILL what stays."""
        procs.terminate(self.pids.pid("pacemakerd.pid"), "pacemakerd", timeout)
        for pid, name in self.pids.read("daemons.pids"):
            procs.terminate(pid, name, 10)
        procs.terminate(self.pids.pid("corosync.pid"), "corosync", 30)
        for proc in self._procs.values():
            proc.wait()                 # reap, or they linger as zombies of pytest
        self._procs.clear()
        procs.poll(lambda: not procs.cluster_processes(), 10)      # forks outliving a daemon
        self._unmount_private()
        for name in ("pacemakerd.pid", "daemons.pids", "corosync.pid"):
            self.pids.remove(name)

    def kill_leftovers(self):
        """End the daemons a killed run left behind (found by PID file); refuse to fight a foreign cluster.

        pacemakerd's sub-daemons run in sessions of their own and outlive a
        SIGKILLed pacemakerd (execd and schedulerd even outlive corosync), and
        a new pacemakerd would adopt them, with a mount namespace that is no
        longer ours: hence their PIDs are recorded too.
        """
        recorded = [pid for name in ("pacemakerd.pid", "daemons.pids", "corosync.pid")
                    for pid, _ in self.pids.read(name)]
        if recorded:
            self.stop(timeout=60)
            procs.remove_ipc_files(recorded)
        if not procs.poll(lambda: not procs.cluster_processes(), 10):
            raise ClusterError("cluster daemons are running that these tests did not start: %s; "
                               "stop them first" % procs.describe(procs.cluster_processes()))

    def _prepare(self):
        os.makedirs(os.path.join(self.state, "corosync"), exist_ok=True)
        os.makedirs(self.logdir, exist_ok=True)
        os.chmod(self.state, 0o755)
        for log in (self.pacemaker_log, self.corosync_log):
            if os.path.exists(log):
                os.replace(log, log + ".old")
        # The pacemaker daemons drop to hacluster and must be able to write their log.
        with open(self.pacemaker_log, "w", encoding="utf-8"):
            pass
        shutil.chown(self.pacemaker_log, "hacluster", "haclient")
        os.chmod(self.pacemaker_log, 0o660)
        with open(self.corosync_conf, "w", encoding="utf-8") as handle:
            handle.write(COROSYNC_CONF % {"name": CLUSTER_NAME, "node": self.node_name(),
                                          "state": self.state})
        self._unmount_private()
        ids = "uid=%d,gid=%d" % (pwd.getpwnam("hacluster").pw_uid, grp.getgrnam("haclient").gr_gid)
        for path in PRIVATE_DIRS:
            os.makedirs(path, exist_ok=True)
            _run(["mount", "-t", "tmpfs", "-o", "mode=0750,size=64m," + ids, TMPFS_SOURCE, path])
        os.makedirs(LOG_DIR, exist_ok=True)
        _run(["mount", "--bind", self.logdir, LOG_DIR])
        self._write_cib()

    def _log_dir_bound(self):
        try:
            return os.path.samestat(os.stat(LOG_DIR), os.stat(self.logdir))
        except OSError:
            return False

    def _unmount_private(self):
        for path in PRIVATE_DIRS:
            while mount_source(path) == TMPFS_SOURCE:
                _run(["umount", path])
        while self._log_dir_bound():
            _run(["umount", LOG_DIR])

    def _write_cib(self):
        write_cib(os.path.join(CIB_DIR, "cib.xml"), self.base_options)

    def _spawn(self, name, argv, **env):
        with open(os.path.join(self.state, name + ".out"), "w", encoding="utf-8") as out:
            # A session of its own: ^C at the terminal reaches pytest only, and the
            # fixture then stops the daemons in order.
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=dict(DAEMON_ENV, **env), start_new_session=True)
        self._procs[name] = proc
        self.pids.write(name + ".pid", [(proc.pid, name)])

    def _record_daemons(self):
        """Write down pacemakerd's sub-daemons (its children by now) for kill_leftovers()."""
        parent = self._procs["pacemakerd"].pid
        children = [(pid, name) for pid, name in sorted(procs.cluster_processes().items())
                    if procs.ppid(pid) == parent]
        self.pids.write("daemons.pids", children)

    def _check_alive(self, *names):
        for name in names:
            proc = self._procs.get(name)
            if proc is None or proc.poll() is not None:
                self._fail_start("%s exited (%s)" % (name, proc.returncode if proc else "not started"))
        return True

    def _fail_start(self, message):
        evidence = [message]
        for name in ("corosync.out", "corosync.log", "pacemakerd.out", "log/pacemaker.log"):
            path = os.path.join(self.state, name)
            if os.path.exists(path):
                evidence.append("--- %s (tail) ---\n%s" % (path, tail(path, 40)))
        self.stop()
        raise ClusterError("\n".join(evidence))

    def _quorate(self):
        proc = _run(["corosync-quorumtool", "-s"], check=False, timeout=10)
        return re.search(r"^Quorate:\s+Yes", proc.stdout, re.M) is not None

    def _has_dc(self):
        proc = _run(["crm_mon", "-1", "--output-as=xml"], check=False, timeout=10)
        if proc.returncode != 0:
            return False
        mon = parse_mon(proc.stdout)
        return mon.dc is not None and bool(mon.nodes) and all(n.online for n in mon.nodes.values())

    # -- queries

    def tool(self, argv, input=None, check=True, timeout=60):
        return _run(argv, input=input, check=check, timeout=timeout)

    def dc_name(self):
        return self.node                # the only node

    @staticmethod
    def node_name():
        return os.uname().nodename

    @property
    def node(self):
        """The node's name as pacemaker knows it (``crm_node -n``)."""
        if self._node is None:
            self._node = _run(["crm_node", "-n"]).stdout.strip()
        return self._node

    def log_tail(self, lines=60):
        return tail(self.pacemaker_log, lines)

    def log_mark(self):
        """A position in pacemaker.log, for log_since()."""
        return os.path.getsize(self.pacemaker_log)

    def log_since(self, mark):
        """What pacemaker logged after log_mark() returned ``mark`` (full exit reasons are here)."""
        return read_from(self.pacemaker_log, mark)
