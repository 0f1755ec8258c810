"""grommunio_ocf.stack.gromoxdb: the mysql check's three steps put together (the login itself faked)."""

import pytest

from grommunio_ocf.stack import gromoxdb, mycnf
from grommunio_ocf.ocf.deadline import Deadline
from grommunio_ocf.checks.contract import CheckFailed
from grommunio_ocf.protocols import mysql


@pytest.fixture
def cfg(tmp_path):
    def write(text):
        path = tmp_path / "mysql_adaptor.cfg"
        path.write_text(text)
        return str(path)
    return write


@pytest.fixture
def login(mocker):
    """The protocol is tested elsewhere: record where it would have connected."""
    return mocker.patch.object(mysql, "check", return_value="10.11.6-MariaDB; logged in")


def test_explicit_socket_wins(cfg, login, mocker):
    find = mocker.patch.object(mycnf, "find_socket")
    detail = gromoxdb.check(cfg("mysql_username = g\nmysql_dbname = g\n"), "/x.sock", Deadline(1))
    assert not find.called
    assert login.call_args[0][1:2] == ("/x.sock",) and login.call_args[0][3] == "mysql_socket"
    assert detail == ("10.11.6-MariaDB; logged in; gromox defaults for mysql_host, mysql_password, "
                      "mysql_port; via /x.sock (mysql_socket)")


def test_discovered_socket_and_why(cfg, login, mocker):
    mocker.patch.object(mycnf, "find_socket", return_value=("/run/mysql/mysql.sock", "why not"))
    detail = gromoxdb.check(cfg("mysql_username = g\nmysql_password = p\nmysql_dbname = g\n"
                                "mysql_host = localhost\nmysql_port = 3306\n"), None, Deadline(1))
    assert detail == "10.11.6-MariaDB; logged in; via /run/mysql/mysql.sock (why not)"


def test_tcp_needs_no_socket(cfg, login, mocker):
    find = mocker.patch.object(mycnf, "find_socket")
    detail = gromoxdb.check(cfg("mysql_host = ::1\nmysql_port = 3307\nmysql_username = g\n"
                                "mysql_password = p\nmysql_dbname = g\n"), None, Deadline(1))
    assert not find.called
    assert detail.endswith("; via TCP [::1]:3307")


def test_no_socket_found(cfg, login, mocker):
    mocker.patch.object(mycnf, "find_socket", side_effect=LookupError("no MariaDB socket: nothing"))
    with pytest.raises(CheckFailed) as info:
        gromoxdb.check(cfg(""), None, Deadline(1))
    assert str(info.value) == "no MariaDB socket: nothing (set mysql_socket)"
    assert not login.called


def test_unreadable_file_is_a_check_failure(tmp_path, login):
    with pytest.raises(CheckFailed) as info:
        gromoxdb.check(str(tmp_path / "missing.cfg"), "/x.sock", Deadline(1))
    assert str(info.value) == "%s does not exist" % (tmp_path / "missing.cfg")
