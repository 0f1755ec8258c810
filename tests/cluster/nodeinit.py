"""PID 1 of one test-cluster node: its root, its mounts, corosync, pacemakerd, the orphans.

Run by ``nodes.Node.boot()`` as

    unshare --mount --uts --ipc --pid --kill-child --propagation private \\
        /usr/bin/python3 -I nodeinit.py NODE_DIR

so it starts as PID 1 of fresh PID, mount, UTS and IPC namespaces, still
seeing the test session's mounts.  ``NODE_DIR/boot.json`` (written by
nodes.py) says what to build:

* the hostname (the node's name: corosync finds its own nodelist entry by it);
* the root: an overlay with the host's ``/`` as lower layer and the node's
  own upper layer, so the node sees the installed packages and agents but
  writes nothing to the host (``NODE_DIR/upper`` holds exactly what it
  wrote: the tests read it to prove what a node created);
* on that root a /proc of the new PID namespace, the host's /sys and /dev,
  private tmpfs on /tmp, /run and /dev/shm (libqb's sockets and ring
  buffers, HA_RSCTMP), and the node's own directories bound on the paths
  that must outlive a reboot of the node or that the tests read
  (/var/lib/pacemaker, /var/lib/corosync, /var/log/pacemaker).

Then it chroots there, starts ``corosync -f``, waits for its IPC, starts
``pacemakerd``, and reaps every process that ends up as its child.  SIGTERM
is a clean shutdown: pacemakerd first (it stops the node's resources), then
corosync; the init exits when both are gone.  Power-off is not its business:
nodes.py writes 1 to the node's ``cgroup.kill``.

Only the standard library; nothing here may import the test modules (this
runs outside pytest).
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
DAEMON_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}

libc = ctypes.CDLL(None, use_errno=True)


def log(message):
    print("%.3f nodeinit: %s" % (time.time(), message), flush=True)


def mount(source, target, fstype=None, flags=0, data=None):
    def enc(value):
        return value.encode() if value is not None else None
    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "mount %s on %s (%s): %s" % (source, target, fstype, os.strerror(err)))


def build_root(spec):
    root = spec["root"]
    os.makedirs(root, exist_ok=True)
    mount("overlay", root, "overlay", 0, "lowerdir=/,upperdir=%s,workdir=%s"
          % (spec["upper"], spec["work"]))
    mount("proc", root + "/proc", "proc")
    for path in ("/sys", "/dev"):
        mount(path, root + path, None, MS_BIND | MS_REC)
    for path, options in (("/dev/shm", "mode=1777"), ("/tmp", "mode=1777"), ("/run", "mode=0755")):
        mount("tmpfs", root + path, "tmpfs", 0, options)
    for source, target in spec["binds"]:
        os.makedirs(root + target, exist_ok=True)
        mount(source, root + target, None, MS_BIND)
    os.chroot(root)
    os.chdir("/")
    # What systemd-tmpfiles makes at boot on a real node.
    for path in spec.get("run_dirs", ()):
        os.makedirs(path, exist_ok=True)


class Init:
    def __init__(self, spec):
        self.spec = spec
        self.daemons = {}           # pid -> name: corosync, pacemakerd
        self.stopping = False

    def spawn(self, name, argv, env):
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, env=dict(DAEMON_ENV, **env))
        self.daemons[proc.pid] = name
        log("started %s (pid %d in the node)" % (name, proc.pid))

    def signal(self, name):
        for pid, daemon in self.daemons.items():
            if daemon == name:
                os.kill(pid, signal.SIGTERM)

    def on_sigterm(self, signum, frame):
        if not self.stopping:
            self.stopping = True
            log("shutting down")
            # pacemakerd stops the resources and its sub-daemons; corosync follows (reap).
            self.signal("pacemakerd" if "pacemakerd" in self.daemons.values() else "corosync")

    def reap(self, block):
        """Collect exited processes (daemons and orphans alike); False once no daemon is left."""
        while self.daemons:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            if pid == 0:
                break
            name = self.daemons.pop(pid, None)
            if name:
                log("%s exited (status %#x)" % (name, status))
                if name == "pacemakerd":
                    # Stopping or not, a node without pacemaker is down: end corosync too.
                    self.signal("corosync")
            block = False
        return bool(self.daemons)

    def corosync_ready(self):
        proc = subprocess.run(["corosync-cmapctl", "-g", "runtime.votequorum.this_node_id"],
                              capture_output=True, env=DAEMON_ENV)
        return proc.returncode == 0

    def run(self):
        signal.signal(signal.SIGTERM, self.on_sigterm)
        self.spawn("corosync", ["corosync", "-f"], {})
        deadline = time.monotonic() + 30
        while not self.stopping and not self.corosync_ready():
            if not self.reap(False):
                log("corosync exited at start-up")
                return 1
            if time.monotonic() > deadline:
                log("corosync did not answer within 30 s")
                self.signal("corosync")
                break
            time.sleep(0.1)
        else:
            if not self.stopping:
                self.spawn("pacemakerd", ["pacemakerd"], self.spec.get("pacemaker_env", {}))
        while self.reap(True):
            pass
        log("down")
        return 0


def main(node_dir):
    with open(os.path.join(node_dir, "boot.json"), encoding="utf-8") as handle:
        spec = json.load(handle)
    name = spec["hostname"].encode()
    if libc.sethostname(name, len(name)) != 0:
        raise OSError(ctypes.get_errno(), "sethostname")
    build_root(spec)
    return Init(spec).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
