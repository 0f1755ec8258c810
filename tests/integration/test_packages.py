"""The source release and the packages built from it, the way distributions build.

packaging/release makes grommunio-ocf-VERSION.tar.gz; from it ``rpmbuild
-ta`` builds the RPM and ``dpkg-buildpackage -us -uc -b`` (with
packaging/debian copied into place) the .deb.  Both must hold what
packaging/install installs, pass rpmlint / lintian, and the .deb, installed
on this machine, must give working agents and man pages -- and leave nothing
behind when it is purged.
"""

import os
import re
import shutil
import stat
import io
import subprocess
import tarfile

import pytest

from helpers import TOP
from grommunio_ocf import __version__
from mountscratch import mountinfo, mounts_under, scratch, scratch_factory  # noqa: F401
from ocftester import run_ocf_tester

pytestmark = [pytest.mark.integration]

PACKAGING = os.path.join(TOP, "packaging")
AGENTDIR = "/usr/lib/ocf/resource.d/grommunio"
LIBDIR = "/usr/lib/ocf/lib/grommunio"
METADIR = "/usr/share/resource-agents/grommunio"
DOCDIR = "/usr/share/doc/grommunio-ocf"
MANDIR = "/usr/share/man"
HELPERS = ("grommunio-ocf-check", "grommunio-ocf-migrate")   # in /usr/sbin, each with a man8 page
# Directories the package creates, and so may own; any other it only uses.
OWN_DIRS = (AGENTDIR, LIBDIR, METADIR, DOCDIR)
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HA_LOGFACILITY": "none", "LC_ALL": "C.UTF-8"}
PACKAGER = "grommunio-ocf maintainers <maintainers@users.noreply.r-seed-a93551ed.example>"
PREFIX = "grommunio-ocf-%s" % __version__
DEB_VERSION = __version__ + "-1"


def agents():
    return sorted(name for name in os.listdir(os.path.join(TOP, "agents"))
                  if os.path.isfile(os.path.join(TOP, "agents", name)))


def man_pages():
    return ["%s/man7/ocf_grommunio_%s.7" % (MANDIR, name) for name in agents()] + [
        "%s/man8/%s.8" % (MANDIR, name) for name in HELPERS]


