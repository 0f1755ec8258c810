"""Time budgets on the monotonic clock.

Pacemaker kills an agent that overruns its operation timeout and records a
timeout, which for ``stop`` means fencing.  Every wait in an action therefore
draws on one ``Deadline`` derived from ``OCF_RESKEY_CRM_meta_timeout``, and
sub-steps get child deadlines that can never outlive their parent.
"""

import time


class Deadline:
    """A point in monotonic time; ``remaining()`` counts down to it."""

    __slots__ = ("end", "clock", "total")

    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.total = max(0.0, seconds)  # what it started with, for messages
        self.end = clock() + self.total

    def remaining(self):
        return max(0.0, self.end - self.clock())

    def expired(self):
        return self.clock() >= self.end

    def child(self, seconds=None):
        """A deadline at most ``seconds`` from now, and never past ours."""
        left = max(0.0, self.remaining())
        if seconds is not None:
            left = min(left, seconds)
        return Deadline(left, self.clock)

    def fraction(self, share):
        """A child deadline for ``share`` (0..1) of the time that is left."""
        return self.child(self.remaining() * share)

    def __repr__(self):
        return "Deadline(%.3fs left)" % self.remaining()


def reserve_for(budget):
    """Time kept back from an operation's budget to report the result.

    10% of the budget, at least 0.2 s and at most 2 s: enough to log, print
    the exit reason and exit before Pacemaker's own timer fires.
    """
    return min(2.0, max(0.2, budget * 0.1))
