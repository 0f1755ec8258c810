"""A private, real MariaDB server for the integration tests, with a small grommunio schema.

The server is Debian's own ``mariadbd`` with a throw-away datadir, its own
unix socket and its own TCP port on 127.0.0.1: it never touches the system
instance (/run/mysqld, /var/lib/mysql, port 3306) and runs the same on a
fresh CI machine as on a developer's.  It reads no option file at all
(``--no-defaults``), so a local /etc/mysql cannot change what the tests see.

Start-up is fast on purpose (measured on 2 cores: datadir ~0.5 s, server
~0.1 s, provisioning ~0.1 s): a minimal InnoDB buffer pool and redo log, no
test database, no name resolution, files on tmpfs.

Every run keeps its files in a directory of its own under STATE_ROOT that
records the pytest process owning it; a later run removes the directories of
dead owners and kills a server they left behind (pytest killed with -9), so
servers never pile up (services.common).

Usage from tests: ``from services.mariadb import MariaDB, DB_NAME, DB_USER, DB_PASSWORD``
and the session fixture ``mariadb`` (register this module with
``pytest_plugins``).
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from .common import free_port, new_run_dir

DB_NAME = "grommunio"
DB_USER = "grommunio"
# Distinctive on purpose: tests grep all agent output for it to prove it never leaks.
DB_PASSWORD = "Gr0mmunio-Test-Secret"
# Same password, but the ed25519 plugin: the server answers a mysql_native_password
# handshake response with an auth switch request to "client_ed25519".
ED25519_USER = "ed25519user"
# "unix_socket OR mysql_native_password" (the way Debian sets up root): over TCP
# unix_socket cannot succeed, so the server sends an auth switch request to
# mysql_native_password with a fresh 20-byte scramble; the same password then works.
SWITCH_USER = "switchuser"
# mysql_native_password, same password, but no privilege on DB_NAME: login works,
# COM_INIT_DB grommunio fails with ERR 1044.
NODB_USER = "nodbuser"

MARIADBD = "/usr/sbin/mariadbd"


def _state_root():
    """Where servers keep their files: tmpfs if there is room (~40 MB each), else /tmp.

    Measured on the 2-core test machine: mariadb-install-db takes a steady
    0.5 s on tmpfs, but 0.7 to 3.3 s on the ext4 /tmp (fsyncs) when other
    work runs.
    """
    try:
        info = os.statvfs("/dev/shm")
        if info.f_bavail * info.f_frsize >= 256 << 20 and os.access("/dev/shm", os.W_OK):
            return "/dev/shm/grommunio-ocf-tests/mariadb"
    except OSError:
        pass
    return "/tmp/grommunio-ocf-tests/mariadb"


STATE_ROOT = _state_root()

# The users above, the grants and a grommunio-like schema.  Table and column
# names are grommunio-admin-api's (orm/domains.py, orm/users.py), cut down to
# what Postfix's grommunio-*.cf queries (from grommunio-setup) read.
PROVISION_SQL = """
CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE USER '{user}'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('{pw}');
CREATE USER '{user}'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('{pw}');
CREATE USER '{user}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{pw}');
GRANT ALL PRIVILEGES ON {db}.* TO '{user}'@'localhost', '{user}'@'127.0.0.1', '{user}'@'%';
CREATE USER '{switch}'@'%'
    IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('{pw}');
GRANT ALL PRIVILEGES ON {db}.* TO '{switch}'@'%';
CREATE USER '{nodb}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{pw}');

USE {db};
CREATE TABLE domains (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    org_id INT UNSIGNED NOT NULL DEFAULT 0,
    domainname VARCHAR(64) NOT NULL UNIQUE,
    homedir VARCHAR(128) NOT NULL DEFAULT '',
    max_user INT UNSIGNED NOT NULL,
    title VARCHAR(128) NOT NULL DEFAULT '',
    end_day DATE NOT NULL DEFAULT '3333-03-03',
    domain_status TINYINT NOT NULL DEFAULT 0     -- 0 normal, 1 suspended, 2 out of date, 3 deleted
);
CREATE TABLE users (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(320) CHARACTER SET ascii NOT NULL UNIQUE,
    password VARCHAR(40) NOT NULL DEFAULT '',
    domain_id INT UNSIGNED NOT NULL,
    maildir VARCHAR(128) NOT NULL DEFAULT '',
    address_status TINYINT NOT NULL DEFAULT 0,
    privilege_bits INT UNSIGNED NOT NULL DEFAULT 0,
    lang VARCHAR(32) NOT NULL DEFAULT '',
    KEY (domain_id)
);
CREATE TABLE aliases (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    aliasname VARCHAR(128) NOT NULL UNIQUE,
    mainname VARCHAR(128) NOT NULL,
    KEY (mainname)
);
CREATE TABLE forwards (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(128) NOT NULL UNIQUE,
    forward_type TINYINT NOT NULL DEFAULT 0,     -- 0 CC (recipient_bcc_maps), 1 redirect (alias)
    destination VARCHAR(128) NOT NULL
);
INSERT INTO domains (id, domainname, homedir, max_user, domain_status) VALUES
    (1, 'example.com', '/var/lib/gromox/domain/example.com', 100, 0),
    (2, 'suspended.example', '/var/lib/gromox/domain/suspended.example', 10, 1);
