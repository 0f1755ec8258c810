"""stack-health's mysql check on the grommunio installs that really exist.

Each distribution keeps MariaDB's socket somewhere else and says so in its
own option files; gromox never names the socket and lets the client library
find it.  Here the test suite's private MariaDB is reached through each
distribution's layout, built for one agent run in a mount namespace of its
own: an overlay on /etc holding that distribution's my.cnf tree (the host's
/etc/mysql hidden), tmpfs on /run, an overlay on /var/lib, and the server's
socket bind-mounted where that distribution puts it.  Nothing reaches the
host.

Also here: mysql_adaptor.cfg files as gromox accepts them (stray lines,
raw bytes, upper-case keys, missing keys taking gromox's defaults) and
obfuscated passwords made with the real tools, each logged in for real.
"""

import base64
import os
import subprocess

import pytest

from services.gromox import CHECKS_OFF as ALL_OFF
from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER

pytestmark = [pytest.mark.integration]

# The namespace: $1 scratch directory holding tree/ (files for /etc) and
# sockets (lines "TARGET"); $2 the server's real socket; then the agent's argv.
NAMESPACE_SCRIPT = r"""
set -e
scratch=$1 real=$2
shift 2
for top in etc var/lib; do
    name=$(echo "$top" | tr / _)
    mkdir -p "$scratch/$name.upper" "$scratch/$name.work"
    mount -t overlay overlay -o "lowerdir=/$top,upperdir=$scratch/$name.upper,workdir=$scratch/$name.work" "/$top"
done
rm -rf /etc/mysql /etc/my.cnf /etc/my.cnf.d /var/lib/mysql
cp -a "$scratch/tree/." /etc/
mount -t tmpfs tmpfs /run
while read -r target; do
    [ -n "$target" ] || continue
    mkdir -p "$(dirname "$target")"
    : > "$target"
    mount --bind "$real" "$target"
done < "$scratch/sockets"
exec "$@"
"""

# Each distribution's option files (trimmed to what matters) and where its
# server's socket is.  openSUSE and RHEL name no client socket: the client
# library's compiled-in default applies, which is the agent's fallback list.
LAYOUTS = {
    "debian": {
        "files": {
            "mysql/my.cnf": "[client-server]\nsocket = /run/mysqld/mysqld.sock\n"
                            "!includedir /etc/mysql/conf.d/\n!includedir /etc/mysql/mariadb.conf.d/\n",
            "mysql/conf.d/mysql.cnf": "[mysql]\n",
            "mysql/mariadb.conf.d/50-client.cnf": "[client]\ndefault-character-set = utf8mb4\n"
                                                  "socket = /run/mysqld/mysqld.sock\n",
            "mysql/mariadb.conf.d/50-server.cnf": "[mysqld]\nsocket = /run/mysqld/mysqld.sock\n",
        },
        "socket": "/run/mysqld/mysqld.sock",
        "why": "socket from [client] in /etc/mysql/mariadb.conf.d/50-client.cnf",
    },
    "opensuse": {
        "files": {
            "my.cnf": "[mysqld]\nsocket = /run/mysql/mysql.sock\ndatadir = /var/lib/mysql\n"
                      "[client]\n!includedir /etc/my.cnf.d\n",
            "my.cnf.d/50-server.cnf": "[mysqld]\n",
        },
        "socket": "/run/mysql/mysql.sock",
        "why": "the first default socket that exists",
    },
    "rhel": {
        "files": {
            "my.cnf": "[client-server]\n!includedir /etc/my.cnf.d\n",
            "my.cnf.d/client.cnf": "[client]\n\n[client-mariadb]\n",
            "my.cnf.d/mariadb-server.cnf": "[mysqld]\nsocket = /var/lib/mysql/mysql.sock\n",
        },
        "socket": "/var/lib/mysql/mysql.sock",
        "why": "the first default socket that exists",
    },
    # An admin who moved the socket and told the clients in a drop-in.
    "custom": {
        "files": {
            "my.cnf": "[client-server]\n!includedir /etc/my.cnf.d\n",
            "my.cnf.d/client.cnf": "[client]\nsocket = /run/db/grommunio.sock\n",
        },
        "socket": "/run/db/grommunio.sock",
        "why": "socket from [client] in /etc/my.cnf.d/client.cnf",
    },
}


