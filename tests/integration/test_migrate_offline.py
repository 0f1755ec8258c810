"""grommunio-ocf-migrate against crmsh and Pacemaker's tools on an offline CIB.

No cluster runs: every tool works on a CIB file (``CIB_file``), which crmsh
4.4 and Pacemaker 2.1 support for everything used here except one thing:
``crm_shadow --commit`` does not write back to a CIB file.  The generated
script therefore runs with a ``crm_shadow`` first in PATH that replaces the
configuration with cibadmin for ``--commit`` and hands everything else to
the real tool.

crmsh checks each resource it creates against its agent's meta-data, and
there is none here for the systemd units and ocf:linbit:drbd of the guide's
configuration: those errors are expected (and loading the examples needs
crm -F), while the grommunio agents are installed and checked for real.

crmsh 5 (Debian 13) also says, at every ``configure show`` and ``verify``
while no Pacemaker runs here, ``WARNING: Cluster is not running, loading
the CIB file from PATH`` (crmsh/utils.py, load_cib_file_env): expected, for
exactly this CIB file and only from crmsh 5 on.  Pacemaker 3.0 (Debian 13)
marks a resource in maintenance mode ``(maintenance)`` in crm_simulate's
status where 2.1 said ``(unmanaged)``.
"""

import difflib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from helpers import TOP

pytestmark = [pytest.mark.integration]

EXAMPLES = os.path.join(TOP, "packaging", "examples")
HELPER = os.path.join(TOP, "packaging", "grommunio-ocf-migrate")
TOOLS = ("crm", "cibadmin", "crm_shadow", "crm_attribute", "crm_verify", "crm_simulate",
         "crm_resource")
SEED_BINDS = ["grodata_mount_bind_" + n for n in (
    "mysql", "redis", "gromox", "grommunio_web", "grommunio_antispam", "grommunio_dav",
    "grommunio_admin_api")]
# What crmsh says offline about agents this machine does not have.
OFFLINE_NOISE = re.compile(r"(systemd:\S+|ocf:linbit:drbd): (got no meta-data|no such resource agent)"
                           r"|Blind faith: not fencing unseen nodes|commit forced")
COMMIT_STANDIN = """#!/bin/sh
# crm_shadow, except --commit: that one does not write back to a CIB_file.
for arg; do [ "$arg" = --commit ] && commit=1; done
if [ -n "${commit:-}" ]; then
    for arg; do name=$arg; done
    exec cibadmin --replace --scope configuration --xml-file "$CIB_shadow_dir/shadow.$name"
fi
exec %s "$@"
"""


@pytest.fixture(scope="module")
def guide_xml(tmp_path_factory):
    """The guide's configuration in a CIB file, made once (a crm load costs most of a second)."""
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        pytest.skip("not installed: %s" % " ".join(missing))
    if os.geteuid() != 0:
        pytest.skip("needs root (installs the agents so that crmsh finds their meta-data)")
    subprocess.run([os.path.join(TOP, "packaging", "install")], check=True, capture_output=True)
    cib = Cib(str(tmp_path_factory.mktemp("guide")))
    if cib.run("crm", "configure", "show").returncode != 0:
        pytest.skip("crmsh does not run on a CIB file here")
    cib.load(example("guide.crm"))
    return cib.path


