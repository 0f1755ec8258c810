"""Fixtures for the single-node cluster tests: one real cluster for the package, emptied per module.

Starting the cluster costs ~5 s, so one serves the whole package;
``cluster`` (module scope) resets it to an empty configuration before each
module, so modules do not see each other's resources, constraints, node
attributes or failures.
"""

import pytest

from .cluster import Cluster, why_not_here

TOOLS = ("corosync", "corosync-quorumtool", "pacemakerd", "crm", "crm_mon", "crm_node",
         "crm_resource", "crm_attribute", "crm_simulate", "crmadmin", "cibadmin", "attrd_updater")


@pytest.fixture(scope="package")
def cluster_session():
    """The running Cluster; stopped once this package's tests are done (before tests/cluster3's)."""
    reason = why_not_here(TOOLS)
    if reason:
        pytest.skip(reason)
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
