"""The migrated configuration under real Pacemaker, with faults injected.

``packaging/examples/migrated.crm`` is loaded into the single-node test
cluster with stand-ins only for what cannot exist here: the DRBD clone
becomes ``ocf:pacemaker:Stateful``, the VIP and the 15 systemd units
``ocf:pacemaker:Dummy`` (same names, same constraints).  ``grodata_mount``
stays a real ``ocf:heartbeat:Filesystem``, loop-mounting an ext4 image that
holds the seven source directories; the bind targets live in a scratch
tree.  ``stack_health`` checks the session's real dovecot, admin-api
stand-in, MariaDB, redis and a milter port; ``postfix_maps`` a real Postfix
config directory wired to that MariaDB.

Monitor intervals are shortened (binds and health 5 s, maps 10 s) so that
faults are seen within seconds; the times from fault to detection and to
recovery are recorded and printed at the end of the session.
"""

import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from services.gromox import NEW_CHECKS_OFF, Milter
from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER
from services.postfix import PostfixConfig

from . import standin
from .timings import record

pytestmark = [pytest.mark.integration]

NAMES = ("mysql", "redis", "gromox", "grommunio-web", "grommunio-antispam", "grommunio-dav",
         "grommunio-admin-api")
BINDS_INTERVAL, HEALTH_INTERVAL, MAPS_INTERVAL = 5, 5, 10


# -- the stand-in configuration ------------------------------------------------------

def single_node(text, env):
    """``migrated.crm`` for this one node: same ids, groups and constraints."""
    def keep(words):
        if words[0] in ("node", "property"):
            return False  # node1..3 do not exist here; the fixture owns the cluster options
        return not (words[0] == "location" and words[-1] == "node3")  # no witness to keep off

    return standin.stand_in(text, {
        "grodata": standin.drbd,
        "grodata_mount": lambda stmt: _mount(env),
        "grodata_binds": lambda stmt: _binds(stmt, env),
        "stack_health": lambda stmt: _health(stmt, env),
        "postfix_maps": lambda stmt: _maps(stmt, env)}, keep)


def _mount(env):
    # A real filesystem on a loop device.  Its monitor is slow on purpose:
    # the tests below must see grodata-binds meet an unmounted /grodata,
    # not Filesystem repair it first.
    return ("primitive grodata_mount ocf:heartbeat:Filesystem params device=%s directory=%s "
            "fstype=ext4 options=loop op monitor interval=300s timeout=40s"
            % (env["image"], env["grodata"]))


def _binds(stmt, env):
    pairs = " ".join("%s/%s:%s/%s" % (env["grodata"], n, env["varlib"], n) for n in NAMES)
    return standin.ours(stmt, "grodata-binds", {"grodata": env["grodata"], "binds": pairs},
                        BINDS_INTERVAL)


def _health(stmt, env):
    values = {name: env[name] for name in (
        "imap_url", "admin_api_url", "mysql_config", "mysql_socket", "lmtp_address",
        "redis_address", "milter_address")}
    values["check_timeout"] = "2"
    values.update(NEW_CHECKS_OFF)  # this stand-in has no gromox daemons, nginx or rspamd
    return standin.ours(stmt, "stack-health", values, HEALTH_INTERVAL)


def _maps(stmt, env):
    return standin.ours(stmt, "postfix-maps", {"config_directory": env["postfix"].directory,
                                               "maps": env["maps"], "milters": env["milters"]},
                        MAPS_INTERVAL)


