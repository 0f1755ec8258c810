"""The RPM and Debian packages (packaging/build-rpm, packaging/build-deb).

Both must hold exactly what packaging/install installs, depend on python3
alone (resource-agents recommended), and the .deb, installed on this
machine, must give working agents.
"""

import configparser
import os
import shutil
import stat
import subprocess

import pytest

from mountscratch import mountinfo, mounts_under, scratch, scratch_factory  # noqa: F401
from ocftester import run_ocf_tester

pytestmark = [pytest.mark.integration]

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGING = os.path.join(TOP, "packaging")
AGENTDIR = "/usr/lib/ocf/resource.d/grommunio"
LIBDIR = "/usr/lib/ocf/lib/grommunio"
METADIR = "/usr/share/resource-agents/grommunio"
DOCDIR = "/usr/share/doc/grommunio-ocf"
# Directories the package creates, and so may own; any other it only uses.
OWN_DIRS = (AGENTDIR, LIBDIR, METADIR, DOCDIR)
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HA_LOGFACILITY": "none", "LC_ALL": "C"}


def version():
    config = configparser.ConfigParser()
    config.read(os.path.join(TOP, "setup.cfg"))
    return config["metadata"]["version"]


def agents():
    return sorted(name for name in os.listdir(os.path.join(TOP, "agents"))
                  if os.path.isfile(os.path.join(TOP, "agents", name)))


def run(*argv, env=None, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, env=env or ENV,
                          stdin=subprocess.DEVNULL, timeout=120, **kw).stdout


def expected_files():
    """What the package must hold at least, named from the source tree."""
    files = {"%s/%s" % (AGENTDIR, name) for name in agents()}
    for dirpath, _, names in os.walk(os.path.join(TOP, "lib", "grommunio_ocf")):
        rel = os.path.relpath(dirpath, os.path.join(TOP, "lib"))
        files |= {"%s/%s/%s" % (LIBDIR, rel, n) for n in names if n.endswith(".py")}
    files |= {"%s/%s" % (METADIR, n) for n in os.listdir(os.path.join(TOP, "metadata"))
              if n.endswith(".xml")}
    files.add(DOCDIR + "/README.md")
    if os.path.exists(os.path.join(PACKAGING, "grommunio-ocf-migrate")):
        files.add("/usr/sbin/grommunio-ocf-migrate")
    return files


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """{path: mode} of every file packaging/install --destdir installs."""
    root = tmp_path_factory.mktemp("staged")
    run(os.path.join(PACKAGING, "install"), "--destdir", str(root))
    found = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            found["/" + os.path.relpath(path, root)] = stat.S_IMODE(os.lstat(path).st_mode)
    return found


def check_contents(files, staged):
    """``files``: {path: (mode, owner)} of a package's files."""
    assert set(files) == set(staged), "package and packaging/install differ: only in package %s, " \
        "only installed %s" % (sorted(set(files) - set(staged)), sorted(set(staged) - set(files)))
    assert expected_files() <= set(files)
    for path, (mode, owner) in files.items():
        assert owner == "root:root", path
        assert mode == staged[path], "%s: %o, installed %o" % (path, mode, staged[path])
    for name in agents():
        assert files["%s/%s" % (AGENTDIR, name)][0] == 0o755


def shared_dirs(dirs):
    """The directories in ``dirs`` that are not the package's own."""
    return [d for d in dirs if not any(d == own or d.startswith(own + "/") for own in OWN_DIRS)]


def build_package(tmp_path_factory, tool, debian_package, script, filename):
    """Run packaging/``script`` into a fresh directory; the path of the one file it must make there.

    Skips the test if ``tool`` (from ``debian_package``) is not installed.
    """
    if not shutil.which(tool):
        pytest.skip("%s is not installed (Debian package: %s)" % (tool, debian_package))
    out = tmp_path_factory.mktemp(script)
    path = run(os.path.join(PACKAGING, script), str(out)).strip()
    assert path == str(out / filename)
    assert os.listdir(out) == [os.path.basename(path)]
    return path


# --- RPM -------------------------------------------------------------------

@pytest.fixture(scope="module")
def rpm_file(tmp_path_factory):
    return build_package(tmp_path_factory, "rpmbuild", "rpm", "build-rpm",
                         "grommunio-ocf-%s-1.noarch.rpm" % version())


def rpm_query(path, *args):
    return run("rpm", "-qp", *args, path).splitlines()


