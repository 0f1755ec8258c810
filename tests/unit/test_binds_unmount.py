"""grommunio_ocf.binds.unmount: the unmount ladder, with the kernel and /proc mocked.

The fake kernel keeps, per target, a number of stacked mounts and a busy
rule ("never", "until TERM", "until KILL", "always"); signals move it on.
Every unmount and signal is recorded in one event list, so the tests can
check the order of the ladder: plain, TERM, KILL, lazy.
"""

import errno
import os

import pytest

from grommunio_ocf.binds import holders, unmount as release_mod
from grommunio_ocf.ocf.deadline import Deadline
from grommunio_ocf.binds.mounts import Mount, MountTable


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.now += seconds


class FakeLog:
    def __init__(self):
        self.records = []

    def __getattr__(self, level):
        if level in ("debug", "info", "warning", "error"):
            return lambda message: self.records.append((level, message))
        raise AttributeError(level)


def _oserror(code, path):
    return OSError(code, os.strerror(code), path)


class FakeKernel:
    """Per target a stack of mounts (bottom first), each "ours" or "foreign"."""

    def __init__(self):
        self.stacks = {}
        self.covered = set()
        self.busy = {}
        self.error = {}
        self.lazy_error = {}
        self.pids = {}
        self.signals = []
        self.events = []

    @property
    def layers(self):
        return {target: len(stack) for target, stack in self.stacks.items()}

    def add(self, target, layers=1, busy="never", error=None, lazy_error=None, pids=(4242,),
            below=(), above=(), covered=False):
        # A target that does not exist (ENOENT) has no mount on it either.
        ours = [] if error == errno.ENOENT else ["ours"] * layers
        self.stacks[target] = list(below) + ours + list(above)
        if covered:
            self.covered.add(target)
        self.busy[target] = busy
        self.error[target] = error
        self.lazy_error[target] = lazy_error
        self.pids[target] = tuple(pids)

    def is_busy(self, target):
        rule = self.busy.get(target, "never")
        if rule == "never":
            return False
        if rule == "always":
            return True
        wanted = {"until TERM": holders.TERM, "until KILL": holders.KILL}[rule]
        return wanted not in self.signals

    # mocks -----------------------------------------------------------------------

    def unmount(self, target, lazy=False):
        # release() only unmounts what mountinfo shows: never a bare path.
        assert self.stacks.get(target), "umount2(%s) with nothing mounted there" % target
        if lazy:
            if self.lazy_error.get(target):
                self.events.append(("lazy", target, errno.errorcode[self.lazy_error[target]]))
                raise _oserror(self.lazy_error[target], target)
            self.events.append(("lazy", target, "ok"))
            self.stacks[target].pop()
            return
        if self.error.get(target):
            self.events.append(("umount", target, errno.errorcode[self.error[target]]))
            raise _oserror(self.error[target], target)
        if self.is_busy(target):
            self.events.append(("umount", target, "EBUSY"))
            raise _oserror(errno.EBUSY, target)
        self.events.append(("umount", target, "ok"))
        self.stacks[target].pop()

    def find(self, target, st_dev):
        assert st_dev == os.makedev(8, 17)
        if self.stacks.get(target) and self.is_busy(target):
            return {pid: ("holder", ["cwd"]) for pid in self.pids[target]}
        return {}

    def signal_all(self, pids, signum):
        self.signals.append(signum)
        self.events.append(("signal", signum.name, tuple(pids)))
        return list(pids)

    def table(self):
        """A real MountTable of the stacks: our binds show root /x, foreign ones /other."""
        mounts = [Mount(1, 0, "8:1", "/", "/", "rw", "ext4", "/dev/sda1")]
        tops = {}
        for target in sorted(self.stacks, key=len):
            parent = 1
            for other in sorted(tops, key=len):  # nested: made on the enclosing target
                if target.startswith(other + "/") and tops[other]:
                    parent = tops[other]
            for kind in self.stacks[target]:
                mount_id = len(mounts) + 100
                root, dev = ("/x", "8:17") if kind == "ours" else ("/other", "8:17")
                mounts.append(Mount(mount_id, parent, dev, root, target, "rw", "ext4", "/dev/sdb1"))
                parent = mount_id
            tops[target] = parent if self.stacks[target] else None
        for target in sorted(self.covered):
            mounts.append(Mount(len(mounts) + 100, 1, "0:50", "/", target.rsplit("/", 1)[0],
                                "rw", "tmpfs", "cover"))
        return MountTable(mounts)

    # views -----------------------------------------------------------------------

    def ladder(self):
        """The distinct steps in the order they first happened."""
        steps = []
        for event in self.events:
            if event[0] == "umount":
                step = "plain"
            elif event[0] == "lazy":
                step = "lazy"
            else:
                step = event[1]
            if step not in steps:
                steps.append(step)
        return steps


