"""``crm_mon -1 --output-as=xml``, parsed into plain objects (Pacemaker 2.1)."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# Roles of a resource with an operation in flight (crm_mon shows them because
# record-pending is on by default).
BUSY_ROLES = {"Starting", "Stopping", "Promoting", "Demoting", "Migrating"}
INFINITY = 1000000              # how a fail count of INFINITY reads
# crm_mon's words for an agent's exit code (a failure's exitstatus), by
# Pacemaker major version: 2.x printed the OCF names, 3.0 prints its own
# descriptions of the exit code.  ClusterBase.exit_status() picks the row.
EXIT_STATUS = {
    2: {1: "error", 5: "not installed", 190: "OCF_DEGRADED"},
    3: {1: "Error occurred", 5: "Not installed", 190: "Service is active but might fail soon"},
}
# crm_mon's word for an operation that ran to its end (a failure's status),
# by Pacemaker major version.
OP_DONE = {2: "complete", 3: "Done"}


@dataclass
class Resource:
    id: str
    agent: str
    role: str
    active: bool
    failed: bool
    blocked: bool
    managed: bool
    orphaned: bool
    nodes: list
    parent: str = None          # the group or clone it is a member of
    fail_count: int = 0         # INFINITY reads 1000000


@dataclass
class Failure:
    resource: str
    op: str                     # start, monitor, stop, ...
    interval: int               # ms
    node: str
    exitcode: int
    exitstatus: str             # EXIT_STATUS: "error" (2.1), "Error occurred" (3.0), ...
    exitreason: str
    status: str                 # OP_DONE ("complete" on 2.1, "Done" on 3.0), "Timed Out", ...


@dataclass
class Node:
    name: str
    online: bool
    standby: bool
    maintenance: bool
    is_dc: bool
    attributes: dict = field(default_factory=dict)


@dataclass
class Mon:
    """One ``crm_mon -1 --output-as=xml`` snapshot."""
    xml: str
    dc: str                     # name of the DC, or None
    quorate: bool
    nodes: dict                 # name -> Node
    resources: dict             # id -> Resource (groups and clones are flattened)
    failures: list              # [Failure]
    instances: list = field(default_factory=list)   # [Resource], every clone instance too

    @property
    def busy(self):
        """Resources with an operation in flight (record-pending shows them as Starting etc.)."""
        return [r.id for r in self.resources.values() if r.role in BUSY_ROLES]

    def role(self, rid):
        res = self.resources.get(rid)
        return res.role if res else None

    def failures_of(self, rid):
        return [f for f in self.failures if f.resource == rid]

    def __str__(self):
        lines = ["DC: %s, quorate: %s" % (self.dc, self.quorate)]
        for node in self.nodes.values():
            lines.append("node %s: online=%s standby=%s attrs=%s"
                         % (node.name, node.online, node.standby, node.attributes))
        for res in self.resources.values():
            lines.append("resource %s (%s%s): role=%s active=%s failed=%s blocked=%s on %s"
                         % (res.id, res.agent, ", in " + res.parent if res.parent else "",
                            res.role, res.active, res.failed, res.blocked, res.nodes))
        for fail in self.failures:
            lines.append("failure %s %s: %s (%d) %r" % (fail.resource, fail.op, fail.exitstatus,
                                                       fail.exitcode, fail.exitreason))
        return "\n".join(lines)


def _true(elem, name):
    return elem.get(name) == "true"


def parse_mon(text):
    """A Mon from crm_mon's XML output."""
    root = ET.fromstring(text)
    dc_elem = root.find("summary/current_dc")
    dc = dc_elem.get("name") if dc_elem is not None and _true(dc_elem, "present") else None
    quorate = dc_elem is not None and _true(dc_elem, "with_quorum")
    nodes = {}
    for elem in root.findall("nodes/node"):
        nodes[elem.get("name")] = Node(elem.get("name"), _true(elem, "online"), _true(elem, "standby"),
                                       _true(elem, "maintenance"), _true(elem, "is_dc"))
    for elem in root.findall("node_attributes/node"):
        if elem.get("name") in nodes:
            nodes[elem.get("name")].attributes = {a.get("name"): a.get("value")
                                                  for a in elem.findall("attribute")}
    resources = {}
    instances = []

    def walk(parent_elem, parent_id):
        for elem in parent_elem:
            if elem.tag == "resource":
                resources[elem.get("id")] = resource = Resource(
                    elem.get("id"), elem.get("resource_agent"), elem.get("role"),
                    _true(elem, "active"), _true(elem, "failed"), _true(elem, "blocked"),
                    _true(elem, "managed"), _true(elem, "orphaned"),
                    [n.get("name") for n in elem.findall("node")], parent_id)
                instances.append(resource)
            elif elem.tag in ("group", "clone", "bundle"):
                walk(elem, elem.get("id"))

    resources_elem = root.find("resources")
    if resources_elem is not None:
        walk(resources_elem, None)
    for elem in root.findall("node_history/node/resource_history"):
        if elem.get("id") in resources and elem.get("fail-count"):
            resources[elem.get("id")].fail_count += int(elem.get("fail-count"))
    failures = []
    for elem in root.findall("failures/failure"):
        # op_key is <resource>_<task>_<interval>; resource ids may contain "_".
        rid, task, interval = elem.get("op_key").rsplit("_", 2)
        failures.append(Failure(rid, elem.get("task") or task, int(elem.get("interval") or interval),
                                elem.get("node"), int(elem.get("exitcode")), elem.get("exitstatus"),
                                elem.get("exitreason") or "", elem.get("status")))
    return Mon(text, dc, quorate, nodes, resources, failures, instances)
