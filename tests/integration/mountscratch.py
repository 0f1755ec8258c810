"""Helpers and fixtures for the integration tests: a scratch area with a real tmpfs as grodata.

Everything mounted here lives in the private mount namespace tests/helpers.py
makes at import time; the teardown still unmounts it all, so that one test
cannot leave mounts behind for the next.
"""

import os
import shutil
import subprocess
import tempfile

import pytest


def _unescape(field):
    # The kernel's four escapes (space, tab, newline, backslash), backslash last.
    for escaped, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(escaped, char)
    return field


def mountinfo():
    """Every line of /proc/self/mountinfo as a dict, in kernel order.

    Exact, like the agent's own parser (a test helper must not trip over the
    odd names the tests mount): bytes split on newlines, fields on single
    spaces, paths decoded as os.fsdecode does.
    """
    out = []
    with open("/proc/self/mountinfo", "rb") as handle:
        lines = os.fsdecode(handle.read()).split("\n")
    for line in lines:
        if not line:
            continue
        fields = line.split(" ")
        sep = fields.index("-", 6)
        out.append({"id": int(fields[0]), "parent": int(fields[1]), "dev": fields[2],
                    "root": _unescape(fields[3]), "point": _unescape(fields[4]),
                    "options": set(fields[5].split(",")), "fstype": fields[sep + 1],
                    "line": line})
    return out


def mounts_at(point):
    return [m for m in mountinfo() if m["point"] == point]


def top_mount(point):
    """The last mount at ``point`` (the visible one), or None."""
    found = mounts_at(point)
    return found[-1] if found else None


def mounts_under(path):
    return [m for m in mountinfo() if m["point"] == path or m["point"].startswith(path + "/")]


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True, text=True)


def unmount_all_under(path):
    """Unmount everything at or below ``path``, deepest first; lazy as fallback.

    A mount that cannot be reached by its path (hidden by a later mount on a
    parent directory) is skipped until the mount hiding it is gone.
    """
    for _ in range(200):
        found = list(enumerate(mounts_under(path)))
        if not found:
            return
        # Deepest first; among equals the most recent (later in mountinfo) first.
        found.sort(key=lambda item: (item[1]["point"].count("/"), item[0]), reverse=True)
        for _, mount in found:
            point = mount["point"]
            if subprocess.run(["umount", point], capture_output=True).returncode == 0 or \
                    subprocess.run(["umount", "-l", point], capture_output=True).returncode == 0:
                break
        else:
            break
    raise AssertionError("could not unmount everything under %s: %r" % (path, mounts_under(path)))


class Scratch:
    """``root``: scratch dir; ``grodata``: a fresh tmpfs (or plain dir); ``targets``: target dir."""

    def __init__(self, root, mounted=True, options=None):
        self.root = root
        self.grodata = os.path.join(root, "grodata")
        self.targets = os.path.join(root, "targets")
        os.mkdir(self.grodata)
        os.mkdir(self.targets)
        if mounted:
            cmd = ["mount", "-t", "tmpfs"]
            if options:
                cmd += ["-o", options]
            sh(*cmd, "grodata-test", self.grodata)

    @property
    def dev(self):
        return top_mount(self.grodata)["dev"]

    def sources(self, *names):
        for name in names:
            os.makedirs(self.src(name), exist_ok=True)

    def src(self, name):
        return os.path.join(self.grodata, name)

    def tgt(self, name):
        return os.path.join(self.targets, name)

    def binds(self, names):
        return " ".join("%s:%s" % (self.src(n), self.tgt(n)) for n in names)

    def other_tmpfs(self, name="other"):
        path = os.path.join(self.root, name)
        os.makedirs(path, exist_ok=True)
        sh("mount", "-t", "tmpfs", "other-test", path)
        return path


@pytest.fixture
def scratch_factory(needs_root):
    made = []

    def make(mounted=True, options=None):
        root = tempfile.mkdtemp(prefix="grodata-binds-test.", dir="/tmp")
        made.append(root)
        return Scratch(root, mounted, options)

    yield make
    for root in made:
        unmount_all_under(root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def scratch(scratch_factory):
    return scratch_factory()
