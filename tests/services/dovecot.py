"""A private, real Dovecot (IMAP, IMAPS, LMTP, POP3) for the stack-health tests.

Debian's own ``dovecot`` runs in the foreground (``-F``) as our child, with a
config, base_dir, state_dir and log of its own under a run directory: it never
touches the system instance (/run/dovecot, /var/lib/dovecot, ports 143/993/24).
Listeners, all on ports the kernel picked:

    imap_port    plain IMAP on 127.0.0.1 that offers STARTTLS
    imaps_port   implicit-TLS IMAP on 127.0.0.1
    lmtp_port    LMTP on 127.0.0.1
    lmtp6_port   LMTP on [::1] (None when the host has no IPv6 loopback)
    pop3_port    plain POP3 on 127.0.0.1 (dovecot-pop3d): greets "+OK Dovecot (Debian) ready."
                 where gromox-pop3 says "+OK <host> pop service ready".  None where
                 dovecot-pop3d is not installed: the rest serves, and asking for
                 ``pop3_address`` fails naming the package

TLS uses a self-signed certificate made at start-up (EC P-256, milliseconds)
for ``cert_name`` (mail.example.com, as subjectAltName, the only name it has):
``cert_path`` is both the server certificate and the CA to trust, so a
verifying client must connect with ``server_hostname=cert_name``; connecting
by IP address fails verification ("IP address mismatch").

No mail is stored: the only account (``probe``/``probe`` in a passwd-file) is
there because Dovecot wants a passdb and a userdb to start.  Running as root
needs no special settings: login processes run as dovenull and internal
ones as dovecot (Debian's package creates both users).

Measured on 2 cores: start-up until every port greets ~0.05 s (imap-login
only greets once the auth process is ready, so a greeting proves the whole
chain).  A paused (SIGSTOPped) Dovecot still completes TCP handshakes — the
kernel queues them on the listening sockets — but never sends a greeting; a
killed one refuses connections.

This module also has the ``Daemon`` base that services.redis uses; its run
directories are services.common's.
"""

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from .common import free_port, new_run_dir, proc_stat, record_pid, recorded_pid, repaired, serving

DOVECOT = "/usr/sbin/dovecot"
POP3_LOGIN = "/usr/lib/dovecot/pop3-login"         # dovecot-pop3d
STATE_ROOT = "/tmp/grommunio-ocf-tests"
CERT_NAME = "mail.example.com"


class DaemonError(RuntimeError):
    pass


def ipv6_loopback():
    """True if ::1 can be bound here (containers sometimes have no IPv6 at all)."""
    try:
        free_port("::1")
    except OSError:
        return False
    return True