# -- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scratch():
    # A short path: exit reasons naming it must fit Pacemaker's 128 characters.
    root = pathlib.Path(tempfile.mkdtemp(prefix="gro-", dir="/tmp"))
    sources = root / "sources"
    for name in NAMES:
        (sources / name).mkdir(parents=True)
        (sources / name / "data").write_text("%s lives on the replicated filesystem\n" % name)
    image = root / "grodata.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(sources), str(image), "64M"], check=True)
    (root / "grodata").mkdir()
    (root / "var" / "lib").mkdir(parents=True)
    yield {"root": str(root), "image": str(image), "grodata": str(root / "grodata"),
           "varlib": str(root / "var" / "lib")}
    # Whatever happened, nothing of ours stays mounted.
    for point in reversed(mounts_under(str(root))):
        subprocess.run(["umount", "-l", point], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def env(scratch, tmp_path_factory, dovecot_session, mariadb, redis_session, adminapi_session):
    work = tmp_path_factory.mktemp("migrated-services")
    cfg = work / "mysql_adaptor.cfg"
    cfg.write_text("mysql_host = localhost\nmysql_username = %s\nmysql_password = %s\n"
                   "mysql_dbname = %s\n" % (DB_USER, DB_PASSWORD, DB_NAME))
    cfg.chmod(0o600)
    milter = Milter()
    (work / "postfix").mkdir()
    postfix = PostfixConfig(work / "postfix", mariadb)
    postfix.set("smtpd_milters", "inet:%s" % milter.address)
    values = dict(scratch)
    values.update(
        imap_url="imap://127.0.0.1:%d" % dovecot_session.imap_port,
        admin_api_url=adminapi_session.status_url, mysql_config=str(cfg),
        mysql_socket=mariadb.socket, lmtp_address="127.0.0.1:%d" % dovecot_session.lmtp_port,
        redis_address=redis_session.address, milter_address=milter.address,
        postfix=postfix, milters="inet:%s" % milter.address, milter=milter,
        maps=" ".join("%s=mysql:%s" % item for item in postfix.maps.items()))
    yield values
    milter.close()


@pytest.fixture(scope="module")
def loaded(cluster, env):
    """The stand-in configuration, loaded and started; unloaded at the end."""
    text = single_node(standin.example("migrated.crm"), env)
    began = time.monotonic()
    mark = cluster.log_mark()
    cluster.load(text, settle=False)
    cluster.wait(everything_started, 180, "every resource of the migrated configuration")
    record("migrated configuration: load to all started", time.monotonic() - began)
    yield {"text": text, "start_log": cluster.log_since(mark)}
    cluster.reset()
    cluster.wait(lambda m: not m.resources, 60, "every resource gone")
    cluster.wait_settled()
    assert not mounts_under(env["root"]), "mounts left after the resources were removed"


@pytest.fixture
def healthy(cluster, loaded, env, dovecot_session, adminapi_session):
    """Each test starts from a healthy, clean cluster and leaves it so."""
    restore(cluster, env, dovecot_session, adminapi_session)
    yield
    restore(cluster, env, dovecot_session, adminapi_session)


def restore(cluster, env, dovecot, adminapi):
    dovecot.ensure_running()
    adminapi.reset()
    if env["milter"].closed:
        env["milter"] = Milter(port=env["milter"].port)
    mon = cluster.mon()
    if not everything_started(mon) or mon.failures:
        # cleanup clears fail counts; refresh re-probes every resource, also
        # one without failures (a Filesystem whose mount went away).
        cluster.crm("resource", "cleanup")
        cluster.crm("resource", "refresh")
        cluster.wait(lambda m: everything_started(m) and not m.failures, 120,
                     "every resource started again")
        cluster.wait_settled()


def everything_started(mon):
    # The DRBD stand-in is left out: its second instance has no second node to run on.
    ours = [r for r in mon.resources.values() if r.agent and r.parent != "ms_grodata"]
    return bool(ours) and all(r.role == "Started" for r in ours) and not mon.busy


def mounts_under(root):
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        points = [line.split()[4] for line in handle]
    return [p for p in points if p == root or p.startswith(root + "/")]


def bound_targets(env):
    return sorted(p for p in mounts_under(env["varlib"]))


# -- the configuration ----------------------------------------------------------------

def crm_text(cluster, *args):
    proc = cluster.crm(*args, check=False)
    return proc.stdout + proc.stderr


def test_crm_verify_is_clean(cluster, loaded):
    proc = cluster.crm("configure", "verify", check=False)
    # The one warning is the test cluster's own stonith-enabled=false.
    lines = [line for line in (proc.stdout + proc.stderr).splitlines()
             if "Blind faith: not fencing unseen nodes" not in line]
    assert proc.returncode == 0 and lines == [], proc


@pytest.mark.parametrize("agent", ["grodata-binds", "stack-health", "postfix-maps"])
def test_crm_ra_info_renders(cluster, agent):
    out = crm_text(cluster, "ra", "info", "ocf:grommunio:%s" % agent)
    assert "ocf:grommunio:%s" % agent in out
    assert re.search(r"^\w+ \((string|integer|boolean), \[", out, re.M), out
    listed = crm_text(cluster, "ra", "list", "ocf", "grommunio")
    assert agent in listed.split()


def test_everything_started_in_order(cluster, loaded, env, healthy):
    mon = cluster.mon()
    assert mon.role("stack_health") == "Started" and mon.role("postfix_maps") == "Started"
    assert bound_targets(env) == sorted("%s/%s" % (env["varlib"], n) for n in NAMES)
    for name in NAMES:
        with open("%s/%s/data" % (env["varlib"], name), encoding="utf-8") as handle:
            assert handle.read().startswith(name)
    log = loaded["start_log"]
    order = ["grodata_mount", "grodata_binds", "mariadb", "nginx", "stack_health", "postfix_maps"]
    positions = [log.rfind("Result of start operation for %s" % rid) for rid in order]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), positions


