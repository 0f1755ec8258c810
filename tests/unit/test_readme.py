"""The README documents every parameter of every agent (docs drift guard)."""

import os
import re
import subprocess

import pytest

from helpers import AGENTS, TOP

README = os.path.join(TOP, "README.md")


def agent_names():
    return sorted(n for n in os.listdir(AGENTS) if os.access(os.path.join(AGENTS, n), os.X_OK))


@pytest.mark.parametrize("name", agent_names())
def test_every_parameter_is_in_the_readme_table(name):
    xml = subprocess.run([os.path.join(AGENTS, name), "meta-data"], capture_output=True, text=True,
                         check=True, env={"PATH": "/usr/bin:/bin"}).stdout
    params = re.findall(r'<parameter name="([^"]+)"', xml)
    with open(README, encoding="utf-8") as handle:
        readme = handle.read()
    missing = [p for p in params if "| `%s` |" % p not in readme]
    assert not missing, "README.md has no table row for: %s" % ", ".join(missing)


def test_readme_has_the_two_setup_commands():
    with open(README, encoding="utf-8") as handle:
        readme = handle.read()
    assert "\n    packaging/install\n" in readme
    assert "\n    tests/run\n" in readme
    with open(os.path.join(TOP, ".ci", "run"), encoding="utf-8") as handle:
        assert "exec tests/run" in handle.read()
