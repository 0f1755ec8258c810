"""The MariaDB and Postfix test fixtures themselves: real logins and real map lookups.

If these fail, the stack-health and postfix-maps tests built on the fixtures
cannot mean anything.
"""

import grp
import os
import socket
import stat

import pytest

from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER, ED25519_USER, SWITCH_USER

pytestmark = [pytest.mark.integration]


@pytest.mark.parametrize("tcp, account", [(False, "grommunio@localhost"),
                                          (True, "grommunio@127.0.0.1")])
def test_login_as_test_user(mariadb, tcp, account):
    proc = mariadb.client(DB_USER, DB_PASSWORD, "SELECT CURRENT_USER(), DATABASE()", tcp=tcp)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [account, DB_NAME]


def test_wrong_password_is_refused(mariadb):
    proc = mariadb.client(DB_USER, "not-the-password", tcp=True)
    assert proc.returncode == 1
    assert "Access denied for user 'grommunio'@'127.0.0.1'" in proc.stderr


def test_auth_plugins_are_as_documented(mariadb):
    rows = mariadb.sql("SELECT user, host, JSON_VALUE(priv, '$.plugin') FROM mysql.global_priv"
                       " WHERE user IN ('%s', '%s') ORDER BY user, host" % (DB_USER, ED25519_USER))
    plugins = {tuple(row.split("\t")[:2]): row.split("\t")[2] for row in rows.splitlines()}
    for host in ("%", "127.0.0.1", "localhost"):
        assert plugins[(DB_USER, host)] == "mysql_native_password"
    if mariadb.has_ed25519:
        assert plugins[(ED25519_USER, "%")] == "ed25519"


def test_switch_user_logs_in_over_tcp(mariadb):
    # unix_socket fails over TCP; the client follows the switch to mysql_native_password.
    proc = mariadb.client(SWITCH_USER, DB_PASSWORD, tcp=True)
    assert proc.returncode == 0, proc.stderr


def test_stopped_server_refuses_then_comes_back(mariadb):
    port = mariadb.port
    with mariadb.stopped():
        proc = mariadb.client(tcp=True)
        assert proc.returncode == 1
        assert "Can't connect" in proc.stderr
    assert mariadb.port == port
    assert mariadb.client(tcp=True).returncode == 0


def test_config_directory_is_grommunio_like(postfix_config):
    assert postfix_config.get("virtual_transport") == "smtp:[::1]:24"
    assert postfix_config.get("virtual_alias_maps") == \
        "mysql:" + postfix_config.maps["virtual_alias_maps"]
    postfix_config.set("smtpd_milters", "inet:127.0.0.1:11332")
    assert postfix_config.get("smtpd_milters") == "inet:127.0.0.1:11332"
    for path in postfix_config.maps.values():
        info = os.stat(path)
        assert (info.st_uid, grp.getgrgid(info.st_gid).gr_name) == (0, "postfix")
        assert stat.S_IMODE(info.st_mode) == 0o640


@pytest.mark.parametrize("param, key, value", [
    ("virtual_mailbox_domains", "example.com", "1"),
    ("virtual_mailbox_maps", "alice@example.com", "1"),
    ("virtual_alias_maps", "info@example.com", "alice@example.com"),
    ("virtual_alias_maps", "bob@example.com", "bob@elsewhere.example"),
    ("recipient_bcc_maps", "alice@example.com", "archive@example.net"),
])
def test_postmap_finds(postfix_config, param, key, value):
    proc = postfix_config.postmap(param, key)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, value + "\n", "")


@pytest.mark.parametrize("key", ["nobody.example", "suspended.example"])
def test_postmap_not_found(postfix_config, key):
    proc = postfix_config.postmap("virtual_mailbox_domains", key)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "")


def test_postmap_over_tcp(postfix_config):
    postfix_config.use_tcp()
    with open(postfix_config.maps["virtual_mailbox_maps"], encoding="utf-8") as handle:
        assert "hosts = inet:127.0.0.1:%d\n" % postfix_config.mariadb.port in handle.read()
    proc = postfix_config.postmap("virtual_mailbox_maps", "alice@example.com")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n", "")


def test_postmap_reports_a_missing_table(mariadb, postfix_config):
    with mariadb.renamed_table("aliases"):
        proc = postfix_config.postmap("virtual_alias_maps", "info@example.com")
    assert proc.returncode == 1
    assert "query failed: Table 'grommunio.aliases' doesn't exist" in proc.stderr
    assert postfix_config.postmap("virtual_alias_maps", "info@example.com").returncode == 0


def _greeting(port, timeout):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        return sock.recv(64)


def test_frozen_server_accepts_but_never_answers(mariadb):
    with mariadb.frozen():
        with pytest.raises(socket.timeout):
            _greeting(mariadb.port, 0.5)
    assert _greeting(mariadb.port, 10)[4] == 10      # protocol version 10: alive again



def test_silent_server_accepts_but_never_answers(silent_server):
    with pytest.raises(socket.timeout):
        _greeting(silent_server.port, 0.3)