@pytest.fixture
def kernel(mocker):
    k = FakeKernel()
    mocker.patch.object(release_mod, "unmount", side_effect=k.unmount)
    mocker.patch.object(release_mod.holders, "find", side_effect=k.find)
    mocker.patch.object(release_mod.holders, "signal_all", side_effect=k.signal_all)
    mocker.patch.object(release_mod.MountTable, "read", side_effect=k.table)
    return k


@pytest.fixture
def clock():
    return FakeClock()


def ours(mount):
    return mount.root == "/x"


def run_release(targets, clock, budget=10.0, **kw):
    log = FakeLog()
    result = release_mod.release(targets, Deadline(budget, clock), log, ours, sleep=clock.sleep,
                                 **kw)
    return result, log


# -- nothing busy ------------------------------------------------------------------

def test_free_targets_unmounted_in_reverse_order(kernel, clock):
    for t in ("/a", "/a/b", "/c"):
        kernel.add(t)
    result, log = run_release(["/a", "/a/b", "/c"], clock)
    assert result.ok and result.lazy == [] and result.failed == {}
    assert [e[1] for e in kernel.events if e[2] == "ok"] == ["/c", "/a/b", "/a"]
    assert kernel.signals == []
    assert kernel.ladder() == ["plain"]
    assert clock.now == 0.0
    assert log.records == []


def test_not_mounted_is_fine_without_a_system_call(kernel, clock):
    result, _ = run_release(["/never/mounted"], clock)
    assert result.ok
    assert kernel.events == []


def test_enoent_counts_as_not_mounted(kernel, clock):
    kernel.add("/gone", error=errno.ENOENT)
    result, _ = run_release(["/gone"], clock)
    assert result.ok and kernel.signals == []


def test_stacked_mounts_all_removed(kernel, clock):
    kernel.add("/t", layers=3)
    result, _ = run_release(["/t"], clock)
    assert result.ok
    assert kernel.layers["/t"] == 0
    assert [e[2] for e in kernel.events] == ["ok", "ok", "ok"]


def test_empty_target_list(kernel, clock):
    result, _ = run_release([], clock)
    assert result.ok and kernel.events == []


# -- EBUSY, then success -------------------------------------------------------------

def test_ebusy_then_success_after_term(kernel, clock):
    kernel.add("/t", busy="until TERM", pids=(300, 200))
    result, log = run_release(["/t"], clock)
    assert result.ok and result.lazy == [] and result.failed == {}
    assert kernel.events == [
        ("umount", "/t", "EBUSY"),
        ("signal", "SIGTERM", (200, 300)),
        ("umount", "/t", "ok"),
    ]
    assert kernel.ladder() == ["plain", "SIGTERM"]
    assert clock.now == 0.0                      # no waiting needed
    assert any(level == "warning" and "sending SIGTERM" in msg and "holder[200]" in msg
               for level, msg in log.records)


def test_ebusy_until_kill(kernel, clock):
    kernel.add("/t", busy="until KILL")
    result, _ = run_release(["/t"], clock, budget=10.0)
    assert result.ok and result.lazy == []
    assert kernel.ladder() == ["plain", "SIGTERM", "SIGKILL"]
    assert kernel.signals == [holders.TERM, holders.KILL]
    # TERM got half of the 10 s budget, polled every POLL seconds
    assert clock.now == pytest.approx(5.0)
    polls = [e for e in kernel.events if e == ("umount", "/t", "EBUSY")]
    assert len(polls) > 10


# -- persistent EBUSY --------------------------------------------------------------------

def test_persistent_ebusy_ends_in_lazy_unmount(kernel, clock):
    kernel.add("/t", busy="always")
    result, log = run_release(["/t"], clock, budget=10.0, lazy=True)
    assert result.lazy == ["/t"]
    assert result.failed == {} and result.ok
    assert kernel.ladder() == ["plain", "SIGTERM", "SIGKILL", "lazy"]
    assert kernel.events[-1:] == [("lazy", "/t", "ok")]
    assert any("detached it (lazy unmount)" in msg for _, msg in log.records)


