"""The guide's three-node cluster with our agents: failover, fencing, node health, the witness, quorum.

``packaging/examples/migrated.crm`` runs on node1 and node2 (data nodes)
and node3 (the witness) of tests/cluster/nodes.py, with real fencing
(fence_cgroup: a node's cgroup.kill) turned on.  Stand-ins only for what
cannot exist here: the DRBD clone's primitive is ``ocf:pacemaker:Stateful``
(the example's clone and constraints), the VIP and the 15 systemd units
``ocf:pacemaker:Dummy``.  Real: /grodata is ``ocf:heartbeat:Filesystem``
mounting XFS from the shared loop device; ``grodata-binds`` binds the seven
``/var/lib/NAME`` of the example (in the node's own root); ``stack-health``
and ``postfix-maps`` check real services (see conftest.py), with the
example's parameters and the test's addresses.  Monitor intervals are
shortened (binds and health 5 s, maps 10 s) and Filesystem's made long:
the unmounted-/grodata scenario must see grodata-binds meet it, not
Filesystem repair it first.

Tests share one cluster and run in file order; each starts from a steady
cluster (every node up, the stack started on one data node, no failures,
no health mark) whichever data node that is: "active" and "passive" below.
The times measured are printed at the end of the run (doc/testing.md tables them).
"""

import os
import re
import time

import pytest

from cluster import standin
from cluster.cluster import PACEMAKER_OPTIONS, ClusterError
from cluster.procs import poll
from cluster.timings import record
from services.gromox import NEW_CHECKS_OFF

from .conftest import DATA_NODES, NAMES, WITNESS

pytestmark = [pytest.mark.integration]

BINDS_INTERVAL, HEALTH_INTERVAL, MAPS_INTERVAL = 5, 5, 10
CHECK_TIMEOUT = 2
# Fault to the stack proved on the other node, when a node must be fenced
# first: corosync's default token (3.65 s with 3 nodes) and consensus
# (4.4 s) make up most of it.
FAILOVER_BOUND = 20
HEALTH = "#health-grommunio"
# Not part of the guide's configuration: the test cluster's fence device.
INFRASTRUCTURE = {"fencing"}
CLONE = "ms_grodata"


# -- the configuration ----------------------------------------------------------------

def three_nodes(text, env):
    """``migrated.crm`` for the three test nodes: every id, group and constraint, the witness's too."""
    options = {}
    for stmt in standin.statements(text):
        if stmt.startswith("property "):
            options.update(word.split("=", 1) for word in stmt.split()[2:])
    # The controller owns these; the guide's stonith-enabled=false is what
    # its "configure fencing before production use" is about: here it is on.
    options = {k: v for k, v in options.items() if k not in PACEMAKER_OPTIONS}
    options["stonith-enabled"] = "true"
    config = standin.stand_in(text, {
        "grodata": standin.drbd,
        "grodata_mount": lambda stmt: (
            "primitive grodata_mount ocf:heartbeat:Filesystem params device=%s directory=/grodata "
            "fstype=xfs op monitor interval=120s timeout=40s" % env["device"]),
        "grodata_binds": lambda stmt: standin.ours(stmt, "grodata-binds", standin.params(stmt),
                                                   BINDS_INTERVAL),
        "stack_health": lambda stmt: standin.ours(stmt, "stack-health", dict(
            standin.params(stmt), imap_url="imap://localhost:%d" % env["imap_port"],
            lmtp_address="localhost:%d" % env["lmtp_port"], admin_api_url=env["admin_api_url"],
            redis_address=env["redis_address"], milter_address=env["milter_address"],
            check_timeout=str(CHECK_TIMEOUT), **NEW_CHECKS_OFF), HEALTH_INTERVAL),
        "postfix_maps": lambda stmt: standin.ours(stmt, "postfix-maps", dict(
            standin.params(stmt), milters="inet:%s" % env["milter_address"]), MAPS_INTERVAL),
    }, keep=lambda words: words[0] != "property")
    # The test cluster's fence device is kept off the witness too: the data
    # nodes can fence each other, and the witness runs nothing at all.
    return config + "property cib-bootstrap-options: %s\n" % " ".join(
        "%s=%s" % item for item in sorted(options.items())) + \
        "location no_fencing_on_witness fencing -inf: %s\n" % WITNESS


