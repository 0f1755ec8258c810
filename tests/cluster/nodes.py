"""A real multi-node corosync + pacemaker cluster on one machine: each node in namespaces of its own.

The guide's cluster is three nodes: two data nodes and a witness.  Here
each node is a PID, mount, UTS and IPC namespace made by ``unshare``
(nodeinit.py is its PID 1; read it for the node's mounts), in a cgroup v2
of its own:

* **Network**: none of its own.  Corosync's knet transport binds each
  node's ``ring0_addr`` (127.0.0.2, .3, .4) on a private port (PORT, not
  5405, which the single-node cluster and real nodes use).  Services a
  node's resources check are reachable from every node on 127.0.0.1; each
  node's /etc/hosts maps ``localhost`` to the node's own address, so a
  service started on that address is "this node's" (the tests run one
  IMAP server per data node that way).
* **IPC**: libqb would use abstract sockets, which the network namespace
  shares; ``/etc/libqb/force-filesystem-sockets`` inside each node makes
  it use files in the node's private /run and /tmp.  So every tool must
  run inside its node: ``Node.run()`` (nsenter), and ``tool()`` runs the
  cluster tools on a node that is up and not hung (and on another one when
  the chosen node is fenced during the call).
* **Disk**: the node's root is an overlay of the host's / with an upper
  layer of its own (``Node.upper``: exactly what the node wrote), kept on
  a tmpfs for the session so that a node keeps its disk across a reboot.
  ``SharedDisk`` is a loop device every node sees (only the node whose
  Filesystem resource mounts it has it mounted).
* **Power**: ``Node.power_off()`` and the fence device (fence_cgroup.py,
  installed in every node) write 1 to the node's ``cgroup.kill``: every
  process of the node dies at once and its mounts vanish.  A powered-off
  or fenced node stays off until the test boots it again.

Everything started is in the ledger under STATE: the owner (the pytest
process), the cgroups (every node process, the tools run in a node too),
the loop device's image.  ``NodeCluster.start()`` ends what a killed run
left (kill_leftovers); the nodes themselves also die with pytest
(``unshare --kill-child`` under ``setpriv --pdeathsig``).

Figures on the 2-core test machine are in doc/testing.md.
"""

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import time

from services.common import record_pid, recorded_pid

from . import fence_cgroup, procs
from .cluster import (ANSI, STANDIN_BIN, ClusterBase, ClusterError, mount_source, parse_mon,
                      read_from, tail, tool_env, write_cib)

STATE = "/run/grommunio-ocf-test-nodes"
CLUSTER_NAME = "grommunio-ocf-nodes"
PORT = 5415
TMPFS_SOURCE = "grommunio-ocf-test-nodes"
CGROUP_NAME = "grommunio-ocf-test-nodes"
HERE = os.path.dirname(os.path.abspath(__file__))
NODEINIT = os.path.join(HERE, "nodeinit.py")
FENCE_AGENT = os.path.join(HERE, "fence_cgroup.py")
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

# Written into every node's CIB before its first start.  dc-deadtime: three
# nodes booting together need not wait the default 20 s for one another.
BASE_OPTIONS = {
    "stonith-enabled": "false",         # until every node has joined: see enable_fencing()
    "dc-deadtime": "5s",
    "cluster-recheck-interval": "1min",
}

COROSYNC_CONF = """\
# Written by tests/cluster/nodes.py: node %(name)s of a test cluster on loopback.
totem {
    version: 2
    cluster_name: %(cluster)s
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    interface {
        linknumber: 0
        mcastport: %(port)d
    }
}
nodelist {
%(nodes)s}
quorum {
    provider: corosync_votequorum
}
logging {
    to_stderr: no
    to_syslog: no
    to_logfile: yes
    logfile: /var/log/pacemaker/corosync.log
    timestamp: on
}
system {
    # Corosync would move itself to the root cgroup (for real-time
    # scheduling), out of the node's: a power-off must reach it.
    move_to_root_cgroup: no
}
"""

NODE_ENTRY = """\
    node {
        name: %s
        nodeid: %d
        ring0_addr: %s
    }
"""

FENCING = """\
primitive fencing stonith:fence_cgroup \\
    params pcmk_host_list="%(nodes)s" cgroup_root=%(cgroup)s \\
    op monitor interval=60s timeout=20s
property cib-bootstrap-options: stonith-enabled=true
"""