# -- faults ---------------------------------------------------------------------------

def wait_failure(cluster, rid, op, timeout, what):
    return cluster.wait(lambda m: any(f.op == op for f in m.failures_of(rid)), timeout, what)


def test_bind_target_unmounted_behind_the_clusters_back(cluster, env, healthy):
    target = "%s/redis" % env["varlib"]
    subprocess.run(["umount", target], check=True)
    fault = time.monotonic()
    mon = wait_failure(cluster, "grodata_binds", "monitor", BINDS_INTERVAL + 10,
                       "grodata_binds' monitor to notice")
    detected = time.monotonic() - fault
    [failure] = mon.failures_of("grodata_binds")
    assert failure.exitcode == 1
    assert failure.exitreason.startswith("%s: not bound (1 of 7 binds bad)" % target)
    mon = cluster.wait(lambda m: everything_started(m) and len(bound_targets(env)) == 7, 120,
                       "every bind back")
    recovered = time.monotonic() - fault
    record("bind target unmounted: detected", detected)
    record("bind target unmounted: all binds back", recovered)
    assert detected <= BINDS_INTERVAL + 3


def test_grodata_unmounted_is_refused(cluster, env, healthy):
    mark = cluster.log_mark()
    subprocess.run(["umount", env["grodata"]], check=True)
    fault = time.monotonic()
    mon = cluster.wait(lambda m: any(f.op == "start" for f in m.failures_of("grodata_binds")),
                       BINDS_INTERVAL + 60, "grodata_binds to refuse to start")
    detected = time.monotonic() - fault
    [start] = [f for f in mon.failures_of("grodata_binds") if f.op == "start"]
    assert start.exitcode == 5 and start.exitstatus == cluster.exit_status(5), start
    assert start.exitreason == ("grodata %s is not a mounted filesystem: refusing to bind "
                                "(require_mountpoint=true)" % env["grodata"])
    mon = cluster.wait_settled()
    assert mon.resources["grodata_binds"].fail_count == 1000000
    assert mon.role("grodata_binds") == "Stopped" and mon.role("mariadb") == "Stopped"
    # Nothing was bound and nothing was written to the root filesystem.
    assert bound_targets(env) == []
    assert os.listdir(env["grodata"]) == []
    assert all(os.listdir("%s/%s" % (env["varlib"], n)) == [] for n in NAMES)
    text = crm_text(cluster, "status")
    assert "refusing to bind" in text
    assert "not a mounted filesystem: refusing to bind (require_mountpoint=true)" in \
        cluster.log_since(mark)
    # The admin re-probes everything: Filesystem finds /grodata unmounted and
    # mounts it, then grodata-binds starts.  (A cleanup would not do: it only
    # re-probes resources with failures, and grodata_mount has none.)
    repair = time.monotonic()
    cluster.crm("resource", "refresh")
    cluster.wait(lambda m: everything_started(m) and len(bound_targets(env)) == 7, 120,
                 "the stack back after cleanup")
    record("/grodata unmounted: refused (rc 5) after", detected)
    record("/grodata unmounted: stack back after crm resource refresh", time.monotonic() - repair)


