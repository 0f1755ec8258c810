"""openSUSE Leap 15.6 / SLES 15 (the grommunio appliance): /usr/bin/python3 is 3.6.

SUSE keeps /usr/bin/python3 at 3.6 for the whole 15 series and ships newer
Pythons beside it (``python311`` -> /usr/bin/python3.11).  Each test here
runs in a private mount namespace (``unshare -m``) with an overlay on /usr:
/usr/bin/python3 and /usr/bin/python3.6 are pyenv's 3.6.15, this machine's newest
/usr/bin/python3.N (Debian 12's 3.11) stands in for SUSE's python311 (or is
hidden, with every other /usr/bin/python3.N), and whatever ``packaging/install`` writes stays
in the overlay's upper layer -- the host's install is not touched, and the
test sees exactly what was written.  In there:

* ``packaging/install``, run as on Leap 15 (sh, and packaging/manpages by its
  "#!/usr/bin/python3" line: 3.6), picks /usr/bin/python3.11: the installed
  programs say so in their "#!" line, the bytecode is 3.11's, and the
  installed agents work (meta-data, validate-all, a start/monitor/stop);
* without a newer Python the install refuses and names what to install;
* every agent run by 3.6 -- the work tree's by its own "#!" line, the
  installed ones by ``python3`` explicitly -- exits 5 with one exit reason
  for every action, meta-data included, and no traceback.

Without pyenv's 3.6 the tests skip saying so; under CI (``CI=true``) that
is a failure.
"""

import os
import re
import shlex
import subprocess

import pytest

from helpers import TOP
from interpreters import find_pythons, missing

pytestmark = [pytest.mark.integration]

AGENTDIR = "/usr/lib/ocf/resource.d/grommunio"
LIBDIR = "/usr/lib/ocf/lib/grommunio/grommunio_ocf"
HELPER = "/usr/sbin/grommunio-ocf-migrate"
ACTIONS = ("meta-data", "validate-all", "start", "stop", "monitor", "status", "promote",
           "demote", "notify", "reload", "migrate_to", "migrate_from", "no-such-action")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
       "HA_LOGFACILITY": "none", "LC_ALL": "C"}


def newest_usr_bin_python():
    """What packaging/install should pick beside a 3.6: the newest /usr/bin/python3.N,
    N >= 9 (Debian 12: 3.11, as SUSE's python311), or None."""
    names = [n for n in os.listdir("/usr/bin") if re.fullmatch(r"python3\.\d+", n)
             and int(n.split(".")[1]) >= 9 and os.access("/usr/bin/" + n, os.X_OK)]
    return "/usr/bin/" + max(names, key=lambda n: int(n.split(".")[1])) if names else None


NEWER = newest_usr_bin_python()


def agents():
    return sorted(n for n in os.listdir(os.path.join(TOP, "agents"))
                  if os.path.isfile(os.path.join(TOP, "agents", n)))


@pytest.fixture(scope="module")
def python36():
    found = find_pythons(("3.6",))
    if not found or found["3.6"].startswith("/usr/"):
        missing("Python 3.6 outside /usr (pyenv's 3.6.15, to play SUSE 15's /usr/bin/python3)")
    if os.geteuid() != 0:
        pytest.skip("mount namespaces and overlays need root")
    return found["3.6"]


