"""ocf-tester (resource-agents) on an installed agent, for the integration tests."""

import shutil
import subprocess

import pytest

# What ocf-tester runs with unless a test adds to it: no logging to syslog.
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HA_LOGFACILITY": "none"}


def run_ocf_tester(agent_path, instance, options, env=None, timeout=120):
    """``ocf-tester -n INSTANCE -o OPTION... AGENT_PATH``: (exit code, stdout + stderr).

    ``options`` are "name=value" strings, or a {name: value} dict; ``env`` is
    added to ENV (e.g. HA_RSCTMP, so that the agent's state stays in a test's
    tmp_path).  Skips the test when ocf-tester is not installed.
    """
    if not shutil.which("ocf-tester"):
        pytest.skip("ocf-tester (resource-agents) is not installed")
    if isinstance(options, dict):
        options = ["%s=%s" % item for item in options.items()]
    argv = ["ocf-tester", "-n", instance]
    for option in options:
        argv += ["-o", option]
    proc = subprocess.run(argv + [agent_path], env=dict(ENV, **(env or {})), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout + proc.stderr
