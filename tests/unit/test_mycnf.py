"""grommunio_ocf.stack.mycnf: the socket the MariaDB client library would use, from the option files."""

import os

import pytest

from grommunio_ocf.stack import mycnf
from grommunio_ocf.stack.mycnf import client_options, find_socket


@pytest.fixture
def tree(tmp_path):
    """``tree({relative path: text})`` writes files; returns a function mapping names to paths."""
    def write(files):
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.replace("@", str(tmp_path)), encoding="utf-8")
        return lambda name: str(tmp_path / name)
    return write


def socket_of(paths, *names, defaults=(), exists=lambda p: False):
    return find_socket([paths(n) for n in names], defaults, exists)


def test_client_group(tree):
    paths = tree({"my.cnf": "[mysqld]\nsocket = /srv/server.sock\n[client]\nsocket = /run/c.sock\n"})
    assert socket_of(paths, "my.cnf") == ("/run/c.sock", "socket from [client] in %s" % paths("my.cnf"))


@pytest.mark.parametrize("group", ["client", "client-server", "client-mariadb"])
def test_every_client_group_counts(tree, group):
    paths = tree({"my.cnf": "[%s]\nsocket=/x.sock\n" % group})
    assert socket_of(paths, "my.cnf")[0] == "/x.sock"


@pytest.mark.parametrize("group", ["mysqld", "mysql", "server", "mariadb", "clientx", "Client",
                                   " client"])
def test_other_groups_do_not(tree, group):
    paths = tree({"my.cnf": "[%s]\nsocket=/x.sock\n" % group})
    with pytest.raises(LookupError):
        socket_of(paths, "my.cnf")


def test_the_later_setting_wins_across_files_and_includes(tree):
    paths = tree({
        "etc/my.cnf": "[client]\nsocket = /first.sock\n!includedir @/etc/my.cnf.d\n",
        "etc/my.cnf.d/10-a.cnf": "[client]\nsocket = /a.sock\n",
        "etc/my.cnf.d/20-b.cnf": "[client-server]\nsocket = /b.sock\n",
        "etc/my.cnf.d/30-c.conf": "[client]\nsocket = /not-a-cnf.sock\n",
        "etc/mysql/my.cnf": "[mysqld]\nsocket = /server-only.sock\n",
    })
    assert socket_of(paths, "etc/my.cnf", "etc/mysql/my.cnf") == (
        "/b.sock", "socket from [client-server] in %s" % paths("etc/my.cnf.d/20-b.cnf"))


def test_a_setting_after_the_include_wins_over_it(tree):
    paths = tree({"my.cnf": "!include @/inc.cnf\n[client]\nsocket = /after.sock\n",
                  "inc.cnf": "[client]\nsocket = /included.sock\n"})
    assert socket_of(paths, "my.cnf")[0] == "/after.sock"


def test_debian_layout(tree):
    paths = tree({
        "etc/mysql/my.cnf": "[client-server]\nport = 3306\nsocket = /run/mysqld/mysqld.sock\n"
                            "!includedir @/etc/mysql/conf.d/\n!includedir @/etc/mysql/mariadb.conf.d/\n",
        "etc/mysql/mariadb.conf.d/50-client.cnf": "[client]\nsocket = /run/mysqld/mysqld.sock\n",
        "etc/mysql/mariadb.conf.d/50-server.cnf": "[mysqld]\nsocket = /run/mysqld/mysqld.sock\n",
    })
    assert socket_of(paths, "etc/my.cnf", "etc/mysql/my.cnf")[0] == "/run/mysqld/mysqld.sock"


def test_syntax_as_libmariadb_reads_it(tree):
    paths = tree({"my.cnf": "# comment\n; comment too\n\n  [client ]  \n"
                            "  socket  =  \"/quoted path\\s.sock\"  \n"})
    options, seen = client_options([paths("my.cnf")])
    assert options["socket"].value == "/quoted path .sock"


def test_dashes_and_underscores_are_the_same(tree):
    paths = tree({"my.cnf": "[client]\nssl_ca = /ca\n"})
    assert client_options([paths("my.cnf")])[0]["ssl-ca"].value == "/ca"


@pytest.mark.parametrize("text", [
    "socket = /before-any-group.sock\n[client]\nsocket = /x.sock\n",   # libmariadb gives up
    "[client\nsocket = /x.sock\n",                                      # a broken header too
])
def test_a_broken_file_is_abandoned_where_libmariadb_abandons_it(tree, text):
    paths = tree({"my.cnf": text})
    with pytest.raises(LookupError):
        socket_of(paths, "my.cnf")


def test_empty_socket_means_the_default(tree):
    paths = tree({"my.cnf": "[client]\nsocket = /x.sock\n[client-mariadb]\nsocket =\n"})
    assert socket_of(paths, "my.cnf", defaults=("/d.sock",), exists=lambda p: True) == (
        "/d.sock", "the first default socket that exists")


def test_defaults_in_order_when_no_file_names_one(tree):
    paths = tree({"my.cnf": "[mysqld]\nsocket = /server.sock\n"})
    defaults = ("/run/mysqld/mysqld.sock", "/run/mysql/mysql.sock", "/var/lib/mysql/mysql.sock")
    assert socket_of(paths, "my.cnf", defaults=defaults,
                     exists=lambda p: p != defaults[0])[0] == "/run/mysql/mysql.sock"


def test_nothing_found_says_where_it_looked(tree):
    paths = tree({"my.cnf": "[mysqld]\n"})
    with pytest.raises(LookupError) as info:
        socket_of(paths, "my.cnf", "missing.cnf", defaults=("/a.sock", "/b.sock"))
    assert str(info.value) == ("no MariaDB socket: none of /a.sock, /b.sock exists, and the "
                               "option files (%s) set no socket in [client]" % paths("my.cnf"))


def test_no_option_file_at_all(tree):
    paths = tree({})
    with pytest.raises(LookupError) as info:
        socket_of(paths, "a.cnf", defaults=("/a.sock",))
    assert "(none of %s exists)" % paths("a.cnf") in str(info.value)


def test_include_loops_end(tree):
    paths = tree({"my.cnf": "!include @/my.cnf\n[client]\nsocket = /x.sock\n"})
    assert socket_of(paths, "my.cnf")[0] == "/x.sock"


def test_fifo_and_directory_are_skipped(tree, tmp_path):
    paths = tree({"my.cnf": "!include @/fifo.cnf\n!include @/dir.cnf\n[client]\nsocket=/x.sock\n"})
    os.mkfifo(str(tmp_path / "fifo.cnf"))
    os.mkdir(str(tmp_path / "dir.cnf"))
    assert socket_of(paths, "my.cnf")[0] == "/x.sock"


def test_huge_file_is_skipped(tree, mocker):
    mocker.patch.object(mycnf, "FILE_LIMIT", 16)
    paths = tree({"my.cnf": "[client]\nsocket = /a-long-enough.sock\n"})
    with pytest.raises(LookupError):
        socket_of(paths, "my.cnf")


def test_non_utf8_bytes_do_not_matter(tree, tmp_path):
    paths = tree({})
    (tmp_path / "my.cnf").write_bytes(b"# \xff\xfe\n[client]\nsocket = /s\xe4.sock\n")
    path, _ = socket_of(paths, "my.cnf")
    assert os.fsencode(path) == b"/s\xe4.sock"