class Leap15:
    """Commands run in one private mount namespace that looks like Leap 15.

    ``run(argv, env)`` queues a command and returns its index; ``go()`` runs
    them all (in one namespace: what install writes, the next command sees)
    and returns one ``Result`` per command, plus ``upper``: the files the
    overlay's upper layer holds afterwards, relative to /usr.
    """

    def __init__(self, python36, work, newer=True):
        self.python36 = python36
        self.work = work
        self.newer = newer
        self.commands = []

    def run(self, argv, env=None):
        self.commands.append((list(argv), dict(ENV, **(env or {}))))
        return len(self.commands) - 1

    def script(self):
        w = shlex.quote(str(self.work))
        lines = [
            "set -e",
            # The upper layer on a tmpfs of its own: an overlay cannot use one
            # that lives on an overlay (a container's /).
            "mkdir -p %s/layers %s/out" % (w, w),
            "mount -t tmpfs -o mode=0755 leap15 %s/layers" % w,
            "mkdir -p %s/layers/upper/bin %s/layers/work" % (w, w),
            "ln -s %s %s/layers/upper/bin/python3" % (shlex.quote(self.python36), w),
            "ln -s %s %s/layers/upper/bin/python3.6" % (shlex.quote(self.python36), w),
        ]
        if not self.newer:
            # Whiteouts (0/0 character devices) hide every newer Python in /usr/bin.
            lines.append("for p in /usr/bin/python3.*; do n=${p#/usr/bin/}; case $n in "
                         "python3.[0-9]|python3.[0-9][0-9]) mknod %s/layers/upper/bin/$n c 0 0;; "
                         "esac; done" % w)
        lines += [
            "mount -t overlay leap15 -o lowerdir=/usr,upperdir=%s/layers/upper,"
            "workdir=%s/layers/work /usr" % (w, w),
            "set +e",
        ]
        for index, (argv, env) in enumerate(self.commands):
            assignments = " ".join(shlex.quote("%s=%s" % item) for item in sorted(env.items()))
            lines.append("(cd / && env -i %s %s) </dev/null >%s/out/%d.out 2>%s/out/%d.err; "
                         "echo $? >%s/out/%d.rc" % (assignments, " ".join(map(shlex.quote, argv)),
                                                     w, index, w, index, w, index))
        lines.append("(cd %s/layers/upper && find . ! -type d | sort) >%s/out/upper" % (w, w))
        return "\n".join(lines) + "\n"

    def go(self):
        proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               self.script()], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        out = self.work / "out"
        results = []
        for index, (argv, _) in enumerate(self.commands):
            results.append(Result(argv, int((out / ("%d.rc" % index)).read_text()),
                                  (out / ("%d.out" % index)).read_text(),
                                  (out / ("%d.err" % index)).read_text()))
        upper = [line[1:] for line in (out / "upper").read_text().splitlines()]
        return results, upper


class Result:
    def __init__(self, argv, rc, stdout, stderr):
        self.argv, self.rc, self.stdout, self.stderr = argv, rc, stdout, stderr

    @property
    def reasons(self):
        return [line[len("ocf-exit-reason:"):] for line in self.stderr.splitlines()
                if line.startswith("ocf-exit-reason:")]

    def __repr__(self):
        return "Result(%r: rc=%d, stdout=%r, stderr=%r)" % (self.argv, self.rc, self.stdout[-500:],
                                                            self.stderr[-1500:])


def too_old(result, python):
    """The one answer an agent started by Python 3.6 gives, whatever it was asked."""
    assert result.rc == 5, result
    assert result.reasons == ["%s is Python 3.6.15; grommunio-ocf needs 3.9 or newer" % python], \
        result
    assert result.stderr.count("\n") == 1 and result.stdout == "", result


def test_python36_is_usr_bin_python3_in_there(python36, tmp_path):
    leap = Leap15(python36, tmp_path)
    version = leap.run(["/usr/bin/python3", "-c", "import sys; print(sys.version.split()[0])"])
    results, upper = leap.go()
    assert results[version].stdout == "3.6.15\n", results[version]


def test_install_picks_the_newer_python_and_the_agents_work(python36, tmp_path):
    if NEWER is None:
        missing("a /usr/bin/python3.N, N >= 9 (stands in for SUSE 15's python311)")
    leap = Leap15(python36, tmp_path)
    install = leap.run([os.path.join(TOP, "packaging", "install")])
    metadata = {name: leap.run([os.path.join(AGENTDIR, name), "meta-data"]) for name in agents()}
    # grodata-binds for real, in the namespace: a tmpfs grodata, one bind.
    grodata, target = tmp_path / "grodata", tmp_path / "target" / "mysql"
    binds = {"OCF_RESKEY_grodata": str(grodata),
             "OCF_RESKEY_binds": "%s/mysql:%s" % (grodata, target),
             "OCF_RESOURCE_INSTANCE": "leap15_binds", "HA_RSCTMP": str(tmp_path / "rsctmp")}
    leap.run(["mkdir", "-p", str(grodata)])
    leap.run(["mount", "-t", "tmpfs", "grodata", str(grodata)])
    leap.run(["mkdir", str(grodata / "mysql")])
    cycle = [leap.run([os.path.join(AGENTDIR, "grodata-binds"), action], binds)
             for action in ("validate-all", "start", "monitor", "stop", "monitor")]
    health = leap.run([os.path.join(AGENTDIR, "stack-health"), "validate-all"],
                      {"OCF_RESKEY_mysql_config": "off", "OCF_RESOURCE_INSTANCE": "leap15_health"})
    migrate = leap.run([HELPER, "--help"])
    results, upper = leap.go()

    assert results[install].rc == 0, results[install]
    for name in agents():
        path = os.path.join(AGENTDIR, name)
        assert path[len("/usr"):] in upper
        assert results[metadata[name]].rc == 0, results[metadata[name]]
        assert '<resource-agent name="%s"' % name in results[metadata[name]].stdout
    assert [results[i].rc for i in cycle] == [0, 0, 0, 0, 7], [results[i] for i in cycle]
    assert results[health].rc == 0, results[health]
    assert results[migrate].rc == 0 and "usage: grommunio-ocf-migrate" in results[migrate].stdout
    # Everything went into the overlay, nothing onto the host's /usr.
    installed = [p for p in upper if p.startswith(("/lib/ocf/", "/sbin/", "/share/"))]
    assert "/sbin/grommunio-ocf-migrate" in installed
    tag = "cpython-" + NEWER.rpartition("python")[2].replace(".", "")
    assert "/lib/ocf/lib/grommunio/grommunio_ocf/ocf/__pycache__/agent.%s.pyc" % tag in installed
    assert not [p for p in installed if ".cpython-36" in p]
    assert [p for p in installed if p.startswith("/share/man/man7/ocf_grommunio_")]