INSERT INTO users (id, username, domain_id, maildir) VALUES
    (1, 'alice@example.com', 1, '/var/lib/gromox/user/alice'),
    (2, 'bob@example.com', 1, '/var/lib/gromox/user/bob');
INSERT INTO aliases (aliasname, mainname) VALUES ('info@example.com', 'alice@example.com');
INSERT INTO forwards (username, forward_type, destination) VALUES
    ('alice@example.com', 0, 'archive@example.net'),
    ('bob@example.com', 1, 'bob@elsewhere.example');
"""

ED25519_SQL = """
INSTALL SONAME 'auth_ed25519';
CREATE USER '{ed}'@'localhost' IDENTIFIED VIA ed25519 USING PASSWORD('{pw}');
CREATE USER '{ed}'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('{pw}');
GRANT ALL PRIVILEGES ON {db}.* TO '{ed}'@'localhost', '{ed}'@'%';
"""


class MariaDBError(RuntimeError):
    pass


def _processes_using(run):
    """Pids of processes (mariadbd, or its bootstrap) whose command line names ``run``'s datadir."""
    needle = ("--datadir=%s/" % run).encode()
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/cmdline" % name, "rb") as handle:
                    if needle in handle.read():
                        pids.append(int(name))
            except OSError:
                pass                        # gone meanwhile
    return pids


def _kill_servers(run):
    """Kill the servers a dead run left behind."""
    for server in _processes_using(run):
        try:
            os.kill(server, signal.SIGKILL)
        except OSError:
            pass


