"""grodata-binds with odd mount tables: nothing foreign is ever unmounted (issue 11).

Real tmpfs and bind mounts in the test session's private mount namespace,
with directory names holding every character the kernel escapes in
mountinfo (space, tab, newline, backslash) and the ones it does not (a
vertical tab, U+2028, a carriage return, bytes that are not UTF-8, an
escape sequence, a literal ``\\040``).  "Foreign" mounts -- not binds from
grodata -- sit beside the targets, on them, on top of our binds and over
their parent directory; after every action each of them must still be
there, byte for byte in mountinfo.
"""

import os

import pytest

from mountscratch import mountinfo, scratch, scratch_factory, sh, top_mount  # noqa: F401

pytestmark = [pytest.mark.integration]

AGENT = "grodata-binds"

# Directory names as bytes: the kernel escapes the first four kinds only.
ODD = [b"sp ace", b"t\tab", b"new\nline", b"back\\slash", b"lit\\040eral", b"v\x0btab",
       "u\u2028sep".encode(), b"cr\rx", b"bad\xffbyte", b"esc\x1b[0m", b"dash - x",
       b"nel\xc2\x85", b"\\134"]
# Names a binds list can carry (no blank, comma, colon; UTF-8), for our own binds.
OURS_ODD = ["back\\slash", "lit\\040eral", "st\u00e4tus", "esc\x1b[0m", "hash#x", "\\134"]


def raw_lines():
    """mountinfo as a set of raw byte lines: what must survive, exactly."""
    with open("/proc/self/mountinfo", "rb") as handle:
        return set(handle.read().split(b"\n")) - {b""}


def fs(path):
    return os.fsdecode(path) if isinstance(path, bytes) else path


class Foreign:
    """Foreign mounts made by the test: a tmpfs per odd name, bound elsewhere too."""

    def __init__(self, root):
        self.root = os.fsencode(root)
        self.lines = set()

    def tmpfs(self, name):
        path = os.path.join(self.root, b"foreign", name)
        os.makedirs(path, exist_ok=True)
        sh("mount", "-t", "tmpfs", "foreign-test", fs(path))
        return path

    def bind(self, source, target):
        os.makedirs(target, exist_ok=True)
        sh("mount", "--bind", fs(source), fs(target))

    def snapshot(self):
        """Remember every line now in mountinfo that is not a bind from grodata."""
        self.lines = raw_lines()

    def assert_intact(self, ours_dev):
        missing = [line for line in self.lines - raw_lines()
                   if line.split(b" ")[2].decode() != ours_dev]
        assert missing == [], "foreign mounts were unmounted: %r" % missing


@pytest.fixture
def foreign(scratch):
    return Foreign(scratch.root)


def params_for(s, names, **extra):
    p = {"grodata": s.grodata, "binds": " ".join("%s:%s" % (s.src(n), s.tgt(n)) for n in names)}
    p.update(extra)
    return p


def test_foreign_oddities_beside_the_targets_survive_a_full_cycle(scratch, foreign, agent):
    s = scratch
    for name in ODD:
        source = foreign.tmpfs(name)
        foreign.bind(source, os.path.join(foreign.root, b"elsewhere", name))
        # A foreign bind *into* the targets directory, next to ours.
        foreign.bind(source, os.path.join(os.fsencode(s.targets), b"x" + name))
    foreign.snapshot()
    s.sources("a", "b")
    p = params_for(s, ("a", "b"))
    assert agent(AGENT, "monitor", p, env={"OCF_RESKEY_CRM_meta_interval": "0"}).rc == 7
    for action, rc in (("start", 0), ("monitor", 0), ("stop", 0), ("monitor", 7), ("stop", 0)):
        r = agent(AGENT, action, p)
        assert r.rc == rc, (action, r)
        foreign.assert_intact(s.dev)
    assert top_mount(s.tgt("a")) is None


@pytest.mark.parametrize("name", ODD, ids=[repr(n)[2:-1] for n in ODD])
def test_foreign_bind_on_a_target_is_reported_and_never_unmounted(scratch, foreign, agent, name):
    s = scratch
    s.sources("a", "b")
    source = foreign.tmpfs(name)
    foreign.bind(source, os.fsencode(s.tgt("a")))
    foreign.snapshot()
    p = params_for(s, ("a", "b"))
    # Parsed exactly: the foreign bind is seen for what it is, not "not bound".
    r = agent(AGENT, "monitor", p, env={"OCF_RESKEY_CRM_meta_interval": "0"})
    assert r.rc == 1, r
    assert r.reason.startswith(s.tgt("a") + ": bound from "), r.reason
    r = agent(AGENT, "start", p)
    assert r.rc == 1, r
    assert "not from grodata" in r.reason and "refusing to bind over it" in r.reason
    assert top_mount(s.tgt("b")) is None
    r = agent(AGENT, "stop", p)
    assert r.rc == 0, r
    assert "not ours" in r.stderr
    foreign.assert_intact(s.dev)
    assert top_mount(s.tgt("a"))["dev"] != s.dev