@pytest.fixture(scope="module")
def loaded(nodes, shared_disk, node_services):
    services = node_services
    env = {"device": shared_disk.device, "imap_port": services["imap_port"],
           "lmtp_port": services["lmtp_port"], "admin_api_url": services["adminapi"].status_url,
           "redis_address": services["redis"].address, "milter_address": services["milter"].address}
    text = three_nodes(standin.example("migrated.crm"), env)
    marks = nodes.log_marks()
    began = time.monotonic()
    nodes.load(text, settle=False)
    mon = nodes.wait(lambda m: stack_node(m) is not None, 120, "the migrated configuration started")
    record("3 nodes: booted to DC", nodes.start_seconds)
    record("3 nodes: configuration loaded to all started", time.monotonic() - began)
    yield {"text": text, "marks": marks, "first": stack_node(mon)}


# -- what the cluster shows -----------------------------------------------------------

def configured(mon):
    """The resources of the guide's configuration (the clone's instances apart)."""
    return [r for r in mon.resources.values() if r.id not in INFRASTRUCTURE and r.parent != CLONE]


def stack_node(mon):
    """The data node running the whole stack (DRBD stand-in promoted there), or None."""
    resources = configured(mon)
    nodes = {tuple(r.nodes) for r in resources}
    if mon.busy or not resources or any(r.role != "Started" for r in resources) or len(nodes) != 1:
        return None
    (placed,) = nodes
    if len(placed) != 1:
        return None
    node = placed[0]
    promoted = [r.nodes for r in mon.instances if r.parent == CLONE and r.role == "Promoted"]
    return node if promoted == [[node]] else None


def stack_on(node):
    def predicate(mon):
        return stack_node(mon) == node
    predicate.__name__ = "the stack on %s" % node
    return predicate


def mounts(node):
    """{mount point: (fstype, source, root)} of /grodata and the bind targets in ``node``."""
    targets = {"/grodata"} | {"/var/lib/" + name for name in NAMES}
    return {point: (fstype, source, root) for point, fstype, source, root in node.mounts()
            if point in targets}


def assert_binds_proved(nodes, name):
    """/grodata is the shared disk in ``name``'s namespace and each target is bound from its source."""
    node = nodes[name]
    device = nodes.disk.device
    want = {"/grodata": ("xfs", device, "/")}
    want.update(("/var/lib/" + n, ("xfs", device, "/" + n)) for n in NAMES)
    assert mounts(node) == want
    for n in NAMES:
        with open(node.path("/var/lib/%s/data" % n), encoding="utf-8") as handle:
            assert handle.read() == "%s lives on the shared disk\n" % n


def assert_nothing_mounted(nodes, *names):
    for name in names:
        assert mounts(nodes[name]) == {}, "%s: %s" % (name, mounts(nodes[name]))


def marks(nodes):
    """{node: colour} of the health attribute as attrd holds it (crm_mon hides "#" attributes)."""
    proc = nodes.tool(["attrd_updater", "--query", "--all", "--name", HEALTH], check=False)
    found = re.findall(r'host="([^"]*)" value="([^"]*)"', proc.stdout)
    return {host: value for host, value in found if value}


def wait_marks(nodes, want, timeout, what=None):
    """Wait until ``marks(nodes)`` is ``want``; return the time it took."""
    last = [None]

    def check():
        last[0] = marks(nodes)
        return last[0] == want

    began = time.monotonic()
    if not poll(check, timeout, 0.1):
        raise ClusterError("%s: health marks %s after %s s, want %s\n%s"
                           % (what or "marks", last[0], timeout, want, nodes.log_tail()))
    return time.monotonic() - began


