"""The library's folders are its architecture: packages on floors, imports only
downwards, no cycle, and the OCF framework never imports an agent's domain.

Read from the source (every ``from ..x import`` and ``from .x import``,
deferred ones inside functions included), so a new import that breaks the
layout fails here, naming the module and the import.
"""

import ast
import os

import pytest

from helpers import LIB

PACKAGE = os.path.join(LIB, "grommunio_ocf")

# Each package and the floor it stands on; a package imports only from floors below
# it (or from itself).  base/ uses nothing of ours.
FLOORS = {
    "base": 1,
    "ocf": 2,
    "checks": 3, "binds": 3,
    "protocols": 4, "migrate": 4,
    "stack": 5, "postfix": 5,
    "plugin": 6,
}
DOMAINS = {"binds", "stack", "postfix"}


def modules():
    found = {}
    for dirpath, _dirs, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, PACKAGE)[:-3].split(os.sep)
                found[tuple(rel)] = path
    return found


def imports(parts, path):
    """(package imported, line) for every import of ours in the module at ``path``."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    package = list(parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            target = base + (node.module.split(".") if node.module else [])
            if target:
                yield target[0], node.lineno
            else:  # "from .. import __version__" at the top
                for alias in node.names:
                    if alias.name in FLOORS:
                        yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grommunio_ocf."):
            yield node.module.split(".")[1], node.lineno


def test_every_package_has_a_floor_and_a_docstring():
    packages = {parts[0] for parts in modules() if len(parts) > 1}
    assert packages == set(FLOORS)
    for name in FLOORS:
        with open(os.path.join(PACKAGE, name, "__init__.py"), encoding="utf-8") as handle:
            assert ast.get_docstring(ast.parse(handle.read())), "%s/__init__.py says what it holds" % name


@pytest.mark.parametrize("parts", sorted(p for p in modules() if len(p) > 1), ids="/".join)
def test_imports_only_go_down(parts):
    own = parts[0]
    wrong = ["%s (line %d)" % (target, line) for target, line in imports(parts, modules()[parts])
             if target in FLOORS and target != own and FLOORS[target] >= FLOORS[own]]
    assert not wrong, "%s imports from its own floor or above: %s" % ("/".join(parts), ", ".join(wrong))


def test_the_framework_never_imports_an_agents_domain():
    for parts, path in modules().items():
        if parts[0] in ("base", "ocf", "checks"):
            bad = [t for t, _ in imports(parts, path) if t in DOMAINS]
            assert not bad, ("/".join(parts), bad)