def _greets(path, timeout=1.0):
    """True if a server on unix socket ``path`` sends a protocol-10 handshake packet."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            data = b""
            while len(data) < 5:
                chunk = sock.recv(64)
                if not chunk:
                    return False
                data += chunk
        except OSError:
            return False
    return data[4] == 10


class MariaDB:
    """One private ``mariadbd``.

    ``socket``, ``port`` and ``host`` stay the same across stop()/start() (clients
    configured once keep working after a restart).  ``sql()`` talks to it as the
    MariaDB root user over the unix socket (unix_socket authentication: the OS
    user must be root).
    """

    host = "127.0.0.1"

    def __init__(self, root=STATE_ROOT):
        self.directory = new_run_dir(root, _kill_servers)
        self.datadir = os.path.join(self.directory, "data")
        self.socket = os.path.join(self.directory, "mysqld.sock")
        self.pid_file = os.path.join(self.directory, "mariadbd.pid")
        self.log_file = os.path.join(self.directory, "mariadbd.log")
        self.port = None
        self.has_ed25519 = False
        self._proc = None

    # -- life cycle -------------------------------------------------------

    def _options(self):
        # --no-defaults must come first.  The character set is Debian's
        # (/etc/mysql/mariadb.conf.d/50-server.cnf), which grommunio's queries
        # (_utf8mb4'%s' COLLATE utf8mb4_general_ci) are written for.
        return ["--no-defaults", "--datadir=%s" % self.datadir, "--user=root",
                "--skip-name-resolve", "--innodb-buffer-pool-size=8M",
                "--innodb-log-file-size=4M", "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci"]

    def _install(self):
        # --skip-name-resolve: 'localhost' accounts still match socket clients
        # and '127.0.0.1' / '%' accounts match TCP clients (both tested).
        proc = subprocess.run(
            ["mariadb-install-db", *self._options(), "--auth-root-authentication-method=socket",
             "--skip-test-db"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise MariaDBError("mariadb-install-db failed (%d):\n%s%s"
                               % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))

    def _log_tail(self, lines=30):
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:])
        except OSError:
            return "(no log)"

    @property
    def running(self):
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout=60):
        """Start the server and return once it greets clients on its socket."""
        if self.running:
            return
        if not os.path.isdir(os.path.join(self.datadir, "mysql")):
            self._install()
        for _ in range(3):
            fixed = self.port is not None
            self.port = self.port or free_port()
            if self._spawn(timeout):
                return
            if fixed or "Bind on TCP/IP port" not in self._log_tail():
                break
            self.port = None                    # lost the free_port() race: next port
        raise MariaDBError("mariadbd did not come up (rc=%s); log %s ends:\n%s"
                           % (self._proc.returncode, self.log_file, self._log_tail()))

    def _spawn(self, timeout):
        """Run mariadbd, poll until it greets; False if it exits first."""
        with open(self.log_file, "a", encoding="utf-8") as log:
            self._proc = subprocess.Popen(
                [MARIADBD, *self._options(), "--socket=%s" % self.socket, "--port=%d" % self.port,
                 "--bind-address=%s" % self.host, "--pid-file=%s" % self.pid_file,
                 "--log-error=%s" % self.log_file],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)         # a ^C to pytest must not kill it before teardown
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if _greets(self.socket):
                return True
            time.sleep(0.01)
        self.stop(graceful=False)
        raise MariaDBError("mariadbd did not greet within %ss; log %s ends:\n%s"
                           % (timeout, self.log_file, self._log_tail()))

    def stop(self, timeout=30, graceful=True):
        """Shut down (SIGTERM = clean shutdown; SIGKILL if that hangs, or if not graceful)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self):
        self.stop()
        self.start()

    @contextlib.contextmanager
    def stopped(self, graceful=True):
        """The server is down inside the block and up again after it, whatever happened."""
        self.stop(graceful=graceful)
        try:
            yield self
        finally:
            self.start()

    @contextlib.contextmanager
    def frozen(self):
        """The server is hung (SIGSTOP) inside the block, running again after it.

        Connections to its socket and port still succeed (the kernel's
        backlog) but no greeting ever comes: clients hang until their own
        timeout.  Postmap has none (measured: still waiting after 300 s).
        """
        self._proc.send_signal(signal.SIGSTOP)
        try:
            yield self
        finally:
            self._proc.send_signal(signal.SIGCONT)

    def cleanup(self):
        """Stop and remove every file of this server."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- talking to it ----------------------------------------------------

    def sql(self, statement, database=None, timeout=30):
        """Run SQL as MariaDB root over the socket; stdout in --batch form, no column names.

        Raises MariaDBError with the client's stderr if it fails.
        """
        args = ["mariadb", "--no-defaults", "--socket=%s" % self.socket, "--user=root",
                "--batch", "--skip-column-names"]
        if database:
            args.append("--database=%s" % database)
        proc = subprocess.run(args, input=statement, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise MariaDBError("SQL failed (%d): %s\n%s" % (proc.returncode, proc.stderr.strip(),
                                                           statement[:2000]))
        return proc.stdout

    def client(self, user=DB_USER, password=DB_PASSWORD, statement="SELECT CURRENT_USER()",
               database=DB_NAME, tcp=False, timeout=30):
        """Run the ``mariadb`` client binary as ``user``; the CompletedProcess (text)."""
        where = (["--protocol=TCP", "--host=%s" % self.host, "--port=%d" % self.port] if tcp
                 else ["--protocol=SOCKET", "--socket=%s" % self.socket])
        args = ["mariadb", "--no-defaults", *where, "--user=%s" % user, "--batch",
                "--skip-column-names", "--execute=%s" % statement]
        if database:
            args.append("--database=%s" % database)
        # The password goes through the environment, not argv (no "insecure" warning).
        env = dict(os.environ, MYSQL_PWD=password)
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL)

    def provision(self):
        """Create the grommunio database, its users, schema and data (once, after start())."""
        names = dict(db=DB_NAME, user=DB_USER, pw=DB_PASSWORD, switch=SWITCH_USER,
                     nodb=NODB_USER, ed=ED25519_USER)
        self.sql(PROVISION_SQL.format(**names))
        plugin_dir = self.sql("SELECT @@plugin_dir").strip()
        if os.path.exists(os.path.join(plugin_dir, "auth_ed25519.so")):
            self.sql(ED25519_SQL.format(**names))
            self.has_ed25519 = True

    @contextlib.contextmanager
    def renamed_table(self, table, new_name=None, database=DB_NAME):
        """``table`` is missing inside the block (renamed), back afterwards: queries on it fail."""
        new_name = new_name or table + "_renamed"
        self.sql("RENAME TABLE %s TO %s" % (table, new_name), database)
        try:
            yield new_name
        finally:
            self.sql("RENAME TABLE %s TO %s" % (new_name, table), database)

    def __repr__(self):
        return "MariaDB(socket=%r, port=%r, running=%s)" % (self.socket, self.port, self.running)


@pytest.fixture(scope="session")
def mariadb():
    """A running, provisioned private MariaDB; removed at session end whatever happened.

    Tests that stop it (``stopped()``) or rename tables (``renamed_table()``)
    get it back as it was when their block ends.
    """
    server = MariaDB()
    try:
        server.start()
        server.provision()
        yield server
    finally:
        server.cleanup()



class SilentServer:
    """A TCP listener on 127.0.0.1 that accepts connections and never says a word.

    Stands in for something that is not a database at all; a client's
    connect() succeeds, then its read of the server greeting blocks until its
    own timeout.  (A hung real server: ``MariaDB.frozen()``.)
    """

    host = "127.0.0.1"

    def __init__(self):
        self._listener = socket.socket()
        self._listener.bind((self.host, 0))
        self._listener.listen(128)  # the kernel completes the handshakes; nobody reads
        self.port = self._listener.getsockname()[1]

    def close(self):
        self._listener.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()