def test_foreign_mount_on_top_of_our_bind_fails_stop_and_stays(scratch, foreign, agent):
    s = scratch
    s.sources("a", "b")
    p = params_for(s, ("a", "b"))
    assert agent(AGENT, "start", p).rc == 0
    source = foreign.tmpfs(b"on\x0btop\xff")
    foreign.bind(source, os.fsencode(s.tgt("a")))
    foreign.snapshot()
    r = agent(AGENT, "monitor", p)
    assert r.rc == 1 and s.tgt("a") in r.reason, r
    r = agent(AGENT, "stop", p)
    # Ours is still mounted under it: a failed stop, not a foreign unmount.
    assert r.rc == 1, r
    assert r.reason.startswith(s.tgt("a") + ": still mounted under a mount of "), r.reason
    assert "\\x0b" in r.reason and "\\xff" in r.reason
    foreign.assert_intact(s.dev)
    assert top_mount(s.tgt("b")) is None          # the rest was stopped
    sh("umount", s.tgt("a"))                      # the admin removes it
    assert agent(AGENT, "stop", p).rc == 0
    assert [m for m in mountinfo() if m["point"] == s.tgt("a")] == []


def test_cover_over_the_targets_with_a_foreign_mount_at_the_target_path(scratch, foreign, agent):
    s = scratch
    s.sources("a")
    p = params_for(s, ("a",))
    assert agent(AGENT, "start", p).rc == 0
    sh("mount", "-t", "tmpfs", "cover-test", s.targets)     # hides targets/a
    source = foreign.tmpfs(b"in\xfecover")
    foreign.bind(source, os.fsencode(s.tgt("a")))           # and a foreign mount shows there
    foreign.snapshot()
    r = agent(AGENT, "stop", p)
    assert r.rc == 1, r
    assert "hidden under a mount on %s (not ours)" % s.targets in r.reason
    foreign.assert_intact(s.dev)
    assert len([m for m in mountinfo() if m["point"] == s.tgt("a")]) == 2


def test_our_binds_with_odd_names_cycle_cleanly(scratch, foreign, agent):
    s = scratch
    s.sources(*OURS_ODD)
    foreign.bind(foreign.tmpfs(b"x\x0b\xff"), os.path.join(os.fsencode(s.root), b"other"))
    foreign.snapshot()
    p = params_for(s, OURS_ODD)
    r = agent(AGENT, "start", p)
    assert r.rc == 0, r
    for name in OURS_ODD:
        mount = top_mount(s.tgt(name))
        assert mount is not None and mount["root"] == "/" + name, name
    assert agent(AGENT, "monitor", p, env={"OCF_CHECK_LEVEL": "10"}).rc == 0
    assert agent(AGENT, "stop", p).rc == 0
    assert [m for m in mountinfo() if m["point"].startswith(s.targets + "/")] == []
    foreign.assert_intact(s.dev)


@pytest.mark.parametrize("target,valid", [
    ("{T}/missing/parent/x", True),        # create_targets would make it; nothing there yet
    ("{T}/" + "n" * 256, False),           # NAME_MAX
    ("{T}/" + "/".join(["d" * 250] * 17), False),  # PATH_MAX
])
def test_targets_that_cannot_exist_stop_cleanly(scratch, agent, target, valid):
    s = scratch
    s.sources("a")
    p = {"grodata": s.grodata, "binds": "%s:%s" % (s.src("a"), target.replace("{T}", s.targets))}
    r = agent(AGENT, "validate-all", p)
    assert r.rc == (0 if valid else 6), r
    if not valid:
        assert "NAME_MAX" in r.reason or "PATH_MAX" in r.reason
    r = agent(AGENT, "stop", p)
    assert (r.rc, r.reason) == (0, None), r
    assert agent(AGENT, "monitor", p, env={"OCF_RESKEY_CRM_meta_interval": "0"}).rc == \
        (7 if valid else 6)


def test_contradicting_options_are_refused_before_anything_is_bound(scratch, agent):
    s = scratch
    s.sources("a")
    p = params_for(s, ("a",), options="noatime,relatime")
    before = raw_lines()
    for action in ("validate-all", "start"):
        r = agent(AGENT, action, p)
        assert r.rc == 6, r
        assert r.reason == "options: noatime and relatime contradict each other: a mount has " \
                           "one atime mode"
    assert raw_lines() == before
    assert agent(AGENT, "stop", p).rc == 0


def test_asked_atime_mode_replaces_the_inherited_one(scratch_factory, agent):
    s = scratch_factory(options="noatime")
    s.sources("a")
    p = params_for(s, ("a",), options="relatime,nosuid")
    r = agent(AGENT, "start", p)
    assert r.rc == 0, r
    options = top_mount(s.tgt("a"))["options"]
    assert {"relatime", "nosuid"} <= options and "noatime" not in options
    assert agent(AGENT, "monitor", p).rc == 0
    assert agent(AGENT, "stop", p).rc == 0


def test_binds_outliving_an_unmounted_grodata_are_still_ours(scratch, foreign, agent):
    # grodata unmounted under running binds (they keep its filesystem alive):
    # its path now leads to the root filesystem, but start recorded where the
    # binds came from, so stop still removes them -- and still nothing else.
    s = scratch
    s.sources("a", "b")
    p = params_for(s, ("a", "b"))
    assert agent(AGENT, "start", p).rc == 0
    dev = s.dev
    foreign.bind(foreign.tmpfs(b"beside\xff"), os.fsencode(s.tgt("c")))
    sh("umount", s.grodata)
    assert top_mount(s.tgt("a"))["dev"] == dev
    foreign.snapshot()
    assert agent(AGENT, "start", p).rc == 5                  # refused: grodata is gone
    r = agent(AGENT, "stop", p)
    assert (r.rc, r.reason) == (0, None), r
    assert [m for m in mountinfo() if m["dev"] == dev] == []
    foreign.assert_intact(dev)
    assert agent(AGENT, "monitor", p, env={"OCF_RESKEY_CRM_meta_interval": "0"}).rc == 7
