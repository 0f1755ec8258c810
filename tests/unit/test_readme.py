"""The README is for users: short, the two set-up commands, each agent with its
examples and its man page, and links into doc/ that lead somewhere."""

import os
import re

import pytest

from helpers import AGENTS, TOP

README = os.path.join(TOP, "README.md")
LIMIT = 250  # lines: the reference lives in the man pages, the rest in doc/


def readme():
    with open(README, encoding="utf-8") as handle:
        return handle.read()


def agent_names():
    return sorted(n for n in os.listdir(AGENTS) if os.access(os.path.join(AGENTS, n), os.X_OK))


def test_readme_has_the_two_setup_commands():
    text = readme()
    assert "\n    packaging/install\n" in text
    assert "\n    tests/run\n" in text
    with open(os.path.join(TOP, ".ci", "run"), encoding="utf-8") as handle:
        assert "exec tests/run" in handle.read()


@pytest.mark.parametrize("name", agent_names())
def test_every_agent_has_a_section_examples_and_its_man_page(name):
    text = readme()
    assert "\n## %s\n" % name in text
    assert "man\nocf_grommunio_%s" % name in text or "man ocf_grommunio_%s" % name in text
    assert re.search(r"^    primitive \S+ ocf:grommunio:%s " % re.escape(name), text, re.M)
    assert re.search(r"^    pcs resource create \S+ ocf:grommunio:%s " % re.escape(name), text, re.M)


def test_readme_is_short_and_for_users():
    text = readme()
    assert text.count("\n") <= LIMIT, "README.md has %d lines; the rest belongs in doc/" % text.count("\n")
    assert not re.search(r"\bissue\b|#\d+\b", text, re.I), "no issue numbers in the README"


def test_every_link_leads_somewhere():
    text = readme()
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert links
    missing = [link for link in links if not os.path.exists(os.path.join(TOP, link))]
    assert not missing, missing


def test_doc_has_no_issue_numbers():
    doc = os.path.join(TOP, "doc")
    for name in sorted(os.listdir(doc)):
        with open(os.path.join(doc, name), encoding="utf-8") as handle:
            text = handle.read()
        assert not re.search(r"\bissues? ?#?\d+|#\d{1,3}\b(?![-\w])", text, re.I), name