@pytest.fixture
def health(agent, tmp_path, needs_root):
    """``health(action, layout=None, **params)``: stack-health, every check off unless given."""
    outputs = []

    def call(action, layout=None, sockets=None, mariadb=None, args=(), env=None, **params):
        values = dict(ALL_OFF, check_timeout="2")
        values.update(params)
        environ = {"HA_RSCTMP": str(tmp_path / "rsctmp")}
        environ.update(env or {})
        prefix = ()
        if layout is not None:
            prefix = _namespace(tmp_path, LAYOUTS[layout]["files"],
                                [LAYOUTS[layout]["socket"]] if sockets is None else sockets,
                                mariadb.socket)
        result = agent("stack-health", action, values, env=environ, args=args, prefix=prefix)
        outputs.append(result.stdout + result.stderr)
        return result

    yield call
    for text in outputs:
        assert DB_PASSWORD not in text


def _namespace(tmp_path, files, sockets, real_socket):
    scratch = tmp_path / ("ns%d" % len(list(tmp_path.glob("ns*"))))
    for name, text in files.items():
        path = scratch / "tree" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (scratch / "tree").mkdir(parents=True, exist_ok=True)
    (scratch / "sockets").write_text("".join(s + "\n" for s in sockets))
    return ("unshare", "--mount", "--propagation", "private", "sh", "-c", NAMESPACE_SCRIPT,
            "namespace", str(scratch), real_socket)


def write_cfg(tmp_path, content):
    path = tmp_path / "mysql_adaptor.cfg"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    path.chmod(0o640)
    return str(path)


SOCKET_CFG = "mysql_username = %s\nmysql_password = %s\nmysql_dbname = %s\n" % (
    DB_USER, DB_PASSWORD, DB_NAME)


def monitor(health, **kw):
    started = health("start", env={"OCF_RESKEY_CRM_meta_timeout": "5000"}, **kw)
    result = health("monitor", args=("--verbose",), **kw)
    return started, result


# -- the socket, as each distribution has it --------------------------------------------

@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_socket_found_as_the_client_library_finds_it(health, tmp_path, mariadb, layout):
    cfg = write_cfg(tmp_path, SOCKET_CFG)
    started, result = monitor(health, layout=layout, mariadb=mariadb, mysql_config=cfg,
                              critical="mysql")
    assert started.rc == 0, started
    assert result.rc == 0, result
    expected = "via %s (%s)" % (LAYOUTS[layout]["socket"], LAYOUTS[layout]["why"])
    assert expected in result.stdout, result.stdout


def test_the_host_layout_needs_no_namespace_and_names_its_socket(health, tmp_path, mariadb):
    """Outside a namespace the test server's socket is nowhere standard: explicit wins."""
    cfg = write_cfg(tmp_path, SOCKET_CFG)
    started, result = monitor(health, mysql_config=cfg, mysql_socket=mariadb.socket,
                              critical="mysql")
    assert result.rc == 0, result
    assert "via %s (mysql_socket)" % mariadb.socket in result.stdout


def test_explicit_mysql_socket_wins_over_the_option_files(health, tmp_path, mariadb):
    cfg = write_cfg(tmp_path, SOCKET_CFG)
    files = {"my.cnf": "[client]\nsocket = /run/wrong/place.sock\n"}
    LAYOUTS["explicit"] = {"files": files, "socket": "/run/right/place.sock", "why": "mysql_socket"}
    try:
        started, result = monitor(health, layout="explicit", mariadb=mariadb, mysql_config=cfg,
                                  mysql_socket="/run/right/place.sock", critical="mysql")
    finally:
        del LAYOUTS["explicit"]
    assert result.rc == 0, result
    assert "via /run/right/place.sock (mysql_socket)" in result.stdout


