"""Metadata of every agent: valid against the schemas the system ships and OCF 1.1.

resource-agents ships ra-api-1.dtd (what ocf-tester and crm check) and
metadata.rng; both are always checked.  The OCF 1.1 RelaxNG schema lives in
the project's shared/ folder beside a checkout: it is checked when it is
there, and its test is skipped (saying so) in a clone on its own.

Also the drift test (metadata/<agent>.xml is exactly what meta-data prints)
and rendering of small agents built here, including hostile characters.
"""

import os
import subprocess

import pytest

from helpers import import_or_missing, missing

etree = import_or_missing("lxml.etree", "python3-lxml")
from grommunio_ocf.ocf import metadata
from grommunio_ocf.ocf.agent import Action, Agent
from grommunio_ocf.ocf.params import BOOLEAN, INTEGER, LIST, PATH, STRING, Param

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENTS_DIR = os.path.join(TOP, "agents")
METADATA_DIR = os.path.join(TOP, "metadata")
PROMOTABLE = os.path.join(TOP, "tests", "support", "agents", "promotable-dummy")
DTD_PATH = "/usr/share/resource-agents/ra-api-1.dtd"
SYSTEM_RNG_PATH = "/usr/share/resource-agents/metadata.rng"
OCF11_RNG_PATH = os.path.join(os.path.dirname(TOP), "shared", "ocf-1.1", "ra-api.rng")
DOCTYPE = '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">'
DTD_ACTION_NAMES = {"start", "stop", "recover", "monitor", "restart", "migrate_to", "migrate_from",
                    "promote", "demote", "notify", "status", "reload", "meta-data", "usage",
                    "methods", "validate-all"}


def _repo_agents():
    return sorted(name for name in os.listdir(AGENTS_DIR)
                  if os.path.isfile(os.path.join(AGENTS_DIR, name))
                  and os.access(os.path.join(AGENTS_DIR, name), os.X_OK))


REPO_AGENTS = _repo_agents()
ALL_AGENTS = [os.path.join(AGENTS_DIR, n) for n in REPO_AGENTS] + [PROMOTABLE]


def _system_file(path):
    if not os.path.isfile(path):
        missing("%s not found (Debian package resource-agents)" % path)
    return path


@pytest.fixture(scope="module")
def dtd():
    with open(_system_file(DTD_PATH), "rb") as handle:
        return etree.DTD(handle)


def _relaxng(path):
    return path, etree.RelaxNG(etree.parse(path))


@pytest.fixture(scope="module")
def rng():
    """Every RelaxNG schema at hand: resource-agents' always, OCF 1.1 when shared/ is there."""
    schemas = [_relaxng(_system_file(SYSTEM_RNG_PATH))]
    if os.path.exists(OCF11_RNG_PATH):
        schemas.append(_relaxng(OCF11_RNG_PATH))
    return schemas


@pytest.fixture(scope="module")
def ocf11_rng():
    if not os.path.exists(OCF11_RNG_PATH):
        pytest.skip("OCF 1.1 schema not found at %s (the project's shared/ folder is not "
                    "beside this clone); ra-api-1.dtd and metadata.rng are still checked"
                    % OCF11_RNG_PATH)
    return etree.RelaxNG(etree.parse(OCF11_RNG_PATH))


_CACHE = {}


def meta_data(path):
    """``<agent> meta-data`` from cwd / with nothing but PATH and OCF_ROOT."""
    if path not in _CACHE:
        proc = subprocess.run([path, "meta-data"], cwd="/", capture_output=True, text=True,
                              env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                   "OCF_ROOT": "/usr/lib/ocf"},
                              stdin=subprocess.DEVNULL, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == "", proc.stderr
        _CACHE[path] = proc.stdout
    return _CACHE[path]


def parse_xml(text):
    parser = etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)
    return etree.fromstring(text.encode("utf-8"), parser)


def assert_valid(text, dtd, rng):
    root = parse_xml(text)
    assert dtd.validate(root), dtd.error_log.filter_from_errors()
    for path, schema in rng:
        assert schema.validate(root), (path, schema.error_log.filter_from_errors())
    return root


