"""The kernel's mount table, and bind/unmount by system call.

``MountTable`` reads ``/proc/self/mountinfo`` once and answers the questions
the bind agent asks: which mount covers a path, from which device and which
directory of that device (mountinfo field 4, "root") a mount point really
comes, and whether a directory is a filesystem of its own.  Comparing
device and root -- not just "is something mounted here?" -- is what catches a
target bound from the wrong source.

Mounting uses mount(2)/umount2(2) through ctypes instead of the mount(8)
binary: exact errno values instead of parsed messages, no dependency on
PATH, and ctypes is only imported by the actions that change mounts.
"""

import os

from ..base.paths import is_under

MOUNTINFO = "/proc/self/mountinfo"

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_RELATIME = 0x200000
MNT_DETACH = 0x2
UMOUNT_NOFOLLOW = 0x8

# Per-mount flags a bind mount can be given, as the admin writes them and as
# mountinfo's per-mount option field (field 6) shows them.
BIND_FLAGS = {
    "ro": MS_RDONLY,
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
}

# The atime modes exclude each other: the kernel keeps one (noatime) and
# drops the other, so a bind asked for both never shows both.
ATIME_MODES = ("noatime", "relatime")
MS_ATIME_MODES = MS_NOATIME | MS_RELATIME


def contradictions(words):
    """Why ``words`` (bind flags) cannot all hold at once, or None.

    Only real contradictions: ``noatime`` implies ``nodiratime`` but both
    may be given, and ``ro`` contradicts none of the flags offered.
    """
    modes = [w for w in ATIME_MODES if w in words]
    if len(modes) > 1:
        return "%s contradict each other: a mount has one atime mode" % " and ".join(modes)
    return None


