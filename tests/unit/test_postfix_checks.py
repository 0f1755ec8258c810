"""grommunio_ocf.postfix.checks: postfix-maps' judgement with temporary files (no root, no Postfix).

A password file's permissions and main.cf's settings are judged here from
files and values made by the test; the integration tests prove the same
against real Postfix tools and MariaDB.
"""

import os
import types

import pytest

from grommunio_ocf.postfix import checks as mapcheck
from grommunio_ocf.checks.contract import CheckDegraded, CheckFailed, CheckSkipped, CheckWarning
from grommunio_ocf.postfix.checks import (MapSpec, judge_cf, judge_setting, parse_maps, parse_milters,
                                    parse_lookup_keys, postfix_can_read, unlisted_lookup_keys)

SECRET = "Sup3r-Secret"
GOOD_CF = ("user = grommunio\npassword = %s\nhosts = localhost\ndbname = grommunio\n"
           "query = SELECT 1 FROM domains WHERE domainname='%%s'\n" % SECRET)
ME = (os.getuid(), os.getgid(), "postfix")
OTHER = (os.getuid() + 4711, os.getgid() + 4711, "postfix")


@pytest.fixture
def cf(tmp_path):
    def write(text=GOOD_CF, mode=0o640):
        path = tmp_path / "map.cf"
        path.write_text(text)
        path.chmod(mode)
        return str(path)
    return write


# -- parameter syntax ------------------------------------------------------------------

def test_parse_maps():
    specs = parse_maps(("virtual_alias_maps=mysql:/etc/postfix/a.cf",
                        "virtual_mailbox_domains=proxy:mysql:/etc/postfix/d.cf"))
    assert [(s.parameter, s.table, s.path, s.lookup_table) for s in specs] == [
        ("virtual_alias_maps", "mysql:/etc/postfix/a.cf", "/etc/postfix/a.cf", "mysql:/etc/postfix/a.cf"),
        ("virtual_mailbox_domains", "proxy:mysql:/etc/postfix/d.cf", "/etc/postfix/d.cf",
         "mysql:/etc/postfix/d.cf")]
    assert specs[0].absent_key == mapcheck.ABSENT_ADDRESS
    assert specs[1].absent_key == mapcheck.ABSENT_DOMAIN


@pytest.mark.parametrize("entry,message", [
    ("virtual_alias_maps", "is not PARAMETER=mysql:/path.cf"),
    ("bad-name=mysql:/x.cf", "is not a Postfix parameter name"),
    ("a=hash:/etc/postfix/x", "only mysql: and proxy:mysql: tables are checked"),
    ("a=mysql:x.cf", "is not an absolute path"),
    ("a=mysql:/" + "n" * 300, "NAME_MAX"),
])
def test_parse_maps_refuses(entry, message):
    with pytest.raises(ValueError, match=message):
        parse_maps((entry,))


def test_lookup_keys_and_unlisted_ones():
    keys = parse_lookup_keys(("virtual_mailbox_domains=example.com", "virtual_alias_maps=a@b"))
    assert keys == (("virtual_mailbox_domains", "example.com"), ("virtual_alias_maps", "a@b"))
    maps = parse_maps(("virtual_mailbox_domains=mysql:/d.cf",))
    assert unlisted_lookup_keys(maps, keys) == ["virtual_alias_maps"]
    with pytest.raises(ValueError, match="is not PARAMETER=KEY"):
        parse_lookup_keys(("virtual_mailbox_domains=",))


def test_parse_milters():
    assert parse_milters("inet:localhost:11332, unix:/run/milter.sock") == (
        "inet:localhost:11332", "unix:/run/milter.sock")
    assert parse_milters("") is None
    with pytest.raises(ValueError, match="neither inet:HOST:PORT nor unix:PATH"):
        parse_milters("local:/x")


# -- main.cf's settings ------------------------------------------------------------------

