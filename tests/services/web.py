"""A private, real nginx in front of a real php-fpm pool, as grommunio's web front.

Two daemons, each Debian's own binary run in the foreground as our child
with a config, pid file, sockets and logs of its own under a run directory
(the Daemon life cycle of services.dovecot): they never touch the system
instances (/etc/nginx, /run/php, ports 80/443).

    PhpFpm   php-fpm8.2 with one pool, ``grommunio-sync-pool``, listening on a
             Unix socket in its run directory, shaped like grommunio-sync's
             own pool file (grommunio/grommunio-sync build/pool-grommunio-sync.conf:
             user/group, a 0666 socket, catch_workers_output).  Its one script,
             ``index.php``, answers as grommunio-sync's index.php does for a
             client without credentials: ``401 Unauthorized`` with
             ``WWW-Authenticate: Basic realm="GSync"`` (grommunio-sync
             lib/exceptions/authenticationrequiredexception.php), and no body for
             an OPTIONS request -- "some devices send unauthorized OPTIONS
             requests and don't expect anything in the response body"
             (index.php's comment).  With credentials and an OPTIONS request it
             answers 200 with the MS-ASProtocolVersions header, as the real
             app does once the backend logs the user in; nothing here logs in.
    Nginx    nginx with TLS (a self-signed certificate, services.common's
             ``self_signed``) on 127.0.0.1 and, if the host has it, [::1],
             both on one port, so ``https://localhost:PORT`` works whichever
             address the client tries first.  It serves
             ``/Microsoft-Server-ActiveSync`` through the pool the way
             grommunio-sync's nginx fragment does (build/grommunio-sync.conf:
             ``alias .../index.php``, ``fastcgi_pass`` to the ``fpm_sync``
             upstream of build/grommunio-sync-upstream.conf) and
             ``/robots.txt`` itself: 200, ``User-agent: *`` / ``Disallow: /``.

The ``web`` fixture gives a ``Web`` with both running and the URLs a check
is given (``sync_url``, ``robots_url``).  Faults a test can make:
``web.fpm.kill()`` (the pool is gone: nginx answers 502 Bad Gateway),
``web.nginx.stop()`` (connection refused), ``web.fpm.pause()`` (nginx
waits for the pool: the client sees no answer), ``web.nginx.pause()``.
The fixture repairs them after each test.

Measured on 2 cores: php-fpm ready (its socket answers a FastCGI request
through nginx) and nginx ready ~0.1 s together.
"""

import os
import socket
import ssl

import pytest

from .common import free_port, repaired, self_signed, serving
from .dovecot import Daemon, DaemonError, ipv6_loopback

NGINX = "/usr/sbin/nginx"
FASTCGI_PARAMS = "/etc/nginx/fastcgi_params"
CERT_NAME = "mail.example.com"
SYNC_PATH = "/Microsoft-Server-ActiveSync"
ROBOTS_BODY = b"User-agent: *\nDisallow: /\n"
POOL = "grommunio-sync-pool"


def php_fpm_binary():
    """Debian's versioned php-fpm (php-fpm8.2 on Debian 12, php-fpm8.4 on 13)."""
    for name in sorted(os.listdir("/usr/sbin"), reverse=True):
        if name.startswith("php-fpm") and name[len("php-fpm"):].replace(".", "").isdigit():
            return os.path.join("/usr/sbin", name)
    raise DaemonError("no /usr/sbin/php-fpm<version>: install php-fpm")


# Our own script, written to behave like grommunio-sync's index.php at the
# door: no credentials -> AuthenticationRequiredException -> 401 and the
# GSync realm; the legal notice body only for GET.
SYNC_SCRIPT = r"""<?php
// Written by tests/services/web.py: grommunio-sync's answer to a client
// without credentials (index.php, AuthenticationRequiredException).
$method = $_SERVER['REQUEST_METHOD'];
$user = isset($_SERVER['PHP_AUTH_USER']) ? $_SERVER['PHP_AUTH_USER'] : '';
if ($user === '' || !isset($_GET['User'])) {
    header('HTTP/1.1 401 Unauthorized');
    header('WWW-Authenticate: Basic realm="GSync"');
    if ($method === 'GET') {
        echo "<html><body><h1>AuthenticationRequiredException</h1>"
            . "<pre>Access denied. Please send authorisation information</pre></body></html>\n";
    }
    exit;
}
if ($method === 'OPTIONS') {
    header('MS-Server-ActiveSync: 16.1');
    header('MS-ASProtocolVersions: 2.5,12.0,12.1,14.0,14.1,16.0,16.1');
    exit;
}
header('HTTP/1.1 501 Not Implemented');
"""

