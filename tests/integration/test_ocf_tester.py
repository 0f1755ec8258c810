"""ocf-tester (resource-agents) against the installed grodata-binds."""

import os
import shutil
import subprocess

import pytest

from mountscratch import mountinfo, mounts_under, scratch, scratch_factory  # noqa: F401

pytestmark = [pytest.mark.integration]

INSTALLED = "/usr/lib/ocf/resource.d/grommunio/grodata-binds"


@pytest.fixture(scope="module", autouse=True)
def installed():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    subprocess.run([os.path.join(top, "packaging", "install")], check=True, capture_output=True)
    if not shutil.which("ocf-tester"):
        pytest.skip("ocf-tester (resource-agents) is not installed")


def test_ocf_tester_passes(scratch):
    s = scratch
    names = ("mysql", "redis", "gromox")
    s.sources(*names)
    binds = s.binds(names)
    before = [m["line"] for m in mountinfo()]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HA_LOGFACILITY": "none"}
    proc = subprocess.run(["ocf-tester", "-n", "binds_test", "-o", "grodata=" + s.grodata,
                           "-o", "binds=" + binds, "-o", "options=nosuid,nodev", INSTALLED],
                          env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "passed all tests" in out, out
    assert "Traceback" not in out
    assert [m["line"] for m in mountinfo()] == before
    assert mounts_under(s.targets) == []
