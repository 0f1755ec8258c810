"""The node cluster's ledger: what a killed run leaves behind is removed by the next one.

Runs after test_failover.py, whose cluster is gone by then (module scope):
these tests own the ledger's directory while they run.
"""

import os
import subprocess

import pytest

from cluster.cluster import ClusterError, why_not_here
from cluster.nodes import NodeCluster, in_cgroup
from cluster.procs import alive, poll
from services.common import record_pid

pytestmark = [pytest.mark.integration]


@pytest.fixture
def cluster():
    reason = why_not_here(("losetup", "mkfs.xfs", "setpriv"))
    if reason:
        pytest.skip(reason)
    cluster = NodeCluster(2)
    yield cluster
    cluster.kill_leftovers(own=True)


def leave_behind(cluster, owner_pid):
    """What pytest killed with -9 leaves: the ledger with its owner, a node's cgroup with an
    orphaned process in it (its parent is gone, as unshare is), the shared disk's loop device.
    Returns the orphan's PID."""
    os.makedirs(cluster.state)
    record_pid(os.path.join(cluster.state, "owner"), owner_pid)
    node = cluster["node1"]
    os.makedirs(node.cgroup)
    orphan = subprocess.run(in_cgroup(node.cgroup, ["sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!"]),
                            capture_output=True, text=True, check=True, timeout=10).stdout
    cluster.disk.create()
    return int(orphan)


def test_the_next_run_removes_what_a_killed_run_left(cluster):
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = leave_behind(cluster, dead.pid)
    assert alive(orphan) and len(cluster.leftovers()) == 3     # state, cgroup, loop device
    cluster.kill_leftovers()
    assert poll(lambda: not alive(orphan), 5)
    assert cluster.leftovers() == []


def test_a_live_run_is_never_touched(cluster):
    other_run = subprocess.Popen(["sleep", "600"])
    try:
        orphan = leave_behind(cluster, other_run.pid)
        with pytest.raises(ClusterError, match=r"another test run \(pid %d\) owns" % other_run.pid):
            cluster.kill_leftovers()
        assert alive(orphan) and len(cluster.leftovers()) == 3
    finally:
        other_run.kill()
        other_run.wait()
    cluster.kill_leftovers()
    assert poll(lambda: not alive(orphan), 5)
