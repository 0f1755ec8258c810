"""pcs, as RHEL admins drive Pacemaker: every agent created offline in a CIB file
(pcs checks parameter names against our meta-data), described, and every
pcs example of the README run for real.
"""

import os
import re
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from helpers import TOP

pytestmark = [pytest.mark.integration]

AGENTS = sorted(n[:-4] for n in os.listdir(os.path.join(TOP, "metadata")) if n.endswith(".xml"))
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}


@pytest.fixture
def cib(tmp_path):
    """An empty CIB file; needs pcs and the installed agents (tests/run installs both)."""
    if not shutil.which("pcs") or not shutil.which("cibadmin"):
        pytest.skip("pcs or cibadmin is not installed (tests/run installs them)")
    if not all(os.path.exists("/usr/lib/ocf/resource.d/grommunio/" + a) for a in AGENTS):
        pytest.skip("the agents are not installed (packaging/install)")
    path = tmp_path / "cib.xml"
    path.write_text(subprocess.run(["cibadmin", "--empty"], check=True, capture_output=True,
                                   text=True).stdout)
    return str(path)


def pcs(cib, *args):
    return subprocess.run(["pcs", "-f", cib, *args], capture_output=True, text=True, env=ENV,
                          timeout=120, stdin=subprocess.DEVNULL)


def params(agent):
    root = ET.parse(os.path.join(TOP, "metadata", agent + ".xml")).getroot()
    return [p.get("name") for p in root.iter("parameter")]


@pytest.mark.parametrize("agent", AGENTS)
def test_pcs_creates_each_agent_offline(cib, agent):
    first = params(agent)[0]
    root = ET.parse(os.path.join(TOP, "metadata", agent + ".xml")).getroot()
    default = root.find("parameters/parameter/content").get("default") or "/x"
    proc = pcs(cib, "resource", "create", "r1", "ocf:grommunio:" + agent,
               "%s=%s" % (first, default), "op", "monitor", "interval=17s", "timeout=33s")
    assert proc.returncode == 0, proc.stderr
    prim = ET.parse(cib).getroot().find(".//primitive[@id='r1']")
    assert (prim.get("class"), prim.get("provider"), prim.get("type")) == ("ocf", "grommunio", agent)
    assert prim.find("instance_attributes/nvpair").get("name") == first
    # pcs added the meta-data's start and stop beside the monitor asked for.
    assert {op.get("name") for op in prim.iter("op")} >= {"start", "stop", "monitor"}


@pytest.mark.parametrize("agent", AGENTS)
def test_pcs_refuses_an_unknown_parameter_naming_the_allowed_ones(cib, agent):
    before = open(cib).read()
    proc = pcs(cib, "resource", "create", "r1", "ocf:grommunio:" + agent, "bogus=1")
    assert proc.returncode != 0
    assert "invalid resource option 'bogus'" in proc.stderr
    allowed = re.search(r"allowed options are: (.*?), use --force", proc.stderr).group(1)
    assert sorted(re.findall(r"'([^']+)'", allowed)) == sorted(params(agent))
    assert open(cib).read() == before


@pytest.mark.parametrize("agent", AGENTS)
def test_pcs_describes_each_agent(agent):
    if not shutil.which("pcs"):
        pytest.skip("pcs is not installed")
    proc = subprocess.run(["pcs", "resource", "describe", "ocf:grommunio:" + agent],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ocf:grommunio:%s - " % agent)
    for name in params(agent):
        assert re.search(r"^  %s: " % name, proc.stdout, re.M), name
    assert "Default operations:" in proc.stdout


def readme_commands(prefix):
    """The README's indented example commands starting with ``prefix``, continuation lines joined."""
    with open(os.path.join(TOP, "README.md"), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    commands, current = [], None
    for line in lines:
        if current is not None:
            current += " " + line.strip().rstrip("\\")
            if not line.rstrip().endswith("\\"):
                commands.append(current)
                current = None
        elif line.startswith("    " + prefix):
            current = line.strip().rstrip("\\")
            if not line.rstrip().endswith("\\"):
                commands.append(current)
                current = None
    return commands


def test_readme_shows_the_pcs_form_of_every_crm_example(cib):
    crm = [c for c in readme_commands("primitive ") if "ocf:grommunio:" in c]
    pcs_lines = [c for c in readme_commands("pcs ") if "ocf:grommunio:" in c]
    assert crm and len(pcs_lines) >= len(crm)
    agents_in = lambda cmds: sorted(re.search(r"ocf:grommunio:(\S+)", c).group(1) for c in cmds)
    assert agents_in(pcs_lines) == agents_in(crm)


def test_readme_pcs_examples_run(cib):
    """Every pcs command of the README (creating, grouping, cloning, constraints) runs,
    in order, against one CIB file holding stand-ins for the guide's other resources."""
    for rsc, group in (("mariadb", ["--group", "grommunio_svc"]), ("grodata_mount", []),
                       ("groCluster", [])):
        proc = pcs(cib, "resource", "create", rsc, "ocf:pacemaker:Dummy", *group)
        assert proc.returncode == 0, proc.stderr
    for command in readme_commands("pcs "):
        argv = shlex.split(command)
        if argv[1:3] in (["resource", "refresh"], ["cluster", "cib"], ["cluster", "cib-push"]):
            continue            # live-cluster commands
        if argv[1:3] == ["resource", "create"] and pcs(cib, "resource", "config",
                                                         argv[3]).returncode == 0:
            # A second form of the same example (group member, or clone).
            assert pcs(cib, "resource", "delete", argv[3], "--force").returncode == 0
        proc = pcs(cib, *argv[1:])
        assert proc.returncode == 0, (command, proc.stderr)