@pytest.mark.parametrize("name,want,have,ok", [
    ("virtual_alias_maps", "mysql:/a.cf", "hash:/etc/aliases, mysql:/a.cf", True),
    ("virtual_alias_maps", "mysql:/a.cf", "mysql:/a.cf.bak", False),
    ("virtual_transport", "smtp:[::1]:24", "smtp:[::1]:24", True),
    ("virtual_transport", "smtp:[::1]:24", "lmtp:[::1]:24", False),
    ("smtpd_milters", ("inet:localhost:11332",), "unix:/x, inet:localhost:11332", True),
    ("smtpd_milters", ("inet:localhost:11332",), "", False),
])
def test_judge_setting(name, want, have, ok):
    settings = {name: have} if have else {}
    if ok:
        assert judge_setting(name, want, settings) == have
    else:
        with pytest.raises(CheckFailed) as info:
            judge_setting(name, want, settings)
        assert str(info.value).startswith("%s is %s, expected " % (
            name, repr(have) if have else "empty or unknown"))


def test_expected_settings_in_report_order():
    maps = parse_maps(("virtual_alias_maps=mysql:/a.cf",))
    assert mapcheck.expected_settings(maps, " smtp:[::1]:24 ", ("inet:l:1",)) == [
        ("virtual_alias_maps", "mysql:/a.cf"), ("virtual_transport", "smtp:[::1]:24"),
        ("smtpd_milters", ("inet:l:1",))]
    assert mapcheck.expected_settings(maps, "", None) == [("virtual_alias_maps", "mysql:/a.cf")]


# -- a password file's permissions ----------------------------------------------------------

def stat_of(uid, gid, mode):
    return types.SimpleNamespace(st_uid=uid, st_gid=gid, st_mode=0o100000 | mode)


@pytest.mark.parametrize("uid,gid,mode,members,readable", [
    (100, 0, 0o400, (), True),       # owned by postfix
    (100, 0, 0o040, (), False),      # owned by postfix, only the group may read
    (0, 101, 0o640, (), True),       # root:postfix 0640, as grommunio's docs advise
    (0, 101, 0o600, (), False),      # root:postfix 0600
    (0, 5, 0o640, ("postfix",), True),   # a supplementary group of postfix
    (0, 5, 0o640, ("mail",), False),
    (0, 0, 0o644, (), True),         # grommunio-setup's stock file: world-readable
    (0, 0, 0o640, (), False),
])
def test_postfix_can_read(uid, gid, mode, members, readable):
    assert postfix_can_read(stat_of(uid, gid, mode), (100, 101, "postfix"),
                            lambda group: members) is readable


def test_no_postfix_user_nothing_to_judge(mocker):
    mocker.patch.object(mapcheck, "postfix_user", return_value=None)
    assert postfix_can_read(stat_of(0, 0, 0o600))


def test_good_cf(cf):
    assert judge_cf(cf(), user=ME) == "keys complete, mode 0640"


def test_world_readable_is_a_warning_or_degraded(cf):
    path = cf(mode=0o644)
    with pytest.raises(CheckWarning) as info:
        judge_cf(path, user=ME)
    assert str(info.value) == ("%s is world-readable (mode 0644) and holds a database password: "
                               "chmod o-r it" % path)
    with pytest.raises(CheckDegraded):
        judge_cf(path, strict=True, user=ME)


def test_not_readable_by_postfix(cf):
    path = cf(mode=0o600)
    with pytest.raises(CheckFailed) as info:
        judge_cf(path, user=OTHER)
    assert str(info.value) == ("%s is not readable by the postfix user (owner %d:%d, mode 0600)"
                               % (path, os.getuid(), os.getgid()))


