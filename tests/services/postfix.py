"""A test Postfix config_directory wired to the private MariaDB like grommunio's.

No Postfix daemon runs: ``postconf -c DIR`` and ``postmap -c DIR -q KEY
mysql:FILE`` need only main.cf, master.cf (without it every postconf warns)
and the map files.  Every postconf run also opens each mysql:*.cf named in
main.cf and warns (exit 0) about missing ones and unknown keys in them.
The four grommunio-*.cf files and their queries are those grommunio-setup
writes to /etc/postfix, with ``hosts`` pointing at the ``mariadb`` fixture's
unix socket (``hosts = unix:/path``; TCP is
``hosts = inet:127.0.0.1:PORT``, see ``PostfixConfig.use_tcp``).
"""

import grp
import os
import re
import subprocess
import time

import pytest

from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER

# main.cf parameter -> grommunio's .cf file name and query (grommunio-setup).
MAPS = {
    "virtual_mailbox_domains": (
        "grommunio-virtual-mailbox-domains.cf",
        "SELECT 1 FROM domains WHERE domain_status=0 AND domainname=_utf8mb4'%s'"
        " COLLATE utf8mb4_general_ci"),
    "virtual_mailbox_maps": (
        "grommunio-virtual-mailbox-maps.cf",
        "SELECT 1 FROM users WHERE username=_utf8mb4'%s' COLLATE utf8mb4_general_ci"),
    "virtual_alias_maps": (
        "grommunio-virtual-mailbox-alias-maps.cf",
        "SELECT mainname FROM aliases WHERE aliasname=_utf8mb4'%s' COLLATE utf8mb4_general_ci"
        " UNION SELECT destination FROM forwards WHERE username=_utf8mb4'%s'"
        " COLLATE utf8mb4_general_ci AND forward_type = 1"),
    "recipient_bcc_maps": (
        "grommunio-bcc-forwards.cf",
        "SELECT destination FROM forwards WHERE username=_utf8mb4'%s'"
        " COLLATE utf8mb4_general_ci AND forward_type = 0"),
}

MAIN_CF = """\
# Test config_directory (tests/services/postfix.py); grommunio's settings.
compatibility_level = 3.6
myhostname = mail.example.com
virtual_mailbox_domains = mysql:{virtual_mailbox_domains}
virtual_mailbox_maps = mysql:{virtual_mailbox_maps}
virtual_alias_maps = mysql:{virtual_alias_maps}
recipient_bcc_maps = mysql:{recipient_bcc_maps}
virtual_transport = smtp:[::1]:24
smtpd_milters = inet:localhost:11332
milter_default_action = accept
"""

# Without a master.cf every postconf run warns "open DIR/master.cf: No such file".
MASTER_CF = """\
smtp      inet  n       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
cleanup   unix  n       -       y       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       y       -       -       trivial-rewrite
bounce    unix  -       -       y       -       0       bounce
smtp      unix  -       -       y       -       -       smtp
"""

CF_FILE = """\
user = {user}
password = {password}
hosts = {hosts}
dbname = {dbname}
query = {query}
"""


def _cool(path):
    """Backdate ``path`` by a minute.

    Postfix re-reads a main.cf or .cf file modified within the current or
    previous second every 300 ms until it "cools down" (dict_load_file_xt,
    load_file): every postconf/postmap right after an edit would take up to
    ~2 s.  Tests edit a lot, and what they test does not depend on the mtime.
    """
    then = time.time() - 60
    os.utime(path, (then, then))


def _postfix_gid():
    try:
        return grp.getgrnam("postfix").gr_gid
    except KeyError:
        return 0


class PostfixConfig:
    """A config_directory: ``directory``, ``main_cf``, ``master_cf``, ``maps``
    (main.cf parameter -> absolute .cf path) and helpers that edit it.

    With ``root``, the files are written under ``root`` while every path in
    them (and in ``maps``) is ``directory`` as seen from there: a cluster
    node's /etc/postfix, written through the node's root.  The helpers that
    run Postfix's tools (``set``, ``get``, ``postmap``) need ``root`` empty.
    """

    def __init__(self, directory, mariadb, root=""):
        self.directory = str(directory)
        self.root = root
        self.mariadb = mariadb
        self.main_cf = os.path.join(self.directory, "main.cf")
        self.master_cf = os.path.join(self.directory, "master.cf")
        self.maps = {param: os.path.join(self.directory, name) for param, (name, _) in MAPS.items()}
        for param, (_, query) in MAPS.items():
            # As grommunio-setup leaves them: the password is readable by Postfix only.
            self._write(self.maps[param], CF_FILE.format(
                user=DB_USER, password=DB_PASSWORD, hosts="unix:%s" % mariadb.socket,
                dbname=DB_NAME, query=query), 0o640, _postfix_gid())
        self._write(self.main_cf, MAIN_CF.format(**self.maps), 0o644)
        self._write(self.master_cf, MASTER_CF, 0o644)
        os.chmod(root + self.directory, 0o755)  # like /etc/postfix

    def _write(self, path, text, mode, gid=0):
        path = self.root + path
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chown(path, 0, gid)
        os.chmod(path, mode)
        _cool(path)

    def path(self, name_or_param):
        """A map's .cf path from its main.cf parameter, its file name, or a path."""
        if name_or_param in self.maps:
            return self.maps[name_or_param]
        return os.path.join(self.directory, name_or_param)

    def set(self, param, value):
        """Set a main.cf parameter with ``postconf -c DIR -e`` (as an admin would)."""
        subprocess.run(["postconf", "-c", self.directory, "-e", "%s = %s" % (param, value)],
                       check=True, capture_output=True, text=True, timeout=30)
        _cool(self.main_cf)

    def get(self, param):
        """A main.cf parameter's value as ``postconf -c DIR -h`` prints it."""
        return subprocess.run(["postconf", "-c", self.directory, "-h", param], check=True,
                              capture_output=True, text=True, timeout=30).stdout.rstrip("\n")

    def edit_cf(self, name_or_param, key, value):
        """Set ``key = value`` in a .cf file (appended if missing); value None removes the key."""
        path = self.root + self.path(name_or_param)
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        pattern = re.compile(r"\s*%s\s*=" % re.escape(key))
        kept = [line for line in lines if not pattern.match(line)]
        if value is not None:
            at = next((i for i, line in enumerate(lines) if pattern.match(line)), len(kept))
            kept.insert(min(at, len(kept)), "%s = %s" % (key, value))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(kept) + "\n")
        _cool(path)

    def set_hosts(self, value):
        """Point all four .cf files at ``hosts = value``."""
        for param in self.maps:
            self.edit_cf(param, "hosts", value)

    def use_tcp(self, host=None, port=None):
        """All maps over TCP (default: the mariadb fixture's 127.0.0.1:port)."""
        self.set_hosts("inet:%s:%d" % (host or self.mariadb.host, port or self.mariadb.port))

    def chmod(self, name_or_param, mode):
        """Note: root (the agents' user) reads a mode 0000 file all the same."""
        os.chmod(self.root + self.path(name_or_param), mode)

    def postmap(self, name_or_param, key, timeout=60):
        """``postmap -c DIR -q KEY mysql:FILE``; the CompletedProcess (text)."""
        return subprocess.run(
            ["postmap", "-c", self.directory, "-q", key, "mysql:%s" % self.path(name_or_param)],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def postfix_config(tmp_path, mariadb):
    """A fresh test config_directory for each test (cheap: a few small files)."""
    directory = tmp_path / "postfix"
    directory.mkdir()
    return PostfixConfig(directory, mariadb)
