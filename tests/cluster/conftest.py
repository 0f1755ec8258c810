"""Fixtures for the cluster tests: one real cluster per session, emptied per module.

Starting the cluster costs ~5 s, so one serves the whole session;
``cluster`` (module scope) resets it to an empty configuration before each
module, so modules do not see each other's resources, constraints, node
attributes or failures.
"""

import os
import shutil
import sys

import pytest

from .cluster import Cluster

TOOLS = ("corosync", "corosync-quorumtool", "pacemakerd", "crm", "crm_mon", "crm_node",
         "crm_resource", "crm_attribute", "crm_simulate", "crmadmin", "cibadmin", "attrd_updater")


@pytest.fixture(scope="session")
def cluster_session():
    """The running Cluster; stopped at the end of the session."""
    if os.geteuid() != 0:
        pytest.skip("the cluster tests need root")
    # Pacemaker inherits our mount namespace: without the private one that
    # tests/conftest.py (imported by pytest as "conftest") makes, mounts made
    # by resources would land on the host.
    if not getattr(sys.modules.get("conftest"), "PRIVATE_NS", False):
        pytest.skip("the cluster tests need the private mount namespace of tests/conftest.py")
    missing = [tool for tool in TOOLS if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if missing:
        pytest.skip("not installed: %s (apt: corosync pacemaker crmsh)" % " ".join(missing))
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def cluster(cluster_session):
    """The session's cluster, emptied (Cluster.reset) before the module's first test."""
    cluster_session.reset()
    return cluster_session


def pytest_terminal_summary(terminalreporter):
    from .timings import RECORDED
    if RECORDED:
        terminalreporter.section("cluster timings (seconds)")
        for what, seconds in RECORDED:
            terminalreporter.write_line("%7.1f  %s" % (seconds, what))