def test_option_file_names_a_socket_that_is_not_there(health, tmp_path, mariadb):
    cfg = write_cfg(tmp_path, SOCKET_CFG)
    result = health("start", layout="custom", sockets=[], mariadb=mariadb, mysql_config=cfg,
                    critical="mysql", env={"OCF_RESKEY_CRM_meta_timeout": "2000"})
    assert result.rc == 1
    assert result.reason.startswith(
        "mysql: no MariaDB socket at /run/db/grommunio.sock (socket from [client] in "
        "/etc/my.cnf.d/client.cnf; service down?)"), result.reason


def test_no_socket_anywhere_says_where_it_looked(health, tmp_path, mariadb):
    cfg = write_cfg(tmp_path, SOCKET_CFG)
    result = health("start", layout="rhel", sockets=[], mariadb=mariadb, mysql_config=cfg,
                    critical="mysql", env={"OCF_RESKEY_CRM_meta_timeout": "2000"})
    assert result.rc == 1
    assert result.reason.startswith(
        "mysql: no MariaDB socket: none of /run/mysqld/mysqld.sock, /run/mysql/mysql.sock, "
        "/var/lib/mysql/mysql.sock exists, and the option files (/etc/my.cnf, "
        "/etc/my.cnf.d/client.cnf, /etc/my.cnf.d/mariadb-server.cnf) set no socket in [client] "
        "(set mysql_socket)"), result.reason


# -- mysql_adaptor.cfg as gromox reads it ------------------------------------------------

GROMOX_FILES = {
    "stray section and words": "[client]\nsome words without an equals sign\n" + SOCKET_CFG,
    "raw bytes in comments and stray lines": (b"# Passwort f\xfcr gromox \xff\n\xe4\xf6\xfc\n"
                                              + SOCKET_CFG.encode()),
    "upper-case keys, last one wins": "MYSQL_USERNAME = nobody\nMySQL_Password = x\n"
                                      + SOCKET_CFG.upper().replace(DB_PASSWORD.upper(), DB_PASSWORD)
                                      .replace("= " + DB_USER.upper(), "= " + DB_USER)
                                      .replace("= " + DB_NAME.upper(), "= " + DB_NAME),
    "indented and trailing blanks": "   mysql_username\t=\t%s   \n  mysql_password = %s\t\n"
                                    "mysql_dbname=%s" % (DB_USER, DB_PASSWORD, DB_NAME),
}


@pytest.mark.parametrize("name", sorted(GROMOX_FILES))
def test_files_gromox_runs_with_log_in(health, tmp_path, mariadb, name):
    cfg = write_cfg(tmp_path, GROMOX_FILES[name])
    assert health("validate-all", mysql_config=cfg, mysql_socket=mariadb.socket,
                  critical="mysql").rc == 0
    started, result = monitor(health, mysql_config=cfg, mysql_socket=mariadb.socket,
                              critical="mysql")
    assert result.rc == 0, result
    assert "logged in as 'grommunio', database 'grommunio' selected" in result.stdout


@pytest.fixture
def email_db(mariadb):
    """gromox's default database name, granted to the test user (and root has it anyway)."""
    mariadb.sql("CREATE DATABASE IF NOT EXISTS email; "
                "GRANT ALL ON email.* TO '%s'@'localhost';" % DB_USER)
    yield "email"
    mariadb.sql("DROP DATABASE IF EXISTS email;")


def test_missing_dbname_host_and_port_take_gromox_defaults(health, tmp_path, mariadb, email_db):
    cfg = write_cfg(tmp_path, "mysql_username = %s\nmysql_password = %s\n" % (DB_USER, DB_PASSWORD))
    started, result = monitor(health, mysql_config=cfg, mysql_socket=mariadb.socket,
                              critical="mysql")
    assert result.rc == 0, result
    assert "database 'email' selected" in result.stdout
    assert "gromox defaults for mysql_dbname, mysql_host, mysql_port" in result.stdout


def test_a_file_of_comments_only_is_root_on_the_socket(health, tmp_path, mariadb, email_db):
    """Every key defaulted: root (unix_socket authentication: the agent runs as root), 'email'."""
    cfg = write_cfg(tmp_path, "# nothing set: gromox uses its defaults\n[client]\n")
    assert health("validate-all", mysql_config=cfg, critical="mysql").rc == 0
    started, result = monitor(health, mysql_config=cfg, mysql_socket=mariadb.socket,
                              critical="mysql")
    assert result.rc == 0, result
    assert "logged in as 'root', database 'email' selected" in result.stdout


