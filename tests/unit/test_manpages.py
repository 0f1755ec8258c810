"""packaging/manpages: the man pages, written from the agents' meta-data and the helper's --help.

Every page must render with groff without a single warning (lintian's way
and at a narrower width) and show what the metadata says: each parameter
with its type and default, each action with its timeout, and example crm
and pcs lines.
"""

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from helpers import TOP
from grommunio_ocf import __version__

GENERATOR = os.path.join(TOP, "packaging", "manpages")
HELPERS = ("grommunio-ocf-check", "grommunio-ocf-migrate")
AGENTS = sorted(n[:-4] for n in os.listdir(os.path.join(TOP, "metadata")) if n.endswith(".xml"))


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("man")
    subprocess.run([GENERATOR, str(out)], check=True, timeout=120,
                   env={"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "1700000000"})
    return out


def render(path, width=80):
    """The page as man shows it; asserts that groff said nothing (lintian runs it so too)."""
    if not shutil.which("man"):
        pytest.skip("man-db is not installed (tests/run installs it)")
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "MANWIDTH": str(width),
           "MAN_KEEP_FORMATTING": "0"}
    lintian = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(path)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert lintian.returncode == 0 and lintian.stderr == "", lintian.stderr
    proc = subprocess.run(["man", "--warnings", "-l", str(path)], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    # Bold and underline: by overstriking (groff 1.22, Debian 12) or by SGR
    # escapes (groff 1.23, Debian 13), kept since MAN_KEEP_FORMATTING is set.
    text = re.sub("\x1b\\[[0-9;]*m", "", re.sub(".\b", "", proc.stdout))
    # Joined: a long value may be broken across lines (after '/' or ',').
    return text, re.sub(r"\s+", "", text)


def groff_version():
    out = subprocess.run(["troff", "-v"], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                         timeout=60).stdout
    return tuple(int(n) for n in re.search(r"version (\d+)\.(\d+)", out).groups())


def assert_title(text, title):
    """The page's header starts with its title.  groff 1.23 shortens a title
    that leaves the header no room (tmac/an.tmac: the middle gives way to
    "..."), as for OCF_GROMMUNIO_GRODATA-BINDS(7) at 80 columns."""
    if groff_version() >= (1, 23) and not text.startswith(title):
        start, dots, end = text.split(None, 1)[0].partition("...")
        assert dots and title.startswith(start) and title.endswith(end), (text[:80], title)
    else:
        assert text.startswith(title), (text[:80], title)


def test_one_page_per_agent_and_one_for_the_helper(pages):
    assert sorted(os.listdir(pages / "man7")) == ["ocf_grommunio_%s.7" % a for a in AGENTS]
    assert sorted(os.listdir(pages / "man8")) == [h + ".8" for h in HELPERS]


@pytest.mark.parametrize("agent", AGENTS)
@pytest.mark.parametrize("width", [80, 60])
def test_agent_page_shows_every_parameter_and_action(pages, agent, width):
    text, joined = render(pages / "man7" / ("ocf_grommunio_%s.7" % agent), width)
    root = ET.parse(os.path.join(TOP, "metadata", agent + ".xml")).getroot()
    assert "ocf_grommunio_%s - " % agent in text
    if width == 80:       # narrower, groff lets the header's and footer's parts overlap
        assert_title(text, "OCF_GROMMUNIO_%s(7)" % agent.upper())
        assert "grommunio-ocf %s" % __version__ in text and "2023-11-14" in text
    for param in root.iter("parameter"):
        content = param.find("content")
        assert re.search(r"^ {7}%s\b" % re.escape(param.get("name")), text, re.M), param.get("name")
        facts = "type:%s" % content.get("type")
        if content.get("default") is not None:
            facts += ",default:%s" % re.sub(r"\s+", "", content.get("default") or '""')
        assert facts in joined, (param.get("name"), facts)
    for action in root.iter("action"):
        assert re.search(r"^ {7}%s\b.*\n?.*timeout %s" % (action.get("name"), action.get("timeout")),
                         text, re.M), action.get("name")
    assert "primitive %s ocf:grommunio:%s" % (agent.replace("-", "_"), agent) in text
    assert "pcs resource create %s ocf:grommunio:%s" % (agent.replace("-", "_"), agent) in text
    monitor = next(a for a in root.iter("action") if a.get("name") == "monitor")
    assert "op monitor interval=%s timeout=%s" % (monitor.get("interval"), monitor.get("timeout")) \
        in text


@pytest.mark.parametrize("helper", HELPERS)
def test_helper_page_shows_every_option_of_its_help(pages, helper):
    text, joined = render(pages / "man8" / (helper + ".8"))
    helptext = subprocess.run([os.path.join(TOP, "packaging", helper), "--help"],
                              capture_output=True, text=True, check=True,
                              env={"PATH": "/usr/bin:/bin", "COLUMNS": "80"}).stdout
    assert_title(text, helper.upper() + "(8)")
    for option in set(re.findall(r"(?<![\w-])--[a-z][\w-]*", helptext)):
        assert option in text, option
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SEE ALSO"):
        assert re.search(r"^%s$" % section, text, re.M), section


def test_pages_are_reproducible(pages, tmp_path):
    subprocess.run([GENERATOR, str(tmp_path)], check=True, timeout=120,
                   env={"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "1700000000"})
    for section in ("man7", "man8"):
        for name in os.listdir(pages / section):
            assert (tmp_path / section / name).read_bytes() == (pages / section / name).read_bytes()


def test_generator_runs_without_a_warning(tmp_path):
    """Every warning an error, on the interpreter running the tests (3.13 in the
    Debian 13 root deprecates re.split's positional maxsplit, for one)."""
    proc = subprocess.run([sys.executable, "-I", "-W", "error", GENERATOR, str(tmp_path)],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "1700000000"})
    assert (proc.returncode, proc.stderr) == (0, "")