FPM_CONFIG = """\
; Written by tests/services/web.py for one test session.
[global]
pid = {dir}/php-fpm.pid
error_log = {dir}/php-fpm.log
daemonize = no

[{pool}]
listen = {socket}
listen.mode = 0666
user = www-data
group = www-data
pm = static
pm.max_children = 2
catch_workers_output = yes
security.limit_extensions = .php
"""

NGINX_CONFIG = """\
# Written by tests/services/web.py for one test session.
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log info;
events {{
    worker_connections 64;
}}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/tmp/body;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    proxy_temp_path {dir}/tmp/proxy;
    scgi_temp_path {dir}/tmp/scgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    default_type application/octet-stream;

    upstream fpm_sync {{
        server unix:{socket};
    }}
    server {{
{listen}        server_name {cert_name} localhost;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        server_tokens off;

        location = /robots.txt {{
            default_type text/plain;
            return 200 "User-agent: *\\nDisallow: /\\n";
        }}
        location {sync_path} {{
            alias {sync_dir}/index.php;
            include {fastcgi_params};
            fastcgi_param REMOTE_USER "";
            fastcgi_param SCRIPT_FILENAME $document_root$1;
            fastcgi_param HTTP_PROXY "";
            fastcgi_read_timeout 60;
            fastcgi_pass fpm_sync;
        }}
    }}
}}
"""


class PhpFpm(Daemon):
    """php-fpm with grommunio-sync's pool (a Unix socket) and our sync script."""

    kind = "php-fpm"
    stop_grace = 3.0

    def __init__(self):
        super().__init__()
        self.binary = php_fpm_binary()
        self.config = os.path.join(self.directory, "php-fpm.conf")
        self.socket = os.path.join(self.directory, "sync.sock")
        self.sync_dir = os.path.join(self.directory, "grommunio-sync")
        self.log_file = os.path.join(self.directory, "php-fpm.log")

    def pick_ports(self):
        pass                                # a Unix socket: nothing to pick

    def prepare(self):
        os.makedirs(self.sync_dir, exist_ok=True)
        os.chmod(self.sync_dir, 0o755)
        with open(os.path.join(self.sync_dir, "index.php"), "w", encoding="ascii") as handle:
            handle.write(SYNC_SCRIPT)
        with open(self.config, "w", encoding="ascii") as handle:
            handle.write(FPM_CONFIG.format(dir=self.directory, pool=POOL, socket=self.socket))

    def argv(self):
        # -F: foreground; -y: our config; -p: our prefix (relative paths).
        return [self.binary, "-F", "-y", self.config, "-p", self.directory]

    def ready(self):
        # A FastCGI connect is enough here: the pool's socket exists and the
        # master accepts on it only once its workers are forked.  The Web
        # fixture's own readiness then proves a whole request through nginx.
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(self.socket)
            except OSError:
                return False
        return True

    def __repr__(self):
        return "PhpFpm(socket=%s, running=%s)" % (self.socket, self.running)


