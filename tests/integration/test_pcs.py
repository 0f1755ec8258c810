"""pcs, as RHEL admins drive Pacemaker: every agent created offline in a CIB file
(pcs checks parameter names against our meta-data), described, and every
pcs example of the README run for real.

The assertions follow the pcs at hand: 0.11 (Debian 12, RHEL 9) or 0.12
(Debian 13, RHEL 10; tests/platforms/debian13 runs this file there).  What
0.12 changed for us (ClusterLabs/pcs CHANGELOG.md, pcs/cli/resource/output.py,
pcs/cli/resource/parse_args.py, pcs/lib/cib/resource/primitive.py):

* ``resource describe`` puts each parameter on a line of its own, with
  ``Description:``, ``Type:`` and ``Default:`` lines below it;
* ``--group``/``--after`` and clone meta attributes without ``meta`` are
  deprecated: the README shows the ``--future`` form for 0.12 beside the form
  0.11.5 takes;
* every ``resource create`` runs the agent's ``validate-all`` through
  ``crm_resource --validate`` with the parameters given (also with ``-f``): a
  failure is a warning, or a refusal with ``--agent-validation``.  So
  validate-all must judge the parameters alone: 0, or 5/6 with one reason.
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
MYSQL_CONFIG = "/etc/gromox/mysql_adaptor.cfg"      # stack-health's default mysql_config
# pcs takes "group G after R" and "clone C meta ..." with --future since 0.11.7
# (pcs/cli/resource/parse_args.py) and warns about the older forms from then on.
FUTURE_SINCE = (0, 11, 7)


def pcs_version():
    """(major, minor, patch) of the pcs installed here."""
    out = subprocess.run(["pcs", "--version"], capture_output=True, text=True, env=ENV,
                         timeout=60).stdout
    return tuple(int(n) for n in re.match(r"(\d+)\.(\d+)\.(\d+)", out).groups())


def reasons(stderr):
    """The exit reasons an agent's validate-all gave, as pcs passes them on."""
    return [line.strip()[len("ocf-exit-reason:"):] for line in stderr.splitlines()
            if line.strip().startswith("ocf-exit-reason:")]


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
    root = ET.parse(os.path.join(TOP, "metadata", agent + ".xml")).getroot()
    if pcs_version() < (0, 12, 0):
        # 0.11: "  NAME: DESCRIPTION", one line each.
        for name in params(agent):
            assert re.search(r"^  %s: " % name, proc.stdout, re.M), name
    else:
        # 0.12: "  NAME" alone, then its description, type and default indented below.
        options = proc.stdout.split("\nResource options:\n", 1)[1].split("\n\n", 1)[0]
        for param in root.iter("parameter"):
            name, content = param.get("name"), param.find("content")
            block = re.search(r"^  %s(?: \(required\))?\n((?:    .*\n?)+)" % re.escape(name),
                              options, re.M)
            assert block, name
            assert "    Description: " in block.group(1), name
            assert "    Type: %s\n" % content.get("type") in block.group(1) + "\n", name
            if content.get("default"):
                assert "    Default: %s" % content.get("default") in block.group(1), name
            else:
                assert "Default:" not in block.group(1), name
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


@pytest.mark.parametrize("modern", [False, True], ids=["pcs-0.11", "pcs-0.12"])
def test_readme_shows_the_pcs_form_of_every_crm_example(modern):
    crm = [c for c in readme_commands("primitive ") if "ocf:grommunio:" in c]
    pcs_lines = [" ".join(argv) for argv in platform_commands(modern)
                 if "ocf:grommunio:" in " ".join(argv)]
    assert crm and len(pcs_lines) >= len(crm)
    agents_in = lambda cmds: sorted(re.search(r"ocf:grommunio:(\S+)", c).group(1) for c in cmds)
    assert agents_in(pcs_lines) == agents_in(crm)


def platform_commands(modern=None):
    """The README's pcs commands for pcs 0.12 (``modern``) or 0.11, by default
    for the pcs at hand, in order.

    Where a command has a form for pcs 0.12 (``--future``: the group and
    clone keywords, no deprecation warning), the form pcs 0.11.5 takes is
    the next ``resource create`` of the same resource; each pcs runs its own.
    """
    commands = [shlex.split(c) for c in readme_commands("pcs ")]
    future = [i for i, argv in enumerate(commands) if "--future" in argv]
    assert future, "the README shows no pcs 0.12 form"
    alternative = {}
    for i in future:
        creates = [j for j in range(i + 1, len(commands)) if commands[j][1:3] == commands[i][1:3]]
        assert creates and commands[creates[0]][1:4] == commands[i][1:4] and \
            "--future" not in commands[creates[0]], \
            "no pcs 0.11 form follows %s" % " ".join(commands[i])
        alternative[i] = creates[0]
    if modern is None:
        modern = pcs_version() >= FUTURE_SINCE
    other = set(alternative.values()) if modern else set(future)
    return [argv for i, argv in enumerate(commands) if i not in other]


def expected_reasons(argv):
    """What pcs 0.12 passes on from validate-all for a README ``resource create``:
    the one reason the installed agent itself gives for those parameters."""
    if argv[1:3] != ["resource", "create"] or pcs_version() < (0, 12, 0):
        return []          # 0.11.5 does not run the agent unless asked to
    agent = argv[4].rpartition(":")[2]
    words = [w for w in argv[5:] if not w.startswith("-")]
    end = min([words.index(k) for k in ("op", "meta", "clone", "group") if k in words] +
              [len(words)])
    env = dict(ENV, OCF_ROOT="/usr/lib/ocf", OCF_RESOURCE_INSTANCE="readme",
               HA_LOGFACILITY="none",
               **{"OCF_RESKEY_" + k: v for k, _, v in (w.partition("=") for w in words[:end]
                                                        if "=" in w)})
    proc = subprocess.run(["/usr/lib/ocf/resource.d/grommunio/" + agent, "validate-all"],
                          capture_output=True, text=True, env=env, timeout=60)
    return reasons(proc.stderr) if proc.returncode else []


