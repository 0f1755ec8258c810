"""gromox-http's stand-in as a daemon of its own: hung with SIGSTOP, killed with SIGKILL.

gromox itself is not in Debian; the cluster scenarios need a gromox-http
that can hang the way a real one does (connections accepted, no answer),
which an in-process peer cannot.  ``GromoxHttp`` runs
services/gromoxhttp_server.py (answers as exch/http/http_parser.cpp does)
under the Daemon life cycle of services.dovecot, on [::1] as
grommunio-setup's gromox-http (127.0.0.1 when the host has no IPv6
loopback) and a port the kernel picked.  ``url`` is the base URL
stack-health's ``gromox_http_url`` takes.  Start-up ~0.05 s.
"""

import os
import socket

from .common import free_port
from .dovecot import Daemon, ipv6_loopback

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gromoxhttp_server.py")
MAPI_PATH = "/mapi/emsmdb/?MailboxId=x"


class GromoxHttp(Daemon):
    kind = "gromox-http"
    stop_grace = 2.0

    def __init__(self):
        super().__init__()
        self.host = "::1" if ipv6_loopback() else "127.0.0.1"
        self.port = None

    @property
    def url(self):
        return ("http://[%s]:%d" if ":" in self.host else "http://%s:%d") % (self.host, self.port)

    def pick_ports(self):
        self.port = free_port(self.host)

    def prepare(self):
        pass

    def argv(self):
        return ["/usr/bin/python3", "-I", SERVER, self.host, str(self.port)]

    def post_mapi(self, timeout=1.0):
        """The first line and the WWW-Authenticate header of the answer to the check's
        request, or None."""
        request = ("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
                   "Connection: close\r\n\r\n" % MAPI_PATH).encode()
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
                sock.sendall(request)
                data = b""
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return None
        lines = data.split(b"\r\n")
        auth = [line for line in lines if line.lower().startswith(b"www-authenticate:")]
        return lines[0], auth[0] if auth else None

    def ready(self):
        return self.post_mapi() is not None

    def __repr__(self):
        return "GromoxHttp(%s, running=%s)" % (self.url if self.port else None, self.running)