def run(*argv, env=None, **kw):
    proc = subprocess.run(argv, capture_output=True, text=True, env=env or ENV,
                          stdin=subprocess.DEVNULL, timeout=300, **kw)
    assert proc.returncode == 0, "%s: %d\n%s\n%s" % (argv, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def needs(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip("not installed: %s (tests/run installs them)" % " ".join(missing))


def expected_files():
    """What a package must hold at least, named from the source tree."""
    files = {"%s/%s" % (AGENTDIR, name) for name in agents()}
    for dirpath, _, names in os.walk(os.path.join(TOP, "lib", "grommunio_ocf")):
        rel = os.path.relpath(dirpath, os.path.join(TOP, "lib"))
        files |= {"%s/%s/%s" % (LIBDIR, rel, n) for n in names if n.endswith(".py")}
    files |= {"%s/%s" % (METADIR, n) for n in os.listdir(os.path.join(TOP, "metadata"))
              if n.endswith(".xml")}
    files |= {DOCDIR + "/README.md", DOCDIR + "/examples/MIGRATION.md",
              DOCDIR + "/doc/monitoring-plugin.md"}
    files |= {"/usr/sbin/" + name for name in HELPERS}
    return files | set(man_pages())


def staged_tree(root, *args):
    """{path: mode} of every file ``packaging/install --destdir root *args`` installs."""
    run(os.path.join(PACKAGING, "install"), "--destdir", str(root), *args)
    found = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            found["/" + os.path.relpath(path, root)] = stat.S_IMODE(os.lstat(path).st_mode)
    return found


def check_contents(files, staged):
    """``files``: {path: (mode, owner)} of a package's files, compression suffixes removed."""
    assert set(files) == set(staged), "package and packaging/install differ: only in package %s, " \
        "only installed %s" % (sorted(set(files) - set(staged)), sorted(set(staged) - set(files)))
    assert expected_files() <= set(files)
    for path, (mode, owner) in files.items():
        assert owner == "root:root", path
        assert mode == staged[path], "%s: %o, installed %o" % (path, mode, staged[path])
    for name in agents():
        assert files["%s/%s" % (AGENTDIR, name)][0] == 0o755
    for name in HELPERS:
        assert files["/usr/sbin/" + name][0] == 0o755


def shared_dirs(dirs):
    """The directories in ``dirs`` that are not the package's own."""
    return [d for d in dirs if not any(d == own or d.startswith(own + "/") for own in OWN_DIRS)]


def lint_tags(output):
    """(severity, tag, rest) of lintian's or rpmlint's result lines."""
    tags = []
    for line in output.splitlines():
        match = re.match(r"(?:\S+: )?([EWIPXN]): (?:\S+: )?(\S+)(.*)", line)
        if match and match.group(1) in "EW":
            tags.append(match.groups())
    return tags


# --- the source release -------------------------------------------------------------

@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    path = run(os.path.join(PACKAGING, "release"), str(out)).strip()
    assert path == str(out / (PREFIX + ".tar.gz"))
    return path


def test_release_holds_the_tree_and_the_rendered_packaging(release):
    with tarfile.open(release) as tar:
        members = {m.name: m for m in tar.getmembers()}
        spec = tar.extractfile(PREFIX + "/grommunio-ocf.spec").read().decode()
        changelog = tar.extractfile(PREFIX + "/packaging/debian/changelog").read().decode()
    tracked = run("git", "-C", TOP, "ls-files").split()
    names = {n[len(PREFIX) + 1:] for n in members if n.startswith(PREFIX + "/")}
    assert all(n == PREFIX or n.startswith(PREFIX + "/") for n in members)
    rendered = {"packaging/grommunio-ocf.spec.in", "packaging/debian/changelog.in"}
    assert {t for t in tracked if os.path.exists(os.path.join(TOP, t))} - rendered <= names
    assert not names & rendered
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members.values()} == {(0, 0, "root", "root")}
    assert members[PREFIX + "/agents/grodata-binds"].mode == 0o755
    # The version comes from grommunio_ocf.__version__, filled in at release time.
    assert re.search(r"^Version: +%s$" % re.escape(__version__), spec, re.M)
    assert changelog.startswith("grommunio-ocf (%s) " % DEB_VERSION)
    assert "@" + "VERSION@" not in spec + changelog


def test_release_is_reproducible(release, tmp_path):
    again = run(os.path.join(PACKAGING, "release"), str(tmp_path)).strip()
    with open(release, "rb") as first, open(again, "rb") as second:
        assert first.read() == second.read()


# --- RPM ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rpms(release, tmp_path_factory):
    """(binary RPM, source RPM), built with rpmbuild -ta from the tarball."""
    needs("rpmbuild", "rpmlint")
    top = tmp_path_factory.mktemp("rpmbuild")
    # --nodeps: the build dependency (python3) is a dpkg package here, unknown to rpm's database.
    run("rpmbuild", "-ta", "--nodeps", "--define", "_topdir %s" % top,
        "--define", "packager " + PACKAGER, release)
    binary = top / "RPMS" / "noarch" / ("grommunio-ocf-%s-1.noarch.rpm" % __version__)
    source = top / "SRPMS" / ("grommunio-ocf-%s-1.src.rpm" % __version__)
    assert binary.exists() and source.exists()
    return str(binary), str(source)


def rpm_query(path, *args):
    return run("rpm", "-qp", *args, path).splitlines()


def test_rpm_holds_what_install_installs(rpms, tmp_path):
    files, dirs = {}, []
    for line in rpm_query(rpms[0], "--qf", "[%{FILEMODES} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]"):
        mode, owner, path = line.split(" ", 2)
        if stat.S_ISDIR(int(mode)):
            dirs.append(path)
        else:
            files[path] = (stat.S_IMODE(int(mode)), owner)
    licenses = [p for p in files if p.startswith("/usr/share/licenses/")]
    assert [os.path.basename(p) for p in licenses] == ["COPYING"]
    files = {re.sub(r"\.(gz|bz2|xz|zst)$", "", p): v for p, v in files.items() if p not in licenses}
    check_contents(files, staged_tree(tmp_path))
    assert shared_dirs(dirs) == [p for p in dirs if p.startswith("/usr/share/licenses/")], \
        "the RPM must not own directories other packages share"
    docs = rpm_query(rpms[0], "--docfiles")
    assert DOCDIR + "/README.md" in docs and DOCDIR + "/examples/MIGRATION.md" in docs


def test_rpm_metadata_and_dependencies(rpms):
    assert rpm_query(rpms[0], "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE}\n") == \
        ["grommunio-ocf %s 1 noarch GPL-2.0-or-later" % __version__]
    assert rpm_query(rpms[0], "--qf", "%{URL}\n")[0].startswith("https://")
    requires = [r for r in rpm_query(rpms[0], "-R") if not r.startswith("rpmlib(")]
    assert requires == ["python3 >= 3.9"]
    assert rpm_query(rpms[0], "--recommends") == ["resource-agents"]
    changelog = rpm_query(rpms[0], "--changelog")
    assert changelog[0].endswith("- %s-1" % __version__)


# --- the interpreter, chosen per platform when the RPM is built ---------------------------

# rpmbuild --define ...: (macros, the programs' "#!" interpreter, Requires and BuildRequires).
PLATFORMS = {
    # The appliance: /usr/bin/python3 is 3.6 there, python311 beside it.
    "leap15.6": (("suse_version 1560", "sle_version 150600"), "/usr/bin/python3.11",
                 ["python311"]),
    "leap16": (("suse_version 1600",), "/usr/bin/python3", ["python3 >= 3.9"]),
    "rhel9": (("rhel 9",), "/usr/bin/python3", ["python3 >= 3.9"]),
}


@pytest.fixture(scope="module", params=sorted(PLATFORMS))
def platform_rpms(request, release, tmp_path_factory):
    """(platform, binary RPM, source RPM) built with that platform's macros.

    The SUSE 15 build really runs /usr/bin/python3.11 (it writes the man
    pages by running the agents, and byte-compiles the library for 3.11):
    this machine's (Debian 12's own) stands in for SUSE's python311.
    --nodeps: rpm's database here knows none of the build dependencies.
    """
    needs("rpmbuild", "rpm2archive")
    defines, python, _ = PLATFORMS[request.param]
    if not os.access(python, os.X_OK):
        pytest.skip("%s: the build runs %s, which this machine lacks" % (request.param, python))
    top = tmp_path_factory.mktemp("rpmbuild-" + request.param)
    argv = ["rpmbuild", "-ta", "--nodeps", "--define", "_topdir %s" % top,
            "--define", "packager " + PACKAGER]
    for define in defines:
        argv += ["--define", define]
    run(*argv, release)
    binary = top / "RPMS" / "noarch" / ("grommunio-ocf-%s-1.noarch.rpm" % __version__)
    source = top / "SRPMS" / ("grommunio-ocf-%s-1.src.rpm" % __version__)
    return request.param, str(binary), str(source)


def rpm_payload(path):
    """{name: bytes} of the RPM's regular files (rpm2archive: its payload as a tarball)."""
    with open(path, "rb") as handle:
        data = subprocess.run(["rpm2archive", "-"], stdin=handle, capture_output=True,
                              check=True, timeout=120).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name[1:]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_rpm_runs_the_platforms_python(platform_rpms):
    platform, binary, source = platform_rpms
    _, python, requires = PLATFORMS[platform]
    assert [r for r in rpm_query(binary, "-R") if not r.startswith("rpmlib(")] == requires
    # The source RPM's requirements are the build's.
    assert [r for r in rpm_query(source, "-R") if not r.startswith("rpmlib(")] == requires
    payload = rpm_payload(binary)
    programs = ["%s/%s" % (AGENTDIR, name) for name in agents()] + ["/usr/sbin/grommunio-ocf-migrate"]
    for path in programs:
        assert payload[path].split(b"\n", 1)[0].decode() == "#!%s -IS" % python, path
    # Bytecode for the interpreter the programs name, and for no other.
    tag = subprocess.run([python, "-c", "import sys; print(sys.implementation.cache_tag)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    bytecode = [p for p in payload if p.endswith(".pyc")]
    assert bytecode and all(".%s." % tag in p for p in bytecode), (tag, bytecode[:3])


def rpmlint_version():
    out = subprocess.run(["rpmlint", "--version"], capture_output=True, text=True, env=ENV,
                         timeout=60).stdout
    return tuple(int(n) for n in re.match(r"(\d+)\.(\d+)", out.strip()).groups())


def test_rpmlint_finds_no_error_but_the_missing_signature(rpms):
    # rpmlint 2.4's false no-manual-page-for-binary: filtered for it alone
    # (rpmlint-2.4.toml says why); 2.5 and later check the rpmlintrc's filters.
    extra = ["-c", os.path.join(TOP, "tests", "integration", "rpmlint-2.4.toml")] \
        if rpmlint_version() < (2, 5) else []
    proc = subprocess.run(["rpmlint", *extra, "-r",
                           os.path.join(PACKAGING, "grommunio-ocf.rpmlintrc"), *rpms],
                          capture_output=True, text=True, env=ENV, timeout=300)
    tags = lint_tags(proc.stdout)
    assert tags == [("E", "no-signature", "")] * 2, proc.stdout


# --- Debian ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def debs(release, tmp_path_factory):
    """(.deb, .changes), built with dpkg-buildpackage from the unpacked tarball."""
    needs("dpkg-buildpackage", "dh", "dh_python3", "lintian")
    work = tmp_path_factory.mktemp("debbuild")
    run("tar", "-xzf", release, "-C", str(work))
    source = work / PREFIX
    shutil.copytree(str(source / "packaging" / "debian"), str(source / "debian"), symlinks=True)
    run("dpkg-buildpackage", "-us", "-uc", "-b", cwd=str(source))
    deb = work / ("grommunio-ocf_%s_all.deb" % DEB_VERSION)
    changes = [p for p in os.listdir(str(work)) if p.endswith(".changes")]
    assert deb.exists() and len(changes) == 1
    return str(deb), str(work / changes[0])


def deb_contents(deb):
    """({path: (mode, owner)}, [dirs]) of a .deb."""
    files, dirs = {}, []
    for line in run("dpkg-deb", "--contents", deb).splitlines():
        # drwxr-xr-x root/root 0 2024-01-01 00:00 ./usr/lib/
        perms, owner, _, _, _, path = line.split(None, 5)
        path = path[1:].rstrip("/") or "/"
        if perms.startswith("d"):
            dirs.append(path)
        else:
            assert perms.startswith("-"), line
            files[path] = (symbolic_mode(perms), owner.replace("/", ":"))
    return files, dirs


def symbolic_mode(perms):
    """0o755 from "-rwxr-xr-x" (no set-id bits in these packages)."""
    return int("".join("0" if c == "-" else "1" for c in perms[1:]), 2)


# What debhelper adds beside packaging/install's files.
DEB_EXTRAS = {DOCDIR + "/changelog.Debian.gz", DOCDIR + "/copyright",
              "/usr/share/lintian/overrides/grommunio-ocf",
              "/usr/share/python3/runtime.d/grommunio-ocf.rtupdate"}


def test_deb_holds_what_install_installs_without_bytecode(debs, tmp_path):
    files, dirs = deb_contents(debs[0])
    assert DEB_EXTRAS <= set(files)
    assert not [p for p in files if "__pycache__" in p or p.endswith(".pyc")]
    # dh_compress gzips the man pages and the larger documents.
    files = {re.sub(r"\.gz$", "", p) if p.startswith((MANDIR, DOCDIR)) else p: v
             for p, v in files.items() if p not in DEB_EXTRAS}
    check_contents(files, staged_tree(tmp_path, "--no-bytecode"))
    # A .deb lists every parent directory too; dpkg shares those between packages.
    assert set(shared_dirs(dirs)) >= {"/", "/usr", "/usr/lib", "/usr/lib/ocf"}


def test_deb_control(debs):
    fields = ("Package", "Version", "Architecture", "Depends", "Recommends", "Maintainer",
              "Homepage", "Description")
    values = dict(zip(fields, run("dpkg-deb", "--field", debs[0], *fields).splitlines()))
    assert {k: values[k] for k in fields[:5]} == {
        "Package": "Package: grommunio-ocf", "Version": "Version: " + DEB_VERSION,
        "Architecture": "Architecture: all",
        "Depends": "Depends: python3:any, python3 (>= 3.9)",
        "Recommends": "Recommends: resource-agents"}
    assert values["Maintainer"].startswith("Maintainer: ") and "@" in values["Maintainer"]
    assert values["Description"].startswith("Description: ")


def test_deb_byte_compiles_at_install_and_cleans_at_removal(debs, tmp_path):
    run("dpkg-deb", "--control", debs[0], str(tmp_path))
    with open(str(tmp_path / "postinst"), encoding="utf-8") as handle:
        assert "py3compile -p grommunio-ocf %s" % LIBDIR in handle.read()
    with open(str(tmp_path / "prerm"), encoding="utf-8") as handle:
        assert "py3clean -p grommunio-ocf" in handle.read()


def test_lintian_finds_no_error_and_no_warning(debs):
    proc = subprocess.run(["lintian", debs[1]], capture_output=True, text=True, env=ENV,
                          timeout=300)
    assert lint_tags(proc.stdout) == [], proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the .deb installed ----------------------------------------------------------------

# Where the package puts anything (and py3compile its bytecode): compared
# before installing and after purging.
WATCHED = ("/usr/lib/ocf", "/usr/share/resource-agents", DOCDIR, MANDIR + "/man7",
           MANDIR + "/man8", "/usr/sbin", "/usr/share/python3/runtime.d",
           "/usr/share/lintian/overrides")


def snapshot():
    found = set()
    for top in WATCHED:
        for dirpath, dirnames, names in os.walk(top):
            found.add(dirpath)
            found.update(os.path.join(dirpath, n) for n in names)
    return found


def remove_installed():
    """Take away what packaging/install put on this machine (tests/run ran it)."""
    for path in (AGENTDIR, LIBDIR, METADIR, DOCDIR):
        shutil.rmtree(path, ignore_errors=True)
    for path in ["/usr/sbin/" + name for name in HELPERS] + man_pages():
        for candidate in (path, path + ".gz"):
            if os.path.lexists(candidate):
                os.unlink(candidate)


INSTALLED = {}


@pytest.fixture(scope="module")
def installed_deb(debs):
    """The .deb installed with dpkg, on a machine without packaging/install's copy.

    Afterwards the package is purged (if test_purge_leaves_nothing_behind
    has not) and packaging/install runs again: the rest of the suite expects
    the agents as it puts them.
    """
    if os.geteuid() != 0:
        pytest.skip("dpkg -i needs root")
    if subprocess.run(["dpkg-query", "-W", "grommunio-ocf"], capture_output=True).returncode == 0:
        pytest.skip("a grommunio-ocf package is installed on this machine: not touching it")
    remove_installed()
    INSTALLED["before"] = snapshot()
    try:
        run("dpkg", "--install", debs[0])
        yield run("dpkg-query", "--listfiles", "grommunio-ocf").splitlines()
    finally:
        subprocess.run(["dpkg", "--purge", "grommunio-ocf"], capture_output=True, env=ENV,
                       stdin=subprocess.DEVNULL, timeout=120)
        run(os.path.join(PACKAGING, "install"))


def test_deb_installs_working_agents(installed_deb, scratch):
    assert expected_files() <= {re.sub(r"\.gz$", "", p) for p in installed_deb}
    # py3compile ran: the library is byte-compiled, though the package holds no bytecode.
    assert os.listdir(LIBDIR + "/grommunio_ocf/__pycache__")
    # grodata-binds, through a full ocf-tester cycle on a scratch grodata.
    s = scratch
    names = ("mysql", "redis")
    s.sources(*names)
    before = [m["line"] for m in mountinfo()]
    rc, out = run_ocf_tester(AGENTDIR + "/grodata-binds", "pkg_binds",
                             ["grodata=" + s.grodata, "binds=" + s.binds(names)], env=ENV)
    assert rc == 0 and "passed all tests" in out, out
    assert "Traceback" not in out
    assert [m["line"] for m in mountinfo()] == before
    assert mounts_under(s.targets) == []


@pytest.mark.parametrize("name", agents())
def test_deb_agent_metadata_passes_ocf_tester_checks(installed_deb, name):
    """ocf-tester's meta-data checks, for every installed agent.

    The full cycles, on scratch setups and the test services, are in the
    tests beside this one: with their defaults an agent would act on this
    machine's real configuration.
    """
    path = "%s/%s" % (AGENTDIR, name)
    assert path in installed_deb
    env = dict(ENV, OCF_ROOT="/usr/lib/ocf", OCF_RESOURCE_INSTANCE="pkg_" + name)
    # "Testing permissions with uid nobody"
    subprocess.run(["su", "nobody", "-s", "/bin/sh", "-c", path + " meta-data"], check=True,
                   capture_output=True, env=env, stdin=subprocess.DEVNULL, timeout=60)
    # "Your agent produces meta-data which does not conform to ra-api-1.dtd"
    metadata = run(path, "meta-data", env=env)
    proc = subprocess.run(["xmllint", "--noout", "--valid", "-"], input=metadata, capture_output=True,
                          text=True, cwd="/usr/share/resource-agents", timeout=60)
    assert proc.returncode == 0, proc.stderr
    # The installed agent finds its library through the LIBDIR packaging/install wrote in.
    with open(path, encoding="utf-8") as handle:
        assert 'LIBDIR = "%s"\n' % LIBDIR in handle.read()


def test_deb_health_agents_pass_ocf_tester(installed_deb, tmp_path, dovecot, mariadb, adminapi,
                                           redis, postfix_config):
    """The full ocf-tester cycle for the packaged health agents, pointed at the test services."""
    from services.gromox import NEW_CHECKS_OFF, Milter
    from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER
    cfg = tmp_path / "mysql_adaptor.cfg"
    cfg.write_text("mysql_username = %s\nmysql_password = %s\nmysql_dbname = %s\n"
                   % (DB_USER, DB_PASSWORD, DB_NAME))
    env = dict(ENV, HA_RSCTMP=str(tmp_path))
    with Milter() as milter:
        rc, out = run_ocf_tester(AGENTDIR + "/stack-health", "pkg_health", [
            "%s=%s" % item for item in NEW_CHECKS_OFF.items()] + [
            "imap_url=imap://127.0.0.1:%d" % dovecot.imap_port,
            "admin_api_url=" + adminapi.status_url, "mysql_config=%s" % cfg,
            "mysql_socket=" + mariadb.socket, "lmtp_address=127.0.0.1:%d" % dovecot.lmtp_port,
            "redis_address=" + redis.address, "milter_address=" + milter.address],
            env=env, timeout=180)
        assert rc == 0 and "passed all tests" in out, out
        assert DB_PASSWORD not in out
        postfix_config.set("smtpd_milters", "inet:" + milter.address)
        rc, out = run_ocf_tester(AGENTDIR + "/postfix-maps", "pkg_maps", [
            "config_directory=" + postfix_config.directory, "milters=inet:" + milter.address,
            "maps=" + " ".join("%s=mysql:%s" % item for item in postfix_config.maps.items())],
            env=env, timeout=180)
        assert rc == 0 and "passed all tests" in out, out
        assert DB_PASSWORD not in out


def test_deb_check_command_runs_the_installed_agents(installed_deb, adminapi):
    """/usr/sbin/grommunio-ocf-check finds the installed library and agents (LIBDIR
    rewritten, agents in OCF's directory) and writes no bytecode beside them."""
    path = "/usr/sbin/grommunio-ocf-check"
    assert path in installed_deb
    with open(path, encoding="utf-8") as handle:
        assert 'LIBDIR = "%s"\n' % LIBDIR in handle.read()
    from services.gromox import NEW_CHECKS_OFF
    others_off = [a for item in NEW_CHECKS_OFF.items() for a in ("--set", "%s=%s" % item)]
    proc = subprocess.run([path, "--agent", "stack-health", "--set", "imap_url=off",
                           "--set", "mysql_config=off", "--set", "lmtp_address=off",
                           "--set", "admin_api_url=" + adminapi.status_url,
                           "--set", "critical=admin_api"] + others_off, capture_output=True,
                          text=True, env=ENV, cwd="/", stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc
    assert proc.stdout.startswith("GROMMUNIO OK - stack-health (stack-health): 1 check ok | "
                                  "admin_api="), proc.stdout
    assert not os.path.exists(AGENTDIR + "/__pycache__")


@pytest.mark.parametrize("section, name", [("7", "ocf_grommunio_" + a) for a in agents()]
                         + [("8", name) for name in HELPERS])
def test_deb_man_pages_render(installed_deb, section, name):
    """``man NAME`` finds the installed page, and groff renders it without a warning."""
    needs("man")
    assert "%s/man%s/%s.%s.gz" % (MANDIR, section, name, section) in installed_deb
    proc = subprocess.run(["man", "--warnings", section, name], capture_output=True, text=True,
                          env=dict(ENV, MANWIDTH="80", MAN_KEEP_FORMATTING="0"), timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert name in proc.stdout and __version__ in proc.stdout


def test_purge_leaves_nothing_behind(installed_deb):
    """Last in this module: dpkg --purge leaves no file, directory or bytecode behind."""
    run("dpkg", "--purge", "grommunio-ocf")
    assert sorted(snapshot() - INSTALLED["before"]) == []
