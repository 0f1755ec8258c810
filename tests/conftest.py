"""Shared fixtures.

The session runs in a private mount namespace of its own, entered by the
``private_mount_namespace`` session fixture before any test (helpers.py
says why); the helpers tests import live in helpers.py.
"""

import os
import sys

import pytest

from helpers import AGENTS, INSTALLED, enter_private_mount_namespace, run_agent


@pytest.fixture(scope="session", autouse=True)
def private_mount_namespace():
    """True when the session runs in its own mount namespace (root only)."""
    return enter_private_mount_namespace()


def pytest_report_header(config):
    return "private mount namespace: %s" % ("yes, made at the session's start" if os.geteuid() == 0
                                            else "no (not root)")


@pytest.fixture
def needs_root(private_mount_namespace):
    if not private_mount_namespace:
        pytest.skip("needs root and a private mount namespace")


def _own_rsctmp(tmp_path, env):
    """The test's own HA_RSCTMP unless the test gives one: agents keep state there
    (grodata-binds too), and the machine's /run/resource-agents is shared."""
    environ = {"HA_RSCTMP": str(tmp_path / "rsctmp")}
    environ.update(env or {})
    return environ


@pytest.fixture
def agent(tmp_path):
    """``agent(name, action, params)`` runs the agent from the work tree."""
    def call(name, action, params=None, env=None, **kw):
        return run_agent(os.path.join(AGENTS, name), action, params,
                         env=_own_rsctmp(tmp_path, env), **kw)
    return call


@pytest.fixture
def installed_agent(tmp_path):
    """The same, for the copy packaging/install put under /usr/lib/ocf."""
    def call(name, action, params=None, env=None, **kw):
        path = os.path.join(INSTALLED, name)
        if not os.path.exists(path):
            pytest.fail("%s is not installed: run tests/run (it runs packaging/install)" % path)
        return run_agent(path, action, params, env=_own_rsctmp(tmp_path, env), **kw)
    return call


# Real services, started once per session by their fixtures (tests/services/).
pytest_plugins = ["services.mariadb", "services.postfix", "services.dovecot",
                  "services.redis", "services.adminapi", "services.web", "services.rspamd"]


def pytest_terminal_summary(terminalreporter):
    """The times the cluster tests measured (tests/cluster/timings.py), for CI logs and doc/testing.md."""
    timings = sys.modules.get("cluster.timings")
    if timings is not None and timings.RECORDED:
        terminalreporter.section("cluster timings (seconds)")
        for what, seconds in timings.RECORDED:
            terminalreporter.write_line("%7.2f  %s" % (seconds, what))
