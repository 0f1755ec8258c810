"""grommunio_ocf.mysqlcfg: gromox's mysql_adaptor.cfg, read without ever quoting the password."""

import pytest

from grommunio_ocf import mysqlcfg
from grommunio_ocf.mysqlcfg import ConfigError, MysqlConfig, load, parse_text
from grommunio_ocf.params import Problem
from grommunio_ocf.status import Status

SECRET = "Pa55-w0rd!"
MINIMAL = "mysql_username = grommunio\nmysql_dbname = grommunio\n"


@pytest.fixture
def cfg(tmp_path):
    """``cfg(text)`` writes mysql_adaptor.cfg and returns its path."""
    def write(text):
        path = tmp_path / "mysql_adaptor.cfg"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)
    return write


def load_error(path):
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value


# -- parse_text -------------------------------------------------------------------

@pytest.mark.parametrize("text,settings", [
    ("", {}),
    ("# only a comment\n\n   \n", {}),
    ("a=b", {"a": "b"}),
    ("  a  =  b c  ", {"a": "b c"}),
    ("A = 1\nMySQL_Host = db", {"a": "1", "mysql_host": "db"}),
    ("a = 1\nA = 2\na = 3", {"a": "3"}),                     # the last one wins
    ("a = x=y", {"a": "x=y"}),                               # only the first '=' splits
    ("a =", {"a": ""}),
    ("   # indented comment\na=1", {"a": "1"}),
    ("a = p#w", {"a": "p#w"}),                               # no inline comments
    ("a=1\r\nb=2\r\n", {"a": "1", "b": "2"}),
])
def test_parse_text(text, settings):
    assert parse_text(text, "f.cfg") == settings


@pytest.mark.parametrize("line", [
    "mysql_password %s" % SECRET,         # '=' forgotten
    "mysql password = %s" % SECRET,       # space in the key
    "= %s" % SECRET,                      # no key
    "mysql_password: %s" % SECRET,
])
def test_garbled_line_names_file_and_line_but_not_its_text(line):
    text = "# header\nmysql_username = g\n%s\nmysql_dbname = g\n" % line
    with pytest.raises(ConfigError) as info:
        parse_text(text, "/etc/gromox/mysql_adaptor.cfg")
    error = info.value
    assert error.text == "/etc/gromox/mysql_adaptor.cfg: line 3 is not 'key = value'"
    assert error.status == Status.ERR_INSTALLED
    assert SECRET not in str(error) and SECRET not in repr(error)


# -- load: good files ---------------------------------------------------------------

def test_defaults(cfg):
    config = load(cfg(MINIMAL))
    assert (config.host, config.port) == ("localhost", 3306)
    assert (config.user, config.database, config.password) == ("grommunio", "grommunio", "")
    assert config.uses_socket


def test_full_file_with_comments_and_mixed_case(cfg):
    path = cfg("# gromox mysql_adaptor.cfg\n"
               "MYSQL_HOST = 10.0.0.5\n"
               "Mysql_Port = 3307\n"
               "mysql_username = old\n"
               "mysql_password = %s\n"
               "  # mysql_dbname = commented\n"
               "mysql_dbname = grommunio\n"
               "MySQL_UserName = grommunio\n"        # last one wins
               "schema_upgrade = host:abc\n" % SECRET)
    config = load(path)
    assert (config.host, config.port, config.user, config.password, config.database) == (
        "10.0.0.5", 3307, "grommunio", SECRET, "grommunio")
    assert config.path == path
    assert not config.uses_socket


@pytest.mark.parametrize("host,socket", [("localhost", True), ("127.0.0.1", False),
                                         ("::1", False), ("db.example.org", False),
                                         ("LOCALHOST", False)])
def test_uses_socket_only_for_localhost(cfg, host, socket):
    config = load(cfg(MINIMAL + "mysql_host = %s\n" % host))
    assert config.uses_socket is socket


