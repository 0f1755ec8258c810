#!/usr/bin/python3
"""fence_cgroup: the test cluster's fence device, a power switch for nodes in namespaces.

Installed as /usr/sbin/fence_cgroup inside each node of ``nodes.NodeCluster``
(pacemaker-fenced looks for RHCS-style agents there).  Every node runs in a
cgroup v2 of its own, ``<cgroup_root>/<node>``; ``off`` writes 1 to that
cgroup's ``cgroup.kill``, and the kernel SIGKILLs every process in it at
once — the node's PID 1 included, so its PID namespace ends and its mounts
vanish, as on a power cut.  Powering on is the tests' business
(``Node.boot()``), so ``on`` fails and ``reboot`` is ``off``.

The RHCS interface: the action and the device's parameters arrive on stdin
as ``name=value`` lines (``-o ACTION`` also works); ``port`` (or ``plug``)
names the node.  ``status`` exits 0 when the node is on, 2 when it is off.
"""

import os
import sys
import time

METADATA = """<?xml version="1.0" ?>
<resource-agent name="fence_cgroup" shortdesc="Power off a test-cluster node by its cgroup.kill">
<longdesc>Kills every process of a node running in namespaces of its own, through the cgroup v2
the node runs in (tests/cluster/nodes.py of grommunio-ocf). For tests only.</longdesc>
<vendor-url>https://www.kernel.org/doc/html/latest/admin-guide/cgroup-v2.html</vendor-url>
<parameters>
  <parameter name="action" unique="0" required="1">
    <getopt mixed="-o, --action=[action]"/>
    <content type="string" default="reboot"/>
    <shortdesc lang="en">Fencing action</shortdesc>
  </parameter>
  <parameter name="port" unique="0" required="1">
    <getopt mixed="-n, --plug=[node]"/>
    <content type="string"/>
    <shortdesc lang="en">The node to fence</shortdesc>
  </parameter>
  <parameter name="plug" unique="0" required="0" obsoletes="port">
    <getopt mixed="-n, --plug=[node]"/>
    <content type="string"/>
    <shortdesc lang="en">The node to fence</shortdesc>
  </parameter>
  <parameter name="cgroup_root" unique="0" required="1">
    <getopt mixed="--cgroup-root=[path]"/>
    <content type="string"/>
    <shortdesc lang="en">cgroup v2 directory holding one cgroup per node</shortdesc>
  </parameter>
</parameters>
<actions>
  <action name="on" automatic="0"/>
  <action name="off"/>
  <action name="reboot"/>
  <action name="status"/>
  <action name="monitor"/>
  <action name="metadata"/>
  <action name="validate-all"/>
</actions>
</resource-agent>
"""

KILL_WAIT = 10.0    # seconds for the kernel to end every process of the node


def arguments(argv, stdin):
    args = {}
    if not stdin.isatty():
        for line in stdin.read().splitlines():
            name, sep, value = line.strip().partition("=")
            if sep and name and not name.startswith("#"):
                args[name] = value
    if len(argv) == 3 and argv[1] in ("-o", "--action"):
        args["action"] = argv[2]
    return args


def populated(cgroup):
    """True while any process runs in ``cgroup`` (its files read as size 0: read the content)."""
    try:
        with open(os.path.join(cgroup, "cgroup.events"), encoding="ascii") as handle:
            return "populated 1" in handle.read().splitlines()
    except FileNotFoundError:
        return False


def off(cgroup):
    if not populated(cgroup):
        return 0
    with open(os.path.join(cgroup, "cgroup.kill"), "w", encoding="ascii") as handle:
        handle.write("1")
    deadline = time.monotonic() + KILL_WAIT
    while populated(cgroup):
        if time.monotonic() > deadline:
            print("fence_cgroup: %s still has processes %.0fs after cgroup.kill" % (cgroup, KILL_WAIT),
                  file=sys.stderr)
            return 1
        time.sleep(0.05)
    return 0


def main(argv, stdin):
    args = arguments(argv, stdin)
    action = args.get("action", "reboot")
    if action == "metadata":
        sys.stdout.write(METADATA)
        return 0
    root = args.get("cgroup_root", "")
    if not root or not os.path.isdir(root):
        print("fence_cgroup: cgroup_root %r is not a directory" % root, file=sys.stderr)
        return 1
    if action in ("monitor", "validate-all"):
        return 0
    node = args.get("port") or args.get("plug") or args.get("nodename")
    if not node or "/" in node or node.startswith("."):
        print("fence_cgroup: no valid node name (port) given", file=sys.stderr)
        return 1
    cgroup = os.path.join(root, node)
    if action in ("off", "reboot"):
        return off(cgroup)
    if action == "status":
        return 0 if populated(cgroup) else 2
    print("fence_cgroup: action %r is not supported (nodes are booted by the tests)" % action,
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv, sys.stdin))