@pytest.mark.parametrize("fault", ["killed", "hung"])
def test_imap_down_fails_stack_health_then_recovers(cluster, env, healthy, dovecot_session, fault):
    if fault == "killed":
        dovecot_session.kill()
        expected = "imap: connection refused by 127.0.0.1:%d" % dovecot_session.imap_port
    else:
        dovecot_session.pause()
        expected = "imap: no greeting within 2.0s from 127.0.0.1:%d" % dovecot_session.imap_port
    began = time.monotonic()
    try:
        mon = wait_failure(cluster, "stack_health", "monitor", HEALTH_INTERVAL + 10,
                           "stack_health's monitor to fail")
        detected = time.monotonic() - began
        [failure] = [f for f in mon.failures_of("stack_health") if f.op == "monitor"]
        assert failure.exitcode == 1
        assert failure.exitreason.startswith(expected), failure.exitreason
        assert expected in crm_text(cluster, "status")
        assert mon.role("nginx") == "Started"  # the members before it are untouched
    finally:
        dovecot_session.ensure_running()
    # Pacemaker's recovery restarts stack_health, whose start waits for the
    # critical checks; once IMAP is back it succeeds, and cleanup clears the record.
    back = time.monotonic()
    cluster.cleanup("stack_health")
    mon = cluster.wait(lambda m: everything_started(m) and not m.failures, 60,
                       "stack_health started, no failure left")
    record("IMAP %s: stack-health failed after" % fault, detected)
    record("IMAP %s: started again after service back + cleanup" % fault, time.monotonic() - back)
    assert detected <= HEALTH_INTERVAL + 4


def test_non_critical_failure_degrades_without_restart(cluster, env, healthy):
    mark = cluster.log_mark()
    env["milter"].close()
    began = time.monotonic()
    mon = cluster.wait(lambda m: any(f.exitcode == 190 for f in m.failures_of("stack_health")),
                       HEALTH_INTERVAL + 10, "stack_health to report OCF_DEGRADED")
    record("milter down (non-critical): degraded after", time.monotonic() - began)
    [failure] = mon.failures_of("stack_health")
    assert (failure.op, failure.exitstatus) == ("monitor", cluster.exit_status(190))
    assert failure.exitreason == "milter: connection refused by %s" % env["milter_address"]
    res = mon.resources["stack_health"]
    assert (res.role, res.failed, res.fail_count) == ("Started", False, 0)
    time.sleep(HEALTH_INTERVAL + 1)  # another monitor: still degraded, still no restart
    log = cluster.log_since(mark)
    assert "stop operation for stack_health" not in log
    assert cluster.exit_status(190) in crm_text(cluster, "status")


def test_postfix_map_with_a_wrong_password_fails_postfix_maps(cluster, env, healthy):
    postfix = env["postfix"]
    mark = cluster.log_mark()
    postfix.edit_cf("virtual_alias_maps", "password", "not-the-password")
    try:
        mon = wait_failure(cluster, "postfix_maps", "monitor", MAPS_INTERVAL + 10,
                           "postfix_maps' monitor to fail")
        [failure] = [f for f in mon.failures_of("postfix_maps") if f.op == "monitor"]
        assert failure.exitreason.startswith("lookup: virtual_alias_maps: connect to mysql server")
        assert "Access denied for user 'grommunio'" in cluster.log_since(mark)
        assert DB_PASSWORD not in crm_text(cluster, "status")
    finally:
        postfix.edit_cf("virtual_alias_maps", "password", DB_PASSWORD)


def test_standby_stops_cleanly_and_online_starts(cluster, env, healthy):
    node = cluster.node
    began = time.monotonic()
    cluster.crm("node", "standby", node)
    cluster.wait(lambda m: all(r.role == "Stopped" for r in m.resources.values()
                               if r.parent != "ms_grodata") and not m.busy, 120,
                 "everything stopped on standby")
    record("standby: everything stopped", time.monotonic() - began)
    assert mounts_under(env["root"]) == [], "mounts left after standby"
    began = time.monotonic()
    cluster.crm("node", "online", node)
    cluster.wait(lambda m: everything_started(m) and len(bound_targets(env)) == 7, 120,
                 "everything started after online")
    record("online: everything started", time.monotonic() - began)
    assert not cluster.mon().failures
