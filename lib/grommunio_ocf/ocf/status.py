"""OCF 1.1 exit codes and the exception that carries one out of an action.

Plain ``int`` constants, as Pacemaker's ``exitstatus.py`` keeps them: an
``IntEnum`` would import ``enum`` (with functools and collections), about
3 ms on every monitor, for names that only messages need -- ``ocf_name``
gives those.
"""


class Status:
    """Exit status of a resource agent action (OCF 1.1, section "Exit codes")."""

    SUCCESS = 0
    ERR_GENERIC = 1
    ERR_ARGS = 2
    ERR_UNIMPLEMENTED = 3
    ERR_PERM = 4
    ERR_INSTALLED = 5
    ERR_CONFIGURED = 6
    NOT_RUNNING = 7
    RUNNING_PROMOTED = 8
    FAILED_PROMOTED = 9
    DEGRADED = 190
    DEGRADED_PROMOTED = 191


# Every code, by value, in the order of the specification.
NAMES = {value: name for name, value in vars(Status).items() if name.isupper()}


def checked(code):
    """``code`` as an int if it is an OCF 1.1 exit code, else ``ValueError``."""
    if isinstance(code, bool) or not isinstance(code, int) or code not in NAMES:
        raise ValueError("%r is not an OCF exit code" % (code,))
    return int(code)


def ocf_name(code):
    """The name Pacemaker prints, e.g. ``OCF_NOT_RUNNING``."""
    return "OCF_" + NAMES[code]


class OCFError(Exception):
    """Ends an action with ``status`` and ``reason`` as its exit reason.

    Raised anywhere below an action; ``agent.run`` is the only place that turns
    it into an exit code and an ``ocf-exit-reason:`` line.
    """

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = checked(status)
        self.reason = reason

    def __str__(self):
        return "%s: %s" % (ocf_name(self.status), self.reason)
