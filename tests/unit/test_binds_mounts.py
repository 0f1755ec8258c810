"""grommunio_ocf.binds.mounts: mountinfo parsing, the mount table's answers, flag bits."""

import os

import pytest

from grommunio_ocf.binds import mounts
from grommunio_ocf.binds.mounts import Mount, MountTable, flag_bits, unescape
from grommunio_ocf.base.paths import is_under


def table(text):
    return MountTable(Mount.parse(line) for line in text.strip().splitlines() if line.strip())

# -- Mount.parse ----------------------------------------------------------------------

def test_parse_plain_line():
    m = Mount.parse("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")
    assert (m.id, m.parent, m.dev, m.root, m.point) == (36, 35, "98:0", "/mnt1", "/mnt2")
    assert (m.options, m.fstype, m.source) == ("rw,noatime", "ext3", "/dev/root")
    assert m.flags == frozenset({"rw", "noatime"})
    assert m.st_dev == os.makedev(98, 0)


@pytest.mark.parametrize("optional", ["", "shared:1", "shared:1 master:2",
                                      "shared:7 master:2 propagate_from:3 unbindable"])
def test_parse_optional_fields(optional):
    line = "40 22 8:17 /mysql /var/lib/mysql rw,nosuid %s - ext4 /dev/sdb1 rw" % optional
    m = Mount.parse(line.replace("  ", " "))
    assert (m.root, m.point, m.fstype, m.source) == ("/mysql", "/var/lib/mysql", "ext4", "/dev/sdb1")
    assert m.options == "rw,nosuid"


def test_parse_dash_in_optional_position_is_the_separator():
    # A "-" before field 7 cannot be the separator: index search starts at field 6.
    m = Mount.parse("1 0 0:1 / / rw - rootfs rootfs rw")
    assert (m.fstype, m.source) == ("rootfs", "rootfs")


def test_parse_octal_escapes():
    m = Mount.parse(r"50 22 8:17 /my\040data/a\134b /srv/with\040space\011tab rw - ext4 "
                    r"/dev/disk\040x rw")
    assert m.root == "/my data/a\\b"
    assert m.point == "/srv/with space\ttab"
    assert m.source == "/dev/disk x"


def test_parse_missing_source():
    m = Mount.parse("60 22 0:50 / /x rw - tmpfs")
    assert (m.fstype, m.source) == ("tmpfs", "")


def test_unescape():
    assert unescape("plain") == "plain"
    assert unescape(r"a\040b\134c\012d") == "a b\\c\nd"
    assert unescape("a\\") == "a\\"
    assert unescape(r"a\04") == r"a\04"
    assert unescape(r"\\040") == "\\ "


def test_flag_bits():
    assert flag_bits([]) == 0
    assert flag_bits(["ro", "nosuid", "nodev"]) == mounts.MS_RDONLY | mounts.MS_NOSUID | mounts.MS_NODEV
    with pytest.raises(KeyError):
        flag_bits(["bogus"])


@pytest.mark.parametrize("path,top,expected", [
    ("/a/b", "/a", True), ("/a", "/a", True), ("/ab", "/a", False), ("/a", "/a/b", False),
    ("/anything", "/", True), ("/", "/", True),
])
def test_is_under(path, top, expected):
    assert is_under(path, top) is expected


# -- MountTable --------------------------------------------------------------------------

MOUNTINFO = r"""
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw,nosuid,nodev,noexec shared:12 - proc proc rw
30 22 8:17 / /grodata rw,relatime shared:5 - ext4 /dev/sdb1 rw
40 22 8:17 /mysql /var/lib/mysql rw,nosuid,relatime shared:5 master:2 - ext4 /dev/sdb1 rw
41 22 8:1 /srv/old /var/lib/redis rw,relatime shared:1 - ext4 /dev/sda1 rw
42 22 8:17 /redis /var/lib/redis rw,nodev,relatime shared:5 - ext4 /dev/sdb1 rw
43 22 8:1 /srv/x /opt/x rw,relatime shared:1 - ext4 /dev/sda1 rw
44 22 8:17 /my\040dir /var/lib/with\040space rw shared:5 - ext4 /dev/sdb1 rw
"""


@pytest.fixture
def mt():
    return table(MOUNTINFO)


def test_at_mount_point(mt):
    assert mt.at("/grodata").id == 30
    assert mt.at("/").id == 22
    assert mt.at("/grodata/mysql") is None
    assert mt.at("/var/lib") is None


