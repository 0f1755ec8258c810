"""stack-health against hostile peers: bounded in time, memory and words (issue 11).

Every check, MariaDB's included, meets peers that send garbage, never
stop, trickle a byte at a time, announce IMAP literals of 1.5 GB and of 20
digits, send 1 MiB lines, a status code of ``²²²`` or 5,000 digits, JSON
nested 30,000 deep, MariaDB packets of 16 MiB and plugin names of 60 KB
(tests/services/hostile.py lists them).  For each, one ``monitor`` (check_timeout 2 s, operation
timeout 10 s) must:

* return within the check's limit plus ``SLACK``,
* stay under ``RSS_LIMIT_MB`` of peak RSS -- the agent's own (wait4), and
  its process tree's (``agentrun.tree_bound_mb``: it starts no program here,
  so the tree is the agent),
* give the exit code the case expects, with one printable exit reason of at
  most 512 bytes that names the check.

The cases run a few at a time (each is mostly waiting), so the whole file
takes about as long as its slowest few cases.
"""

import concurrent.futures
import os

import pytest

from agentrun import assert_clean, monitor_against, tree_bound_mb
from helpers import AGENTS
from services.hostile import CASES

pytestmark = [pytest.mark.integration]

CHECK_TIMEOUT = 2.0
SLACK = 1.5          # interpreter start, imports, thread join, exit -- on a busy 2-core CI
RSS_LIMIT_MB = 50.0
PARALLEL = 6


def _monitor(case, rsctmp):
    return monitor_against(os.path.join(AGENTS, "stack-health"), case, rsctmp, CHECK_TIMEOUT)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Every case's monitor, run ``PARALLEL`` at a time: {case name: Run}."""
    base = tmp_path_factory.mktemp("hostile-peers")
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        futures = {case.name: pool.submit(_monitor, case, str(base / case.name)) for case in CASES}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_peer_is_bounded(results, case):
    result = results[case.name]
    assert_clean(result)
    assert result.wall <= CHECK_TIMEOUT + SLACK, result
    assert result.rss_mb <= RSS_LIMIT_MB, result
    assert result.tree_mb <= tree_bound_mb("stack-health"), result
    assert result.rc == case.rc, result
    if case.rc:
        assert result.reason.startswith(case.check + ": "), result
        assert case.words in result.reason, result


def test_the_hostile_monitors_stay_small_together(results):
    # The figure doc/bounds.md states: the largest of them all.
    peak = max(r.rss_mb for r in results.values())
    assert peak <= RSS_LIMIT_MB, sorted((r.rss_mb, name) for name, r in results.items())[-3:]
    tree = max(r.tree_mb for r in results.values())
    print("stack-health under hostile peers: largest peak %.1f MB, largest tree %.1f MB" % (peak, tree))
    assert tree <= tree_bound_mb("stack-health"), sorted(
        (r.tree_mb, name) for name, r in results.items())[-3:]