def test_missing_keys_and_typos_never_show_the_password(cf):
    path = cf(GOOD_CF.replace("password =", "passwd ="))
    with pytest.raises(CheckFailed) as info:
        judge_cf(path, user=ME)
    assert str(info.value) == "%s: password not set; unknown keys ignored by Postfix: passwd" % path
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("make,message", [
    (lambda d: str(d / "missing.cf"), "does not exist"),
    (lambda d: str(d), "is not a regular file"),
    (lambda d: os.mkfifo(str(d / "fifo.cf")) or str(d / "fifo.cf"), "is not a regular file"),
])
def test_files_that_are_not_map_files(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(CheckFailed) as info:
        judge_cf(path, user=ME)
    assert str(info.value) == "%s %s" % (path, message)


def test_a_huge_file_is_not_read_whole(cf, mocker):
    mocker.patch("grommunio_ocf.postfix.tools.CF_LIMIT", 64)
    path = cf(GOOD_CF + "#" * 100)
    with pytest.raises(CheckFailed, match="is larger than 64 bytes"):
        judge_cf(path, user=ME)


# -- the list of checks --------------------------------------------------------------------

def test_checks_for_the_parameters(mocker, tmp_path):
    mocker.patch("grommunio_ocf.postfix.tools.postconf", return_value={"virtual_alias_maps": "mysql:/a.cf"})
    values = types.SimpleNamespace(
        config_directory=str(tmp_path), maps=parse_maps(("virtual_alias_maps=mysql:/a.cf",
                                                         "recipient_bcc_maps=mysql:/a.cf")),
        virtual_transport="", milters=("inet:localhost:11332", "unix:/x"), lookup_keys=(),
        strict_permissions=False)
    (tmp_path / "main.cf").write_text("")
    found = mapcheck.checks(values, "/usr/sbin/postconf", "/usr/sbin/postmap")
    assert [(c.name, c.target, c.level) for c in found] == [
        ("setting", "virtual_alias_maps", 0), ("setting", "recipient_bcc_maps", 0),
        ("setting", "smtpd_milters", 0), ("cf", "/a.cf", 0),
        ("lookup", "virtual_alias_maps mysql:/a.cf", 10), ("lookup", "recipient_bcc_maps mysql:/a.cf", 10),
        ("milter", "inet:localhost:11332", 10)]
    assert found[0].run(None) == "mysql:/a.cf"
    with pytest.raises(CheckFailed, match="recipient_bcc_maps is empty or unknown"):
        found[1].run(None)


def test_postconf_runs_once_for_every_setting(mocker, tmp_path):
    postconf = mocker.patch("grommunio_ocf.postfix.tools.postconf",
                            return_value={"virtual_transport": "smtp:[::1]:24"})
    values = types.SimpleNamespace(config_directory=str(tmp_path), maps=(),
                                   virtual_transport="smtp:[::1]:24", milters=("inet:l:1",),
                                   lookup_keys=(), strict_permissions=False)
    (tmp_path / "main.cf").write_text("")
    found = mapcheck.checks(values, "postconf", "postmap")
    assert postconf.call_count == 0  # not before the checks run
    assert found[0].run("deadline") == "smtp:[::1]:24"
    with pytest.raises(CheckFailed):
        found[1].run("deadline")
    postconf.assert_called_once_with("postconf", str(tmp_path), ["smtpd_milters", "virtual_transport"],
                                     "deadline")


def test_a_failing_postconf_fails_every_setting_with_its_cause(mocker, tmp_path):
    from grommunio_ocf.checks.contract import Outcome, verdict
    from grommunio_ocf.postfix.tools import PostfixError
    mocker.patch("grommunio_ocf.postfix.tools.postconf", side_effect=PostfixError("postconf: fatal"))
    values = types.SimpleNamespace(config_directory=str(tmp_path),
                                   maps=parse_maps(("virtual_alias_maps=mysql:/a.cf",)),
                                   virtual_transport="x", milters=None, lookup_keys=(),
                                   strict_permissions=False)
    (tmp_path / "main.cf").write_text("")
    found = [c for c in mapcheck.checks(values, "postconf", "postmap") if c.name == "setting"]
    outcomes = []
    for check in found:
        with pytest.raises(CheckFailed, match="^postconf: fatal$"):
            check.run(None)
        outcomes.append(Outcome(check.name, check.target, Outcome.FAILED, "postconf: fatal", 0))
    assert len(found) == 2
    assert verdict(outcomes, {"setting"})[1] == "setting: postconf: fatal"  # said once


# -- a file judged unfit never reaches a tool ------------------------------------------------

def _values(directory, *maps):
    return types.SimpleNamespace(config_directory=str(directory), maps=parse_maps(maps),
                                 virtual_transport="", milters=None, lookup_keys=(),
                                 strict_permissions=False)


@pytest.fixture
def tools(mocker):
    """postconf and postmap -q, never really run: (postconf mock, postmap_query mock)."""
    return (mocker.patch("grommunio_ocf.postfix.tools.postconf", return_value={}),
            mocker.patch("grommunio_ocf.postfix.tools.postmap_query", return_value=None))


@pytest.mark.parametrize("make,reason", [
    (lambda d: os.symlink("/dev/zero", str(d / "bad.cf")), "is not a regular file"),
    (lambda d: os.mkfifo(str(d / "bad.cf")), "is not a regular file"),
    (lambda d: open(str(d / "bad.cf"), "wb").truncate(64 << 20), "is larger than 65536 bytes"),
    (lambda d: None, "does not exist"),
])
def test_a_map_whose_cf_is_unfit_is_never_looked_up(tmp_path, tools, make, reason):
    (tmp_path / "main.cf").write_text("")
    make(tmp_path)
    found = mapcheck.checks(_values(tmp_path, "virtual_alias_maps=mysql:%s/bad.cf" % tmp_path),
                            "postconf", "postmap")
    lookup = [c for c in found if c.name == "lookup"][0]
    with pytest.raises(CheckSkipped, match="^lookup skipped: the .cf file is not usable$"):
        lookup.run(None)
    with pytest.raises(CheckFailed, match=reason):
        [c for c in found if c.name == "cf"][0].run(None)
    tools[1].assert_not_called()


def test_a_warned_cf_is_still_looked_up(tmp_path, tools, cf):
    (tmp_path / "main.cf").write_text("")
    path = cf(mode=0o644)  # world-readable: a warning, Postfix reads it fine
    found = mapcheck.checks(_values(tmp_path, "virtual_alias_maps=mysql:%s" % path), "postconf",
                            "postmap")
    lookup = [c for c in found if c.name == "lookup"][0]
    assert lookup.run(None) == "%s not found (query path works)" % mapcheck.ABSENT_ADDRESS
    tools[1].assert_called_once()


@pytest.mark.parametrize("make,reason", [
    (lambda d: os.symlink("/dev/zero", str(d / "main.cf")), "main.cf is not a regular file"),
    (lambda d: os.mkfifo(str(d / "main.cf")), "main.cf is not a regular file"),
    (lambda d: open(str(d / "main.cf"), "wb").truncate(64 << 20),
     "main.cf is larger than 1048576 bytes: not a Postfix main.cf"),
    (lambda d: None, "has no main.cf"),
])
def test_an_unfit_main_cf_reaches_neither_tool(tmp_path, tools, cf, make, reason):
    make(tmp_path)
    path = cf()
    found = mapcheck.checks(_values(tmp_path, "virtual_alias_maps=mysql:%s" % path), "postconf",
                            "postmap")
    with pytest.raises(CheckFailed, match=reason):
        [c for c in found if c.name == "setting"][0].run(None)
    with pytest.raises(CheckSkipped, match="^lookup skipped: main.cf is not usable$"):
        [c for c in found if c.name == "lookup"][0].run(None)
    tools[0].assert_not_called()
    tools[1].assert_not_called()


def test_judge_main_cf(tmp_path):
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\n")
    assert mapcheck.judge_main_cf(str(tmp_path)) == str(tmp_path / "main.cf")
    assert mapcheck.judge_main_cf(str(tmp_path) + "/") == str(tmp_path / "main.cf")


def test_map_spec_repr():
    assert repr(MapSpec("a", "mysql:/x", "/x")) == "MapSpec(a=mysql:/x)"
