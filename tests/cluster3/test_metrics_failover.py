"""metrics_dir on the three nodes: the file follows the resource.

stack-health (IMAP checked on each data node's own Dovecot, see conftest.py)
writes to /var/lib/prometheus/node-exporter in each node's own root.  While
it runs on node1 only node1 has the file, labelled node="node1"; when node1
goes to standby and the resource moves, node1's stop removes its file and
node2's start and monitors write one labelled node="node2" -- no stale file
stays behind, and the newest monitor (GrommunioMonitorStale's view) is on
the node that runs it.
"""

import os
import re
import time

import pytest

from cluster.procs import poll
from services.gromox import NEW_CHECKS_OFF

from .conftest import DATA_NODES, WITNESS

pytestmark = [pytest.mark.integration]

RESOURCE = "metrics_health"
DIRECTORY = "/var/lib/prometheus/node-exporter"   # Debian's; in each node's overlay root
FILE = "%s/grommunio_ocf-stack-health-%s.prom" % (DIRECTORY, RESOURCE)
INTERVAL = 5


def samples(text):
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(r'(\w+)\{(.*)\} (\S+)', line)
        if match:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2)))
            found[match.group(1)] = (labels, float(match.group(3)))
    return found


def file_on(node):
    """The samples of the node's file, or None when it has none."""
    try:
        with open(node.path(FILE), encoding="utf-8") as handle:
            return samples(handle.read())
    except FileNotFoundError:
        return None


def monitored_on(node):
    """The node's file, once a recurring monitor (not only the start) has written it."""
    found = file_on(node)
    return found if found and "grommunio_ocf_monitor_interval_seconds" in found else None


def running_on(mon):
    resource = mon.resources.get(RESOURCE)
    return resource.nodes if resource and resource.role == "Started" else []


def test_the_file_follows_the_resource(nodes, node_services):
    if not os.path.isdir(DIRECTORY):
        pytest.skip("%s is missing: tests/run installs prometheus-node-exporter" % DIRECTORY)
    first, second = (nodes[name] for name in DATA_NODES)
    nodes.load(
        "primitive %s ocf:grommunio:stack-health params imap_url=imap://localhost:%d "
        "admin_api_url=off mysql_config=off lmtp_address=off critical=imap check_timeout=2 "
        "metrics_dir=%s %s op monitor interval=%ds timeout=20s\n"
        "location %s_not_on_witness %s -inf: %s\n"
        "location %s_prefers_%s %s 100: %s\n"
        % (RESOURCE, node_services["imap_port"], DIRECTORY,
           " ".join("%s=%s" % item for item in NEW_CHECKS_OFF.items()), INTERVAL, RESOURCE,
           RESOURCE, WITNESS, RESOURCE, first.name, RESOURCE, first.name))
    try:
        nodes.wait(lambda mon: running_on(mon) == [first.name], 60, "%s on %s" % (RESOURCE, first.name))
        assert poll(lambda: monitored_on(first), 30, 0.2), file_on(first)
        found = monitored_on(first)
        labels, result = found["grommunio_ocf_result_code"]
        assert (labels, result) == ({"agent": "stack-health", "resource": RESOURCE,
                                     "node": first.name}, 0)
        assert found["grommunio_ocf_monitor_interval_seconds"][1] == INTERVAL
        assert file_on(second) is None and file_on(nodes[WITNESS]) is None

        nodes.crm("node", "standby", first.name)
        nodes.wait(lambda mon: running_on(mon) == [second.name], 60, "%s on %s" % (RESOURCE, second.name))
        assert file_on(first) is None          # node1's stop removed it
        assert poll(lambda: monitored_on(second), 30, 0.2), file_on(second)
        found = monitored_on(second)
        labels, result = found["grommunio_ocf_result_code"]
        assert (labels["node"], result) == (second.name, 0)
        assert time.time() - found["grommunio_ocf_last_monitor_timestamp_seconds"][1] < 3 * INTERVAL
        assert file_on(first) is None and file_on(nodes[WITNESS]) is None
    finally:
        nodes.crm("node", "online", first.name, check=False)
        nodes.crm("configure", "delete", "--force", "%s_not_on_witness" % RESOURCE,
                  "%s_prefers_%s" % (RESOURCE, first.name), RESOURCE, check=False)
        nodes.wait_settled()
