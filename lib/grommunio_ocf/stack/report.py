"""stack-health's ``--verbose``: one line per unit of the guide's grommunio_svc group.

Each line names the unit, then what each check that proves it found and
how long it took::

    gromox-http: 401 msrpc realm in 2.1 ms; [exmdb] ping answered 00 in 0.4 ms
    php-fpm: [sync] 401 GSync realm in 9.8 ms
    redis: not checked (redis_address off)

A check named like its unit is not named again; any other is, in
brackets.  A result that is not plain success starts with its word:
``FAILED`` (a critical check: the monitor fails), ``failed`` (degrades),
``degraded`` or ``warning``.
"""

from ..checks.contract import Outcome
from .checks import CHECKS, SERVICES

PARAMETER = {row.name: row.parameter for row in CHECKS}


def part(service, outcome, critical):
    label = "" if outcome.name.replace("_", "-") == service else "[%s] " % outcome.name
    state = outcome.state
    if state == Outcome.FAILED and outcome.name not in critical:
        state = "failed"
    word = "" if state == Outcome.PASSED else state + " "
    return "%s%s%s in %.1f ms" % (label, word, outcome.detail, outcome.latency * 1000)


def lines(outcomes, critical):
    by_name = {o.name: o for o in outcomes}
    for service, names in SERVICES:
        parts = [part(service, by_name[name], critical) for name in names if name in by_name]
        if not parts:
            parts = ["not checked (%s off)" % " and ".join(PARAMETER[name] for name in names)]
        yield "%s: %s" % (service, "; ".join(parts))


def report(outcomes, op, critical):
    for line in lines(outcomes, critical):
        op.say(line)