def cgroup2_mount():
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or .../unified on hybrid hosts)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if fields[fields.index("-", 6) + 1] == "cgroup2":
                return fields[4]
    raise ClusterError("no cgroup v2 hierarchy is mounted: the node cluster needs cgroup.kill")


def kill_cgroup(cgroup):
    """SIGKILL every process in ``cgroup`` and wait until it is empty (what the fence device does)."""
    if fence_cgroup.off(cgroup) != 0:
        raise ClusterError("%s still has processes %s s after cgroup.kill" % (cgroup, fence_cgroup.KILL_WAIT))


def remove_cgroup(path, timeout=5):
    """rmdir an emptied cgroup; the kernel may report it busy while its last tasks are released."""
    def removed():
        try:
            os.rmdir(path)
        except OSError as err:
            if err.errno != errno.EBUSY:
                raise
            return False
        return True

    if not procs.poll(removed, timeout, 0.05):
        raise ClusterError("cgroup %s still busy %s s after its processes were killed" % (path, timeout))


def parse_mountinfo(text):
    """[(mount point, fstype, source, root inside its filesystem)] of a mountinfo text."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        sep = fields.index("-", 6)
        mounts.append((fields[4], fields[sep + 1], fields[sep + 2], fields[3]))
    return mounts


def in_cgroup(cgroup, argv):
    """``argv`` run by a shell that first moves itself into ``cgroup`` (then execs it)."""
    return ["sh", "-c", 'echo $$ > "$1" && shift && exec "$@"', "sh",
            os.path.join(cgroup, "cgroup.procs"), *argv]


class Node:
    """One node: its directories, its namespaces' PID 1, its cgroup; see the module docstring."""

    def __init__(self, cluster, name, nodeid, address):
        self.cluster = cluster
        self.name = name
        self.nodeid = nodeid
        self.address = address
        self.dir = os.path.join(cluster.nodes_dir, name)
        self.upper = os.path.join(self.dir, "upper")
        self.logdir = os.path.join(self.dir, "log")
        self.pacemaker_log = os.path.join(self.logdir, "pacemaker.log")
        self.corosync_log = os.path.join(self.logdir, "corosync.log")
        self.init_log = os.path.join(self.cluster.state, "%s.init.log" % name)
        self.cgroup = os.path.join(cluster.cgroup, name)
        self.init_pid = None            # PID 1 of the node, as the host sees it
        self._proc = None               # the unshare process
        self.hung = False               # corosync frozen: the node's view of the cluster is stale

    def __repr__(self):
        return "Node(%s, %s, %s)" % (self.name, self.address, "up" if self.up else "down")

    # -- preparing

    def prepare(self, cib, files):
        """Directories, the boot spec, the initial CIB and the node's own files (before the first boot)."""
        lib = os.path.join(self.dir, "pacemaker")
        for path in (self.upper, os.path.join(self.dir, "work"), os.path.join(self.dir, "root"),
                     os.path.join(self.dir, "corosync")):
            os.makedirs(path)
        for sub in ("cib", "pengine", "blackbox", "cores"):
            os.makedirs(os.path.join(lib, sub))
        os.makedirs(self.logdir)
        for path in [lib] + [os.path.join(lib, sub) for sub in os.listdir(lib)] + [self.logdir]:
            shutil.chown(path, "hacluster", "haclient")
            os.chmod(path, 0o750 if path != self.logdir else 0o770)
        with open(self.pacemaker_log, "w", encoding="utf-8"):
            pass
        shutil.chown(self.pacemaker_log, "hacluster", "haclient")
        os.chmod(self.pacemaker_log, 0o660)
        shutil.copy2(cib, os.path.join(lib, "cib", "cib.xml"))
        shutil.chown(os.path.join(lib, "cib", "cib.xml"), "hacluster", "haclient")
        spec = {
            "hostname": self.name,
            "root": os.path.join(self.dir, "root"),
            "upper": self.upper,
            "work": os.path.join(self.dir, "work"),
            "binds": [[lib, "/var/lib/pacemaker"], [os.path.join(self.dir, "corosync"), "/var/lib/corosync"],
                      [self.logdir, "/var/log/pacemaker"],
                      [self.cluster.xfer, self.cluster.xfer],
                      # tool_env() puts it first in PATH; the checkout need not be on
                      # the filesystem the node's overlay shows (the Debian 13 root).
                      [STANDIN_BIN, STANDIN_BIN]],
            "pacemaker_env": {"PCMK_logfile": "/var/log/pacemaker/pacemaker.log",
                              "PCMK_logfacility": "none", "PCMK_stderr": "no"},
        }
        with open(os.path.join(self.dir, "boot.json"), "w", encoding="utf-8") as handle:
            json.dump(spec, handle, indent=1)
        for path, (content, mode) in files.items():
            self.write(path, content, mode)

    def write(self, path, content, mode=0o644):
        """Write a file of the node's root filesystem (through the running node, or into its upper layer)."""
        real = self.path(path)
        os.makedirs(os.path.dirname(real), exist_ok=True)
        with open(real, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(real, mode)

    @property
    def root(self):
        """The node's root directory as the host can reach it: through its PID 1, or its upper layer."""
        return "/proc/%d/root" % self.init_pid if self.up else self.upper

    def path(self, path):
        """``path`` of the node's filesystem as the host can reach it."""
        assert path.startswith("/"), path
        return self.root + path

    # -- power

    @property
    def up(self):
        return self.init_pid is not None and procs.alive(self.init_pid)

    def boot(self):
        """Start the node (returns once its PID 1 runs; joining the cluster takes seconds more)."""
        if self.up:
            raise ClusterError("%s is already up" % self.name)
        if fence_cgroup.populated(self.cgroup):
            raise ClusterError("%s: cgroup %s still has processes" % (self.name, self.cgroup))
        self._reap()
        self.hung = False
        with open(self.init_log, "a", encoding="utf-8") as out:
            # The shell moves itself into the node's cgroup, then becomes unshare:
            # everything of the node is in that cgroup from its first instruction.
            self._proc = subprocess.Popen(
                in_cgroup(self.cgroup, [
                    "setpriv", "--pdeathsig", "KILL", "--",
                    "unshare", "--mount", "--uts", "--ipc", "--pid", "--kill-child",
                    "--propagation", "private", "/usr/bin/python3", "-I", NODEINIT, self.dir]),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}, start_new_session=True)
        children = "/proc/%d/task/%d/children" % (self._proc.pid, self._proc.pid)

        def init_pid():
            if self._proc.poll() is not None:
                raise ClusterError("%s: unshare exited (%s):\n%s"
                                   % (self.name, self._proc.returncode, tail(self.init_log, 20)))
            try:
                with open(children, encoding="ascii") as handle:
                    found = handle.read().split()
            except OSError:
                return None
            return int(found[0]) if found else None

        pid = procs.poll(init_pid, 10, 0.01)
        if not pid:
            raise ClusterError("%s: no PID 1 after 10 s:\n%s" % (self.name, tail(self.init_log, 20)))
        self.init_pid = pid
        self.cluster.ledger_nodes()
        return self

    def power_off(self):
        """Pull the plug: SIGKILL every process of the node at once (as the fence device does)."""
        kill_cgroup(self.cgroup)
        self._reap()

    def shut_down(self):
        """Ask for a clean shutdown (pacemaker stops the node's resources and leaves, then
        corosync); ``wait_down()`` waits for it."""
        if self.up:
            os.kill(self.init_pid, signal.SIGTERM)

    def wait_down(self, timeout=60):
        """Wait until every process of the node is gone (after fencing or shut_down())."""
        if not procs.poll(lambda: not fence_cgroup.populated(self.cgroup), timeout, 0.05):
            raise ClusterError("%s still has processes after %s s\n%s"
                               % (self.name, timeout, tail(self.pacemaker_log, 30)))
        self._reap()

    def _reap(self):
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None
        if self._proc is None:
            self.init_pid = None

    def processes(self):
        """{pid: comm} of the node's processes (as the host sees them)."""
        try:
            with open(os.path.join(self.cgroup, "cgroup.procs"), encoding="ascii") as handle:
                pids = [int(pid) for pid in handle.read().split()]
        except FileNotFoundError:
            return {}
        return {pid: procs.comm(pid) for pid in pids if procs.comm(pid)}

    def pids_of(self, name):
        return sorted(pid for pid, comm in self.processes().items() if comm == name[:15])

    def hang(self):
        """Freeze the node's corosync (SIGSTOP): the others lose it, it notices nothing."""
        pids = self.pids_of("corosync")
        if not pids:
            raise ClusterError("%s runs no corosync" % self.name)
        self.hung = True
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)

    # -- inside the node

    def _inside(self, argv):
        """``argv`` entered into the node's namespaces and root, in its cgroup (power-off ends it too)."""
        if not self.up:
            raise ClusterError("%s is down: cannot run %s" % (self.name, " ".join(argv)))
        return in_cgroup(self.cgroup, ["nsenter", "--target", str(self.init_pid), "--mount", "--uts",
                                       "--ipc", "--pid", "--root", "--wd", "--", *argv])

    def run(self, argv, input=None, check=True, timeout=60):
        """Run ``argv`` inside the node; the CompletedProcess (text)."""
        try:
            proc = subprocess.run(self._inside(argv), input=input, capture_output=True, text=True,
                                  timeout=timeout, env=tool_env(PATH=SYSTEM_PATH),
                                  stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as err:
            raise ClusterError("%s: %s timed out after %s s" % (self.name, " ".join(argv), timeout)) from err
        if check and proc.returncode != 0:
            raise ClusterError("%s: %s exited %d\nstdout: %s\nstderr: %s"
                               % (self.name, " ".join(argv), proc.returncode, proc.stdout, proc.stderr))
        return proc

    def spawn(self, argv):
        """Start a long-running process inside the node; the Popen is nsenter's, which ends with it."""
        return subprocess.Popen(self._inside(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=tool_env(PATH=SYSTEM_PATH), start_new_session=True)

    def mounts(self):
        """The node's mount table: [(mount point, fstype, source, root)] (empty when it is down)."""
        if not self.up:
            return []
        try:
            with open("/proc/%d/mountinfo" % self.init_pid, encoding="utf-8") as handle:
                return parse_mountinfo(handle.read())
        except OSError:
            return []

    # -- its log

    def log_mark(self):
        return os.path.getsize(self.pacemaker_log)

    def log_since(self, mark):
        return read_from(self.pacemaker_log, mark)


class SharedDisk:
    """A loop device over a sparse image under STATE: the "DRBD" disk every node sees.

    One kernel backs all nodes, so this proves where the filesystem is
    mounted and what is written through which node, never replication.
    """

    def __init__(self, state, size="320M", fstype="xfs"):
        self.image = os.path.join(state, "shared.img")
        self.size = size
        self.fstype = fstype
        self.device = None

    def create(self, populate=None):
        """Make the image and its filesystem, attach it; ``populate(mountpoint)`` fills it first."""
        with open(self.image, "wb") as handle:
            handle.truncate(0)
        subprocess.run(["truncate", "-s", self.size, self.image], check=True)
        subprocess.run(["mkfs.%s" % self.fstype, "-q", "-f" if self.fstype == "xfs" else "-F", self.image],
                       check=True, capture_output=True)
        self.device = subprocess.run(["losetup", "--find", "--show", self.image], check=True,
                                     capture_output=True, text=True).stdout.strip()
        if populate:
            point = self.image + ".mnt"
            os.makedirs(point, exist_ok=True)
            subprocess.run(["mount", "-t", self.fstype, self.device, point], check=True)
            try:
                populate(point)
            finally:
                subprocess.run(["umount", point], check=True)
                os.rmdir(point)
        return self

    @staticmethod
    def detach_all(image):
        """Detach every loop device backed by ``image`` (ours, also those of a killed run)."""
        if not os.path.exists(image):
            return
        found = subprocess.run(["losetup", "--noheadings", "--output", "NAME", "--associated", image],
                               capture_output=True, text=True).stdout.split()
        for device in found:
            subprocess.run(["losetup", "--detach", device], capture_output=True)
        os.unlink(image)


class NodeCluster(ClusterBase):
    """Nodes ``node1``..``nodeN`` on 127.0.0.2.. booted together; see the module docstring."""

    base_options = BASE_OPTIONS

    def __init__(self, count=3, state=STATE, port=PORT):
        self.state = state
        self.port = port
        self.nodes_dir = os.path.join(state, "nodes")
        self.xfer = os.path.join(state, "xfer")
        self.tmpdir = self.xfer
        self.cgroup = os.path.join(cgroup2_mount(), CGROUP_NAME)
        self.nodes = {}
        for i in range(1, count + 1):
            name = "node%d" % i
            self.nodes[name] = Node(self, name, i, "127.0.0.%d" % (i + 1))
        self.disk = SharedDisk(state)
        self.start_seconds = None

    def __getitem__(self, name):
        return self.nodes[name]

    # -- life cycle

    def start(self, files=None, timeout=90):
        """Boot every node with ``files(node)`` ({path: (content, mode)}) in its root; wait for the DC.

        Then register the fence device and turn fencing on: doing it before
        every node has joined would fence a node that is merely slow to boot.
        """
        self.kill_leftovers()
        self._prepare(files or (lambda node: {}))
        began = time.monotonic()
        for node in self.nodes.values():
            node.boot()
        self.wait_joined(self.nodes, timeout)
        self.start_seconds = time.monotonic() - began
        self.load(FENCING % {"nodes": " ".join(self.nodes), "cgroup": self.cgroup})
        return self

    def wait_joined(self, names, timeout=60):
        """Wait until the nodes ``names`` are online members with a DC (tools fail while a node boots)."""
        last = [None]

        def joined():
            for node in self.up_nodes():
                proc = node.run(["crm_mon", "-1", "--output-as=xml"], check=False, timeout=10)
                if proc.returncode == 0:
                    last[0] = parse_mon(proc.stdout)
                    return last[0].dc and all(name in last[0].nodes and last[0].nodes[name].online
                                              for name in names)
            return False

        if not procs.poll(joined, timeout, 0.2):
            raise ClusterError("%s not online within %s s\n--- last crm_mon ---\n%s\n%s"
                               % (", ".join(names), timeout, last[0],
                                  "\n".join("--- %s init ---\n%s" % (n.name, tail(n.init_log, 10))
                                            for n in self.nodes.values())))
        return last[0]

    def stop(self, timeout=90, keep_logs=None):
        """Every node shut down cleanly (together, as pacemaker expects), then the ledger's leftovers.

        ``keep_logs``: a directory to copy each node's logs to first (evidence for a failed run).
        """
        for node in self.nodes.values():
            node.shut_down()
        deadline = time.monotonic() + timeout
        unclean = []
        for node in self.nodes.values():
            try:
                node.wait_down(max(1, deadline - time.monotonic()))
            except ClusterError:
                unclean.append(node.name)       # kill_leftovers() powers it off
        if keep_logs and os.path.isdir(self.nodes_dir):
            for node in self.nodes.values():
                shutil.copytree(node.logdir, os.path.join(keep_logs, node.name))
                shutil.copy(node.init_log, os.path.join(keep_logs, node.name))
        self.kill_leftovers(own=True)
        left = self.leftovers()
        if unclean or left:
            raise ClusterError("did not shut down within %s s (powered off): %s; left behind: %s"
                               % (timeout, unclean, left))

    def leftovers(self):
        """What of this cluster still exists: its state, cgroups, loop device, tmpfs (none after stop)."""
        found = [path for path in (self.state, self.cgroup) if os.path.exists(path)]
        loops = subprocess.run(["losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE"],
                               capture_output=True, text=True).stdout
        found += [line.split()[0] for line in loops.splitlines() if self.disk.image in line]
        if mount_source(self.nodes_dir) == TMPFS_SOURCE:
            found.append("tmpfs on %s" % self.nodes_dir)
        return found

    def kill_leftovers(self, own=False):
        """End what this or a killed run left: node processes, cgroups, the loop device, the tmpfs."""
        owner = recorded_pid(os.path.join(self.state, "owner"), zombie_lives=False)
        if owner is not None and owner != os.getpid() and not own:
            raise ClusterError("another test run (pid %d) owns the node cluster in %s" % (owner, self.state))
        if os.path.isdir(self.cgroup):
            for name in sorted(os.listdir(self.cgroup)):
                path = os.path.join(self.cgroup, name)
                if os.path.isdir(path):
                    kill_cgroup(path)
            for node in self.nodes.values():
                node._reap()            # our own dead nodes' unshare: zombies keep a cgroup busy
            for name in sorted(os.listdir(self.cgroup)):
                if os.path.isdir(os.path.join(self.cgroup, name)):
                    remove_cgroup(os.path.join(self.cgroup, name))
            remove_cgroup(self.cgroup)
        SharedDisk.detach_all(self.disk.image)
        while mount_source(self.nodes_dir) == TMPFS_SOURCE:
            subprocess.run(["umount", self.nodes_dir], check=True)
        if os.path.isdir(self.state):
            shutil.rmtree(self.state)

    def ledger_nodes(self):
        """Record the nodes' PID 1 (for the evidence of a failed run; the cgroups are what ends them)."""
        with open(os.path.join(self.state, "nodes.pids"), "w", encoding="ascii") as handle:
            for node in self.nodes.values():
                if node.init_pid:
                    handle.write("%d %s\n" % (node.init_pid, node.name))

    def _check_port(self):
        """Corosync would only log that it cannot bind: say it at once."""
        for node in self.nodes.values():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind((node.address, self.port))
                except OSError as err:
                    if err.errno == errno.EADDRINUSE:
                        raise ClusterError("UDP %s:%d (corosync's port for %s) is in use"
                                           % (node.address, self.port, node.name)) from None
                    raise

    def _prepare(self, files):
        self._check_port()
        os.makedirs(self.state)
        record_pid(os.path.join(self.state, "owner"), os.getpid())
        os.makedirs(self.xfer, mode=0o1777)
        os.chmod(self.xfer, 0o1777)
        os.makedirs(self.nodes_dir)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", TMPFS_SOURCE, self.nodes_dir], check=True)
        os.makedirs(self.cgroup)
        cib = os.path.join(self.state, "cib.xml")
        write_cib(cib, self.base_options)
        with open(FENCE_AGENT, encoding="utf-8") as handle:
            fence_agent = handle.read()
        entries = "".join(NODE_ENTRY % (n.name, n.nodeid, n.address) for n in self.nodes.values())
        for node in self.nodes.values():
            os.makedirs(node.cgroup)
            hosts = "".join("%s %s\n" % (other.address, "localhost " + other.name if other is node
                                         else other.name) for other in self.nodes.values())
            own = {
                "/etc/hostname": (node.name + "\n", 0o644),
                "/etc/hosts": (hosts, 0o644),
                "/etc/corosync/corosync.conf": (COROSYNC_CONF % {
                    "name": node.name, "cluster": CLUSTER_NAME, "port": self.port, "nodes": entries}, 0o644),
                "/etc/libqb/force-filesystem-sockets": ("", 0o644),
                "/usr/sbin/fence_cgroup": (fence_agent, 0o755),
            }
            own.update(files(node))
            node.prepare(cib, own)

    # -- the tools

    def up_nodes(self):
        return [node for node in self.nodes.values() if node.up]

    def via(self, avoid=()):
        """A node that is up and not hung, to run the cluster tools on: a hung node's
        view is stale, and it is about to be fenced."""
        for node in self.nodes.values():
            if node.up and not node.hung and node.name not in avoid:
                return node
        raise ClusterError("every node is down or hung")

    def tool(self, argv, input=None, check=True, timeout=60):
        tried = []
        while True:
            node = self.via(tried)
            try:
                proc = node.run(argv, input=input, check=check, timeout=timeout)
            except ClusterError:
                if node.up:  # the test's evidence
                    raise
            else:
                if node.up:
                    break
            # Fenced between the choice and the end of the call (nsenter found no
            # /proc/PID, or the answer came from a dying node): ask another node.
            tried.append(node.name)
        proc.stdout = ANSI.sub("", proc.stdout)     # crmsh colours even into a pipe
        proc.stderr = ANSI.sub("", proc.stderr)
        return proc

    def dc_name(self):
        proc = self.tool(["crmadmin", "--dc_lookup", "--quiet"], check=False, timeout=10)
        return proc.stdout.strip() or None if proc.returncode == 0 else None

    def mon_on(self, node):
        """crm_mon as ``node`` sees the cluster (a node without quorum sees it differently)."""
        return parse_mon(self[node].run(["crm_mon", "-1", "--output-as=xml"]).stdout)

    def log_tail(self, lines=60):
        dc = None
        try:
            dc = self.dc_name()
        except ClusterError:
            pass
        node = self.nodes.get(dc) or self.via()
        return "(%s)\n%s" % (node.name, tail(node.pacemaker_log, lines))

    def log_marks(self):
        return {name: node.log_mark() for name, node in self.nodes.items()}

    def logs_since(self, marks):
        return {name: self.nodes[name].log_since(mark) for name, mark in marks.items()}
