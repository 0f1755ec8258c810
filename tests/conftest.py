"""Shared fixtures.

The whole test session runs in a private mount namespace of its own (made
at start-up with unshare(2)): every tmpfs and bind mount the tests make dies
with the pytest process, whatever happens, and nothing leaks into the host.
"""

import ctypes
import os
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = os.path.join(TOP, "agents")
LIB = os.path.join(TOP, "lib")
INSTALLED = "/usr/lib/ocf/resource.d/grommunio"
sys.path.insert(0, LIB)

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 0x40000


def _private_mount_namespace():
    if os.geteuid() != 0:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    # Stop propagation both ways, or our mounts would appear on the host.
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
    return True


PRIVATE_NS = _private_mount_namespace()


def pytest_report_header(config):
    return "private mount namespace: %s" % ("yes" if PRIVATE_NS else "no (not root)")


@pytest.fixture
def needs_root():
    if not PRIVATE_NS:
        pytest.skip("needs root and a private mount namespace")


class Result:
    """What one agent run gave: exit code, output, and its exit reason(s)."""

    def __init__(self, rc, stdout, stderr):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    @property
    def reasons(self):
        return [line[len("ocf-exit-reason:"):] for line in self.stderr.splitlines()
                if line.startswith("ocf-exit-reason:")]

    @property
    def reason(self):
        reasons = self.reasons
        assert len(reasons) <= 1, "more than one exit reason: %r" % reasons
        return reasons[0] if reasons else None

    def __repr__(self):
        return "Result(rc=%s, stdout=%r, stderr=%r)" % (self.rc, self.stdout, self.stderr)


def run_agent(path, action, params=None, env=None, args=(), timeout=60, prefix=()):
    """Run an agent as Pacemaker would: action in argv, parameters in OCF_RESKEY_*.

    ``prefix`` goes before the agent's path: another interpreter
    (``python3.9 -IS``) or a wrapper such as ``unshare -m``.
    """
    environ = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
               "OCF_RESOURCE_INSTANCE": "test", "HA_LOGFACILITY": "none"}
    for name, value in (params or {}).items():
        environ["OCF_RESKEY_" + name] = value
    environ.update(env or {})
    proc = subprocess.run([*prefix, path, action, *args], env=environ, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    return result


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
                  "services.redis", "services.adminapi"]


def pytest_terminal_summary(terminalreporter):
    """The times the cluster tests measured (tests/cluster/timings.py), for CI logs and README.md."""
    timings = sys.modules.get("cluster.timings")
    if timings is not None and timings.RECORDED:
        terminalreporter.section("cluster timings (seconds)")
        for what, seconds in timings.RECORDED:
            terminalreporter.write_line("%7.2f  %s" % (seconds, what))
