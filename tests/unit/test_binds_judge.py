"""grommunio_ocf.binds.judge: grodata-binds' judgement on synthetic mount tables (no root needed).

The most safety-critical answer of the agent -- "is this target bound from
the right source?" -- and "may this node bind at all?", proven on mount
tables written here rather than on real mounts (the integration tests
prove the same with real binds).
"""

import os

import pytest

from grommunio_ocf.binds import judge as bindcheck
from grommunio_ocf.binds.judge import OK, UNBOUND, WRONG, judge, judge_all, verdict
from grommunio_ocf.binds.plan import parse
from grommunio_ocf.binds.mounts import Mount, MountTable
from grommunio_ocf.ocf.status import OCFError, Status

ROOT = "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw"
GRODATA = "30 22 8:17 / /grodata rw,relatime - xfs /dev/drbd0 rw"


def table(*lines):
    return MountTable(Mount.parse(line) for line in (ROOT,) + lines)


def plan(*names):
    binds, errors = parse(names, "/grodata")
    assert not errors
    return binds


def bind_line(mount_id, root, point, dev="8:17", options="rw,relatime", parent=22):
    return "%d %d %s %s %s %s - xfs /dev/drbd0 rw" % (mount_id, parent, dev, root, point, options)


MYSQL = bind_line(40, "/mysql", "/var/lib/mysql", options="rw,nosuid,relatime")
REDIS = bind_line(41, "/redis", "/var/lib/redis")


# -- judge: the right source, or why not ------------------------------------------------

def test_bound_from_the_right_source():
    p = plan("mysql", "redis")
    assert judge(table(GRODATA, MYSQL, REDIS), p[0], (), p) == (OK, "from /grodata/mysql")


def test_not_bound():
    p = plan("mysql")
    assert judge(table(GRODATA), p[0], (), p) == (UNBOUND, "not bound")


def test_bound_from_the_wrong_directory_of_grodata():
    p = plan("mysql", "redis")
    swapped = bind_line(40, "/redis", "/var/lib/mysql")
    state, detail = judge(table(GRODATA, swapped), p[0], (), p)
    assert (state, detail) == (WRONG, "bound from /grodata/redis, want /grodata/mysql")


def test_bound_from_another_device_with_the_same_directory_name():
    """The root field alone would match: the device tells them apart."""
    p = plan("mysql")
    other_disk = bind_line(40, "/mysql", "/var/lib/mysql", dev="8:1")
    state, detail = judge(table(GRODATA, other_disk), p[0], (), p)
    assert state == WRONG and detail.endswith("want /grodata/mysql")


def test_a_stale_bind_of_an_unmounted_grodata():
    """grodata unmounted under the binds: the target's device is gone from the tree."""
    p = plan("mysql")
    state, detail = judge(table(bind_line(40, "/mysql", "/var/lib/mysql", dev="8:99")), p[0], (), p)
    assert (state, detail) == (WRONG, "bound from device 8:99:/mysql, want /grodata/mysql")


def test_hidden_under_a_later_mount():
    p = plan("mysql")
    cover = "50 22 0:40 / /var/lib rw - tmpfs tmpfs rw"
    assert judge(table(GRODATA, MYSQL, cover), p[0], (), p) == (
        WRONG, "hidden under a later mount on /var/lib")


def test_stacked_binds_the_visible_one_counts():
    p = plan("redis")
    foreign_then_ours = (bind_line(41, "/srv/old", "/var/lib/redis", dev="8:1"), REDIS)
    assert judge(table(GRODATA, *foreign_then_ours), p[0], (), p)[0] == OK
    ours_then_foreign = (REDIS, bind_line(42, "/srv/old", "/var/lib/redis", dev="8:1", parent=41))
    assert judge(table(GRODATA, *ours_then_foreign), p[0], (), p)[0] == WRONG


def test_flags_asked_for_must_be_in_effect():
    p = plan("mysql", "redis")
    t = table(GRODATA, MYSQL, REDIS)
    assert judge(t, p[0], ("nosuid",), p)[0] == OK
    assert judge(t, p[1], ("nosuid", "nodev"), p) == (WRONG, "bound without nosuid,nodev")


# -- verdict: monitor's answer ---------------------------------------------------------------

