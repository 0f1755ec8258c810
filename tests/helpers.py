"""What tests share beyond fixtures: the tree's paths, running an agent as Pacemaker
does, and the private mount namespace of the test session.

Imported by test modules (``from helpers import run_agent``) and by
conftest.py, which turns some of it into fixtures.  Importing it changes
nothing: the namespace is entered by conftest's session fixture.
"""

import ctypes
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = os.path.join(TOP, "agents")
LIB = os.path.join(TOP, "lib")
INSTALLED = "/usr/lib/ocf/resource.d/grommunio"
if LIB not in sys.path:
    sys.path.insert(0, LIB)

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 0x40000

_namespace = {"private": False}


def enter_private_mount_namespace():
    """Move this process into a mount namespace of its own, once; True if it is in one.

    Every tmpfs and bind mount the tests make then dies with the pytest
    process, whatever happens, and nothing leaks into the host; pacemaker and
    the services the tests start inherit it.
    """
    if _namespace["private"]:
        return True
    if os.geteuid() != 0:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    # Stop propagation both ways, or our mounts would appear on the host.
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
    _namespace["private"] = True
    return True


def in_private_mount_namespace():
    return _namespace["private"]


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


def under_ci():
    """True in CI (``CI=true``), where everything the suite promises must be there."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what):
    """Skip the test because ``what`` is not on this machine -- or fail, under CI.

    tests/run installs everything the suite uses, so in CI a missing tool is
    a broken set-up, not a reason to test less; on a developer's machine a
    clear skip says what to install.
    """
    import pytest
    if under_ci():
        pytest.fail("%s (tests/run installs it; CI must not skip it)" % what, pytrace=False)
    pytest.skip(what, allow_module_level=True)


def import_or_missing(module, package):
    """``pytest.importorskip`` that fails under CI (see ``missing``)."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        missing("Python module %s not installed (Debian package %s)" % (module, package))


# What a healthy monitor must never import: each costs every monitor on every
# node milliseconds (enum, re, json, threading, subprocess, socket.py) or
# loads OpenSSL's bindings (hashlib).  A TLS check imports ssl, which brings
# several of them: it is exempt, so the tests that use this configure none.
MONITOR_FORBIDDEN = ("json", "re", "socket", "threading", "enum", "hashlib", "subprocess")
IMPORTTIME = ("/usr/bin/python3", "-IS", "-X", "importtime")


def imported_modules(result):
    """The modules a run made with ``prefix=IMPORTTIME`` imported (from ``-X importtime``)."""
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.add(name)
    assert names, "no -X importtime lines: was the run made with prefix=IMPORTTIME?"
    return names


def assert_lean_monitor(result):
    """The monitor succeeded and imported none of ``MONITOR_FORBIDDEN``."""
    assert result.rc == 0, result
    loaded = imported_modules(result)
    assert not loaded & set(MONITOR_FORBIDDEN), sorted(loaded & set(MONITOR_FORBIDDEN))
