"""Hostile input to every agent: each parameter × hostile values × actions (issue 11).

For every parameter of every agent (and the environment variables Pacemaker
sets), every value of ``HOSTILE`` -- empty, blank, bytes that are not UTF-8,
control characters, 5,000-character and 5,000-digit text, paths beyond
NAME_MAX/PATH_MAX, brace and colon soup, URLs and host names the resolver
would refuse -- is given to ``stop`` and to one more action drawn (seeded) from
``ACTIONS``; every action, unknown and non-UTF-8 ones included, also runs
with the baseline parameters.  Each run must keep the rules of
``agentrun.assert_clean`` (no traceback, a valid OCF code, one printable
exit reason of at most 512 bytes on failure), finish within its operation
timeout plus ``SLACK``, keep its process tree (the agent and every program
it runs, summed, sampled every 20 ms) within ``agentrun.tree_bound_mb``, and
``stop`` must return 0: nothing of ours is ever mounted or started here.

The baselines cannot bind or reach anything real: grodata-binds' grodata is
an empty, unmounted scratch directory (start fails with 5 before binding,
whatever else is wrong or right), stack-health's IMAP check dials a closed
port and nothing is critical, postfix-maps reads an empty main.cf and a map
file that does not exist.

``HOSTILE_SEED`` (environment) changes the draw; a failure names the seed.
The runs go ``PARALLEL`` at a time.
"""

import concurrent.futures
import os
import random

import pytest

from agentrun import BASE_ENV, assert_clean, run, tree_bound_mb
from helpers import AGENTS
from services.gromox import NEW_CHECKS_OFF
from services.listeners import closed_port

pytestmark = [pytest.mark.integration]

SEED = int(os.environ.get("HOSTILE_SEED", "11"))
TIMEOUT_MS = 4000
SLACK = 2.0
PARALLEL = 4
VALUES_PER_PARAMETER = 10

# Values as bytes where they must not be UTF-8; the rest as text.
HOSTILE = [
    "", " ", "\t\n", b"\xff", b"/grodata/\xc3\x28", b"\xed\xa0\x80",
    "x" * 5000, "9" * 5000, "-1", "0", "\u00b2\u00b2\u00b2", "\x0b", "\u2028", "\x1b[31mred",
    "/" + "n" * 256, "/" + "/".join(["d" * 250] * 17), "../..", "/", "relative/path",
    "{,}", "}}{{", "a:b:c", ",,,", "=", "true", "%s%n", "$(reboot)", "'; rm -rf /",
    "imap://h:99999", "http://localhost/api/st\u00e4tus", "mail..example:24",
    "a" * 64 + ".example:24", "[::1", "[" + ":" * 60 + "]:1", "inet:" + "h" * 300 + ":1",
]

# Every action an agent can be asked for, and some it cannot.
ACTIONS = ["start", "stop", "monitor", "status", "validate-all", "meta-data", "meta_data",
           "reload", "promote", "demote", "notify", "migrate_to", "migrate_from", "usage",
           "help", "frobnicate", "", b"\xff", "st\u00e4rt", "x" * 5000, "monitor\x0b"]

# Environment variables Pacemaker (or the node) sets, treated like parameters.
ENVIRONMENT = ("OCF_RESOURCE_INSTANCE", "HA_RSCTMP", "OCF_CHECK_LEVEL",
               "OCF_RESKEY_CRM_meta_timeout", "OCF_RESKEY_CRM_meta_interval",
               "HA_LOGFACILITY", "HA_debug")


def baselines(tmp_path):
    """{agent: OCF_RESKEY_* values} that can neither bind nor reach anything real."""
    grodata = tmp_path / "grodata"
    targets = tmp_path / "targets"
    postfix = tmp_path / "postfix"
    for directory in (grodata, targets, postfix):
        directory.mkdir()
    (postfix / "main.cf").write_text("")
    return {
        "grodata-binds": {"grodata": str(grodata),
                          "binds": "%s/a:%s/a %s/b:%s/b" % (grodata, targets, grodata, targets)},
        "stack-health": {"imap_url": "imap://127.0.0.1:%d" % closed_port(), "admin_api_url": "",
                         "mysql_config": "", "lmtp_address": "", "critical": "",
                         "check_timeout": "1", **NEW_CHECKS_OFF},
        "postfix-maps": {"config_directory": str(postfix), "milters": "", "virtual_transport": "",
                         "maps": "virtual_mailbox_domains=mysql:%s/none.cf" % postfix,
                         "check_timeout": "2"},
    }


def parameters(agent):
    """The agent's parameter names, from its own meta-data."""
    import re
    result = run([os.path.join(AGENTS, agent), "meta-data"], BASE_ENV)
    assert result.rc == 0, result
    return re.findall(r'<parameter name="([^"]+)"', result.stdout.decode())


def environment(agent, params, rsctmp, extra=()):
    env = dict(BASE_ENV, OCF_RESOURCE_INSTANCE="hostile", HA_RSCTMP=rsctmp,
               OCF_RESKEY_CRM_meta_timeout=str(TIMEOUT_MS))
    for name, value in params.items():
        env["OCF_RESKEY_" + name] = value
    env.update(extra)
    return env


def programs(agent, env):
    """How many programs ``agent`` may run at once with ``env``: the tree's bound.

    postfix-maps: postconf and a postmap per map (each word of ``maps`` counted,
    valid or not); stack-health: attrd_updater; grodata-binds runs none.
    """
    if agent == "postfix-maps":
        maps = os.fsdecode(env.get("OCF_RESKEY_maps", ""))
        return 1 + max(1, len(maps.replace(",", " ").split()))
    return 1 if agent == "stack-health" else 0


