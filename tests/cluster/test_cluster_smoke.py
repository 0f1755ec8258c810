"""The test cluster itself: what the agents' cluster tests rely on."""

import os
import re
import subprocess
import tempfile

import pytest

from .cluster import INFINITY, ClusterError

pytestmark = [pytest.mark.integration]

GROUP = """\
primitive smoke_d1 ocf:pacemaker:Dummy op monitor interval=10s
primitive smoke_d2 ocf:pacemaker:Dummy op monitor interval=10s
primitive smoke_d3 ocf:pacemaker:Dummy op monitor interval=10s
group smoke_g smoke_d1 smoke_d2 smoke_d3
"""
MEMBERS = ("smoke_d1", "smoke_d2", "smoke_d3")


def all_started(mon):
    return all(mon.role(rid) == "Started" for rid in MEMBERS)


def test_dc_and_node_online(cluster):
    mon = cluster.mon()
    assert mon.dc == cluster.node
    assert mon.quorate
    node = mon.nodes[cluster.node]
    assert node.online and not node.standby and node.is_dc
    assert cluster.node == os.uname().nodename


def test_group_starts_in_order(cluster):
    mark = cluster.log_mark()
    mon = cluster.load(GROUP)
    for rid in MEMBERS:
        res = mon.resources[rid]
        assert (res.role, res.active, res.failed, res.parent, res.nodes) == \
            ("Started", True, False, "smoke_g", [cluster.node]), mon
    # Each member is started only once the one before it has started.
    log = cluster.log_since(mark)
    events = [(m.group(1), m.group(2)) for m in re.finditer(
        r"(Requesting local execution of start|Result of start) operation for (smoke_d\d)", log)]
    assert events == [(kind, rid) for rid in MEMBERS for kind in
                      ("Requesting local execution of start", "Result of start")], log


def test_standby_stops_and_online_starts(cluster):
    cluster.load(GROUP)
    mark = cluster.log_mark()
    cluster.crm("node", "standby", cluster.node)
    mon = cluster.wait_settled()
    assert mon.nodes[cluster.node].standby
    assert [mon.role(rid) for rid in MEMBERS] == ["Stopped"] * 3, "%s\n%s" % (mon, cluster.log_since(mark))
    mark = cluster.log_mark()
    cluster.crm("node", "online", cluster.node)
    mon = cluster.wait_settled()
    assert not mon.nodes[cluster.node].standby
    assert all_started(mon), "%s\n%s" % (mon, cluster.log_since(mark))


def test_failed_start_shows_in_mon(cluster):
    mon = cluster.load("primitive smoke_fail ocf:pacemaker:Dummy params fail_start_on=%s\n"
                       % cluster.node)
    res = mon.resources["smoke_fail"]
    assert (res.role, res.active, res.fail_count) == ("Stopped", False, INFINITY), mon
    [failure] = mon.failures_of("smoke_fail")
    assert (failure.op, failure.exitcode, failure.exitstatus, failure.node) == \
        ("start", 1, cluster.exit_status(1), cluster.node)
    # Stopped and cleaned up, it is forgotten.
    cluster.crm("resource", "stop", "smoke_fail")
    mon = cluster.cleanup("smoke_fail")
    assert mon.failures_of("smoke_fail") == [] and mon.resources["smoke_fail"].fail_count == 0


def test_failed_monitor_exit_reason(cluster):
    # OCF_CHECK_LEVEL=30 makes Dummy's monitor fail with an exit reason;
    # migration-threshold=1 keeps pacemaker from restarting it in a loop.
    cluster.load("primitive smoke_mon ocf:pacemaker:Dummy "
                 "op monitor interval=1s OCF_CHECK_LEVEL=30 meta migration-threshold=1\n", settle=False)
    mon = cluster.wait(lambda m: m.failures_of("smoke_mon"), 30, "the monitor of smoke_mon to fail")
    [failure] = mon.failures_of("smoke_mon")
    assert (failure.op, failure.interval, failure.exitcode, failure.exitreason) == \
        ("monitor", 1000, 1, "hyperdrive quota reached")
    mon = cluster.wait_settled()
    assert mon.role("smoke_mon") == "Stopped"


def test_attribute_round_trip(cluster):
    def attrd(*args, check=True):
        return subprocess.run(["attrd_updater", *args], capture_output=True, text=True, check=check)

    assert attrd("--query", "--name", "smoke_attr", check=False).returncode == 78   # never set
    attrd("--name", "smoke_attr", "--update", "42")
    cluster.wait(lambda m: m.nodes[cluster.node].attributes.get("smoke_attr") == "42", 10,
                 "smoke_attr=42 in crm_mon")
    assert 'value="42"' in attrd("--query", "--name", "smoke_attr").stdout
    attrd("--name", "smoke_attr", "--delete")
    cluster.wait(lambda m: "smoke_attr" not in m.nodes[cluster.node].attributes, 10,
                 "smoke_attr gone from crm_mon")
    # attrd remembers a deleted attribute with an empty value (exit 0), unlike a never-set one.
    assert 'value=""' in attrd("--query", "--name", "smoke_attr").stdout


def test_resources_mount_in_our_namespace(cluster):
    """Resources run in the test session's private mount namespace, so their mounts never reach the host."""
    directory = tempfile.mkdtemp(prefix="cluster-smoke.", dir="/tmp")
    try:
        cluster.load("primitive smoke_fs ocf:heartbeat:Filesystem params device=smoke-tmpfs "
                     "directory=%s fstype=tmpfs\n" % directory)
        # Our parent (the shell that started pytest) sees the host's mounts.
        with open("/proc/self/mountinfo", encoding="utf-8") as ours, \
                open("/proc/%d/mountinfo" % os.getppid(), encoding="utf-8") as hosts:
            assert " %s " % directory in ours.read()
            assert " %s " % directory not in hosts.read()
        cluster.crm("resource", "stop", "smoke_fs")
        cluster.wait_settled()
        with open("/proc/self/mountinfo", encoding="utf-8") as ours:
            assert " %s " % directory not in ours.read()
    finally:
        subprocess.run(["umount", directory], capture_output=True)
        os.rmdir(directory)


def test_wait_reports_state_and_log(cluster):
    with pytest.raises(ClusterError) as raised:
        cluster.wait(lambda m: False, 0.3, "something that never happens")
    message = str(raised.value)
    assert "something that never happens" in message
    assert "DC: %s" % cluster.node in message and "pacemaker.log" in message


def test_reset_empties_the_configuration(cluster):
    """What the ``cluster`` fixture does between modules."""
    cluster.load(GROUP + "location smoke_loc smoke_g 100: %s\n"
                 "rsc_defaults smoke-defaults: resource-stickiness=10\n"
                 "property smoke-props: maintenance-mode=false\n" % cluster.node)
    cluster.crm("node", "attribute", cluster.node, "set", "smoke_perm", "1")
    subprocess.run(["attrd_updater", "--name", "smoke_transient", "--update", "1"], check=True)
    cluster.wait(lambda m: "smoke_transient" in m.nodes[cluster.node].attributes, 10, "smoke_transient")
    mon = cluster.reset()
    assert mon.resources == {} and mon.failures == []
    assert mon.nodes[cluster.node].attributes == {}
    config = cluster.crm("configure", "show").stdout
    for gone in ("smoke_", "smoke-", "maintenance-mode"):
        assert gone not in config, config
    assert "stonith-enabled=false" in config