# The only escapes in mountinfo: the kernel writes space, tab, newline and
# backslash in paths as octal (fs/proc_namespace.c: " \t\n\\").  Every other
# byte -- a vertical tab, U+2028, a byte that is not UTF-8 -- stands as it is.
_ESCAPES = (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"))


def unescape(field):
    r"""Undo mountinfo's escapes: ``\040`` space, ``\011`` tab, ``\012`` newline,
    ``\134`` backslash -- those four exactly.

    The kernel escapes every backslash, so a backslash always starts one of
    the four; ``\134`` goes last so that the backslashes it makes are not
    read again (``\134040`` is a backslash followed by ``040``).
    """
    if "\\" not in field:
        return field
    for escaped, char in _ESCAPES:
        field = field.replace(escaped, char)
    return field.replace("\\134", "\\")


class Mount:
    """One line of mountinfo."""

    __slots__ = ("id", "parent", "dev", "root", "point", "options", "fstype", "source")

    def __init__(self, id, parent, dev, root, point, options, fstype, source):
        self.id = id
        self.parent = parent
        self.dev = dev
        self.root = root
        self.point = point
        self.options = options
        self.fstype = fstype
        self.source = source

    @classmethod
    def parse(cls, line):
        """One line, split on single spaces as the kernel writes it.

        ``str.split()`` would also split on a vertical tab, U+2028 and other
        characters the kernel leaves unescaped in a directory name, shifting
        every field after it.
        """
        fields = line.split(" ")
        try:
            sep = fields.index("-", 6)
            return cls(int(fields[0]), int(fields[1]), fields[2], unescape(fields[3]),
                       unescape(fields[4]), fields[5], fields[sep + 1],
                       unescape(fields[sep + 2]) if len(fields) > sep + 2 else "")
        except (ValueError, IndexError):
            raise ValueError("malformed mountinfo line %r" % line[:200]) from None

    @property
    def flags(self):
        return frozenset(self.options.split(","))

    @property
    def st_dev(self):
        major, minor = self.dev.split(":")
        return os.makedev(int(major), int(minor))

    def __repr__(self):
        return "Mount(%s %s:%s on %s)" % (self.id, self.dev, self.root, self.point)


def _join(base, rest):
    """``base`` + ``rest`` where rest is "" or starts with "/"."""
    if not rest:
        return base
    return rest if base == "/" else base + rest


def _parent_dir(path):
    return path.rsplit("/", 1)[0] or "/"


class MountTable:
    """A snapshot of the mounts this process sees."""

    def __init__(self, mounts):
        self.mounts = list(mounts)
        # The last mount made at a point is the top of the stack there (an
        # over-mount follows the mount it covers in mountinfo); the stack
        # itself may be covered from above: see covering().
        self.top = {}
        self.by_id = {}
        self._covering = {}  # mount id -> covering mount or None (memo)
        for mount in self.mounts:
            self.by_id[mount.id] = mount
        # A mount on which another one at the same point was made is not the
        # top of its stack, wherever mountinfo lists it.
        under = {m.parent for m in self.mounts
                 if m.parent in self.by_id and self.by_id[m.parent].point == m.point}
        for mount in self.mounts:
            if mount.id not in under or mount.point not in self.top:
                self.top[mount.point] = mount

    @classmethod
    def read(cls, path=MOUNTINFO):
        """The table in ``path``, its paths decoded as ``os.fsdecode`` does.

        Read as bytes and split on newlines only (text mode would also end a
        line at a carriage return, and ``splitlines()`` at U+2028, both of
        which the kernel leaves unescaped), then decoded like every path this
        process gets from its environment, so that the two compare equal.
        """
        with open(path, "rb") as handle:
            text = os.fsdecode(handle.read())
        return cls(Mount.parse(line) for line in text.split("\n") if line)

    def stack(self, point):
        """The mounts stacked at ``point`` that path lookup reaches, bottom first.

        Follows parent links down from the top mount, so a mount propagated
        in *under* existing ones (which the kernel lists last) is still
        placed correctly.
        """
        mount = self.top.get(point)
        found = []
        while mount is not None and mount.point == point and mount not in found:
            found.append(mount)
            mount = self.by_id.get(mount.parent)
        return found[::-1]

    def at_point(self, point):
        """Every mount whose mount point is ``point``, reachable or not."""
        return [m for m in self.mounts if m.point == point]

    def at(self, point):
        """The last mount made at ``point``, or None if it is not a mount point.

        It may be hidden under a later mount on a parent directory: ask
        ``covering()`` before trusting it.
        """
        return self.top.get(point)

    def containing(self, path):
        """The visible mount whose filesystem ``path`` lies on."""
        while True:
            mount = self.top.get(path)
            if mount is not None and self.covering(mount) is None:
                return mount
            if path == "/":
                raise LookupError("no visible root mount in mountinfo")
            path = _parent_dir(path)

    def covering(self, mount):
        """The mount that hides ``mount`` from path lookups, or None if visible.

        A mount is reachable only through its parent: the mount it was made
        on (below any mounts stacked at the same point).  If path lookup of
        the parent directory now finds another mount -- say a tmpfs mounted
        later on a parent directory -- that one covers ours.
        """
        if mount.id in self._covering:
            return self._covering[mount.id]
        base = mount
        parent = self.by_id.get(base.parent)
        while parent is not None and parent.point == base.point:
            base, parent = parent, self.by_id.get(parent.parent)
        cover = None
        if parent is not None and base.point != "/":  # else: the namespace's root
            current = self.containing(_parent_dir(base.point))
            if current is not parent:
                cover = current
        self._covering[mount.id] = cover
        return cover

    def origin(self, path):
        """``(dev, root)`` a bind of ``path`` would show in mountinfo."""
        mount = self.containing(path)
        return mount.dev, _join(mount.root, path[len(mount.point.rstrip("/")):])

    def bound_from(self, path):
        """A test for mounts that show ``path`` or a directory below it.

        Judged by device and root, as the table sees ``path`` now: for
        grodata-binds, "ours" -- a bind from the grodata filesystem.
        """
        return within(*self.origin(path))

    def is_own_filesystem(self, path):
        """``path`` is a mount point whose device differs from its parent's."""
        mount = self.at(path)
        if mount is None or self.covering(mount) is not None:
            return False
        if path == "/":
            return True
        return mount.dev != self.containing(_parent_dir(path)).dev

    def describe(self, dev, root, exclude=()):
        """A path where ``dev:root`` is visible, for messages; else ``dev:root``."""
        best = None
        for mount in self.mounts:
            if mount.dev != dev or mount.point in exclude or self.top.get(mount.point) is not mount:
                continue
            base = mount.root.rstrip("/")
            # The shortest matching root is the most direct view of the
            # device (/grodata/x rather than another bind of /grodata).
            if root == mount.root or root.startswith(base + "/"):
                if best is None or len(mount.root) < len(best.root):
                    best = mount
        if best is None:
            return "device %s:%s" % (dev, root)
        rest = root[len(best.root.rstrip("/")):]
        return _join(best.point, "" if rest == "/" else rest)


def within(dev, root):
    """A test for mounts of device ``dev`` that show ``root`` or a directory below it."""
    def test(mount):
        return mount.dev == dev and is_under(mount.root, root)
    return test


def origin_text(origin):
    """``(dev, root)`` as one line of text: ``8:17 2f`` (the root's bytes in hex)."""
    dev, root = origin
    return "%s %s" % (dev, os.fsencode(root).hex())


def parse_origin(text):
    """What ``origin_text()`` wrote, or None for anything else."""
    dev, _, hexroot = text.strip().partition(" ")
    major, colon, minor = dev.partition(":")
    if not (colon and major.isdigit() and minor.isdigit() and major.isascii() and minor.isascii()):
        return None
    try:
        root = os.fsdecode(bytes.fromhex(hexroot))
    except ValueError:
        return None
    return (dev, root) if root.startswith("/") else None


_LIBC = None


def _libc():
    global _LIBC
    if _LIBC is None:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                               ctypes.c_ulong, ctypes.c_void_p)
        libc.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
        _LIBC = (libc, ctypes)
    return _LIBC