def test_stacked_mounts_last_one_is_visible(mt):
    m = mt.at("/var/lib/redis")
    assert (m.id, m.dev, m.root) == (42, "8:17", "/redis")
    assert len([x for x in mt.mounts if x.point == "/var/lib/redis"]) == 2


def test_escaped_point_is_found_unescaped(mt):
    assert mt.at("/var/lib/with space").root == "/my dir"


def test_containing(mt):
    assert mt.containing("/grodata/mysql/ibdata1").id == 30
    assert mt.containing("/grodata").id == 30
    assert mt.containing("/grodatax").id == 22
    assert mt.containing("/var/lib/mysql/db").id == 40
    assert mt.containing("/etc/passwd").id == 22


def test_containing_without_root_mount():
    with pytest.raises(LookupError):
        table("30 22 8:17 / /grodata rw - ext4 /dev/sdb1 rw").containing("/etc")


def test_origin_plain(mt):
    assert mt.origin("/grodata/mysql") == ("8:17", "/mysql")
    assert mt.origin("/grodata") == ("8:17", "/")
    assert mt.origin("/etc") == ("8:1", "/etc")
    assert mt.origin("/") == ("8:1", "/")


def test_origin_under_bind_with_non_root_root(mt):
    assert mt.origin("/var/lib/mysql/data/x") == ("8:17", "/mysql/data/x")
    assert mt.origin("/var/lib/mysql") == ("8:17", "/mysql")
    assert mt.origin("/var/lib/redis/dump.rdb") == ("8:17", "/redis/dump.rdb")
    assert mt.origin("/opt/x/y") == ("8:1", "/srv/x/y")


def test_origin_of_bind_source_matches_bind_target(mt):
    # What the agent checks: target's (dev, root) equals origin of its source.
    target = mt.at("/var/lib/mysql")
    assert (target.dev, target.root) == mt.origin("/grodata/mysql")


def test_is_own_filesystem(mt):
    assert mt.is_own_filesystem("/") is True
    assert mt.is_own_filesystem("/grodata") is True
    assert mt.is_own_filesystem("/proc") is True
    assert mt.is_own_filesystem("/var/lib/mysql") is True   # other device than /var/lib
    assert mt.is_own_filesystem("/opt/x") is False          # bind from the same device
    assert mt.is_own_filesystem("/grodata/mysql") is False  # not a mount point
    assert mt.is_own_filesystem("/etc") is False


def test_is_own_filesystem_unmounted_grodata():
    mt = table("22 1 8:1 / / rw - ext4 /dev/sda1 rw")
    assert mt.is_own_filesystem("/grodata") is False


def test_describe_prefers_most_direct_view(mt):
    assert mt.describe("8:17", "/mysql") == "/grodata/mysql"
    assert mt.describe("8:17", "/mysql/data") == "/grodata/mysql/data"
    assert mt.describe("8:17", "/redis") == "/grodata/redis"


def test_describe_via_bind_root(mt):
    assert mt.describe("8:17", "/mysql", exclude={"/grodata"}) == "/var/lib/mysql"


def test_describe_device_root_has_no_trailing_slash(mt):
    assert mt.describe("8:17", "/") == "/grodata"


def test_describe_with_exclude(mt):
    assert mt.describe("8:17", "/mysql/data", exclude={"/grodata"}) == "/var/lib/mysql/data"
    assert mt.describe("8:17", "/other", exclude={"/grodata"}) == "device 8:17:/other"


def test_describe_root_filesystem_and_unknown_device(mt):
    assert mt.describe("8:1", "/srv/old") == "/srv/old"
    assert mt.describe("9:9", "/x") == "device 9:9:/x"


def test_describe_ignores_hidden_mounts():
    mt = table("""
22 1 8:1 / / rw - ext4 /dev/sda1 rw
50 22 8:33 / /mnt rw - ext4 /dev/sdc1 rw
51 22 0:60 / /mnt rw - tmpfs tmpfs rw
""")
    assert mt.describe("8:33", "/a") == "device 8:33:/a"


def test_describe_does_not_match_partial_component(mt):
    assert mt.describe("8:17", "/mysqlx", exclude={"/grodata"}) == "device 8:17:/mysqlx"


def test_read_from_file(tmp_path):
    path = tmp_path / "mountinfo"
    path.write_text(MOUNTINFO.lstrip() + "\n\n")
    mt = MountTable.read(str(path))
    assert len(mt.mounts) == 8
    assert mt.at("/var/lib/redis").id == 42


