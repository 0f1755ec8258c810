"""grommunio_ocf.stack.gromoxcfg: gromox's mysql_adaptor.cfg, read by gromox's rules, never quoting the password."""

import base64
import os

import pytest

from grommunio_ocf.stack import gromoxcfg
from grommunio_ocf.stack.gromoxcfg import ConfigError, MysqlConfig, c_strtoull, load, parse_bytes
from grommunio_ocf.ocf.status import Status

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


# -- parse_bytes: gromox's config_file_init rules ----------------------------------------

@pytest.mark.parametrize("text,settings", [
    (b"", {}),
    (b"# only a comment\n\n   \n", {}),
    (b"a=b", {"a": "b"}),
    (b"  a  =  b c  ", {"a": "b c"}),
    (b"A = 1\nMySQL_Host = db", {"a": "1", "mysql_host": "db"}),
    (b"a = 1\nA = 2\na = 3", {"a": "3"}),                    # the last one wins
    (b"a = x=y", {"a": "x=y"}),                              # only the first '=' splits
    (b"a =", {"a": ""}),
    (b"a = p#w", {"a": "p#w"}),                              # no inline comments
    (b"a=1\r\nb=2\r\n", {"a": "1", "b": "2"}),
    (b"a\t=\tb", {"a": "b"}),
    (b"a = 'q'", {"a": "'q'"}),                               # no quote handling
    # Lines gromox skips silently: no '=' after the first word.
    (b"[client]\na = 1", {"a": "1"}),
    (b"mysql_password secret\na = 1", {"a": "1"}),
    (b"mysql password = secret", {}),
    (b"mysql_password: secret", {}),
    (b"just words here", {}),
    # Only a '#' in the very first column is a comment (gromox looks at line[0]).
    (b"   # indented words", {}),
    (b"  #a = 1", {"#a": "1"}),
    (b"= v", {"": "v"}),
    # Raw bytes: no encoding required, kept byte for byte.
    (b"# caf\xe9 comment\nk = \xff\xfe", {"k": "\udcff\udcfe"}),
    (b"k = a\x00b\nj = 1", {"k": "a", "j": "1"}),           # C strings end at NUL
    (b"K\xc4 = 1", {"k\udcc4": "1"}),                         # only ASCII is lower-cased
])
def test_parse_bytes(text, settings):
    assert parse_bytes(text) == settings


@pytest.mark.parametrize("text,value", [
    ("3306", 3306), (" 3306", 3306), ("+3306", 3306), ("3306abc", 3306), ("33 06", 33),
    ("3306.0", 3306), ("0x0CEA", 3306), ("0XcEa", 3306), ("03306", 0o3306), ("0", 0),
    ("08", 0), ("0x", 0), ("abc", 0), ("", 0), ("-1", 2 ** 64 - 1), ("-0", 0),
    ("99999999999999999999", 2 ** 64 - 1), ("9" * 5000, 2 ** 64 - 1),
    ("\u0663\u0663\u0660\u0666", 0),
])
def test_c_strtoull(text, value):
    assert c_strtoull(text) == value


# -- load: what gromox runs with ------------------------------------------------------

def test_an_empty_file_takes_gromox_defaults(cfg):
    config = load(cfg(""))
    assert (config.host, config.port, config.user, config.password, config.database) == (
        "localhost", 3306, "root", "", "email")
    assert config.defaulted == ("mysql_dbname", "mysql_host", "mysql_password", "mysql_port",
                                "mysql_username")
    assert config.uses_socket


def test_minimal_file(cfg):
    config = load(cfg(MINIMAL))
    assert (config.host, config.port) == ("localhost", 3306)
    assert (config.user, config.database, config.password) == ("grommunio", "grommunio", "")
    assert config.password_key == "mysql_password"


def test_full_file_with_comments_stray_lines_and_mixed_case(cfg):
    path = cfg(b"# gromox mysql_adaptor.cfg \xe4\xf6\n"
               b"[client]\n"
               b"MYSQL_HOST = 10.0.0.5\n"
               b"Mysql_Port = 3307\n"
               b"mysql_username = old\n"
               b"mysql_password = " + SECRET.encode() + b"\n"
               b"  # mysql_dbname = commented\n"
               b"mysql_dbname = grommunio\n"
               b"MySQL_UserName = grommunio\n"        # last one wins
               b"schema_upgrade = host:abc\n")
    config = load(path)
    assert (config.host, config.port, config.user, config.password, config.database) == (
        "10.0.0.5", 3307, "grommunio", SECRET, "grommunio")
    assert config.path == path and config.defaulted == ()
    assert not config.uses_socket


@pytest.mark.parametrize("host,socket", [("localhost", True), ("", True), ("127.0.0.1", False),
                                         ("::1", False), ("db.example.org", False),
                                         ("LOCALHOST", False)])