def other(name):
    return DATA_NODES[1 - DATA_NODES.index(name)]


def upper_tree(node, *paths):
    """Every path the node itself created under ``paths`` (its overlay's upper layer)."""
    found = set()
    for path in paths:
        top = node.upper + path
        for root, dirs, files in os.walk(top):
            found.update(os.path.join(root, entry)[len(node.upper):] for entry in dirs + files)
        if os.path.lexists(top):
            found.add(path)
    return found


# -- a steady cluster before and after each test --------------------------------------

@pytest.fixture
def steady(nodes, loaded, node_services):
    """Every node up, every service serving, no failures or health marks: (active, passive)."""
    active = settle(nodes, node_services)
    yield active, other(active)
    assert_witness_clean(nodes)


def settle(nodes, services):
    for dovecot in services["dovecot"].values():
        dovecot.ensure_running()
    services["adminapi"].reset()
    down = [node.name for node in nodes.nodes.values() if not node.up]
    for name in down:
        nodes[name].wait_down()
        nodes[name].boot()
    if down:
        nodes.wait_joined(nodes.nodes, 60)
    for name, colour in marks(nodes).items():
        if colour != "green":
            nodes.crm("node", "status-attr", name, "delete", HEALTH)
    mon = nodes.mon()
    for name, node in mon.nodes.items():
        if node.standby:
            nodes.crm("node", "online", name)
    if mon.failures or any(r.fail_count for r in mon.resources.values()):
        nodes.tool(["crm_resource", "--cleanup"])
    nodes.wait(lambda m: stack_node(m) is not None and not m.failures, 120, "a steady cluster")
    mon = nodes.wait_settled(120)
    active = stack_node(mon)
    assert active in DATA_NODES, mon
    wait_marks(nodes, {active: "green"}, 10, "only the active node marked, green")
    return active


def assert_witness_clean(nodes):
    """Scenario 7's invariant, checked after every test: nothing of the stack on the witness."""
    witness = nodes[WITNESS]
    assert_nothing_mounted(nodes, WITNESS)
    created = upper_tree(witness, "/grodata", *("/var/lib/" + n for n in NAMES))
    assert created == set(), "the witness created %s" % sorted(created)


# -- 1. start ------------------------------------------------------------------------

def test_start_everything_on_one_data_node(nodes, loaded, steady):
    active, passive = steady
    mon = nodes.mon()
    assert loaded["first"] == active
    for res in configured(mon):
        assert (res.role, res.nodes) == ("Started", [active]), res
    assert_binds_proved(nodes, active)
    assert_nothing_mounted(nodes, passive, WITNESS)
    assert marks(nodes) == {active: "green"}
    proc = nodes.crm("configure", "verify", check=False)
    assert proc.returncode == 0 and (proc.stdout + proc.stderr).strip() == "", proc


# -- 4. standby with busy binds --------------------------------------------------------

def test_standby_with_busy_binds(nodes, steady):
    active, passive = steady
    node = nodes[active]
    holder = node.spawn(["sh", "-c", "cd /var/lib/gromox && exec sleep 600 </var/lib/mysql/data"])
    try:
        assert poll(lambda: "sleep" in node.processes().values(), 10), "the holder did not start"
        logs = nodes.log_marks()
        began = time.monotonic()
        nodes.crm("node", "standby", active)
        nodes.wait(stack_on(passive), 60, "the stack on %s" % passive)
        moved = time.monotonic() - began
        assert holder.wait(10) is not None
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    log = nodes.logs_since(logs)[active]
    stop = re.search(r"grodata_binds stop \(call \d+, PID \d+\) exited with status 0 "
                     r"\(execution time (\d+)ms", log)
    assert stop, log[-3000:]
    assert re.search(r"/var/lib/gromox busy: sending SIGTERM to sleep\[\d+\] \(cwd\)", log)
    assert re.search(r"/var/lib/mysql busy: sending SIGTERM to sleep\[\d+\] \(fd 0\)", log)
    assert_nothing_mounted(nodes, active)
    assert_binds_proved(nodes, passive)
    record("standby, a holder in /var/lib/gromox: grodata-binds stopped in", int(stop.group(1)) / 1000)
    record("standby, a holder in /var/lib/gromox: the stack on the other node", moved)
    nodes.crm("node", "online", active)


