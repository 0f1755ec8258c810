"""A private, real redis-server for the stack-health tests.

Debian's ``redis-server`` runs in the foreground as our child on 127.0.0.1
and a port the kernel picked, with no persistence (``--save ''``,
``--appendonly no``) and its working directory in a run directory of its own:
it never touches the system instance (/var/lib/redis, port 6379).  With a
``password`` it runs with ``requirepass``, so an unauthenticated PING gets
``-NOAUTH Authentication required.``

The life cycle (start/stop/kill/pause/resume/ensure_running/cleanup) is the
``Daemon`` one of services.dovecot.  Start-up takes ~0.02 s.
"""

import os
import socket

import pytest

from .common import free_port, repaired, serving
from .dovecot import Daemon

REDIS_SERVER = "/usr/bin/redis-server"
# Distinctive on purpose: a test can grep agent output for it to prove it never leaks.
PASSWORD = "Redis-Test-Secret"


def resp(*args):
    """One command in RESP, the form redis-cli sends."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        arg = arg.encode() if isinstance(arg, str) else arg
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class Redis(Daemon):
    """One private redis-server; ``password`` turns on requirepass."""

    kind = "redis"
    host = "127.0.0.1"

    def __init__(self, password=None):
        super().__init__()
        self.password = password
        self.port = None
        self.log_file = os.path.join(self.directory, "redis.log")

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def pick_ports(self):
        self.port = free_port(self.host)

    def prepare(self):
        pass                                # everything is on the command line

    def argv(self):
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", self.host,
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", self.directory, "--logfile", self.log_file]
        if self.password:
            argv += ["--requirepass", self.password]
        return argv

    def command(self, *args, auth=True, timeout=1.0):
        """Send one command (after AUTH if there is a password and ``auth``); the raw first
        reply line, e.g. b"+PONG" or b"-NOAUTH Authentication required."."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            reader = sock.makefile("rb")
            if self.password and auth:
                sock.sendall(resp("AUTH", self.password))
                reply = reader.readline().rstrip(b"\r\n")
                if reply != b"+OK":
                    return reply
            sock.sendall(resp(*args))
            return reader.readline().rstrip(b"\r\n")

    def ready(self):
        try:
            return self.command("PING") == b"+PONG"
        except OSError:
            return False

    def __repr__(self):
        return "Redis(port=%s, auth=%s, running=%s)" % (self.port, bool(self.password), self.running)


@pytest.fixture(scope="session")
def redis_session():
    yield from serving(Redis(None))


@pytest.fixture(scope="session")
def redis_auth_session():
    yield from serving(Redis(PASSWORD))


@pytest.fixture
def redis(redis_session):
    """The shared redis without a password; running again after each test, whatever it did."""
    yield from repaired(redis_session)


@pytest.fixture
def redis_auth(redis_auth_session):
    """The shared redis with ``requirepass`` (``.password``); restored after each test."""
    yield from repaired(redis_auth_session)
