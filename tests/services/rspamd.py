"""A private, real rspamd: the controller's ``/ping`` and the proxy worker in milter mode.

grommunio-antispam is rspamd; Debian's ``rspamd`` runs in the foreground
(``-f``) as our child with a config of its own (``-c``), dropping to the
package's ``_rspamd`` user, its pid file, database and hyperscan cache
directories and log in a run directory: it never touches the system
instance (/etc/rspamd's local.d, /var/lib/rspamd, ports 11332-11334).
Listeners, on 127.0.0.1 and ports the kernel picked:

    controller_port   the controller worker: ``GET /ping`` answers ``pong``
    milter_port       the ``rspamd_proxy`` worker with ``milter = yes`` and
                      ``self_scan`` (no normal worker, no Redis): it answers
                      SMFIC_OPTNEG as rspamd's src/libserver/milter.c does --
                      version 6, the actions offered or'ed with its own
                      mask, the no-reply protocol mask -- and drops an MTA
                      offering a version below 6.

Start-up is kept short: the config includes none of Debian's modules
(``filters = ""``), and ``url_tld`` names a four-line list instead of the
Public Suffix List, whose hyperscan database otherwise takes ~13 s of CPU
to compile at the first start on 2 cores.  Measured: ready ~1 s.

The life cycle (start/stop/kill/pause/resume/ensure_running/cleanup) is the
``Daemon`` one of services.dovecot.
"""

import os
import shutil
import socket
import struct

import pytest

from .common import free_port, repaired, serving
from .dovecot import Daemon

RSPAMD = "/usr/bin/rspamd"
USER = "_rspamd"

# An MTA's option negotiation: milter protocol version 6 (Postfix's default
# milter_protocol), every action allowed, every protocol step skippable.
SMFIC_OPTNEG = b"O"
MILTER_VERSION = 6

CONFIG = """\
# Written by tests/services/rspamd.py for one test session.
options {{
  pidfile = "{dir}/rspamd.pid";
  dbdir = "{dir}/db";
  hs_cache_dir = "{dir}/db";
  filters = "";
  url_tld = "{dir}/tld.dat";
  dns {{ nameserver = ["127.0.0.1:53"]; }}
}}
logging {{
  type = "file";
  filename = "{dir}/rspamd.log";
  level = "info";
}}
worker "controller" {{
  bind_socket = "{host}:{controller}";
  count = 1;
}}
worker "rspamd_proxy" {{
  bind_socket = "{host}:{milter}";
  milter = yes;
  count = 1;
  timeout = 120s;
  upstream "local" {{
    default = yes;
    self_scan = yes;
  }}
}}
"""


def optneg(version=MILTER_VERSION, actions=0x1FF, protocol=0x1FFFFF):
    """An MTA's SMFIC_OPTNEG packet: length, command 'O', version, actions, protocol."""
    body = SMFIC_OPTNEG + struct.pack(">III", version, actions, protocol)
    return struct.pack(">I", len(body)) + body


def read_packet(sock, limit=4096):
    """One milter packet (command byte + payload) from ``sock``, or b"" at EOF."""
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            return b""
        head += chunk
    (length,) = struct.unpack(">I", head)
    if length > limit:
        raise ValueError("milter packet of %d bytes" % length)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return head + body


class Rspamd(Daemon):
    """One private rspamd; see the module docstring for what it serves."""

    kind = "rspamd"
    stop_grace = 3.0
    host = "127.0.0.1"

    def __init__(self):
        super().__init__()
        self.config = os.path.join(self.directory, "rspamd.conf")
        self.log_file = os.path.join(self.directory, "rspamd.log")
        self.controller_port = self.milter_port = None

    @property
    def ping_url(self):
        return "http://%s:%d/ping" % (self.host, self.controller_port)

    @property
    def milter_address(self):
        return "%s:%d" % (self.host, self.milter_port)

    def pick_ports(self):
        self.controller_port, self.milter_port = free_port(self.host), free_port(self.host)

    def prepare(self):
        db = os.path.join(self.directory, "db")
        if not os.path.isdir(db):
            os.mkdir(db)
            shutil.chown(db, USER)
            with open(os.path.join(self.directory, "tld.dat"), "w", encoding="ascii") as handle:
                handle.write("com\norg\nnet\nexample\n")
        with open(self.config, "w", encoding="ascii") as handle:
            handle.write(CONFIG.format(dir=self.directory, host=self.host,
                                       controller=self.controller_port, milter=self.milter_port))

    def argv(self):
        return [RSPAMD, "-f", "-c", self.config, "-u", USER, "-g", USER]

    def ping(self, timeout=1.0):
        """The controller's answer to ``GET /ping`` (status line and body), or None."""
        request = ("GET /ping HTTP/1.0\r\nHost: %s\r\n\r\n" % self.host).encode()
        try:
            with socket.create_connection((self.host, self.controller_port), timeout=timeout) as sock:
                sock.sendall(request)
                data = b""
                while len(data) < 4096:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return None
        head, _, body = data.partition(b"\r\n\r\n")
        return head.split(b"\r\n", 1)[0], body

    def negotiate(self, packet=None, timeout=1.0):
        """Send an OPTNEG (``packet``, default ``optneg()``) to the milter; its reply packet,
        b"" if it closed, None if the connection failed."""
        try:
            with socket.create_connection((self.host, self.milter_port), timeout=timeout) as sock:
                sock.sendall(packet or optneg())
                return read_packet(sock)
        except OSError:
            return None

    def ready(self):
        answer = self.ping()
        if answer is None or answer[1].strip() != b"pong":
            return False
        reply = self.negotiate()
        return bool(reply) and reply[4:5] == SMFIC_OPTNEG

    def __repr__(self):
        return "Rspamd(controller=%s, milter=%s, running=%s)" % (
            self.controller_port, self.milter_port, self.running)


@pytest.fixture(scope="session")
def rspamd_session():
    """The session's rspamd, as is: use ``rspamd`` in tests (it repairs after each one)."""
    yield from serving(Rspamd())


@pytest.fixture
def rspamd(rspamd_session):
    """The shared rspamd.  A test may kill(), stop() or pause() it: the teardown
    brings it back (same ports, unless they were taken meanwhile)."""
    yield from repaired(rspamd_session)
