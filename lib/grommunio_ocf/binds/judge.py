"""grodata-binds' judgement: is each target bound from the right source, and may we bind here?

The safety of the agent lives in two answers, both here and both testable
on a synthetic mount table without root:

* ``judge`` -- a target is "ok" only when the visible mount on it comes
  from its source's device *and* directory (mountinfo's root field) with
  every flag asked for; "unbound" when nothing is mounted there; "wrong"
  for anything else (another source, hidden under a later mount, flags
  missing).  ``verdict`` turns those into monitor's answer.
* ``problems`` -- what this node lacks for a start: a mounted grodata
  (never bind onto an unmounted one: MariaDB would start a fresh database
  on the root filesystem), real paths, directory targets, the sources.

Also the small file-system steps of start and of the deepest monitor:
``make_dirs`` and ``write_test_file``.
"""

import os

from ..ocf.params import Problem
from ..ocf.status import OCFError, Status

OK, UNBOUND, WRONG = "ok", "unbound", "wrong"


def judge(table, bind, flags, plan):
    """``(OK | UNBOUND | WRONG, detail)`` for one bind of ``plan`` in ``table``."""
    mount = table.at(bind.target)
    if mount is None:
        return UNBOUND, "not bound"
    cover = table.covering(mount)
    if cover is not None:
        return WRONG, "hidden under a later mount on %s" % cover.point
    want = table.origin(bind.source)
    if (mount.dev, mount.root) != want:
        got = table.describe(mount.dev, mount.root, exclude={b.target for b in plan})
        return WRONG, "bound from %s, want %s" % (got, bind.source)
    missing = [f for f in flags if f not in mount.flags]
    if missing:
        return WRONG, "bound without %s" % ",".join(missing)
    return OK, "from %s" % bind.source


def judge_all(table, plan, flags):
    """``[(bind, state, detail)]`` for every bind of ``plan``, in plan order."""
    return [(bind,) + judge(table, bind, flags, plan) for bind in plan]


def counted(judged):
    """``(proved, not proved)``: the binds judged OK, and the others."""
    proved = sum(1 for _, state, _ in judged if state == OK)
    return proved, len(judged) - proved


def verdict(judged):
    """Monitor's answer for ``judge_all``'s result: a ``Status``, or ``OCFError`` naming each bad target.

    All unbound is "not running"; anything between is a failure, the wrong
    sources first: they are the dangerous ones (data in the wrong place).
    """
    bad = [(bind, state, detail) for bind, state, detail in judged if state != OK]
    if not bad:
        return Status.SUCCESS
    if len(bad) == len(judged) and all(state == UNBOUND for _, state, _ in bad):
        return Status.NOT_RUNNING
    bad.sort(key=lambda item: item[1] == UNBOUND)
    raise OCFError(Status.ERR_GENERIC, "; ".join("%s: %s" % (b.target, detail) for b, _, detail in bad)
                   + " (%d of %d binds bad)" % (len(bad), len(judged)))


def nested_in_plan(bind, plan):
    """The target lies inside another target, so it appears once that one is bound."""
    return any(o is not bind and bind.target.startswith(o.target + "/") for o in plan)


def problems(table, grodata, plan, require_mountpoint, create_targets, starting,
             realpath=os.path.realpath):
    """What this node lacks for binding ``plan`` (``Problem`` objects, most important first).

    On the standby node grodata is legitimately unmounted, so outside a
    start that is no problem, and sources can only be judged where it is
    mounted.
    """
    mounted = table.is_own_filesystem(grodata)
    if require_mountpoint and not mounted and starting:
        # The one check that matters most goes first: it is why nothing was bound.
        yield Problem(Status.ERR_INSTALLED, "grodata %s is not a mounted filesystem: "
                      "refusing to bind (require_mountpoint=true)" % grodata)
    if realpath(grodata) != grodata:
        yield Problem(Status.ERR_INSTALLED, "grodata %s resolves to %s: give the real path"
                      % (grodata, realpath(grodata)))
    for bind in plan:
        # The kernel resolves symlinks and mountinfo shows the real path;
        # a symlinked target would be bound but never found by monitor.
        if realpath(bind.target) != bind.target:
            yield Problem(Status.ERR_INSTALLED, "target %s resolves to %s: give the real path"
                          % (bind.target, realpath(bind.target)))
        elif os.path.lexists(bind.target) and not os.path.isdir(bind.target):
            yield Problem(Status.ERR_INSTALLED, "target %s is not a directory" % bind.target)
        elif not create_targets and not os.path.isdir(bind.target) and not nested_in_plan(bind, plan):
            yield Problem(Status.ERR_INSTALLED,
                          "target %s does not exist (create_targets=false)" % bind.target)
        if (mounted or not require_mountpoint) and not os.path.isdir(bind.source):
            yield Problem(Status.ERR_INSTALLED, "source %s is not a directory" % bind.source)


def missing_sources(plan):
    return [b.source for b in plan if not os.path.isdir(b.source)]


def make_dirs(path):
    """mkdir -p with mode 0755 on every directory made, whatever the umask."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = path.rsplit("/", 1)[0] or "/"
    for directory in reversed(missing):
        os.mkdir(directory, 0o755)
        os.chmod(directory, 0o755)


def write_test_file(grodata, tag):
    """Write, read back and remove a hidden file in grodata (never in a data directory)."""
    path = "%s/.grodata-binds-write-test.%s" % (grodata, tag)
    token = os.urandom(16)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, token)
            os.fsync(fd)
        finally:
            os.close(fd)
        with open(path, "rb") as handle:
            back = handle.read()
        os.unlink(path)
    except OSError as exc:
        raise OCFError(Status.ERR_GENERIC, "grodata %s: write test failed: %s"
                       % (grodata, exc.strerror or exc)) from None
    if back != token:
        raise OCFError(Status.ERR_GENERIC, "grodata %s: test file read back wrong data" % grodata)
