"""grommunio_ocf.base.spawn: a program run within a deadline, output bounded, no subprocess."""

import os
import threading
import time

import pytest

from grommunio_ocf.base import spawn
from grommunio_ocf.ocf.deadline import Deadline

SH = "/bin/sh"


def sh(script, seconds=5.0, **kw):
    return spawn.run([SH, "-c", script], Deadline(seconds), **kw)


def test_output_and_exit_code():
    done = sh("echo out; echo err >&2; exit 3")
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")


def test_stdin_is_dev_null():
    assert sh("cat; echo end").stdout == "end\n"


def test_killed_by_a_signal_is_a_negative_code():
    assert sh("kill -TERM $$").returncode == -15


def test_the_deadline_kills_and_reaps():
    began = time.monotonic()
    with pytest.raises(spawn.TimedOut):
        sh("echo started; exec sleep 30", seconds=0.3)
    assert time.monotonic() - began < 1.0
    assert _zombie_children() == []  # killed and reaped


def _zombie_children():
    """Our children that exited and were never reaped (other children -- a test
    session's service daemons -- may well be running)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == os.getpid():
                found.append(int(name))
    return found


def test_no_time_left_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(spawn.TimedOut):
        spawn.run([SH, "-c", "touch %s" % marker], Deadline(0))
    assert not marker.exists()


def test_endless_output_is_bounded_and_never_blocks():
    done = sh("head -c 1000000 /dev/zero; echo done >&2", limit=1000)
    assert (len(done.stdout), done.stderr) == (1000, "done\n")


def test_undecodable_bytes_are_replaced():
    assert sh(r"printf '\377ok'").stdout == "\ufffdok"


def test_a_missing_program_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        spawn.run([str(tmp_path / "nope")], Deadline(1))


def test_environment_is_passed():
    assert sh("echo $GREETING", environ={"GREETING": "hello"}).stdout == "hello\n"


def _inheritable():
    """Descriptors above 2 that any child inherits (left by whoever started us: pytest's)."""
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            if int(name) > 2 and os.get_inheritable(int(name)):
                found.add(name)
        except OSError:  # the directory's own descriptor, gone already
            pass
    return found


def test_no_descriptor_of_ours_leaks_into_the_child_or_stays_open():
    before = set(os.listdir("/proc/self/fd"))
    done = sh("ls /proc/$$/fd")
    assert set(done.stdout.split()) == {"0", "1", "2"} | _inheritable()
    assert set(os.listdir("/proc/self/fd")) == before


def test_parallel_runs_from_threads():
    results = {}

    def work(n):
        results[n] = sh("sleep 0.2; echo %d" % n).stdout

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: "%d\n" % n for n in range(4)}
    assert time.monotonic() - began < 0.8


def test_importing_it_loads_no_subprocess():
    import subprocess
    code = ("import sys; sys.path.insert(0, %r); from grommunio_ocf.base import spawn; "
            "print('subprocess' in sys.modules, 'signal' in sys.modules)"
            % os.path.dirname(os.path.dirname(os.path.dirname(spawn.__file__))))
    out = subprocess.run(["/usr/bin/python3", "-IS", "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


def test_which_finds_executables_only(tmp_path):
    tool = tmp_path / "postconf"
    tool.write_text("#!/bin/sh\n")
    assert spawn.which("postconf", {"PATH": str(tmp_path)}) is None
    tool.chmod(0o755)
    assert spawn.which("postconf", {"PATH": "/nonexistent:%s" % tmp_path}) == str(tool)


def test_which_defaults_to_our_own_path(monkeypatch, tmp_path):
    tool = tmp_path / "attrd_updater"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert spawn.which("attrd_updater") == str(tool)


# -- memory: every child is bounded, and reaped on every path ------------------------

PYTHON = "/usr/bin/python3"


def _data_limit(done):
    for line in done.stdout.splitlines():
        if line.startswith("Max data size"):
            return line.split()[3:5]
    raise AssertionError(done.stdout)


# The limit lands right after the spawn: a child may run a moment before it
# (tests/bench/bench_spawn.py counts how often), so this one looks a little later.
LIMITS = "sleep 0.2; exec cat /proc/self/limits"


def test_the_child_gets_the_data_limit():
    assert _data_limit(sh(LIMITS)) == [str(spawn.MEMORY_LIMIT)] * 2
    assert _data_limit(sh(LIMITS, memory=64 << 20)) == [str(64 << 20)] * 2


def test_no_limit_when_asked_for_none():
    assert _data_limit(sh(LIMITS, memory=None)) == ["unlimited"] * 2


def test_a_child_that_runs_out_of_its_memory():
    # Python says MemoryError; Postfix "insufficient memory" (integration tests).
    began = time.monotonic()
    with pytest.raises(spawn.OutOfMemory, match="^python3 ran out of its 24 MB$") as caught:
        spawn.run([PYTHON, "-IS", "-c", "bytearray(256 << 20)"], Deadline(10), memory=24 << 20)
    assert caught.value.memory == 24 << 20
    assert time.monotonic() - began < 5
    assert _zombie_children() == []


def test_a_failure_that_merely_mentions_memory_is_not_out_of_memory():
    done = sh("echo 'Cannot allocate memory' >&2; exit 0")  # exit 0: it worked
    assert done.returncode == 0
    # A cause relayed from a peer, before the program's own last word:
    done = sh("echo 'postmap: warning: mysql: Can''t create thread (errno 12 \"Cannot allocate"
              " memory\")' >&2; echo 'postmap: fatal: table lookup problem' >&2; exit 1")
    assert done.returncode == 1


def test_the_last_line_says_out_of_memory():
    with pytest.raises(spawn.OutOfMemory, match="^sh ran out of its 32 MB$"):
        sh("echo 'postmap: warning: a note' >&2; echo 'postmap: fatal: myrealloc: insufficient"
           " memory for 52428801 bytes: Cannot allocate memory' >&2; echo >&2; exit 1")


def test_a_read_error_kills_and_reaps_the_child(mocker):
    mocker.patch.object(spawn, "_collect", side_effect=OSError(5, "Input/output error"))
    with pytest.raises(OSError, match="Input/output error"):
        sh("exec sleep 30")
    assert _zombie_children() == [] and _sleepers() == []


def test_a_child_that_cannot_be_bounded_is_killed_and_reaped(mocker):
    mocker.patch.object(spawn, "_limit", side_effect=PermissionError(1, "Operation not permitted"))
    with pytest.raises(PermissionError):
        sh("exec sleep 30")
    assert _zombie_children() == [] and _sleepers() == []


def test_a_child_gone_before_its_limit_is_fine(mocker):
    mocker.patch.object(spawn, "_limit", side_effect=ProcessLookupError(3, "No such process"))
    assert sh("echo quick").stdout == "quick\n"


def _sleepers():
    """Our children still running ``sleep 30``."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open("/proc/%s/cmdline" % name, "rb") as cmdline:
                    argv = cmdline.read().split(b"\0")
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and argv[:2] == [b"sleep", b"30"]:
                found.append(int(name))
    return found