@pytest.mark.parametrize("extra", ["mysql_host =\n", "mysql_port =\n"])
def test_empty_host_or_port_means_default(cfg, extra):
    config = load(cfg(MINIMAL + extra))
    assert (config.host, config.port) == ("localhost", 3306)


def test_repr_hides_the_password(cfg):
    config = load(cfg(MINIMAL + "mysql_password = %s\n" % SECRET))
    assert config.password == SECRET
    assert SECRET not in repr(config)
    assert "user='grommunio'" in repr(config) and "port=3306" in repr(config)


def test_repr_of_a_constructed_config():
    config = MysqlConfig("/x.cfg", "h", 1, "u", SECRET, "d")
    assert repr(config) == "MysqlConfig('/x.cfg', host='h', port=1, user='u', database='d')"


# -- load: bad files ----------------------------------------------------------------

@pytest.mark.parametrize("text,missing", [
    ("mysql_dbname = g\n", "mysql_username not set"),
    ("mysql_username = g\n", "mysql_dbname not set"),
    ("mysql_password = %s\n" % SECRET, "mysql_username and mysql_dbname not set"),
    ("mysql_username =\nmysql_dbname = g\n", "mysql_username not set"),
    ("", "mysql_username and mysql_dbname not set"),
])
def test_missing_required_keys(cfg, text, missing):
    path = cfg(text)
    error = load_error(path)
    assert error.status == Status.ERR_INSTALLED
    assert error.text == "%s: %s" % (path, missing)
    assert SECRET not in error.text


@pytest.mark.parametrize("port", ["0", "65536", "99999", "abc", "-1", "33 06", "3306.0",
                                  "\u0663\u0663\u0660\u0666"])
def test_bad_port(cfg, port):
    path = cfg(MINIMAL + "mysql_port = %s\n" % port)
    error = load_error(path)
    assert error.status == Status.ERR_INSTALLED
    assert error.text == "%s: mysql_port %r is not a port" % (path, port)


def test_garbled_password_line_in_file(cfg):
    path = cfg(MINIMAL + "mysql_password %s\n" % SECRET)
    error = load_error(path)
    assert error.text == "%s: line 3 is not 'key = value'" % path
    assert SECRET not in error.text
    assert error.problem() == Problem(Status.ERR_INSTALLED, error.text)


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.cfg")
    error = load_error(path)
    assert (error.status, error.text) == (Status.ERR_INSTALLED, "%s does not exist" % path)


def test_directory(tmp_path):
    error = load_error(str(tmp_path))
    assert (error.status, error.text) == (Status.ERR_INSTALLED, "%s is a directory" % tmp_path)


def test_unreadable_file(cfg, mocker):
    # Root reads any mode, so the permission error is simulated.
    path = cfg(MINIMAL)
    mocker.patch.object(mysqlcfg, "open", create=True,
                        side_effect=PermissionError(13, "Permission denied", path))
    error = load_error(path)
    assert (error.status, error.text) == (Status.ERR_PERM, "%s is not readable" % path)
    assert error.problem().status == Status.ERR_PERM


def test_other_os_error_names_strerror(cfg, mocker):
    path = cfg(MINIMAL)
    mocker.patch.object(mysqlcfg, "open", create=True,
                        side_effect=OSError(5, "Input/output error"))
    error = load_error(path)
    assert (error.status, error.text) == (Status.ERR_INSTALLED, "%s: Input/output error" % path)


def test_not_utf8(cfg):
    path = cfg(MINIMAL.encode() + b"mysql_password = \xff\xfe%s\n" % SECRET.encode())
    error = load_error(path)
    assert (error.status, error.text) == (Status.ERR_INSTALLED, "%s is not UTF-8 text" % path)
    assert SECRET not in error.text


def test_config_error_is_an_exception_with_its_text():
    error = ConfigError(5, "broken")
    assert str(error) == "broken" and error.status is Status.ERR_INSTALLED
