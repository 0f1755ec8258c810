"""grommunio_ocf.ocf.deadline: budgets on the monotonic clock."""

import pytest

from grommunio_ocf.ocf.deadline import Deadline, reserve_for

# -- Deadline -----------------------------------------------------------------------------

class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def test_deadline_counts_down():
    clock = FakeClock()
    d = Deadline(10, clock)
    assert d.remaining() == 10 and not d.expired()
    clock.advance(4)
    assert d.remaining() == 6
    clock.advance(6)
    assert d.remaining() == 0 and d.expired()
    clock.advance(5)
    assert d.remaining() == 0 and d.expired()


def test_deadline_negative_is_already_expired():
    d = Deadline(-3, FakeClock())
    assert d.remaining() == 0 and d.expired()


def test_child_never_outlives_parent():
    clock = FakeClock()
    parent = Deadline(10, clock)
    assert parent.child(100).remaining() == 10
    assert parent.child(3).remaining() == 3
    assert parent.child().remaining() == 10
    clock.advance(7)
    child = parent.child(5)
    assert child.remaining() == 3
    assert child.clock is clock


def test_fraction():
    clock = FakeClock()
    parent = Deadline(10, clock)
    clock.advance(2)
    assert parent.fraction(0.5).remaining() == 4
    assert parent.fraction(1).remaining() == 8
    assert parent.fraction(0).expired()


def test_deadline_repr():
    assert repr(Deadline(1.5, FakeClock())) == "Deadline(1.500s left)"


def test_deadline_default_clock_is_monotonic():
    d = Deadline(60)
    assert 59 < d.remaining() <= 60


@pytest.mark.parametrize("budget,reserve", [(0, 0.2), (1, 0.2), (2, 0.2), (5, 0.5), (20, 2.0),
                                            (60, 2.0), (3600, 2.0)])
def test_reserve_for(budget, reserve):
    assert reserve_for(budget) == pytest.approx(reserve)
