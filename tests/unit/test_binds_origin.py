"""grommunio_ocf.binds.origin and the origin records of grodata-binds (issue 11)."""

import os

import pytest

from grommunio_ocf.binds import origin as bindstate
from grommunio_ocf.binds.mounts import Mount, origin_text, parse_origin, within


class Op:
    def __init__(self, rsctmp):
        self.rsctmp = rsctmp
        self.instance = "binds"


class Log:
    def __init__(self):
        self.warnings = []

    def warning(self, text):
        self.warnings.append(text)


@pytest.mark.parametrize("origin", [("8:17", "/"), ("147:0", "/data/grodata"),
                                    ("0:55", os.fsdecode(b"/odd \n\x0b\xff dir"))])
def test_origin_text_round_trip(origin):
    text = origin_text(origin)
    assert "\n" not in text and text.isascii()
    assert parse_origin(text) == origin


@pytest.mark.parametrize("text", ["", "8:17", "x:1 2f", "8:17 zz", "8:17 61", "\u00b2:1 2f"])
def test_parse_origin_refuses_garbage(text):
    assert parse_origin(text) is None


def test_within():
    test = within("8:17", "/g")
    assert test(Mount(1, 0, "8:17", "/g/a", "/t", "rw", "ext4", "x"))
    assert test(Mount(1, 0, "8:17", "/g", "/t", "rw", "ext4", "x"))
    assert not test(Mount(1, 0, "8:17", "/gx", "/t", "rw", "ext4", "x"))
    assert not test(Mount(1, 0, "8:1", "/g/a", "/t", "rw", "ext4", "x"))


def test_remember_recall_forget(tmp_path):
    op, log = Op(str(tmp_path)), Log()
    assert bindstate.recalled("grodata-binds", op, log) == []
    bindstate.remember("grodata-binds", op, ("147:0", "/"), log)
    bindstate.remember("grodata-binds", op, ("8:17", "/g"), log)
    bindstate.remember("grodata-binds", op, ("147:0", "/"), log)      # moves to the end
    assert bindstate.recalled("grodata-binds", op, log) == [("8:17", "/g"), ("147:0", "/")]
    bindstate.forget("grodata-binds", op, log)
    assert bindstate.recalled("grodata-binds", op, log) == []
    assert log.warnings == []


def test_record_is_bounded(tmp_path):
    op, log = Op(str(tmp_path)), Log()
    for minor in range(20):
        bindstate.remember("grodata-binds", op, ("9:%d" % minor, "/"), log)
    recalled = bindstate.recalled("grodata-binds", op, log)
    assert len(recalled) == bindstate.MAX_ORIGINS and recalled[-1] == ("9:19", "/")


def test_unwritable_state_only_warns():
    op, log = Op("/proc/self/no-such-dir"), Log()
    bindstate.remember("grodata-binds", op, ("8:17", "/"), log)
    assert bindstate.recalled("grodata-binds", op, log) == []
    bindstate.forget("grodata-binds", op, log)
    assert len(log.warnings) == 1 and "cannot record where the binds come from" in log.warnings[0]