# -- 5. node health --------------------------------------------------------------------

def test_hung_imap_moves_everything_within_a_monitor_interval(nodes, steady, node_services):
    active, passive = steady
    dovecot = node_services["dovecot"][active]
    logs = nodes.log_marks()
    dovecot.pause()
    began = time.monotonic()
    try:
        assert poll(lambda: marks(nodes).get(active) == "red", HEALTH_INTERVAL + CHECK_TIMEOUT + 5), \
            "no %s=red on %s: %s" % (HEALTH, active, marks(nodes))
        red = time.monotonic() - began
        nodes.wait(stack_on(passive), 30, "the stack on %s" % passive)
        moved = time.monotonic() - began
    finally:
        dovecot.resume()
    record("IMAP hung on the active node: %s=red after" % HEALTH, red)
    record("IMAP hung on the active node: everything on the other node after", moved)
    assert moved <= HEALTH_INTERVAL + CHECK_TIMEOUT + 5
    assert_binds_proved(nodes, passive)
    assert_nothing_mounted(nodes, active)
    # The sick node stays marked though IMAP serves again: nothing proved it healthy.
    time.sleep(HEALTH_INTERVAL)
    mon = nodes.wait_settled()
    assert marks(nodes) == {active: "red", passive: "green"}
    assert stack_node(mon) == passive
    since = nodes.logs_since(logs)
    assert "leaving %s=red" % HEALTH in since[active]
    assert not re.search(r"%s.*red -> \(unset\)" % re.escape(HEALTH), "".join(since.values()))
    # Cleared as MIGRATION.md says, the node may take the stack again.
    nodes.crm("node", "status-attr", active, "delete", HEALTH)
    wait_marks(nodes, {passive: "green"}, 10, "%s cleared on %s" % (HEALTH, active))
    nodes.crm("resource", "cleanup", "stack_health")
    began = time.monotonic()
    nodes.crm("node", "standby", passive)
    nodes.wait(stack_on(active), 60, "the stack back on %s" % active)
    record("after clearing the mark: the stack back on the old node", time.monotonic() - began)
    wait_marks(nodes, {active: "green"}, 10, "green on %s only" % active)
    nodes.crm("node", "online", passive)


# -- 6. /grodata not mounted where the binds must start ---------------------------------------

def test_unmounted_grodata_is_refused_and_the_stack_moves(nodes, steady):
    active, passive = steady
    node = nodes[active]
    before = upper_tree(node, "/grodata", "/var/lib")
    node.run(["umount", "/grodata"])    # the mount failed, or went away behind the cluster's back
    seen = sorted(os.listdir(node.path("/grodata")))       # the root filesystem's /grodata
    began = time.monotonic()
    mon = nodes.wait(lambda m: any(f.op == "start" and f.node == active
                                   for f in m.failures_of("grodata_binds")),
                     BINDS_INTERVAL + 30, "grodata_binds to refuse to start on %s" % active)
    refused = time.monotonic() - began
    [failure] = [f for f in mon.failures_of("grodata_binds") if f.op == "start"]
    assert (failure.exitcode, failure.exitstatus) == (5, nodes.exit_status(5)), failure
    assert failure.exitreason == ("grodata /grodata is not a mounted filesystem: refusing to bind "
                                  "(require_mountpoint=true)")
    nodes.wait(stack_on(passive), 60, "the stack placed on %s" % passive)
    moved = time.monotonic() - began
    record("/grodata unmounted on the active node: grodata-binds refused after", refused)
    record("/grodata unmounted on the active node: the stack on the other node after", moved)
    assert_binds_proved(nodes, passive)
    assert_nothing_mounted(nodes, active)
    # Nothing was bound or created on the node's root filesystem.
    assert upper_tree(node, "/grodata", "/var/lib") == before
    assert sorted(os.listdir(node.path("/grodata"))) == seen