def test_verdict_all_good_none_bound_and_between():
    p = plan("mysql", "redis")
    assert verdict(judge_all(table(GRODATA, MYSQL, REDIS), p, ())) == Status.SUCCESS
    assert verdict(judge_all(table(GRODATA), p, ())) == Status.NOT_RUNNING
    with pytest.raises(OCFError) as info:
        verdict(judge_all(table(GRODATA, MYSQL), p, ()))
    assert (info.value.status, info.value.reason) == (
        Status.ERR_GENERIC, "/var/lib/redis: not bound (1 of 2 binds bad)")


def test_verdict_names_wrong_sources_first():
    p = plan("mysql", "redis")
    swapped = bind_line(41, "/mysql", "/var/lib/redis")
    with pytest.raises(OCFError) as info:
        verdict(judge_all(table(GRODATA, swapped), p, ()))
    assert info.value.reason == ("/var/lib/redis: bound from /grodata/mysql, want /grodata/redis; "
                                 "/var/lib/mysql: not bound (2 of 2 binds bad)")


def test_a_foreign_mount_alone_is_not_not_running():
    """Something else on our only target: a failure (1), never "stopped" (7)."""
    p = plan("mysql")
    with pytest.raises(OCFError):
        verdict(judge_all(table(GRODATA, bind_line(40, "/x", "/var/lib/mysql", dev="0:50")), p, ()))


# -- problems: what this node lacks for a start -----------------------------------------------

def problems(t, p, require=True, create=True, starting=True, realpath=lambda path: path):
    return [x.text for x in bindcheck.problems(t, "/grodata", p, require, create, starting,
                                               realpath=realpath)]


def test_unmounted_grodata_refused_at_start_only(tmp_path):
    p = plan("mysql")
    found = problems(table(), p)
    assert found[0] == ("grodata /grodata is not a mounted filesystem: refusing to bind "
                        "(require_mountpoint=true)")
    assert "not a mounted filesystem" not in " ".join(problems(table(), p, starting=False))
    assert "not a mounted filesystem" not in " ".join(problems(table(), p, require=False))


def test_grodata_bound_from_its_own_parent_device_is_not_a_filesystem():
    """A bind of a directory of / onto /grodata has the parent's device: not mounted."""
    p = plan("mysql")
    fake = "30 22 8:1 /srv/grodata /grodata rw - ext4 /dev/sda1 rw"
    assert problems(table(fake), p)[0].startswith("grodata /grodata is not a mounted filesystem")


def test_symlinked_paths_are_refused():
    p = plan("mysql")
    found = problems(table(GRODATA), p, realpath=lambda path: "/real" + path)
    assert "grodata /grodata resolves to /real/grodata: give the real path" in found
    assert "target /var/lib/mysql resolves to /real/var/lib/mysql: give the real path" in found


def test_target_and_source_on_disk(tmp_path, mocker):
    grodata = tmp_path / "grodata"
    (grodata / "mysql").mkdir(parents=True)
    (tmp_path / "file").write_text("x")
    binds, errors = parse(["%s/mysql:%s" % (grodata, tmp_path / "file"),
                           "%s/redis:%s" % (grodata, tmp_path / "missing")], str(grodata))
    t = MountTable([Mount.parse(ROOT), Mount.parse(bind_line(30, "/", str(grodata)))])
    found = [x.text for x in bindcheck.problems(t, str(grodata), binds, True, False, True)]
    assert found == ["target %s is not a directory" % (tmp_path / "file"),
                     "target %s does not exist (create_targets=false)" % (tmp_path / "missing"),
                     "source %s/redis is not a directory" % grodata]
    assert all(x.status == Status.ERR_INSTALLED for x in bindcheck.problems(
        t, str(grodata), binds, True, False, True))


def test_a_nested_target_appears_with_its_parent():
    p = plan("/grodata/a:/srv/x", "/grodata/b:/srv/x/y")
    assert bindcheck.nested_in_plan(p[1], p) and not bindcheck.nested_in_plan(p[0], p)


# -- the small file-system steps ------------------------------------------------------------

def test_make_dirs_0755_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        bindcheck.make_dirs(str(tmp_path / "a" / "b" / "c"))
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert path.stat().st_mode & 0o777 == 0o755


def test_write_test_file_leaves_nothing(tmp_path):
    bindcheck.write_test_file(str(tmp_path), "res")
    assert list(tmp_path.iterdir()) == []


def test_write_test_file_failure_is_a_clear_error(tmp_path):
    with pytest.raises(OCFError) as info:
        bindcheck.write_test_file(str(tmp_path / "missing"), "res")
    assert info.value.reason == ("grodata %s: write test failed: No such file or directory"
                                 % (tmp_path / "missing"))