def test_persistent_ebusy_stays_within_deadline(kernel, clock):
    kernel.add("/t", busy="always")
    run_release(["/t"], clock, budget=10.0)
    # TERM: 0.5 of 10 s; KILL: 0.7 of the remaining 5 s; never the whole budget
    assert clock.now == pytest.approx(5.0 + 3.5)
    assert clock.now < 10.0


def test_busy_without_holders_does_not_wait_out_the_phases(kernel, clock):
    # Busy for a reason no process explains (a mount below it): each signal
    # phase waits a moment, not half the budget.
    kernel.add("/t", busy="always", pids=())
    result, _ = run_release(["/t"], clock, budget=60.0)
    assert result.lazy == ["/t"]
    assert clock.now <= 2 * 1.0 + 0.2


def test_persistent_ebusy_without_lazy_fails(kernel, clock):
    kernel.add("/t", busy="always")
    result, _ = run_release(["/t"], clock, lazy=False)
    # The reason names who still holds it, for the admin reading crm_mon.
    assert result.failed == {"/t": "busy (holder[4242] (cwd))"}
    assert result.lazy == [] and not result.ok
    assert kernel.ladder() == ["plain", "SIGTERM", "SIGKILL"]
    assert kernel.layers["/t"] == 1


def test_persistent_ebusy_without_kill_goes_straight_to_lazy(kernel, clock):
    kernel.add("/t", busy="always")
    result, _ = run_release(["/t"], clock, kill=False, lazy=True)
    assert result.lazy == ["/t"] and result.ok
    assert kernel.signals == []
    assert kernel.ladder() == ["plain", "lazy"]
    assert clock.now == 0.0


def test_persistent_ebusy_without_kill_or_lazy_fails_at_once(kernel, clock):
    kernel.add("/t", busy="always")
    result, _ = run_release(["/t"], clock, kill=False, lazy=False)
    assert result.failed == {"/t": "busy (holder[4242] (cwd))"} and result.lazy == []
    assert kernel.ladder() == ["plain"]


def test_lazy_unmount_failure_is_reported(kernel, clock):
    kernel.add("/t", busy="always", lazy_error=errno.EPERM)
    result, _ = run_release(["/t"], clock)
    assert result.failed == {"/t": "lazy unmount failed: Operation not permitted"}
    assert result.lazy == []


def test_stacked_busy_mount_lazily_detached_completely(kernel, clock):
    kernel.add("/t", layers=2, busy="always")
    result, _ = run_release(["/t"], clock)
    assert result.lazy == ["/t"] and kernel.layers["/t"] == 0


# -- hard errors -------------------------------------------------------------------------

def test_eperm_fails_without_escalation(kernel, clock):
    kernel.add("/t", error=errno.EPERM)
    result, _ = run_release(["/t"], clock)
    assert result.failed == {"/t": "Operation not permitted"}
    assert result.lazy == [] and not result.ok
    assert kernel.signals == []
    assert kernel.ladder() == ["plain"]


def test_eperm_on_one_target_does_not_stop_the_others(kernel, clock):
    kernel.add("/a")
    kernel.add("/b", error=errno.EPERM)
    kernel.add("/c")
    result, _ = run_release(["/a", "/b", "/c"], clock)
    assert result.failed == {"/b": "Operation not permitted"}
    assert kernel.layers == {"/a": 0, "/b": 1, "/c": 0}


# -- several targets ----------------------------------------------------------------------

def test_only_holders_of_busy_targets_are_signalled(kernel, clock):
    kernel.add("/free", pids=(1,))
    kernel.add("/busy", busy="until TERM", pids=(77, 55))
    kernel.add("/busy2", busy="until TERM", pids=(55, 66))
    result, _ = run_release(["/free", "/busy", "/busy2"], clock)
    assert result.ok
    signals = [e for e in kernel.events if e[0] == "signal"]
    assert signals == [("signal", "SIGTERM", (55, 66, 77))]   # deduplicated, sorted


def test_mixed_outcomes(kernel, clock):
    kernel.add("/a")
    kernel.add("/a/stuck", busy="always")
    kernel.add("/a/term", busy="until TERM")
    kernel.add("/z", error=errno.EACCES)
    result, _ = run_release(["/a", "/a/stuck", "/a/term", "/z"], clock, lazy=True)
    assert result.lazy == ["/a/stuck"]
    assert result.failed == {"/z": os.strerror(errno.EACCES)}
    # /a is busy while /a/stuck is mounted below it in a real kernel; here it is free
    assert kernel.layers["/a"] == 0 and kernel.layers["/a/term"] == 0