def test_uses_socket_only_for_localhost(cfg, host, socket):
    config = load(cfg(MINIMAL + "mysql_host = %s\n" % host))
    assert config.uses_socket is socket


@pytest.mark.parametrize("port,value", [("", 3306), ("0", 3306), ("abc", 3306), ("0x0CEA", 3306),
                                        ("3307 # comment", 3307), ("65535", 65535)])
def test_ports_as_gromox_reads_them(cfg, port, value):
    assert load(cfg(MINIMAL + "mysql_port = %s\n" % port)).port == value


@pytest.mark.parametrize("port", ["65536", "-1", "9" * 5000, "0x10000"])
def test_a_port_number_out_of_range_is_refused_without_echoing_it(cfg, port):
    path = cfg(MINIMAL + "mysql_port = %s\n" % port)
    error = load_error(path)
    assert error.status == Status.ERR_INSTALLED
    assert error.text == "%s: mysql_port is not a port number (1-65535)" % path


def test_a_password_with_odd_bytes_goes_back_unchanged(cfg):
    config = load(cfg(MINIMAL.encode() + b"mysql_password = \xff\xfe" + SECRET.encode() + b"\n"))
    assert config.password.encode("utf-8", "surrogateescape") == b"\xff\xfe" + SECRET.encode()


def test_repr_hides_the_password(cfg):
    config = load(cfg(MINIMAL + "mysql_password = %s\n" % SECRET))
    assert config.password == SECRET
    assert SECRET not in repr(config)
    assert "user='grommunio'" in repr(config) and "port=3306" in repr(config)


def test_repr_of_a_constructed_config():
    config = MysqlConfig("/x.cfg", "h", 1, "u", SECRET, "d")
    assert repr(config) == "MysqlConfig('/x.cfg', host='h', port=1, user='u', database='d')"


# -- load: obfuscated passwords (decoding itself: test_obfuscated.py) ------------------------

@pytest.mark.parametrize("lines,key", [
    ("mysql_password_mode_id107 = X\n", "mysql_password_mode_id107"),
    ("mysql_password_mode_id555 = X\n", "mysql_password_mode_id555"),
    ("mysql_password_mode_id555 = X\nmysql_password_mode_id107 = Y\n", "mysql_password_mode_id555"),
    ("MYSQL_PASSWORD_MODE_ID107 = X\nmysql_password = plain\n", "mysql_password_mode_id107"),
])
def test_obfuscated_forms_replace_mysql_password(cfg, lines, key):
    config = load(cfg(MINIMAL + lines))
    assert config.password_key == key
    assert "mysql_password" not in config.defaulted


def test_the_obfuscated_password_is_decoded_on_use(cfg):
    text = base64.b64encode(b"garbage that is no SSSD blob at all").decode()
    config = load(cfg(MINIMAL + "mysql_password_mode_id555 = %s\n" % text))
    from grommunio_ocf.stack.obfuscated import DecodeError
    with pytest.raises(DecodeError) as info:
        config.password
    assert str(info.value).startswith("mysql_password_mode_id555 ")


# -- load: files that cannot be read ---------------------------------------------------

def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.cfg")
    error = load_error(path)
    assert (error.status, error.text) == (Status.ERR_INSTALLED, "%s does not exist" % path)


def test_directory(tmp_path):
    error = load_error(str(tmp_path))
    assert (error.status, error.text) == (Status.ERR_INSTALLED, "%s is a directory" % tmp_path)


def test_fifo_fails_fast(tmp_path):
    path = str(tmp_path / "fifo.cfg")
    os.mkfifo(path)
    error = load_error(path)
    assert (error.status, error.text) == (Status.ERR_INSTALLED, "%s is not a regular file" % path)


def test_too_large(cfg):
    path = cfg(b"# " + b"x" * gromoxcfg.SIZE_LIMIT + b"\n")
    error = load_error(path)
    assert error.text == "%s is larger than %d bytes" % (path, gromoxcfg.SIZE_LIMIT)


def _refuse(path, exc, mocker):
    real = os.open

    def fake(name, *args, **kw):
        if name == path:
            raise exc
        return real(name, *args, **kw)
    mocker.patch("os.open", side_effect=fake)


def test_unreadable_file(cfg, mocker):
    # Root reads any mode, so the permission error is simulated.
    path = cfg(MINIMAL)
    _refuse(path, PermissionError(13, "Permission denied", path), mocker)
    error = load_error(path)
    assert (error.status, error.text) == (Status.ERR_PERM, "%s is not readable" % path)


def test_other_os_error_names_strerror(cfg, mocker):
    path = cfg(MINIMAL)
    _refuse(path, OSError(5, "Input/output error"), mocker)
    error = load_error(path)
    assert (error.status, error.text) == (Status.ERR_INSTALLED, "%s: Input/output error" % path)


def test_config_error_is_an_exception_with_its_text():
    error = ConfigError(5, "broken")
    assert str(error) == "broken" and error.status is Status.ERR_INSTALLED
