"""grommunio_ocf.ocf.state: the state file under HA_RSCTMP, whatever the environment holds."""

import os

import pytest

from grommunio_ocf.ocf.state import NAME_LIMIT, StateFile, number, state_path
from grommunio_ocf.ocf.status import OCFError, Status


@pytest.mark.parametrize("instance", ["x" * 5000, "\udcff" * 300, "a/b" * 100, "\u00e4" * 150])
def test_absurd_instance_names_give_a_file_name_the_kernel_takes(tmp_path, instance):
    path = state_path(str(tmp_path), "agent", instance)
    name = os.fsencode(os.path.basename(path))
    assert b"/" not in name and len(name) <= NAME_LIMIT + len(b"agent-.state")
    state = StateFile(path)
    state.write({"fails": "1"})
    assert state.read() == {"fails": "1"}
    state.remove()
    assert state.read() is None


def test_long_names_stay_distinct(tmp_path):
    a = state_path(str(tmp_path), "agent", "x" * 300 + "a")
    b = state_path(str(tmp_path), "agent", "x" * 300 + "b")
    assert a != b


@pytest.mark.parametrize("rsctmp", ["/" + "d" * 300, "/dev/null/sub", "/proc/self/cmdline/x"])
def test_a_path_that_cannot_exist_is_not_started_and_stops_cleanly(rsctmp):
    state = StateFile(state_path(rsctmp, "agent", "r"))
    assert state.read() is None
    state.remove()                                   # nothing to remove: no error
    with pytest.raises(OCFError) as info:
        state.write({"fails": "0"})
    assert info.value.status == Status.ERR_GENERIC
    assert info.value.reason.startswith("cannot write the state file ")


def test_garbled_state_file_is_read_without_error(tmp_path):
    path = tmp_path / "agent-r.state"
    path.write_bytes(b"fails=\xb2\xb2\nhealth=\xff\n" + b"x" * 100000)
    values = StateFile(str(path)).read()
    assert number(values, "fails") == 0
    assert values["health"] == "\ufffd"


@pytest.mark.parametrize("text,value", [("3", 3), ("\u00b2", 0), ("9" * 5000, 0), ("-1", 0),
                                        ("", 0), ("007", 7)])
def test_number(text, value):
    assert number({"n": text}, "n") == value
    assert number({}, "n") == 0
