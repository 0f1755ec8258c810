"""ocf-tester (resource-agents) against the installed grodata-binds."""

import os
import shutil
import subprocess

import pytest

from mountscratch import mountinfo, mounts_under, scratch, scratch_factory  # noqa: F401
from ocftester import run_ocf_tester

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


def test_ocf_tester_passes(scratch, tmp_path):
    s = scratch
    names = ("mysql", "redis", "gromox")
    s.sources(*names)
    binds = s.binds(names)
    before = [m["line"] for m in mountinfo()]
    rc, out = run_ocf_tester(INSTALLED, "binds_test", ["grodata=" + s.grodata, "binds=" + binds,
                                                       "options=nosuid,nodev"], timeout=60,
                             env={"HA_RSCTMP": str(tmp_path / "rsctmp")})
    assert rc == 0, out
    assert "passed all tests" in out, out
    assert "Traceback" not in out
    assert [m["line"] for m in mountinfo()] == before
    assert mounts_under(s.targets) == []