def assert_ocf_shape(text, root):
    lines = text.splitlines()
    assert lines[0] == '<?xml version="1.0"?>'
    assert lines[1] == DOCTYPE
    assert text.endswith("\n")
    assert root.tag == "resource-agent"
    assert root.find("version").text == "1.1"
    descs = root.findall(".//longdesc") + root.findall(".//shortdesc")
    assert descs
    for desc in descs:
        assert desc.get("lang") == "en", etree.tostring(desc)
    actions = root.findall("actions/action")
    assert actions
    for action in actions:
        assert action.get("timeout"), etree.tostring(action)
        assert action.get("name") in DTD_ACTION_NAMES


def test_there_is_at_least_one_agent():
    assert REPO_AGENTS


@pytest.mark.parametrize("path", ALL_AGENTS, ids=os.path.basename)
def test_meta_data_valid_against_dtd_and_rng(path, dtd, rng):
    assert_valid(meta_data(path), dtd, rng)


@pytest.mark.parametrize("path", ALL_AGENTS, ids=os.path.basename)
def test_meta_data_valid_against_ocf_1_1(path, ocf11_rng):
    root = parse_xml(meta_data(path))
    assert ocf11_rng.validate(root), ocf11_rng.error_log.filter_from_errors()


@pytest.mark.parametrize("path", ALL_AGENTS, ids=os.path.basename)
def test_meta_data_ocf_shape(path):
    text = meta_data(path)
    assert_ocf_shape(text, parse_xml(text))


@pytest.mark.parametrize("path", ALL_AGENTS, ids=os.path.basename)
def test_meta_data_names_the_agent(path):
    root = parse_xml(meta_data(path))
    assert root.get("name") == os.path.basename(path)
    assert root.get("version")


@pytest.mark.parametrize("path", ALL_AGENTS, ids=os.path.basename)
def test_meta_data_has_basic_actions(path):
    names = {a.get("name") for a in parse_xml(meta_data(path)).findall("actions/action")}
    assert {"start", "stop", "monitor", "meta-data", "validate-all"} <= names


@pytest.mark.parametrize("name", REPO_AGENTS)
def test_metadata_file_has_not_drifted(name):
    """metadata/<agent>.xml must be byte for byte what the agent prints."""
    with open(os.path.join(METADATA_DIR, name + ".xml"), encoding="utf-8") as handle:
        stored = handle.read()
    assert meta_data(os.path.join(AGENTS_DIR, name)) == stored


def test_no_stale_metadata_files():
    stored = {f[:-len(".xml")] for f in os.listdir(METADATA_DIR) if f.endswith(".xml")}
    assert stored == set(REPO_AGENTS)


def test_promotable_dummy_declares_promotable_actions():
    root = parse_xml(meta_data(PROMOTABLE))
    names = [a.get("name") for a in root.findall("actions/action")]
    for name in ("promote", "demote", "notify"):
        assert name in names
    roles = {a.get("role") for a in root.findall("actions/action[@name='monitor']")}
    assert roles == {"Promoted", "Unpromoted"}


# -- rendering agents built here --------------------------------------------------

class SmallAgent(Agent):
    name = "small"
    version = "2.3.4"
    shortdesc = "A small agent"
    longdesc = "  A small agent for the metadata tests.  "
    params = (
        Param("ip", STRING, shortdesc="Address", required=True, unique=True),
        Param("port", INTEGER, "8080", shortdesc="Port", longdesc="The TCP port."),
        Param("flag", BOOLEAN, "false", shortdesc="A flag"),
        Param("count", INTEGER, "3", shortdesc="A count"),
        Param("dir", PATH, "/srv", shortdesc="A directory"),
        Param("items", LIST, "a b", shortdesc="Items"),
        Param("nodefault", STRING, shortdesc="No default"),
    )
    actions = (
        Action("start", 30),
        Action("stop", 25.5),
        Action("monitor", "40s", interval=20, depth=10),
        Action("monitor", 40, interval=0, role="Promoted"),
    )


def test_small_agent_renders_valid(dtd, rng):
    text = metadata.render(SmallAgent)
    root = assert_valid(text, dtd, rng)
    assert_ocf_shape(text, root)
    assert root.get("name") == "small"
    assert root.get("version") == "2.3.4"
    assert root.find("longdesc").text == "A small agent for the metadata tests."
    assert root.find("shortdesc").text == "A small agent"