class Cib:
    """A CIB file (empty, or a copy of ``template``) with the tools pointed at it."""

    def __init__(self, directory, name="cib", template=None):
        self.dir = directory
        self.path = os.path.join(directory, name + ".xml")
        if template:
            shutil.copyfile(template, self.path)
        else:
            empty = subprocess.run(["cibadmin", "--empty"], check=True, capture_output=True,
                                   text=True).stdout
            with open(self.path, "w", encoding="utf-8") as handle:
                # have-quorum: no "lack of quorum" noise from crm_verify
                handle.write(empty.replace("<cib ", '<cib have-quorum="1" ', 1))
        bindir = os.path.join(directory, "bin")
        if not os.path.exists(bindir):
            os.mkdir(bindir)
            with open(os.path.join(bindir, "crm_shadow"), "w", encoding="utf-8") as handle:
                handle.write(COMMIT_STANDIN % shutil.which("crm_shadow"))
            os.chmod(os.path.join(bindir, "crm_shadow"), 0o755)
        self.env = {"CIB_file": self.path, "CIB_shadow_dir": directory, "HOME": directory,
                    "PATH": bindir + ":/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}

    def run(self, *argv, stdin=None, check=False):
        proc = subprocess.run(argv, env=self.env, input=stdin, capture_output=True, text=True,
                              timeout=120)
        assert "Traceback" not in proc.stderr, proc.stderr
        if check:
            assert proc.returncode == 0, (argv, proc.stdout, proc.stderr)
        return proc

    def load(self, path_or_text, method="update"):
        """crm -F configure load: -F because of the agents missing offline (see above)."""
        args = ("crm", "-F", "configure", "load", method)
        if os.path.exists(path_or_text):
            proc = self.run(*args, path_or_text, check=True)
        else:
            proc = self.run(*args, "-", stdin=path_or_text, check=True)
        return unexpected(proc.stderr, self.path)

    def show(self):
        return self.run("crm", "configure", "show", check=True).stdout

    def maintenance(self, on=True):
        self.run("crm_attribute", "--type", "crm_config", "--name", "maintenance-mode",
                 "--update", "true" if on else "false", check=True)

    def verify(self):
        """(crm_verify's exit status, crm configure verify's unexpected lines)."""
        status = self.run("crm_verify", "--live-check").returncode
        return status, unexpected(self.run("crm", "configure", "verify").stderr, self.path)

    def read(self):
        with open(self.path, encoding="utf-8") as handle:
            return handle.read()


def crmsh_major():
    out = subprocess.run(["crm", "--version"], capture_output=True, text=True, timeout=60).stdout
    return int(re.search(r"(\d+)\.\d+", out).group(1))


def pacemaker_major():
    out = subprocess.run(["crm_simulate", "--version"], capture_output=True, text=True,
                         timeout=60).stdout
    return int(re.search(r"Pacemaker (\d+)\.", out).group(1))


def unexpected(output, cib=None):
    """The lines of crm's stderr that are not the expected offline noise (above)."""
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)           # crmsh 5 colours WARNING
    noise = [OFFLINE_NOISE]
    if cib is not None and crmsh_major() >= 5:
        noise.append(re.compile("^WARNING: Cluster is not running, loading the CIB file from %s$"
                                % re.escape(cib)))
    return [line for line in output.splitlines()
            if line.strip() and not any(n.search(line) for n in noise)]


def helper(*args, stdin=None):
    proc = subprocess.run([HELPER, *args], input=stdin, capture_output=True, text=True,
                          timeout=30)
    assert "Traceback" not in proc.stderr
    return proc


def example(name):
    return os.path.join(EXAMPLES, name)


def guide_text():
    with open(example("guide.crm"), encoding="utf-8") as handle:
        return handle.read()


def assert_same(got, want):
    assert got == want, "\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(),
                                                       "want", "got", lineterm=""))


# -- the example files ------------------------------------------------------------

def test_guide_loads_and_verifies(tmp_path, guide_xml):
    assert Cib(str(tmp_path), template=guide_xml).verify() == (0, [])


@pytest.mark.parametrize("name", ["migrated.crm", "migrated-clone.crm"])
def test_example_loads_and_verifies(tmp_path, guide_xml, name):
    cib = Cib(str(tmp_path))
    assert cib.load(example(name)) == []
    assert cib.verify() == (0, [])


# -- the script ---------------------------------------------------------------------

