"""Fixtures for the three-node tests: the guide's cluster, its shared disk and the services it checks.

``nodes`` boots node1, node2 (data nodes) and node3 (the witness) with
tests/cluster/nodes.py, on a fresh XFS shared disk holding the seven
source directories.  The services ``stack-health`` and ``postfix-maps``
check are the session's real ones (tests/services), reached the way each
node's namespaces allow:

* MariaDB, redis, the admin-api stand-in and a milter acceptor listen on
  127.0.0.1, which every node shares; each node has its own
  /etc/gromox/mysql_adaptor.cfg and /etc/postfix (written into the node's
  root) pointing at MariaDB over TCP, as a real node has its own files;
* IMAP and LMTP are per node: one Dovecot on each data node's own address
  (127.0.0.2, 127.0.0.3), on the same ports, which the configuration
  reaches as ``localhost`` (each node's /etc/hosts maps localhost to its
  own address).  Hanging node1's Dovecot makes node1's stack sick and no
  other node's.
"""

import os
import socket

import pytest

from cluster.cluster import why_not_here
from cluster.nodes import NodeCluster
from services.dovecot import Dovecot
from services.gromox import Milter
from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER
from services.postfix import PostfixConfig

NAMES = ("mysql", "redis", "gromox", "grommunio-web", "grommunio-antispam", "grommunio-dav",
         "grommunio-admin-api")
DATA_NODES = ("node1", "node2")
WITNESS = "node3"
TOOLS = ("corosync", "pacemakerd", "crm", "crm_mon", "cibadmin", "crmadmin", "attrd_updater",
         "stonith_admin", "nsenter", "unshare", "setpriv", "losetup", "mkfs.xfs", "postconf")

MYSQL_ADAPTOR_CFG = """\
mysql_host = 127.0.0.1
mysql_port = {port}
mysql_username = {user}
mysql_password = {password}
mysql_dbname = {db}
"""


def common_free_port(hosts):
    """A TCP port that can be bound on each of ``hosts`` right now."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind((hosts[0], 0))
            port = first.getsockname()[1]
            free = True
            for host in hosts[1:]:
                with socket.socket() as other:
                    try:
                        other.bind((host, port))
                    except OSError:
                        free = False
                        break
            if free:
                return port
    raise RuntimeError("no port free on all of %s" % ", ".join(hosts))


class NodeDovecot(Dovecot):
    """A Dovecot serving IMAP and LMTP on one node's own address and the ports given."""

    def __init__(self, host, ports):
        self.host = host
        self.ports = ports
        super().__init__()
        self.ipv6 = False

    def pick_ports(self):
        self.imap_port, self.imaps_port, self.lmtp_port = self.ports
        self.lmtp6_port = None


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    """The three nodes, booted; shut down (and every trace removed) at the end.

    Their logs (pacemaker.log, corosync.log, the init's) are kept in
    pytest's temporary directory (``node-logs*``), as evidence.
    """
    reason = why_not_here(TOOLS)
    if reason:
        pytest.skip(reason)
    cluster = NodeCluster(3)
    try:
        cluster.start(files=node_dirs)
        yield cluster
    finally:
        cluster.stop(keep_logs=tmp_path_factory.mktemp("node-logs"))


def node_dirs(node):
    """Directories of the node's own root filesystem, made before it first boots."""
    return {"/grodata/.keep": ("", 0o644)} if node.name in DATA_NODES else {}


@pytest.fixture(scope="module")
def shared_disk(nodes):
    """The "DRBD" disk: XFS with the seven source directories, each holding a ``data`` file."""
    def populate(point):
        for name in NAMES:
            os.mkdir(os.path.join(point, name))
            with open(os.path.join(point, name, "data"), "w", encoding="utf-8") as handle:
                handle.write("%s lives on the shared disk\n" % name)
    return nodes.disk.create(populate)


@pytest.fixture(scope="module")
def node_services(nodes, mariadb, redis_session, adminapi_session):
    """Per-node Dovecots, a milter, and each node's own gromox/Postfix files."""
    addresses = [nodes[name].address for name in DATA_NODES]
    ports = tuple(common_free_port(addresses) for _ in range(3))
    dovecots = {}
    milter = Milter()
    try:
        for name in DATA_NODES:
            dovecots[name] = NodeDovecot(nodes[name].address, ports)
            dovecots[name].start()
        for name in DATA_NODES:
            node = nodes[name]
            node.write("/etc/gromox/mysql_adaptor.cfg", MYSQL_ADAPTOR_CFG.format(
                port=mariadb.port, user=DB_USER, password=DB_PASSWORD, db=DB_NAME), 0o600)
            PostfixConfig("/etc/postfix", mariadb, root=node.root).use_tcp()
            node.run(["postconf", "-e", "smtpd_milters = inet:%s" % milter.address])
        yield {"dovecot": dovecots, "imap_port": ports[0], "lmtp_port": ports[2], "milter": milter,
               "mariadb": mariadb, "redis": redis_session, "adminapi": adminapi_session}
    finally:
        milter.close()
        for dovecot in dovecots.values():
            dovecot.cleanup()
