"""metrics_dir under real Pacemaker: the node label is Pacemaker's node name, the
interval is the configured monitor's, and stopping the resource removes its file.

The installed stack-health checks an IMAP server of this process; the file is
checked with promtool like every file the agents write (tests/integration/test_metrics.py).
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from helpers import missing
from services.gromox import NEW_CHECKS_OFF
from services.listeners import FakeImap

pytestmark = [pytest.mark.integration]

RESOURCE = "metrics_health"


def samples(path):
    found = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            match = re.fullmatch(r'(\w+)\{(.*)\} (\S+)\n', line)
            if match:
                labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2)))
                found.setdefault(match.group(1), []).append((labels, float(match.group(3))))
    return found


def test_the_file_follows_the_resource(cluster):
    if not shutil.which("promtool"):
        missing("not installed: promtool")
    directory = tempfile.mkdtemp(prefix="metrics-cluster.")
    path = os.path.join(directory, "grommunio_ocf-stack-health-%s.prom" % RESOURCE)
    try:
        with FakeImap() as imap:
            mon = cluster.load(
                "primitive %s ocf:grommunio:stack-health params imap_url=imap://%s "
                "admin_api_url=off mysql_config=off lmtp_address=off critical=imap "
                "check_timeout=2 metrics_dir=%s %s op monitor interval=5s timeout=20s"
                % (RESOURCE, imap.address, directory,
                   " ".join("%s=%s" % item for item in NEW_CHECKS_OFF.items())))
            assert mon.role(RESOURCE) == "Started", mon
            # The start's file has no interval; the first monitor's has.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if os.path.exists(path) and "grommunio_ocf_monitor_interval_seconds" in samples(path):
                    break
                time.sleep(0.5)
            found = samples(path)
            [(labels, interval)] = found["grommunio_ocf_monitor_interval_seconds"]
            assert labels == {"agent": "stack-health", "resource": RESOURCE, "node": cluster.node}
            assert interval == 5
            assert found["grommunio_ocf_result_code"] == [(labels, 0)]
            assert [v for l, v in found["grommunio_ocf_check_up"] if l["check"] == "imap"] == [1]
            assert time.time() - found["grommunio_ocf_last_monitor_timestamp_seconds"][0][1] < 15
            with open(path, "rb") as handle:
                check = subprocess.run(["promtool", "check", "metrics"], stdin=handle,
                                       capture_output=True, text=True, timeout=30)
            assert (check.returncode, check.stdout, check.stderr) == (0, "", ""), check
            cluster.crm("resource", "stop", RESOURCE)
            mon = cluster.wait_settled()
            assert mon.role(RESOURCE) == "Stopped", mon
            assert os.listdir(directory) == []
    finally:
        cluster.crm("configure", "delete", "--force", RESOURCE, check=False)
        cluster.wait_settled()
        shutil.rmtree(directory, ignore_errors=True)