SINGLE = """
order mysql_before_mariadb Mandatory: grodata_mount_bind_mysql:start mariadb:start
colocation redis_with_mysql inf: grodata_mount_bind_redis grodata_mount_bind_mysql
order set_order Mandatory: grodata_mount ( grodata_mount_bind_mysql grodata_mount_bind_redis ) mariadb
location mysql_not_on_witness grodata_mount_bind_mysql -inf: node3
tag bind_tag: grodata_mount_bind_mysql grodata_mount_bind_redis groCluster
"""
VARIANTS = {
    "guide": guide_text(),
    # Rewritten and dropped constraints, a set, a tag; options; a depth-20 monitor.
    "variant": guide_text().replace(
        "fstype=none options=bind \\\n\top monitor interval=20s timeout=40s",
        "fstype=none options=bind,nosuid,nodev \\\n\top monitor interval=20s timeout=40s \\\n"
        "\top monitor interval=300s timeout=60s OCF_CHECK_LEVEL=20") + SINGLE,
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_script_gives_what_the_crm_format_gives(tmp_path, guide_xml, variant):
    text = VARIANTS[variant]
    live = Cib(str(tmp_path), "live", template=guide_xml)
    if text != guide_text():
        live = Cib(str(tmp_path), "live")
        live.load(text)
    live.maintenance()
    script = helper(stdin=text)
    assert script.returncode == 0, script.stderr
    proc = live.run("sh", "-c", script.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "committed grodata_binds" in proc.stdout

    wanted = Cib(str(tmp_path), "wanted")
    converted = helper("--format", "crm", stdin=text)
    assert wanted.load(converted.stdout) == []
    wanted.maintenance()
    assert_same(live.show(), wanted.show())
    assert live.run("crm_verify", "--live-check").returncode == 0
    assert not os.path.exists(os.path.join(str(tmp_path), "shadow.grodata-binds-migration"))


def test_script_refuses_without_maintenance_mode(tmp_path, guide_xml):
    cib = Cib(str(tmp_path), template=guide_xml)
    before = cib.read()
    proc = cib.run("sh", "-c", helper(example("guide.crm")).stdout)
    assert proc.returncode == 1
    assert "maintenance-mode is not true" in proc.stderr
    assert cib.read() == before


def test_script_changes_nothing_when_a_step_fails(tmp_path, guide_xml):
    cib = Cib(str(tmp_path), template=guide_xml)
    cib.maintenance()
    script = helper(example("guide.crm")).stdout
    # The configuration changed after the script was written: its delete fails.
    cib.run("crm", "configure", "delete", "grommunio_svc_on_binds", check=True)
    before = cib.show()
    proc = cib.run("sh", "-c", script)
    assert proc.returncode != 0
    assert "grommunio_svc_on_binds" in proc.stderr
    assert cib.show() == before


# -- rollback ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def migrated(tmp_path_factory, guide_xml):
    """The guide's configuration migrated in maintenance mode: (CIB file, and what the runbook backs up:
    crm configure show, the configuration section, the whole CIB)."""
    cib = Cib(str(tmp_path_factory.mktemp("migrated")), template=guide_xml)
    cib.maintenance()
    before = cib.show()
    configuration = cib.run("cibadmin", "--query", "--scope", "configuration", check=True).stdout
    whole = cib.run("cibadmin", "--query", check=True).stdout
    cib.run("sh", "-c", helper(example("guide.crm")).stdout, check=True)
    return cib.path, before, configuration, whole


def test_rollback_with_crm_load_replace(tmp_path, migrated):
    template, before, _, _ = migrated
    cib = Cib(str(tmp_path), template=template)
    assert cib.show() != before
    saved = os.path.join(str(tmp_path), "before.crm")
    with open(saved, "w", encoding="utf-8") as handle:
        handle.write(before)
    cib.load(saved, method="replace")
    assert_same(cib.show(), before)


def test_rollback_with_cibadmin_needs_the_configuration_scope(tmp_path, migrated):
    template, before, configuration, whole = migrated
    cib = Cib(str(tmp_path), template=template)
    # The whole CIB is older than the migrated one: refused, as MIGRATION.md says.
    proc = cib.run("cibadmin", "--replace", "--xml-pipe", stdin=whole)
    assert proc.returncode != 0
    assert "Update was older than existing configuration" in proc.stderr
    cib.run("cibadmin", "--replace", "--scope", "configuration", "--xml-pipe",
            stdin=configuration, check=True)
    assert_same(cib.show(), before)


# -- leaving maintenance mode ------------------------------------------------------

def simulate(cib, *args, out=None):
    argv = ["crm_simulate", "--xml-file", cib.path, "--run" if out is None else "--simulate"]
    if out is not None:
        argv += ["--save-output", out]
    return cib.run(*argv, *args, check=True).stdout


def transition_summary(cib):
    """The action lines crm_simulate lists under "Transition Summary:"."""
    text = simulate(cib)
    lines = text.split("Transition Summary:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [line.strip() for line in lines if line.strip()]


def edit_status(path, change):
    tree = ET.parse(path)
    change(tree.getroot())
    tree.write(path)


def test_leaving_maintenance_mode_after_the_refresh_does_nothing(tmp_path, guide_xml):
    """The runbook's central claim, in Pacemaker's own scheduler.

    The guide's configuration runs on node1; the migration happens in maintenance mode. Without
    a refresh, the deleted Filesystem primitives are active orphans and leaving
    maintenance mode would stop them, unmounting the binds. What the refresh
    does (erase every history, then probe: grodata-binds finds its binds and
    answers 0 on node1, 7 elsewhere) leaves nothing to do.
    """
    cib = Cib(str(tmp_path), template=guide_xml)
    simulate(cib, "--node-up", "node1", "--node-up", "node2", "--node-up", "node3",
             out=cib.path)
    for node, score in (("node1", "100"), ("node2", "10")):   # what the drbd agent sets
        cib.run("crm_attribute", "--node", node, "--name", "master-grodata", "--lifetime",
                "reboot", "--update", score, check=True)
    for _ in range(10):
        if not transition_summary(cib):
            break
        simulate(cib, out=cib.path)
    assert transition_summary(cib) == []
    assert "grodata_mount_bind_mysql\t(ocf:heartbeat:Filesystem):\t Started node1" in simulate(cib)

    cib.maintenance()
    cib.run("sh", "-c", helper(example("guide.crm")).stdout, check=True)
    cib.maintenance(False)
    stops = [line for line in transition_summary(cib) if line.startswith("* Stop")]
    assert sorted(line.split()[2] for line in stops) == sorted(SEED_BINDS)
    cib.maintenance()

    # The refresh: every node's history goes, then the probes run.
    simulate(cib, out=cib.path)
    edit_status(cib.path, lambda root: [
        lrm.remove(rsc) for lrm in root.iter("lrm_resources") for rsc in list(lrm)
        if rsc.get("id") in SEED_BINDS])
    simulate(cib, "--op-inject", "grodata_binds_monitor_0@node1=0",
             "--op-inject", "grodata_binds_monitor_0@node2=7",
             "--op-inject", "grodata_binds_monitor_0@node3=7", out=cib.path)
    # A real probe records the digest of the parameters it ran with; an
    # injected one does not, which would read as a changed definition.
    digests = cib.run("crm_resource", "--digests", "--resource", "grodata_binds", "--node",
                      "node1", "--output-as=xml", check=True).stdout
    digest = ET.fromstring(digests).find(".//digest[@type='all']").get("hash")

    def set_digest(root):
        for state in root.iter("node_state"):
            if state.get("uname") == "node1":
                for op in state.iter("lrm_rsc_op"):
                    if op.get("operation_key") == "grodata_binds_monitor_0":
                        op.set("op-digest", digest)
    edit_status(cib.path, set_digest)
    mark = "(maintenance)" if pacemaker_major() >= 3 else "(unmanaged)"
    assert "grodata_binds\t(ocf:grommunio:grodata-binds):\t Started node1 " + mark \
        in simulate(cib)

    cib.maintenance(False)
    assert transition_summary(cib) == []


# -- a cluster run with pcs: CIB XML in, pcs commands out ----------------------------

PCS_STANDIN = """#!/bin/sh
# pcs, but "cluster cib" and "cluster cib-push" work on $CIB_file (no cluster runs here).
case "$1 $2" in
    "cluster cib") exec cp "$CIB_file" "$3" ;;
    "cluster cib-push") exec cp "$3" "$CIB_file" ;;
esac
exec %s "$@"
"""


def normalised(show):
    """crm configure show text as comparable data: a primitive's params, meta and ops
    as sets (pcs orders them its own way), a clone's words after its id as a set
    (where promotable=true stands is no matter), every other statement as its tokens."""
    from grommunio_ocf.migrate import crmconf
    out = set()
    for stmt in crmconf.read_statements(show)[0]:
        if stmt.kind == "primitive":
            prim = crmconf.Primitive(stmt)
            out.add(("primitive", prim.id, prim.agent, frozenset(prim.params.items()),
                     frozenset(prim.meta.items()),
                     frozenset((op.name, frozenset(op.attrs.items())) for op in prim.ops)))
        elif stmt.kind == "clone":
            out.add(("clone", stmt.tokens[1], frozenset(stmt.tokens[2:])))
        elif stmt.kind:
            out.add(tuple(stmt.tokens))
    return out


def test_pcs_script_from_cib_xml_gives_what_the_crm_format_gives(tmp_path, guide_xml):
    if not shutil.which("pcs"):
        pytest.skip("pcs is not installed")
    live = Cib(str(tmp_path), "live", template=guide_xml)
    standin = os.path.join(live.dir, "bin", "pcs")
    with open(standin, "w", encoding="utf-8") as handle:
        handle.write(PCS_STANDIN % shutil.which("pcs"))
    os.chmod(standin, 0o755)
    live.maintenance()
    xml = live.run("cibadmin", "--query", check=True).stdout
    script = helper("--format", "pcs", stdin=xml)
    assert script.returncode == 0, script.stderr
    proc = live.run("sh", "-c", script.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "committed grodata_binds" in proc.stdout

    wanted = Cib(str(tmp_path), "wanted")
    assert wanted.load(helper("--format", "crm", stdin=guide_text()).stdout) == []
    wanted.maintenance()
    assert normalised(live.show()) == normalised(wanted.show())
    assert live.run("crm_verify", "--live-check").returncode == 0


def test_cib_xml_and_crm_text_convert_alike(tmp_path, guide_xml):
    cib = Cib(str(tmp_path), template=guide_xml)
    xml = cib.run("cibadmin", "--query", check=True).stdout
    from_xml, from_crm = Cib(str(tmp_path), "x"), Cib(str(tmp_path), "c")
    converted = helper("--format", "crm", stdin=xml)
    assert converted.returncode == 0, converted.stderr
    assert from_xml.load(converted.stdout, method="replace") == []
    assert from_crm.load(helper("--format", "crm", stdin=guide_text()).stdout) == []
    assert normalised(from_xml.show()) == normalised(from_crm.show())


# -- legacy forms: what the tool writes loads on crmsh 4/Pacemaker 2.1 and crmsh 5/3.0 ----

def legacy_guide():
    """The guide's configuration as an older cluster prints it: ms, master-max, Master/Slave roles."""
    text = guide_text()
    for old, new in (
            ("role=Promoted", "role=Master"), ("role=Unpromoted", "role=Slave"),
            ("clone ms_grodata grodata \\\n\tmeta promoted-max=1 promoted-node-max=1",
             "ms ms_grodata grodata \\\n\tmeta master-max=1 master-node-max=1"),
            ("notify=true promotable=true interleave=true", "notify=true interleave=true"),
            ("ms_grodata:Promoted", "ms_grodata:Master")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_legacy_configuration_converts_to_what_loads_everywhere(tmp_path, guide_xml):
    """crmsh 5 has no ms and Pacemaker 3.0 no <master>: the tool writes a promotable
    clone and Promoted/Unpromoted, which crmsh 4.4 and Pacemaker 2.1 load as well."""
    converted = helper("--format", "crm", stdin=legacy_guide())
    assert converted.returncode == 0, converted.stderr
    assert not re.search(r"\bms |Master|Slave", converted.stdout)
    legacy, modern = Cib(str(tmp_path), "legacy"), Cib(str(tmp_path), "modern")
    assert legacy.load(converted.stdout) == []
    assert legacy.verify() == (0, [])
    assert modern.load(helper("--format", "crm", stdin=guide_text()).stdout) == []
    assert normalised(legacy.show()) == normalised(modern.show())
    clone = ET.parse(legacy.path).getroot().find(".//clone[@id='ms_grodata']")
    assert clone.find("meta_attributes/nvpair[@name='promotable']").get("value") == "true"


# -- the README's crm examples, on the migrated guide configuration ------------------

def readme_crm_blocks():
    """The README's crm configure examples: each indented block (blank lines
    inside included) that starts with a crm statement.  A group line ending in
    "…" means "the guide's other members, as before": they are written out."""
    from grommunio_ocf.migrate import crmconf
    with open(os.path.join(TOP, "README.md"), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    members = next(s.tokens[2:] for s in crmconf.read_statements(guide_text())[0]
                   if s.kind == "group" and s.id == "grommunio_svc")
    blocks, current = [], []
    for line in lines + ["end"]:
        if line.startswith("    ") or (current and not line.strip()):
            current.append(line[4:])
            continue
        if current and current[0].split()[0] in crmconf.KEYWORDS - {"node"}:
            text = "\n".join(current).strip("\n")
            for group in re.findall(r"^group grommunio_svc (.*) …$", text, re.M):
                rest = [m for m in members if m not in group.split()]
                text = text.replace(group + " …", group + " " + " ".join(rest))
            blocks.append(text + "\n")
        current = []
    return blocks


README_CRM = readme_crm_blocks()


@pytest.fixture(scope="module")
def migrated_guide(tmp_path_factory, guide_xml):
    """The guide's configuration after the migration, in a CIB file."""
    cib = Cib(str(tmp_path_factory.mktemp("migrated-guide")))
    assert cib.load(helper("--format", "crm", stdin=guide_text()).stdout) == []
    return cib.path


@pytest.mark.parametrize("block", README_CRM, ids=[b.split()[1] for b in README_CRM])
def test_readme_crm_example_loads_and_verifies(tmp_path, migrated_guide, block):
    """Each crm example of the README, loaded into the migrated guide configuration:
    crmsh (4.4 or 5) takes it, crm_verify (Pacemaker 2.1 or 3.0) finds nothing."""
    assert "…" not in block
    cib = Cib(str(tmp_path), template=migrated_guide)
    assert cib.load(block) == []
    assert cib.verify() == (0, [])


def test_readme_has_the_crm_examples_this_tests():
    assert [b.split()[1] for b in README_CRM] == ["grodata_binds", "stack_health",
                                                  "postfix_maps"]
    assert "property node-health-strategy=migrate-on-red" in README_CRM[1]