def test_rpm_holds_what_install_installs(rpm_file, staged):
    files, dirs = {}, []
    for line in rpm_query(rpm_file, "--qf", "[%{FILEMODES} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]"):
        mode, owner, path = line.split(" ", 2)
        if stat.S_ISDIR(int(mode)):
            dirs.append(path)
        else:
            files[path] = (stat.S_IMODE(int(mode)), owner)
    check_contents(files, staged)
    assert shared_dirs(dirs) == [], "the RPM must not own directories other packages share"
    assert set(rpm_query(rpm_file, "--docfiles")) == {DOCDIR + "/README.md"}


def test_rpm_metadata_and_dependencies(rpm_file):
    assert rpm_query(rpm_file, "--qf", "%{NAME} %{VERSION} %{ARCH}\n") == \
        ["grommunio-ocf %s noarch" % version()]
    requires = [r for r in rpm_query(rpm_file, "--requires") if not r.startswith("rpmlib(")]
    assert requires == ["python3"]
    assert rpm_query(rpm_file, "--recommends") == ["resource-agents"]


# --- Debian ----------------------------------------------------------------

@pytest.fixture(scope="module")
def deb_file(tmp_path_factory):
    return build_package(tmp_path_factory, "dpkg-deb", "dpkg", "build-deb",
                         "grommunio-ocf_%s_all.deb" % version())


def test_deb_holds_what_install_installs(deb_file, staged):
    files, dirs = {}, []
    for line in run("dpkg-deb", "--contents", deb_file).splitlines():
        # drwxr-xr-x root/root 0 2024-01-01 00:00 ./usr/lib/
        perms, owner, _, _, _, path = line.split(None, 5)
        path = path[1:].rstrip("/") or "/"
        if perms.startswith("d"):
            dirs.append(path)
        else:
            assert perms.startswith("-"), line
            files[path] = (symbolic_mode(perms), owner.replace("/", ":"))
    check_contents(files, staged)
    # A .deb lists every parent directory too; dpkg shares those between packages.
    assert set(shared_dirs(dirs)) >= {"/", "/usr", "/usr/lib", "/usr/lib/ocf"}


def symbolic_mode(perms):
    """0o755 from "-rwxr-xr-x" (no set-id bits in these packages)."""
    return int("".join("0" if c == "-" else "1" for c in perms[1:]), 2)


def test_deb_control(deb_file):
    fields = ("Package", "Version", "Architecture", "Depends", "Recommends", "Maintainer", "Description")
    values = dict(zip(fields, run("dpkg-deb", "--field", deb_file, *fields).splitlines()))
    assert {k: values[k] for k in fields[:5]} == {
        "Package": "Package: grommunio-ocf", "Version": "Version: " + version(),
        "Architecture": "Architecture: all", "Depends": "Depends: python3",
        "Recommends": "Recommends: resource-agents"}
    assert values["Maintainer"].startswith("Maintainer: ") and "@" in values["Maintainer"]
    assert values["Description"].startswith("Description: ")


@pytest.fixture(scope="module")
def installed_deb(deb_file):
    """The .deb installed with dpkg; afterwards removed, and packaging/install run again.

    The rest of the suite (and tests/run) expects the agents as
    packaging/install puts them, not registered with dpkg: a package left
    installed would keep owning files the work tree may since have dropped.
    """
    if os.geteuid() != 0:
        pytest.skip("dpkg -i needs root")
    try:
        run("dpkg", "--install", deb_file)
        yield run("dpkg-query", "--listfiles", "grommunio-ocf").splitlines()
    finally:
        subprocess.run(["dpkg", "--remove", "grommunio-ocf"], capture_output=True, env=ENV,
                       stdin=subprocess.DEVNULL, timeout=120)
        run(os.path.join(PACKAGING, "install"))


def test_deb_installs_working_agents(installed_deb, scratch):
    assert expected_files() <= set(installed_deb)
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

    The full cycles, on scratch setups and the test services, follow
    (grodata-binds above, the health agents below): with their defaults an
    agent would act on this machine's real configuration.
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
    from services.listeners import TcpAcceptor
    from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER
    cfg = tmp_path / "mysql_adaptor.cfg"
    cfg.write_text("mysql_username = %s\nmysql_password = %s\nmysql_dbname = %s\n"
                   % (DB_USER, DB_PASSWORD, DB_NAME))
    env = dict(ENV, HA_RSCTMP=str(tmp_path))
    with TcpAcceptor() as milter:
        rc, out = run_ocf_tester(AGENTDIR + "/stack-health", "pkg_health", [
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
