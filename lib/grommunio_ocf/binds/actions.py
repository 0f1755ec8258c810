"""grodata-binds' start and stop: bind what is missing, prove it, and remove only what is ours.

* ``start`` never binds over a wrong mount, records where grodata comes
  from (``origin``) before binding anything, binds the unbound targets in
  plan order, re-reads mountinfo and judges every target as monitor will;
  whatever goes wrong, it undoes the binds *this* start made -- and nothing
  else.
* ``stop`` unmounts in reverse order within the operation's budget
  (``release``), and takes as ours only binds from the grodata filesystem:
  as mounted now, or as recorded at start (grodata may have been unmounted
  under running binds).  A foreign mount on a target is left alone, and
  with it its processes.
"""

from . import judge, origin as origins
from .mounts import MountTable, bind_mount, within
from .unmount import release
from ..ocf.status import OCFError, Status


def start(agent, values, op):
    table = MountTable.read()
    from_grodata = table.bound_from(values.grodata)
    before = {m.id for m in table.mounts}

    def made_here(mount):  # what the undo may remove: a bind this very start made
        return mount.id not in before and from_grodata(mount)

    # Recorded before anything is bound: whatever happens next, stop will
    # know these binds as ours even if grodata is unmounted under them.
    origins.remember(agent.name, op, table.origin(values.grodata), agent.log)
    todo = []
    judged = judge.judge_all(table, values.plan, values.options)
    op.observed["binds"] = judge.counted(judged)  # for metrics_dir, if start ends here
    for bind, state, detail in judged:
        if state == judge.WRONG:
            hint = ("stop the resource to unmount it" if from_grodata(table.at(bind.target))
                    else "not from grodata %s: stop leaves it, unmount it by hand" % values.grodata)
            raise OCFError(Status.ERR_GENERIC, "%s: %s; refusing to bind over it (%s)"
                           % (bind.target, detail, hint))
        if state == judge.UNBOUND:
            todo.append(bind)
    made = []
    for bind in todo:
        try:
            if values.create_targets:
                judge.make_dirs(bind.target)
            bind_mount(bind.source, bind.target, values.options)
        except OSError as exc:
            _undo(made, op, made_here, agent.log)
            raise OCFError(Status.ERR_GENERIC, "bind %s -> %s failed: %s"
                           % (bind.source, bind.target, exc.strerror or exc)) from None
        made.append(bind)
    # Prove the result the way monitor will judge it.
    judged = judge.judge_all(MountTable.read(), values.plan, values.options)
    op.observed["binds"] = judge.counted(judged)
    wrong = [(bind, detail) for bind, state, detail in judged if state != judge.OK]
    if wrong:
        _undo(made, op, made_here, agent.log)
        raise OCFError(Status.ERR_GENERIC, "; ".join("%s: %s" % (b.target, detail)
                                                     for b, detail in wrong) + " after binding")
    if made:
        agent.log.info("bound %d of %d targets" % (len(made), len(values.plan)))
    return Status.SUCCESS


def _undo(made, op, ours, log):
    """Unmount the binds this start made -- those and nothing else."""
    result = release([b.target for b in made], op.deadline, log, ours, kill=False, lazy=True)
    for target, why in result.failed.items():
        log.error("undo: %s still mounted: %s" % (target, why))


def stop(agent, values, op):
    if values.plan is None:
        agent.log.warning("stop: grodata or binds is invalid, so no start can have bound "
                          "anything with them: nothing to stop")
        return Status.SUCCESS
    tests = [MountTable.read().bound_from(values.grodata)]
    tests += [within(*origin) for origin in origins.recalled(agent.name, op, agent.log)]

    def ours(mount):
        return any(test(mount) for test in tests)

    # Invalid booleans (None) take their defaults: stop must not depend on them.
    result = release([b.target for b in values.plan], op.deadline, agent.log, ours,
                     kill=values.kill_holders is not False, lazy=values.lazy_unmount is not False)
    if not result.ok:
        raise OCFError(Status.ERR_GENERIC, "; ".join(
            "%s: %s" % item for item in result.failed.items()) + " (still mounted)")
    origins.forget(agent.name, op, agent.log)
    return Status.SUCCESS