def test_a_defaulted_user_that_cannot_log_in_fails_the_check_not_the_file(health, tmp_path, mariadb):
    cfg = write_cfg(tmp_path, "mysql_password = %s\nmysql_host = 127.0.0.1\nmysql_port = %d\n"
                    % (DB_PASSWORD, mariadb.port))
    assert health("validate-all", mysql_config=cfg, critical="mysql").rc == 0
    result = health("start", mysql_config=cfg, critical="mysql",
                    env={"OCF_RESKEY_CRM_meta_timeout": "2000"})
    assert result.rc == 1
    assert result.reason.startswith("mysql: Access denied for user 'root'@"), result.reason


# -- obfuscated passwords, made by the real tools ---------------------------------------

def _openssl_id555(password):
    key, iv = os.urandom(32), os.urandom(16)
    ciphertext = subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex()],
        input=password.encode(), capture_output=True, check=True).stdout
    blob = (b"\0\0" + len(ciphertext).to_bytes(2, "little") + key + iv + ciphertext
            + b"\x00\x01\x02\x03")
    return base64.b64encode(blob).decode()


def _zstd_id107(password):
    compressed = subprocess.run(["zstd", "-q", "-c"], input=password.encode(),
                                capture_output=True, check=True).stdout
    return base64.b64encode(compressed).decode()


@pytest.mark.parametrize("key,make", [("mysql_password_mode_id555", _openssl_id555),
                                      ("mysql_password_mode_id107", _zstd_id107)])
def test_obfuscated_password_logs_in(health, tmp_path, mariadb, key, make):
    cfg = write_cfg(tmp_path, "mysql_username = %s\nmysql_dbname = %s\n%s = %s\n"
                    % (DB_USER, DB_NAME, key, make(DB_PASSWORD)))
    started, result = monitor(health, mysql_config=cfg, mysql_socket=mariadb.socket,
                              critical="mysql")
    assert started.rc == 0, started
    assert result.rc == 0, result
    assert "logged in as 'grommunio'" in result.stdout


def test_obfuscated_password_that_cannot_be_decoded_names_the_key(health, tmp_path, mariadb):
    garbage = base64.b64encode(b"\0\0\0\0" + os.urandom(64) + b"\x00\x01\x02\x03").decode()
    cfg = write_cfg(tmp_path, "mysql_username = %s\nmysql_dbname = %s\n"
                    "mysql_password_mode_id555 = %s\n" % (DB_USER, DB_NAME, garbage))
    result = health("start", mysql_config=cfg, mysql_socket=mariadb.socket, critical="mysql",
                    env={"OCF_RESKEY_CRM_meta_timeout": "2000"})
    assert result.rc == 1
    assert result.reason.startswith("mysql: %s: mysql_password_mode_id555 cannot be decrypted: "
                                    % cfg), result.reason
    assert "Access denied" not in result.reason


def test_obfuscated_password_never_on_a_command_line(tmp_path, mariadb):
    """Decoded in the agent's own process: the mysql check never even loads subprocess."""
    cfg = write_cfg(tmp_path, "mysql_username = %s\nmysql_dbname = %s\n"
                    "mysql_password_mode_id555 = %s\n" % (DB_USER, DB_NAME, _openssl_id555(DB_PASSWORD)))
    modules = _modules_loaded_by_mysql_check(cfg, mariadb)
    assert "grommunio_ocf.stack.obfuscated" in modules and "_ssl" in modules
    assert "subprocess" not in modules


def _modules_loaded_by_mysql_check(cfg, mariadb):
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from grommunio_ocf.stack import gromoxdb\nfrom grommunio_ocf.ocf.deadline import Deadline\n"
            "gromoxdb.check(%r, %r, Deadline(5))\nprint(' '.join(sorted(sys.modules)))"
            % (os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
                os.path.abspath(__file__)))), "lib"), cfg, mariadb.socket))
    return subprocess.run(["/usr/bin/python3", "-IS", "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()
