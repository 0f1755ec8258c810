"""OCF 1.1 exit codes and the exception that carries one out of an action."""

from enum import IntEnum


class Status(IntEnum):
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

    @property
    def ocf_name(self):
        """The name Pacemaker prints, e.g. ``OCF_NOT_RUNNING``."""
        return "OCF_" + self.name


class OCFError(Exception):
    """Ends an action with ``status`` and ``reason`` as its exit reason.

    Raised anywhere below an action; ``agent.run`` is the only place that turns
    it into an exit code and an ``ocf-exit-reason:`` line.
    """

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = Status(status)
        self.reason = reason

    def __str__(self):
        return "%s: %s" % (self.status.ocf_name, self.reason)