def test_no_holders_found_still_escalates(kernel, clock, mocker):
    kernel.add("/t", busy="always")
    mocker.patch.object(release_mod.holders, "find", return_value={})
    result, _ = run_release(["/t"], clock)
    assert result.lazy == ["/t"]
    assert [e[2] for e in kernel.events if e[0] == "signal"] == [(), ()]


# -- mounts that are not ours (issue 11) ----------------------------------------------------

def test_foreign_mount_alone_is_left_and_stop_is_fine(kernel, clock):
    kernel.add("/t", layers=0, below=["foreign"])
    result, log = run_release(["/t"], clock)
    assert result.ok and kernel.events == [] and kernel.layers["/t"] == 1
    assert "/t" in result.foreign
    assert any(level == "warning" and "/t: left a mount of" in msg and "not ours" in msg
               for level, msg in log.records)


def test_ours_on_top_of_a_foreign_mount_goes_the_foreign_stays(kernel, clock):
    kernel.add("/t", layers=2, below=["foreign"])
    result, _ = run_release(["/t"], clock)
    assert result.ok
    assert kernel.stacks["/t"] == ["foreign"]
    assert [e[2] for e in kernel.events] == ["ok", "ok"]


def test_ours_under_a_foreign_mount_is_never_reached_through_it(kernel, clock):
    kernel.add("/t", layers=1, above=["foreign"])
    result, _ = run_release(["/t"], clock)
    assert kernel.events == []
    assert kernel.stacks["/t"] == ["ours", "foreign"]
    assert result.failed["/t"].startswith("still mounted under a mount of ")
    assert "(not ours, not unmounted)" in result.failed["/t"]


def test_ours_between_foreign_mounts(kernel, clock):
    kernel.add("/t", layers=1, below=["foreign"], above=["ours", "foreign", "ours"])
    result, _ = run_release(["/t"], clock)
    assert kernel.stacks["/t"] == ["foreign", "ours", "ours", "foreign"]
    assert not result.ok


def test_covered_bind_is_reported_not_unmounted(kernel, clock):
    kernel.add("/var/t", covered=True)
    result, _ = run_release(["/var/t"], clock)
    assert kernel.events == []
    assert result.failed == {"/var/t": "still mounted, hidden under a mount on /var (not ours)"}


def test_busy_foreign_mount_is_never_signalled(kernel, clock):
    kernel.add("/t", layers=0, below=["foreign"], busy="always")
    result, _ = run_release(["/t"], clock, lazy=False)
    assert result.ok and kernel.signals == [] and kernel.events == []


def test_reachable_counts_only_the_top_run_of_ours(kernel):
    kernel.add("/t", layers=2, below=["ours", "foreign"])
    table = kernel.table()
    count, blocker = release_mod.reachable(table, "/t", ours)
    assert count == 2 and blocker.root == "/other"
    assert release_mod.reachable(table, "/nothing", ours) == (0, None)


def test_released_defaults():
    r = release_mod.Released()
    assert r.ok and r.lazy == [] and r.failed == {}
    r.failed["/x"] = "busy"
    assert not r.ok


# -- holders helpers (pure parts) ---------------------------------------------------------

def test_holders_describe():
    text = holders.describe({20: ("mysqld", ["cwd", "fd 3"]), 7: ("sh", ["root"])})
    assert text == "sh[7] (root), mysqld[20] (cwd, fd 3)"


def test_signal_all_skips_vanished_processes(mocker):
    def kill(pid, signum):
        if pid == 2:
            raise ProcessLookupError(pid)
    fake = mocker.patch.object(holders.os, "kill", side_effect=kill)
    assert holders.signal_all([1, 2, 3], holders.TERM) == [1, 3]
    assert [c.args for c in fake.call_args_list] == [(1, holders.TERM), (2, holders.TERM),
                                                     (3, holders.TERM)]


def test_find_never_returns_init_or_self(mocker):
    mocker.patch.object(holders.os, "listdir", return_value=["1", str(os.getpid()), "self", "500"])
    hits = mocker.patch.object(holders, "_hits", return_value=["cwd"])
    mocker.patch.object(holders, "_command", return_value="x")
    assert holders.find("/t", 0) == {500: ("x", ["cwd"])}
    assert [c.args[0] for c in hits.call_args_list] == ["500"]