def test_small_agent_parameters():
    root = metadata.build(SmallAgent)
    params = {p.get("name"): p for p in root.findall("parameters/parameter")}
    # metrics_dir: the framework gives it to every agent, after the agent's own.
    assert list(params) == ["ip", "port", "flag", "count", "dir", "items", "nodefault",
                            "metrics_dir"]
    assert (params["ip"].get("required"), params["ip"].get("unique")) == ("1", "1")
    assert (params["port"].get("required"), params["port"].get("unique")) == ("0", "0")
    types = {n: p.find("content").get("type") for n, p in params.items()}
    assert types == {"ip": "string", "port": "integer", "flag": "boolean", "count": "integer",
                     "dir": "string", "items": "string", "nodefault": "string",
                     "metrics_dir": "string"}
    defaults = {n: p.find("content").get("default") for n, p in params.items()}
    assert defaults == {"ip": None, "port": "8080", "flag": "false", "count": "3", "dir": "/srv",
                        "items": "a b", "nodefault": None, "metrics_dir": "off"}
    assert params["port"].find("longdesc").text == "The TCP port."
    assert params["flag"].find("longdesc").text == "A flag"   # longdesc falls back to shortdesc


def test_small_agent_actions():
    root = metadata.build(SmallAgent)
    actions = [dict(a.attrib) for a in root.findall("actions/action")]
    assert actions == [
        {"name": "start", "timeout": "30s"},
        {"name": "stop", "timeout": "25.5s"},
        {"name": "monitor", "timeout": "40s", "interval": "20s", "depth": "10"},
        {"name": "monitor", "timeout": "40s", "interval": "0s", "role": "Promoted"},
        {"name": "validate-all", "timeout": "20s"},
        {"name": "meta-data", "timeout": "5s"},
    ]


def test_declared_validate_all_and_meta_data_are_not_duplicated():
    class Declares(Agent):
        name = "declares"
        shortdesc = longdesc = "d"
        params = (Param("x", shortdesc="x"),)
        actions = (Action("start", 1), Action("validate-all", 7), Action("meta-data", 3))

    names = [a.get("name") for a in metadata.build(Declares).findall("actions/action")]
    assert names == ["start", "validate-all", "meta-data"]


def test_action_outside_dtd_is_refused():
    class Bad(Agent):
        name = "bad"
        shortdesc = longdesc = "bad"
        params = (Param("x", shortdesc="x"),)
        actions = (Action("start", 10), Action("frobnicate", 10))

    with pytest.raises(ValueError, match="frobnicate"):
        metadata.render(Bad)


def test_reloadable_is_not_rendered(dtd):
    class Reloadable(Agent):
        name = "reloadable"
        shortdesc = longdesc = "r"
        params = (Param("x", shortdesc="x", reloadable=True),)
        actions = (Action("start", 10),)

    root = parse_xml(metadata.render(Reloadable))
    assert root.find("parameters/parameter").get("reloadable") is None
    assert dtd.validate(root)


NASTY = 'a <b> & "c" \'d\' ]]> &amp; <!-- x --> <![CDATA[y]]>'


class NastyAgent(Agent):
    name = "nasty"
    shortdesc = "short " + NASTY
    longdesc = "long " + NASTY
    params = (
        Param("p", STRING, NASTY, shortdesc="sd " + NASTY, longdesc="ld " + NASTY),
        Param("q", STRING, '"', shortdesc="<"),
    )
    actions = (Action("start", 10),)


def test_special_characters_are_escaped_and_valid(dtd, rng):
    text = metadata.render(NastyAgent)
    assert "<b>" not in text and "<!-- x -->" not in text and "<![CDATA[" not in text
    assert "&lt;b&gt;" in text
    assert "&amp;amp;" in text
    root = assert_valid(text, dtd, rng)
    assert root.find("longdesc").text == "long " + NASTY
    assert root.find("shortdesc").text == "short " + NASTY
    params = root.findall("parameters/parameter")
    assert params[0].find("longdesc").text == "ld " + NASTY
    assert params[0].find("shortdesc").text == "sd " + NASTY
    assert params[0].find("content").get("default") == NASTY
    assert params[1].find("content").get("default") == '"'
    assert params[1].find("shortdesc").text == "<"
