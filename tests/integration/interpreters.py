"""The Pythons the platforms ship, found on this machine, and the rule for a missing one.

``find_pythons(wanted)`` looks in /usr/bin first, then in pyenv's versions
(real binaries, not shims): ``{"3.X": path}`` for each wanted version found.
``missing(what)`` is what a test does when a promised interpreter is not
here: as helpers.missing, a skip that says why on a developer's machine, a
failure under CI (``CI=true``), where the image promises every one of them:
a test that can only skip cannot fail, and so proves nothing.
"""

import glob
import os
import re
import shutil
import subprocess

import helpers


def pyenv_roots():
    roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv"), "/root/.pyenv"]
    pyenv = shutil.which("pyenv")
    if pyenv:
        proc = subprocess.run([pyenv, "root"], capture_output=True, text=True)
        roots.insert(0, proc.stdout.strip() if proc.returncode == 0 else None)
    return [r for r in dict.fromkeys(roots) if r and os.path.isdir(r)]


def version_of(python):
    """"3.X" of an interpreter, or None if it does not run."""
    proc = subprocess.run([python, "-IS", "-c",
                           "import sys; print('%d.%d' % sys.version_info[:2])"],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def find_pythons(wanted):
    """``{"3.X": interpreter}`` for the versions in ``wanted`` found here, oldest first."""
    candidates = sorted(glob.glob("/usr/bin/python3.[0-9]*"))
    for root in pyenv_roots():
        candidates += sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python3")))
    found = {}
    for path in ["/usr/bin/python3"] + candidates:
        if not re.search(r"python3(\.\d+)?$", path) or not os.access(path, os.X_OK):
            continue
        version = version_of(path)
        if version in wanted and version not in found:
            found[version] = path
    return dict(sorted(found.items(), key=lambda item: tuple(map(int, item[0].split(".")))))


def missing(what):
    """Skip (a developer's machine) or fail (CI=true) for a missing interpreter.

    helpers.missing's rule, in words for interpreters: tests/run installs
    Debian packages, while these come with the test image (pyenv)."""
    import pytest
    text = "%s not found (looked in /usr/bin and pyenv roots %s)" % (what, pyenv_roots() or "none")
    if helpers.under_ci():
        pytest.fail(text + "; CI=true: the test image must provide it", pytrace=False)
    pytest.skip(text)
