"""OCF 1.1 exit codes and the exception that carries one out of an action."""

# The codes as (name, value), in the order of the specification.
CODES = (("SUCCESS", 0), ("ERR_GENERIC", 1), ("ERR_ARGS", 2), ("ERR_UNIMPLEMENTED", 3),
         ("ERR_PERM", 4), ("ERR_INSTALLED", 5), ("ERR_CONFIGURED", 6), ("NOT_RUNNING", 7),
         ("RUNNING_PROMOTED", 8), ("FAILED_PROMOTED", 9), ("DEGRADED", 190),
         ("DEGRADED_PROMOTED", 191))


class _Codes(type):
    """``Status(7)`` is the one ``NOT_RUNNING``, ``Status["NOT_RUNNING"]`` too, and
    ``for s in Status`` lists them: what an ``IntEnum`` offers, without ``enum``,
    whose import (with functools and collections) costs every monitor ~3 ms."""

    def __call__(cls, value):
        if isinstance(value, cls):
            return value
        try:
            return cls._by_value[value]
        except (KeyError, TypeError):
            raise ValueError("%r is not a valid Status" % (value,)) from None

    def __getitem__(cls, name):
        return cls._by_name[name]

    def __iter__(cls):
        return iter(cls._by_value.values())


class Status(int, metaclass=_Codes):
    """Exit status of a resource agent action (OCF 1.1, section "Exit codes")."""

    __slots__ = ()
    _by_value = {}
    _by_name = {}

    @property
    def name(self):
        return _NAMES[int(self)]

    @property
    def ocf_name(self):
        """The name Pacemaker prints, e.g. ``OCF_NOT_RUNNING``."""
        return "OCF_" + self.name

    def __repr__(self):
        return "<Status.%s: %d>" % (self.name, self)

    __str__ = int.__repr__  # "7", on every Python (IntEnum's changed in 3.11)


_NAMES = dict((value, name) for name, value in CODES)
for _name, _value in CODES:
    _member = int.__new__(Status, _value)
    Status._by_value[_value] = Status._by_name[_name] = _member
    setattr(Status, _name, _member)
del _name, _value, _member


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