# {agent: (largest tree MB, its run)} over every run of this module, for the last test.
LARGEST = {}


def call(agent, action, env, cwd=None):
    """One run, checked; returns it."""
    result = run([os.path.join(AGENTS, agent), action], env, timeout=TIMEOUT_MS / 1000 + 20,
                 cwd=cwd)
    if result.tree_mb > LARGEST.get(agent, (0.0, None))[0]:
        LARGEST[agent] = (result.tree_mb, result)
    where = "seed %d, %s %r with %r" % (SEED, agent, action, {k: v for k, v in env.items()
                                                              if k not in BASE_ENV})
    try:
        assert_clean(result, action if action == "stop" else None)
        assert result.wall <= TIMEOUT_MS / 1000 + SLACK, result
        assert result.tree_mb <= tree_bound_mb(agent, programs(agent, env)), result
        if action == "meta-data":
            assert result.rc == 0, result
        elif action in ("frobnicate", b"\xff", "st\u00e4rt", "x" * 5000, "monitor\x0b", "promote",
                        "demote", "notify", "reload", "migrate_to", "migrate_from"):
            assert result.rc == 3, result
    except AssertionError as exc:
        raise AssertionError("%s: %s" % (where, exc)) from None
    return result


def _jobs(agent, name, base, rsctmp_root, rng):
    """(actions, env): ``VALUES_PER_PARAMETER`` hostile values (drawn, the non-UTF-8
    one always among them), each given to one drawn action and then to stop."""
    values = [b"\xff"] + rng.sample([v for v in HOSTILE if v != b"\xff"], VALUES_PER_PARAMETER - 1)
    jobs = []
    for index, value in enumerate(values):
        rsctmp = os.path.join(rsctmp_root, "%d" % index)
        if name == "@HA_RSCTMP":
            # The agents create their state there: an absolute value goes below
            # this test's directory (a relative one lands in the run's cwd, also
            # the test's), so that no hostile value touches the real /.
            if value[:1] in ("/", b"/"):
                value = (os.fsencode(rsctmp) if isinstance(value, bytes) else rsctmp) + value
            env = environment(agent, base, rsctmp, {"HA_RSCTMP": value})
        elif name == "metrics_dir" and value[:1] in ("/", b"/"):
            # The agents write their metrics there: below this test's directory too.
            value = (os.fsencode(rsctmp) if isinstance(value, bytes) else rsctmp) + value
            env = environment(agent, dict(base, metrics_dir=value), rsctmp)
        elif name.startswith("@"):             # another environment variable
            env = environment(agent, base, rsctmp, {name[1:]: value})
        else:
            env = environment(agent, dict(base, **{name: value}), rsctmp)
        jobs.append(((rng.choice(ACTIONS), "stop"), env, rsctmp))
    return jobs


def _sequence(agent, actions, env, cwd):
    for action in actions:  # in order: stop after what it stops
        call(agent, action, env, cwd)


def _started(rsctmp):
    """Give the health agents a state file in the test's own ``rsctmp``, so that a
    monitor runs its checks (with a hostile HA_RSCTMP, it finds none: also fine)."""
    os.makedirs(rsctmp, exist_ok=True)
    for agent in ("stack-health", "postfix-maps"):
        with open(os.path.join(rsctmp, "%s-hostile.state" % agent), "w") as state:
            state.write("fails=0\n")


AGENT_NAMES = ("grodata-binds", "stack-health", "postfix-maps")


def cases():
    # (agent, parameter) pairs are known only from meta-data: read it once, here.
    for agent in AGENT_NAMES:
        for name in parameters(agent):
            yield agent, name
        for name in ENVIRONMENT:
            yield agent, "@" + name


@pytest.mark.parametrize("agent,name", list(cases()))
def test_every_parameter_with_hostile_values(tmp_path, agent, name):
    base = baselines(tmp_path)[agent]
    rng = random.Random("%d:%s:%s" % (SEED, agent, name))
    jobs = _jobs(agent, name, base, str(tmp_path / "rsctmp"), rng)
    for _, _, rsctmp in jobs:
        _started(rsctmp)
    cwd = tmp_path / "cwd"      # where a relative HA_RSCTMP lands
    cwd.mkdir()
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        for future in [pool.submit(_sequence, agent, actions, env, str(cwd))
                       for actions, env, _ in jobs]:
            future.result()
    assert os.listdir(tmp_path / "targets") == []       # nothing was ever bound or made


@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_every_action_with_the_baseline(tmp_path, agent):
    base = baselines(tmp_path)[agent]
    env = environment(agent, base, str(tmp_path / "rsctmp"))
    _started(str(tmp_path / "rsctmp"))
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        results = dict(zip(ACTIONS, pool.map(lambda a: call(agent, a, env, str(tmp_path)),
                                             ACTIONS)))
    assert results["validate-all"].rc in (0, 5), results["validate-all"]
    assert results["stop"].rc == 0
    # Two actions at once are a usage error (2), with one reason.
    result = call(agent, "start", env, str(tmp_path))
    assert result.rc in (0, 1, 5), result
    two = run([os.path.join(AGENTS, agent), "start", b"\xff"], env, cwd=str(tmp_path))
    assert_clean(two)
    assert two.rc == 2 and two.reason == "expected exactly one action, got 'start \\xff'", two


def test_the_largest_trees():
    """Prints (with -s) each agent's largest process tree over this module's runs
    (each run was held to its own bound in ``call``)."""
    if not LARGEST:
        pytest.skip("no run of this module happened before this test")
    for agent, (tree, result) in sorted(LARGEST.items()):
        print("%s: largest tree %.1f MB (%r, rc %d)" % (agent, tree, result.argv[1:], result.rc))