def test_readme_pcs_examples_run(cib):
    """Every pcs command of the README (creating, grouping, cloning, constraints) for
    the pcs at hand runs, in order, against one CIB file holding stand-ins for the
    guide's other resources: no error, no deprecation warning, and on pcs 0.12
    exactly the reason validate-all gives (stack-health's mysql_config, on a node
    without gromox)."""
    for rsc, group in (("mariadb", ["--group", "grommunio_svc"]), ("grodata_mount", []),
                       ("groCluster", [])):
        proc = pcs(cib, "resource", "create", rsc, "ocf:pacemaker:Dummy", *group)
        assert proc.returncode == 0, proc.stderr
    said = []
    for argv in platform_commands():
        if argv[1:3] in (["resource", "refresh"], ["cluster", "cib"], ["cluster", "cib-push"]):
            continue            # live-cluster commands
        if argv[1:3] == ["resource", "create"] and pcs(cib, "resource", "config",
                                                         argv[3]).returncode == 0:
            # A second form of the same example (group member, or clone).
            assert pcs(cib, "resource", "delete", argv[3], "--force").returncode == 0
        proc = pcs(cib, *argv[1:])
        command = " ".join(argv)
        assert proc.returncode == 0, (command, proc.stderr)
        assert "Deprecation" not in proc.stderr, (command, proc.stderr)
        assert reasons(proc.stderr) == expected_reasons(argv), (command, proc.stderr)
        said += reasons(proc.stderr)
    if pcs_version() >= (0, 12, 0) and not os.path.exists(MYSQL_CONFIG):
        assert "mysql_config: %s does not exist" % MYSQL_CONFIG in said


def test_readme_pcs_other_forms_as_the_readme_says(cib):
    """The form the README gives for the other pcs: pcs 0.12 takes the 0.11.5 form
    with a deprecation warning; pcs 0.11.5 refuses --future."""
    pcs(cib, "resource", "create", "mariadb", "ocf:pacemaker:Dummy", "--group", "grommunio_svc")
    modern = pcs_version() >= FUTURE_SINCE
    other = [argv for argv in platform_commands(not modern)
             if argv not in platform_commands(modern)]
    assert len(other) == 2
    for argv in other:
        pcs(cib, "resource", "delete", argv[3], "--force")
        proc = pcs(cib, *argv[1:])
        if modern:
            assert proc.returncode == 0, proc.stderr
            assert "Deprecation Warning: " in proc.stderr
        else:
            assert proc.returncode == 1
            assert proc.stderr.startswith("Error: option --future not recognized")


# -- validate-all as pcs 0.12 runs it: crm_resource --validate -------------------------

VALIDATE = [
    ("grodata-binds", {"grodata": "/grodata"}, 0, None),      # no mount needed to judge
    ("grodata-binds", {"grodata": "relative"}, 6, "grodata: 'relative' is not an absolute path"),
    ("grodata-binds", {"binds": "../x"}, 6, "binds: '../x' is neither a name nor source:target"),
    ("stack-health", {"mysql_config": "off"}, 0, None),
    ("stack-health", {"mysql_config": "/nonexistent/mysql_adaptor.cfg"}, 5,
     "mysql_config: /nonexistent/mysql_adaptor.cfg does not exist"),
    ("stack-health", {"mysql_config": "off", "fall": "x"}, 6, "fall: 'x' is not an integer"),
    ("postfix-maps", {"config_directory": "/nonexistent"}, 5,
     "config_directory /nonexistent does not exist"),
    ("postfix-maps", {"maps": "garbage"}, 6, "maps: 'garbage' is not PARAMETER=mysql:/path.cf"),
]


@pytest.mark.parametrize("agent, options, code, reason", VALIDATE)
def test_validate_all_answers_crm_resource_validate_from_the_parameters(agent, options, code,
                                                                        reason):
    """What pcs 0.12 runs on every create and update (pcs/lib/pacemaker/live.py):
    the installed agent, the parameters as --option, the result as XML."""
    if not shutil.which("crm_resource"):
        pytest.skip("crm_resource is not installed")
    if not os.path.exists("/usr/lib/ocf/resource.d/grommunio/" + agent):
        pytest.skip("the agents are not installed (packaging/install)")
    argv = ["crm_resource", "--validate", "--output-as", "xml", "--class", "ocf",
            "--provider", "grommunio", "--agent", agent]
    for item in sorted(options.items()):
        argv += ["--option", "%s=%s" % item]
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=60)
    assert proc.returncode == code, proc.stdout + proc.stderr
    status = ET.fromstring(proc.stdout).find("resource-agent-action/agent-status")
    assert (int(status.get("code")), status.get("reason")) == (code, reason)
    output = "".join(o.text or "" for o in ET.fromstring(proc.stdout).iter("output")
                     if o.get("source") == "stderr")
    assert reasons(output) == ([reason] if reason else [])
    assert "Traceback" not in output


def test_pcs_agent_validation_refuses_with_the_agents_reason(cib):
    before = open(cib).read()
    proc = pcs(cib, "resource", "create", "--agent-validation", "r1",
               "ocf:grommunio:grodata-binds", "grodata=relative")
    assert proc.returncode == 1
    assert reasons(proc.stderr) == ["grodata: 'relative' is not an absolute path"]
    assert open(cib).read() == before