def test_mount_hidden_by_overmount_of_ancestor_is_not_visible():
    mt = table("""
22 1 8:1 / / rw - ext4 /dev/sda1 rw
50 22 8:1 /a /srv rw - ext4 /dev/sda1 rw
51 50 8:17 /x /srv/x rw - ext4 /dev/sdb1 rw
52 50 0:60 / /srv rw - tmpfs tmpfs rw
""")
    # /srv is now a tmpfs: /srv/x resolves into it, mount 51 is out of reach.
    assert mt.covering(mt.at("/srv/x")).id == 52
    assert mt.covering(mt.at("/srv")) is None
    assert mt.containing("/srv/x/file").id == 52


# -- exact parsing (issue 11) -------------------------------------------------------------

@pytest.mark.parametrize("name", ["v\x0btab", "line\u2028sep", "para\u2029", "ff\x0cx", "nel\x85",
                                  "\udcff\udcfe", "cr\rx", "a\\101", "fs\x1c", "nbsp\xa0"])
def test_unescaped_oddities_do_not_shift_fields(name):
    # The kernel escapes only space, tab, newline and backslash; all of these stand as they are.
    escaped = name.replace("\\", "\\134")
    line = "50 22 8:17 /src/%s /t/%s rw,nosuid shared:5 - ext4 /dev/sdb1 rw" % (escaped, escaped)
    m = Mount.parse(line)
    assert (m.id, m.parent, m.dev) == (50, 22, "8:17")
    assert m.root == "/src/" + name and m.point == "/t/" + name
    assert (m.options, m.fstype, m.source) == ("rw,nosuid", "ext4", "/dev/sdb1")


@pytest.mark.parametrize("escaped,plain", [
    (r"\040", " "), (r"\011", "\t"), (r"\012", "\n"), (r"\134", "\\"),
    (r"\134040", "\\040"),            # a directory literally named \040
    (r"\134\134", "\\\\"),
    (r"\134011\011", "\\011\t"),
    (r"\101", r"\101"),                # not one of the four: left alone
    (r"\0", r"\0"),
])
def test_unescape_exactly_the_kernels_four(escaped, plain):
    assert unescape(escaped) == plain


def test_read_bytes_split_on_newline_only(tmp_path):
    path = tmp_path / "mountinfo"
    path.write_bytes(b"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                     b"50 22 8:17 /a\rb\x0bc\xe2\x80\xa8d\xff /t/x\xff\x85 rw - ext4 /dev/sdb1 rw\n")
    mt = MountTable.read(str(path))
    assert len(mt.mounts) == 2
    m = mt.mounts[1]
    assert m.root == os.fsdecode(b"/a\rb\x0bc\xe2\x80\xa8d\xff")
    assert m.point == os.fsdecode(b"/t/x\xff\x85")
    assert mt.at(os.fsdecode(b"/t/x\xff\x85")) is m


def test_malformed_line_is_a_clear_error():
    with pytest.raises(ValueError, match="malformed mountinfo line"):
        Mount.parse("garbage")


def test_stack_follows_parents_for_a_mount_tucked_underneath():
    # Propagation can put a mount *under* an existing one: listed last, not on top.
    mt = table("""
22 1 8:1 / / rw - ext4 /dev/sda1 rw
60 22 0:60 / /t rw - tmpfs top rw
61 22 8:17 /x /t rw - ext4 /dev/sdb1 rw
""".replace("60 22 0:60", "60 61 0:60"))
    assert mt.at("/t").id == 60
    assert [m.id for m in mt.stack("/t")] == [61, 60]
    assert mt.covering(mt.at("/t")) is None


def test_bound_from(mt):
    ours = mt.bound_from("/grodata")
    assert ours(mt.at("/var/lib/mysql")) and ours(mt.at("/var/lib/with space"))
    assert not ours(mt.at("/opt/x"))            # root filesystem
    assert not ours(mt.by_id[41])               # /srv/old of the root filesystem
    only_mysql = mt.bound_from("/grodata/mysql")
    assert only_mysql(mt.at("/var/lib/mysql")) and not only_mysql(mt.at("/var/lib/redis"))


@pytest.mark.parametrize("words,clash", [
    (("noatime", "relatime"), True), (("relatime", "nosuid", "noatime"), True),
    (("noatime", "nodiratime"), False), (("ro", "noexec", "relatime"), False), ((), False),
])
def test_contradictions(words, clash):
    assert (mounts.contradictions(words) is not None) is clash