# -- 2. power-off, 3. a hung node ------------------------------------------------------------

def fencings(nodes, name):
    """How many times ``name`` was fenced successfully (the fencer's history)."""
    out = nodes.tool(["stonith_admin", "--history", name], check=False).stdout
    return len(re.findall(r"^\w+ of %s successful" % name, out, re.M))


def fenced_and_failed_over(nodes, active, passive, fault, what):
    """Inject ``fault`` on the active node; the node is fenced and the stack proved on the passive one."""
    before = fencings(nodes, active)
    fault(nodes[active])
    began = time.monotonic()
    nodes.wait(stack_on(passive), 60, "the stack on %s" % passive)
    moved = time.monotonic() - began
    nodes[active].wait_down(10)             # every process of the node is gone
    assert fencings(nodes, active) == before + 1
    assert_binds_proved(nodes, passive)
    record("%s: fenced, everything on the other node after" % what, moved)
    assert moved <= FAILOVER_BOUND


def test_power_off_of_the_active_node(nodes, steady):
    active, passive = steady
    fenced_and_failed_over(nodes, active, passive, lambda node: node.power_off(),
                           "power-off of the active node")
    began = time.monotonic()
    nodes[active].boot()
    nodes.wait_joined([active], 60)
    record("power-off: the node booted and rejoined after", time.monotonic() - began)
    mon = nodes.wait_settled(60)
    assert stack_node(mon) == passive       # stickiness: no move back
    assert_nothing_mounted(nodes, active)


def test_hung_node_is_fenced_and_fails_over(nodes, steady):
    fenced_and_failed_over(nodes, *steady, lambda node: node.hang(), "hung node (corosync stopped)")


# -- 8. quorum -------------------------------------------------------------------------

def test_lone_node_without_quorum_stops_everything(nodes, steady):
    active, passive = steady
    nodes[passive].power_off()
    nodes[WITNESS].power_off()
    began = time.monotonic()

    def stopped(mon):
        return not mon.quorate and all(r.role == "Stopped" for r in configured(mon)) and not mon.busy

    last = [None]

    def lone_view():
        last[0] = nodes.mon_on(active)
        return stopped(last[0])

    if not poll(lone_view, 60, 0.2):
        raise ClusterError("%s did not stop everything without quorum:\n%s" % (active, last[0]))
    record("quorum lost (2 of 3 nodes off): everything stopped on the last node after",
           time.monotonic() - began)
    assert_nothing_mounted(nodes, active)
    assert marks(nodes) == {}               # a clean stop of a healthy stack leaves no mark
    began = time.monotonic()
    for name in (passive, WITNESS):
        nodes[name].boot()
    nodes.wait_joined(nodes.nodes, 60)
    nodes.wait(lambda m: stack_node(m) is not None, 120, "the stack started again")
    record("quorum back (2 nodes booted): the stack started again after", time.monotonic() - began)


# -- 7. the witness ----------------------------------------------------------------------

def test_the_witness_ran_nothing_but_probes(nodes, loaded):
    """Through every scenario above: no mount, no file of the stack, no operation but probes."""
    assert_witness_clean(nodes)
    log = nodes.logs_since(loaded["marks"])[WITNESS]
    results = re.findall(r"Result of (\w+) operation for (\S+) on %s: (.*)" % WITNESS, log)
    assert results, "no operation logged on %s" % WITNESS
    ran = sorted({"%s %s" % (op, rid) for op, rid, _ in results
                  if op != "probe" and rid not in INFRASTRUCTURE})
    assert ran == [], "the witness ran %s" % ran