def _call(func, *args, path):
    libc, ctypes = _libc()
    if getattr(libc, func)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), path)


def flag_bits(words):
    bits = 0
    for word in words:
        bits |= BIND_FLAGS[word]
    return bits


def bind_mount(source, target, flags=()):
    """Bind ``source`` onto ``target``; then apply per-mount ``flags``.

    The kernel ignores flags on the bind call itself, so they need a second,
    remount call.  If that fails the bind is undone: a half-configured mount
    (say, without ``nosuid``) is worse than none.
    """
    src, tgt = os.fsencode(source), os.fsencode(target)
    _call("mount", src, tgt, None, MS_BIND, None, path=target)
    bits = flag_bits(flags)
    if bits:
        try:
            # A bind remount *sets* the flags: keep those the new bind got
            # from its source (a nodev,noexec /grodata stays so) and add ours
            # -- but an atime mode asked for replaces the inherited one.
            inherited = current_flags(target)
            if bits & MS_ATIME_MODES:
                inherited &= ~MS_ATIME_MODES
            bits |= inherited
            _call("mount", b"none", tgt, None, MS_REMOUNT | MS_BIND | bits, None, path=target)
        except OSError:
            unmount(target)
            raise


def unmount(target, lazy=False):
    """umount2(2) without following a symlink at ``target``."""
    mode = UMOUNT_NOFOLLOW | (MNT_DETACH if lazy else 0)
    _call("umount2", os.fsencode(target), mode, path=target)


# statvfs(3) flags of a mount -> the mount(2) flags that reproduce them.
_STATVFS_TO_MS = ((os.ST_RDONLY, MS_RDONLY), (os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV),
                  (os.ST_NOEXEC, MS_NOEXEC), (os.ST_NOATIME, MS_NOATIME),
                  (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))


def current_flags(path):
    """The per-mount flags in force at ``path``, as mount(2) bits."""
    have = os.statvfs(path).f_flag
    bits = 0
    for st_flag, ms_flag in _STATVFS_TO_MS:
        if have & st_flag:
            bits |= ms_flag
    return bits