class Nginx(Daemon):
    """nginx with TLS on one port of 127.0.0.1 (and [::1]), in front of ``fpm``."""

    kind = "nginx"
    stop_grace = 3.0
    host = "127.0.0.1"
    host6 = "::1"
    cert_name = CERT_NAME

    def __init__(self, fpm):
        super().__init__()
        self.fpm = fpm
        self.config = os.path.join(self.directory, "nginx.conf")
        self.cert_path = os.path.join(self.directory, "cert.pem")
        self.key_path = os.path.join(self.directory, "key.pem")
        self.log_file = os.path.join(self.directory, "nginx-error.log")
        self.ipv6 = ipv6_loopback()
        self.port = None

    def pick_ports(self):
        # One port free on both addresses: https://localhost:PORT reaches us
        # whether the client resolves localhost to ::1 or to 127.0.0.1.
        for _ in range(20):
            port = free_port(self.host)
            if not self.ipv6 or _free(self.host6, port):
                self.port = port
                return
        raise DaemonError("no port free on both 127.0.0.1 and ::1")

    def prepare(self):
        if not os.path.exists(self.cert_path):
            self_signed(self.cert_path, self.key_path, self.cert_name)
            os.chmod(self.key_path, 0o600)
        for name in ("body", "fastcgi", "proxy", "scgi", "uwsgi"):
            os.makedirs(os.path.join(self.directory, "tmp", name), exist_ok=True)
        listen = "        listen %s:%d ssl;\n" % (self.host, self.port)
        if self.ipv6:
            listen += "        listen [%s]:%d ssl;\n" % (self.host6, self.port)
        with open(self.config, "w", encoding="ascii") as handle:
            handle.write(NGINX_CONFIG.format(
                dir=self.directory, socket=self.fpm.socket, listen=listen,
                cert_name=self.cert_name, sync_path=SYNC_PATH, sync_dir=self.fpm.sync_dir,
                fastcgi_params=FASTCGI_PARAMS))

    def argv(self):
        # -e: the error log before the config is read (Debian's default is stderr,
        # which is our output.log anyway); -p: relative paths under our directory.
        return [NGINX, "-c", self.config, "-p", self.directory + "/",
                "-e", os.path.join(self.directory, "nginx-error.log")]

    def ready(self):
        answer = request(self.host, self.port, "GET", "/robots.txt")
        return answer is not None and answer[0] == 200

    def __repr__(self):
        return "Nginx(port=%s, running=%s)" % (self.port, self.running)


def _free(host, port):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def request(host, port, method, path, timeout=2.0, headers=()):
    """One HTTPS request (unverified TLS, SNI ``CERT_NAME``): (status, {header: value}, body),
    or None if the connection or TLS fails.  Header names are lower-cased; a header sent
    twice keeps its last value."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % CERT_NAME, "Connection: close",
             *headers, "", ""]
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=CERT_NAME) as sock:
                sock.sendall("\r\n".join(lines).encode("ascii"))
                data = b""
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
    except (OSError, ssl.SSLError):
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(head_lines[0].split()[1])
    except (IndexError, ValueError):
        return None
    fields = {}
    for line in head_lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return status, fields, body


class Web:
    """nginx + php-fpm, started and stopped together; see the module docstring."""

    def __init__(self):
        self.fpm = PhpFpm()
        self.nginx = Nginx(self.fpm)

    @property
    def base_url(self):
        return "https://localhost:%d" % self.nginx.port

    @property
    def sync_url(self):
        return self.base_url + SYNC_PATH

    @property
    def robots_url(self):
        return self.base_url + "/robots.txt"

    def start(self):
        self.fpm.start()
        self.nginx.start()
        answer = request(self.nginx.host, self.nginx.port, "OPTIONS", SYNC_PATH)
        if answer is None or answer[0] != 401:
            raise DaemonError("nginx + php-fpm: OPTIONS %s gave %r; logs:\n%s%s"
                              % (SYNC_PATH, answer, self.fpm.log_tail(), self.nginx.log_tail()))

    def ensure_running(self):
        self.fpm.ensure_running()
        self.nginx.ensure_running()

    def cleanup(self):
        self.nginx.cleanup()
        self.fpm.cleanup()

    def __repr__(self):
        return "Web(%r, %r)" % (self.nginx, self.fpm)


@pytest.fixture(scope="session")
def web_session():
    """The session's nginx + php-fpm, as is: use ``web`` in tests (it repairs after each one)."""
    yield from serving(Web())


@pytest.fixture
def web(web_session):
    """The shared nginx + php-fpm.  A test may kill(), stop() or pause() either: the
    teardown brings both back (same port and socket)."""
    yield from repaired(web_session)