def test_installed_programs_run_on_the_newer_python(python36, tmp_path):
    if NEWER is None:
        missing("a /usr/bin/python3.N, N >= 9 (stands in for SUSE 15's python311)")
    leap = Leap15(python36, tmp_path)
    leap.run([os.path.join(TOP, "packaging", "install")])
    firsts = {path: leap.run(["head", "-n1", path])
              for path in [os.path.join(AGENTDIR, n) for n in agents()] + [HELPER]}
    results, _ = leap.go()
    for path, index in firsts.items():
        assert results[index].stdout == "#!%s -IS\n" % NEWER, (path, results[index])


def test_install_refuses_without_a_newer_python(python36, tmp_path):
    leap = Leap15(python36, tmp_path, newer=False)
    listing = leap.run(["sh", "-c", "ls /usr/bin | grep -E '^python3(\\.[0-9]+)?$'"])
    install = leap.run([os.path.join(TOP, "packaging", "install")])
    results, upper = leap.go()
    assert results[listing].stdout.split() == ["python3", "python3.6"], results[listing]
    assert results[install].rc == 1, results[install]
    assert results[install].stderr == (
        "packaging/install: the agents need Python 3.9 or newer; /usr/bin/python3 is Python 3.6.15 "
        "and no /usr/bin/python3.N (N >= 9) exists: install one (SUSE 15: zypper in python311) "
        "or name one with --python PATH\n")
    # Refused before writing anything.
    assert not [p for p in upper if p.startswith(("/lib/ocf/", "/sbin/", "/share/"))], upper


def test_every_agent_run_by_python36_says_it_is_too_old(python36, tmp_path):
    """The work tree's agents by their own "#!/usr/bin/python3 -IS" line, every action."""
    leap = Leap15(python36, tmp_path)
    runs = {(name, action): leap.run([os.path.join(TOP, "agents", name), action])
            for name in agents() for action in ACTIONS}
    helper = leap.run([os.path.join(TOP, "packaging", "grommunio-ocf-migrate"), "--help"])
    results, _ = leap.go()
    for index in runs.values():
        too_old(results[index], "/usr/bin/python3")
    assert results[helper].rc == 2, results[helper]
    assert results[helper].stderr == ("grommunio-ocf-migrate: /usr/bin/python3 is Python 3.6.15; "
                                      "grommunio-ocf needs 3.9 or newer\n")
    assert results[helper].stdout == ""


def test_installed_agents_run_by_python36_say_they_are_too_old(python36, tmp_path):
    if NEWER is None:
        missing("a /usr/bin/python3.N, N >= 9 (stands in for SUSE 15's python311)")
    leap = Leap15(python36, tmp_path)
    leap.run([os.path.join(TOP, "packaging", "install")])
    runs = [leap.run(["python3", "-IS", os.path.join(AGENTDIR, name), action])
            for name in agents() for action in ("meta-data", "monitor", "validate-all")]
    results, _ = leap.go()
    for index in runs:
        too_old(results[index], "/usr/bin/python3")