def _group_members(pgid):
    """Pids of the live (not zombie) processes in process group ``pgid``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = proc_stat(name)
        if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(name))
    return found


def _kill_daemon_group(run):
    """Kill the daemon group a dead run left behind (the run's ``daemon.pid`` names it).

    Daemons normally die with pytest anyway (Daemon starts them with a parent
    death signal), so reaping is mostly about the directories.
    """
    pid = recorded_pid(os.path.join(run, "daemon.pid"))
    if pid is not None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


class Daemon:
    """A daemon run in the foreground as our child, in a process group of its own.

    Subclasses set ``kind`` (the run directory's parent name) and implement
    ``prepare()`` (write config for the current ports), ``argv()``,
    ``pick_ports()`` and ``ready()``.  The life cycle:

    * ``start()`` returns once ``ready()`` holds; ports stay the same across
      restarts unless they were taken meanwhile.
    * ``stop()``: SIGTERM, a clean shutdown (SIGKILL after ``stop_grace``);
      ``kill()``: SIGKILL to the whole group ("service killed"); both return
      once no process of it is left.
    * ``pause()``/``resume()``: SIGSTOP/SIGCONT to the whole group ("service hung").
    * ``ensure_running()`` undoes any of these; fixtures call it after each test.
    * ``cleanup()`` kills it and removes its files.

    The child runs under ``setpriv --pdeathsig KILL``: if pytest is killed
    (-9, OOM) the daemon dies with it instead of lingering.  The death signal
    fires when the *thread* that started it ends, so start daemons from the
    main thread (pytest fixtures always are).
    """

    kind = None
    ready_timeout = 15.0
    stop_grace = 10.0

    def __init__(self):
        self.directory = new_run_dir(os.path.join(STATE_ROOT, self.kind), _kill_daemon_group)
        os.chmod(self.directory, 0o755)     # daemons drop privileges and must reach their files
        self.output = os.path.join(self.directory, "output.log")
        self.log_file = None                # the daemon's own log, if it has one
        self.paused = False
        self._proc = None
        self._prepared = False

    # -- to implement -----------------------------------------------------

    def pick_ports(self):
        raise NotImplementedError

    def prepare(self):
        raise NotImplementedError

    def argv(self):
        raise NotImplementedError

    def ready(self):
        """True once the daemon serves every listener (called in a polling loop)."""
        raise NotImplementedError

    def log_tail(self, lines=30):
        """The end of the daemon's stdout/stderr and of its own log, for error messages."""
        return _tail(self.output, lines) + (_tail(self.log_file, lines) if self.log_file else "")

    # -- life cycle -------------------------------------------------------

    @property
    def running(self):
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self):
        return self._proc.pid if self._proc is not None else None

    def start(self):
        if self.running:
            return
        if self._proc is not None:          # it died (or was killed) behind our back
            self._wait_group_gone(self._proc.pid)
            self._proc = None
        if not self._prepared:
            self.pick_ports()
            self.prepare()
            self._prepared = True
        for _ in range(3):
            if self._spawn():
                return
            if "in use" not in self.log_tail():
                break
            self.pick_ports()           # lost the free_port() race: fresh ports
            self.prepare()
        raise DaemonError("%s did not come up (rc=%s); output ends:\n%s"
                          % (self.kind, self._proc.returncode, self.log_tail()))

    def _spawn(self):
        """Run the daemon and poll until ready(); False if it exits first."""
        with open(self.output, "a", encoding="utf-8") as out:
            self._proc = subprocess.Popen(
                ["setpriv", "--pdeathsig", "KILL", "--", *self.argv()],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True)  # own process group: ^C to pytest must not reach it
        self.paused = False
        record_pid(os.path.join(self.directory, "daemon.pid"), self._proc.pid)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._wait_group_gone(self._proc.pid)
                return False
            if self.ready():
                return True
            time.sleep(0.01)
        self.kill()
        raise DaemonError("%s not ready within %ss; output ends:\n%s"
                          % (self.kind, self.ready_timeout, self.log_tail()))

    def _signal_group(self, signum):
        try:
            os.killpg(self._proc.pid, signum)
        except ProcessLookupError:
            pass

    def _wait_group_gone(self, pgid, timeout=10.0):
        """Wait until no process of the group is left; SIGKILL stragglers."""
        deadline = time.monotonic() + timeout
        while _group_members(pgid):
            if time.monotonic() > deadline:
                os.killpg(pgid, signal.SIGKILL)
                deadline = time.monotonic() + timeout
            time.sleep(0.01)

    def stop(self, timeout=None):
        """A clean shutdown (SIGTERM); SIGKILL if it takes longer than ``timeout``
        (default: the class's ``stop_grace``)."""
        if self._proc is None:
            return
        if self.paused:
            self.resume()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(self.stop_grace if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._proc.wait()
        self._wait_group_gone(self._proc.pid)
        self._proc = None

    def kill(self):
        """SIGKILL every process of the daemon at once: a crashed service."""
        if self._proc is None:
            return
        self._signal_group(signal.SIGKILL)
        self._proc.wait()
        self._wait_group_gone(self._proc.pid)
        self._proc = None
        self.paused = False

    def pause(self):
        """SIGSTOP the whole group: ports still accept (the kernel queues), nothing answers."""
        self._signal_group(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self._signal_group(signal.SIGCONT)
        self.paused = False

    @contextlib.contextmanager
    def hung(self):
        """The daemon is hung inside the block and serving again after it."""
        self.pause()
        try:
            yield self
        finally:
            self.resume()

    def ensure_running(self):
        """Undo kill(), stop() or pause(), whatever a test did."""
        if self._proc is not None and self.paused:
            self.resume()
        self.start()

    def cleanup(self):
        """Kill the daemon and remove all its files (nothing in them is worth a clean stop)."""
        self.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()


def _tail(path, lines):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def read_greeting(host, port, timeout=1.0, tls=False):
    """The first line a server sends (implicit TLS if ``tls``, unverified), or None."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if tls:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                sock = context.wrap_socket(sock, server_hostname=CERT_NAME)
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(512)
                if not chunk:
                    break
                data += chunk
            return data or None
    except OSError:
        return None


# The configuration is written for the Dovecot found: 2.4 (Debian 13) refuses
# 2.3's (Debian 12) -- its first setting must be dovecot_config_version, and
# it renamed the settings below -- while 2.3 knows none of 2.4's names.
# Everything else is the same in both; SYNTAX holds what differs.
CONFIG = """\
# Written by tests/services/dovecot.py for one test session.
{versions}instance_name = {instance}
base_dir = {dir}/base
state_dir = {dir}/state
log_path = {dir}/dovecot.log
hostname = {cert_name}
protocols = {protocols}
listen = {host}
default_login_user = dovenull
default_internal_user = dovecot

ssl = yes
{ssl_files}
{auth}
{mail}

service imap-login {{
{resident}  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    {address} = {host}
    port = {lmtp}
  }}
{lmtp6}}}
"""

LMTP6 = """\
  inet_listener lmtp6 {{
    {address} = ::1
    port = {port}
  }}
"""

SYNTAX = {
    (2, 3): {
        "versions": "",
        "ssl_files": "ssl_cert = <{dir}/cert.pem\nssl_key = <{dir}/key.pem\n",
        "auth": ("passdb {{\n  driver = passwd-file\n  args = {dir}/users\n}}\n"
                 "userdb {{\n  driver = static\n"
                 "  args = uid=dovecot gid=dovecot home={dir}/home/%u\n}}"),
        "mail": "mail_location = maildir:~/Maildir",
        "address": "address",
        "resident": "  service_count = 0\n  process_min_avail = 1\n",
    },
    # https://doc.dovecot.org/2.4.0/installation/upgrade/2.3-to-2.4.html
    (2, 4): {
        "versions": "dovecot_config_version = {version}\ndovecot_storage_version = {version}\n",
        "ssl_files": "ssl_server_cert_file = {dir}/cert.pem\nssl_server_key_file = {dir}/key.pem\n",
        "auth": ("passdb passwd-file {{\n  passwd_file_path = {dir}/users\n}}\n"
                 "userdb static {{\n  fields {{\n    uid = dovecot\n    gid = dovecot\n"
                 "    home = {dir}/home/%{{user}}\n  }}\n}}"),
        "mail": "mail_driver = maildir\nmail_path = ~/Maildir",
        "address": "listen",
        "resident": "  restart_request_count = unlimited\n  process_min_avail = 1\n",
    },
}


def dovecot_version(binary=DOVECOT):
    """The installed Dovecot's version as a string ("2.4.1") and as SYNTAX's key ((2, 4)).

    ``dovecot --version`` prints "2.4.1-4 (7d8c0e5759)" on Debian 13 and
    "2.3.19.1 (9b53102964)" on Debian 12.
    """
    proc = subprocess.run([binary, "--version"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)
    words = proc.stdout.split()
    release = words[0].split("-")[0] if words else ""
    parts = release.split(".")
    if proc.returncode != 0 or len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise DaemonError("%s --version gave no version (rc=%s): %r"
                          % (binary, proc.returncode, proc.stdout + proc.stderr))
    key = (int(parts[0]), int(parts[1]))
    if key not in SYNTAX:
        raise DaemonError("Dovecot %s: tests/services/dovecot.py writes configuration for %s only"
                          % (release, ", ".join("%d.%d" % k for k in sorted(SYNTAX))))
    return release, key


class Dovecot(Daemon):
    """One private Dovecot; see the module docstring for what it serves."""

    kind = "dovecot"
    # Dovecot's master stops in ~1 s (it waits for its log process), but often
    # in 6 s: an lmtp process forked during the readiness probes still waits
    # out a 5 s handshake timeout towards a service that is already gone.
    # Nothing here needs a clean stop, so SIGKILL what is left after 1.5 s.
    stop_grace = 1.5
    host = "127.0.0.1"
    host6 = "::1"
    cert_name = CERT_NAME

    def __init__(self, resident_login=False):
        """``resident_login``: imap-login in Dovecot's "high-performance mode" (one
        login process, started in advance, serves every connection) instead of
        its default of a new process per connection, which costs each
        greeting ~5 ms.  For the benchmarks: gromox-imap, which Dovecot stands
        in for, greets from its accept thread (imls_thrwork in
        mra/imap/main.cpp), so that cost would be Dovecot's, not the agent's."""
        super().__init__()
        self.resident_login = resident_login
        self.config = os.path.join(self.directory, "dovecot.conf")
        self.cert_path = os.path.join(self.directory, "cert.pem")
        self.key_path = os.path.join(self.directory, "key.pem")
        self.log_file = os.path.join(self.directory, "dovecot.log")
        self.pop3_port = None
        self.ipv6 = ipv6_loopback()
        self.imap_port = self.imaps_port = self.lmtp_port = self.lmtp6_port = None
        self.version = None                 # dovecot_version(), asked once

    @property
    def lmtp6_address(self):
        """"[::1]:PORT", the bracketed form a configured address takes; None without IPv6."""
        return "[%s]:%d" % (self.host6, self.lmtp6_port) if self.lmtp6_port else None

    @property
    def pop3_address(self):
        """"127.0.0.1:PORT" of the POP3 listener."""
        if not self.pop3_port:
            raise DaemonError("no POP3 here: dovecot-pop3d is not installed (no %s; tests/run "
                              "installs it)" % POP3_LOGIN)
        return "%s:%d" % (self.host, self.pop3_port)

    def pick_ports(self):
        self.imap_port, self.imaps_port, self.lmtp_port = (free_port(self.host) for _ in range(3))
        self.pop3_port = free_port(self.host) if os.path.exists(POP3_LOGIN) else None
        self.lmtp6_port = free_port(self.host6) if self.ipv6 else None

    def prepare(self):
        if not os.path.exists(self.cert_path):
            self._make_cert()
            with open(os.path.join(self.directory, "users"), "w", encoding="ascii") as handle:
                handle.write("probe:{PLAIN}probe\n")
            home = os.path.join(self.directory, "home")
            os.mkdir(home)
            shutil.chown(home, "dovecot", "dovecot")
        if self.version is None:
            self.version = dovecot_version()
        release, key = self.version
        syntax = {name: text.format(dir=self.directory, version=release)
                  for name, text in SYNTAX[key].items()}
        if not self.resident_login:
            syntax["resident"] = ""
        lmtp6 = LMTP6.format(port=self.lmtp6_port, address=syntax["address"]) if self.lmtp6_port else ""
        with open(self.config, "w", encoding="ascii") as handle:
            handle.write(CONFIG.format(
                # Port 0: no POP3 listener (no dovecot-pop3d, or a subclass picked no port).
                protocols="imap lmtp pop3" if self.pop3_port else "imap lmtp", pop3=self.pop3_port or 0,
                instance="test-%s" % os.path.basename(self.directory), dir=self.directory,
                host=self.host, cert_name=self.cert_name, imap=self.imap_port, imaps=self.imaps_port,
                lmtp=self.lmtp_port, lmtp6=lmtp6, **syntax))

    def _make_cert(self):
        proc = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "7", "-subj", "/CN=%s" % self.cert_name,
             "-addext", "subjectAltName=DNS:%s" % self.cert_name,
             "-keyout", self.key_path, "-out", self.cert_path],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        if proc.returncode != 0:
            raise DaemonError("openssl req failed: %s" % proc.stderr)
        os.chmod(self.key_path, 0o600)

    def argv(self):
        return [DOVECOT, "-F", "-c", self.config]

    def ready(self):
        probes = [(self.host, self.imap_port, False, b"* OK"),
                  (self.host, self.imaps_port, True, b"* OK"),
                  (self.host, self.lmtp_port, False, b"220 ")]
        if self.pop3_port:
            probes.append((self.host, self.pop3_port, False, b"+OK"))
        if self.lmtp6_port:
            probes.append((self.host6, self.lmtp6_port, False, b"220 "))
        for host, port, tls, expect in probes:
            greeting = read_greeting(host, port, tls=tls)
            if not greeting or not greeting.startswith(expect):
                return False
        return True

    def __repr__(self):
        return "Dovecot(imap=%s, imaps=%s, lmtp=%s, lmtp6=%s, pop3=%s, running=%s)" % (
            self.imap_port, self.imaps_port, self.lmtp_port, self.lmtp6_port, self.pop3_port,
            self.running)


@pytest.fixture(scope="session")
def dovecot_session():
    """The session's Dovecot, as is: use ``dovecot`` in tests (it repairs after each one)."""
    yield from serving(Dovecot())


@pytest.fixture
def dovecot(dovecot_session):
    """The shared running Dovecot.  A test may kill(), stop() or pause() it: the
    teardown brings it back (same ports, unless they were taken meanwhile)."""
    yield from repaired(dovecot_session)
