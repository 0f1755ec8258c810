"""grommunio-ocf-check on the running cluster: parameters from the live CIB, nothing changed.

The installed command (packaging/install, run under the suite's lock)
reads a stack-health primitive inside a group from the cluster's CIB with
cibadmin, runs its check and reports; the cluster sees none of it -- the
node attribute the agent publishes, the fail count, the failures and the
resource's operation history stay as they were, even when the command's
--set makes the check fail.
"""

import subprocess
import xml.etree.ElementTree as ET

import pytest

from pluginformat import parse
from services.gromox import NEW_CHECKS_OFF
from services.listeners import closed_port
from .cluster import tool_env

pytestmark = [pytest.mark.integration]

COMMAND = "/usr/sbin/grommunio-ocf-check"
ATTRIBUTE = "health-chk"


def config(status_url):
    return ("primitive chk_health ocf:grommunio:stack-health params imap_url=off "
            "admin_api_url=%s mysql_config=off lmtp_address=off critical=admin_api "
            "check_timeout=2 health_attribute=%s %s op monitor interval=10s timeout=20s\n"
            "group chk_group chk_health\n"
            % (status_url, ATTRIBUTE, " ".join("%s=%s" % item for item in NEW_CHECKS_OFF.items())))


def run(*args):
    proc = subprocess.run([COMMAND, *args], capture_output=True, text=True, timeout=60,
                          env=tool_env(), stdin=subprocess.DEVNULL, cwd="/")
    assert "Traceback" not in proc.stdout + proc.stderr, proc
    return proc, parse(proc.stdout, proc.returncode)


def history(cluster):
    """The resource's operation history in the CIB's status section (ids and call ids)."""
    status = ET.fromstring(cluster.tool(["cibadmin", "--query", "--scope", "status"]).stdout)
    return sorted((op.get("id"), op.get("call-id"), op.get("rc-code"))
                  for rsc in status.iter("lrm_resource") if rsc.get("id") == "chk_health"
                  for op in rsc.iter("lrm_rsc_op") if op.get("interval") in (None, "0"))


def test_checks_a_resource_of_the_live_cib_and_changes_nothing(cluster, adminapi_session):
    adminapi_session.reset()
    cluster.load(config(adminapi_session.status_url))
    mon = cluster.wait(lambda m: m.role("chk_health") == "Started"
                       and m.nodes[cluster.node].attributes.get(ATTRIBUTE) == "green",
                       60, "chk_health started and green")
    before = (mon.nodes[cluster.node].attributes, mon.resources["chk_health"].fail_count,
              mon.failures_of("chk_health"), history(cluster))

    proc, (word, summary, perf, lines) = run("chk_group")
    assert proc.returncode == 0 and word == "OK", proc
    assert summary == "chk_health (stack-health): 1 check ok"
    assert perf["admin_api"][2][1] == "2000"                       # check_timeout=2 from the CIB
    assert lines[0].startswith("admin_api %s: ok - " % adminapi_session.status_url), lines

    port = closed_port()
    proc, (word, summary, perf, lines) = run(
        "chk_health", "--set", "admin_api_url=http://127.0.0.1:%d/api/v1/status" % port)
    assert proc.returncode == 2 and word == "CRITICAL", proc
    assert summary == "chk_health (stack-health): admin_api: connection refused by 127.0.0.1:%d" \
        % port

    mon = cluster.mon()
    after = (mon.nodes[cluster.node].attributes, mon.resources["chk_health"].fail_count,
             mon.failures_of("chk_health"), history(cluster))
    assert after == before
    assert mon.role("chk_health") == "Started"
