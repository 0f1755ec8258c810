"""stack-health's checks of the whole group under real Pacemaker, with faults injected.

The ``stack_health`` primitive of ``packaging/examples/migrated.crm`` (its
operations, a 5 s monitor interval) runs in the single-node test cluster
against real services and stand-ins only where Debian has none:

    gromox_http_url   services.gromoxhttp: a process answering as gromox-http
                      (exch/http/http_parser.cpp), so SIGSTOP hangs it as a
                      hung gromox-http hangs -- connections accepted, no answer
    sync_url/web_url  real nginx (TLS) in front of a real php-fpm pool (services.web)
    antispam_url,     real rspamd: controller /ping, milter OPTNEG (services.rspamd)
    milter_address
    imap_url,         real dovecot (services.dovecot)
    pop3_address,
    lmtp_address
    queue_dir         a directory with mess/ and save/, as gromox-delivery's dequeue_path

The checks without a stand-in here (admin-api, MariaDB, exmdb, midb,
zcore, event, timer, redis) are ``off``; ``critical`` keeps its default,
so what fails and what degrades is the agent's own judgement.  Faults:
gromox-http hung -> the monitor fails (rc 1) within check_timeout, long
before the operation's timeout; php-fpm's pool gone -> fails; the
delivery queue stuck (an hour-old file in mess/) -> OCF_DEGRADED (190),
no restart.
"""

import os
import pathlib
import re
import shutil
import tempfile
import time

import pytest

from services.common import serving
from services.gromoxhttp import GromoxHttp

from . import standin
from .timings import record

pytestmark = [pytest.mark.integration]

HEALTH_INTERVAL = 5
CHECK_TIMEOUT = 2
OFF = ("admin_api_url", "mysql_config", "exmdb_address", "midb_address", "zcore_socket",
       "event_address", "timer_address", "redis_address")


def configuration(env):
    """The example's stack_health primitive, its parameters pointing at this machine's services."""
    [stmt] = [s for s in standin.statements(standin.example("migrated.crm"))
              if s.startswith("primitive stack_health ")]
    values = dict.fromkeys(OFF, "off")
    values.update((name, env[name]) for name in (
        "gromox_http_url", "sync_url", "web_url", "antispam_url", "milter_address",
        "imap_url", "pop3_address", "lmtp_address", "queue_dir"))
    values["check_timeout"] = str(CHECK_TIMEOUT)
    return standin.ours(stmt, "stack-health", values, HEALTH_INTERVAL) + "\n"


@pytest.fixture(scope="module")
def gromox_http():
    yield from serving(GromoxHttp())


@pytest.fixture(scope="module")
def env(gromox_http, web_session, rspamd_session, dovecot_session):
    # A short path: exit reasons naming it must fit Pacemaker's 128 characters.
    queue = pathlib.Path(tempfile.mkdtemp(prefix="gq-", dir="/tmp"))
    (queue / "mess").mkdir()
    (queue / "save").mkdir()
    yield dict(gromox_http_url=gromox_http.url, sync_url=web_session.sync_url,
               web_url=web_session.robots_url, antispam_url=rspamd_session.ping_url,
               milter_address=rspamd_session.milter_address,
               imap_url="imap://127.0.0.1:%d" % dovecot_session.imap_port,
               pop3_address=dovecot_session.pop3_address,
               lmtp_address="127.0.0.1:%d" % dovecot_session.lmtp_port, queue_dir=str(queue))
    shutil.rmtree(queue, ignore_errors=True)


@pytest.fixture(scope="module")
def loaded(cluster, env):
    began = time.monotonic()
    cluster.load(configuration(env), settle=False)
    cluster.wait(started_clean, 90, "stack_health started")
    record("stack-health, every real service: load to started", time.monotonic() - began)
    yield
    cluster.reset()


@pytest.fixture
def healthy(cluster, loaded, env, gromox_http, web_session, rspamd_session, dovecot_session):
    """Each test starts from every service serving and stack_health clean, and leaves it so."""
    def restore():
        gromox_http.ensure_running()
        web_session.ensure_running()
        rspamd_session.ensure_running()
        dovecot_session.ensure_running()
        for name in os.listdir(os.path.join(env["queue_dir"], "mess")):
            os.unlink(os.path.join(env["queue_dir"], "mess", name))
        # Let Pacemaker's own recovery (stop, then a start that waits for the
        # critical checks) finish first: a cleanup while that start is in flight
        # makes the controller record it as failed ("No such device"), and
        # start-failure-is-fatal then keeps stack_health stopped.
        cluster.wait_settled(90)
        if not started_clean(cluster.mon()):
            cluster.cleanup("stack_health")
            cluster.wait(started_clean, 90, "stack_health started, no failure left")

    restore()
    yield
    restore()


def started_clean(mon):
    return mon.role("stack_health") == "Started" and not mon.failures and not mon.busy


def wait_monitor_failure(cluster, exitcode, what):
    return cluster.wait(
        lambda m: any(f.op == "monitor" and f.exitcode == exitcode
                      for f in m.failures_of("stack_health")),
        HEALTH_INTERVAL + CHECK_TIMEOUT + 10, what)


def monitor_failure(mon):
    [failure] = [f for f in mon.failures_of("stack_health") if f.op == "monitor"]
    return failure


def test_every_real_service_healthy(cluster, healthy):
    time.sleep(HEALTH_INTERVAL + 1)        # at least one more monitor
    mon = cluster.mon()
    assert started_clean(mon), mon


def test_gromox_http_hung_fails_within_its_check_timeout(cluster, env, healthy, gromox_http):
    gromox_http.pause()
    began = time.monotonic()
    try:
        mon = wait_monitor_failure(cluster, 1, "stack_health's monitor to fail")
        detected = time.monotonic() - began
        failure = monitor_failure(mon)
        # The agent's own verdict after check_timeout, not Pacemaker's 30 s op timeout.
        assert (failure.exitstatus, failure.status) == (cluster.exit_status(1), cluster.op_done()), failure
        assert failure.exitreason.startswith(
            "gromox_http: no answer within %.1fs from %s/mapi/emsmdb/?MailboxId=x"
            % (CHECK_TIMEOUT, env["gromox_http_url"])), failure.exitreason
    finally:
        gromox_http.resume()
    record("gromox-http hung: stack-health failed after", detected)
    assert detected <= HEALTH_INTERVAL + CHECK_TIMEOUT + 3


def test_php_fpm_pool_gone_fails(cluster, env, healthy, web_session):
    web_session.fpm.kill()
    began = time.monotonic()
    try:
        mon = wait_monitor_failure(cluster, 1, "stack_health's monitor to fail")
        detected = time.monotonic() - began
        failure = monitor_failure(mon)
        assert failure.exitreason.startswith(
            "sync: %s answered HTTP 502 Bad Gateway, not 401" % env["sync_url"]), failure.exitreason
    finally:
        web_session.ensure_running()
    record("php-fpm pool gone: stack-health failed after", detected)
    assert detected <= HEALTH_INTERVAL + 3


def test_delivery_queue_stuck_degrades_without_restart(cluster, env, healthy):
    mark = cluster.log_mark()
    stuck = os.path.join(env["queue_dir"], "mess", "1234567")
    pathlib.Path(stuck).write_bytes(b"X-Lda-Test: waits\r\n\r\nbody\r\n")
    an_hour_ago = time.time() - 3600
    os.utime(stuck, (an_hour_ago, an_hour_ago))
    began = time.monotonic()
    mon = wait_monitor_failure(cluster, 190, "stack_health to report OCF_DEGRADED")
    record("delivery queue stuck: degraded after", time.monotonic() - began)
    failure = monitor_failure(mon)
    assert failure.exitstatus == cluster.exit_status(190)
    assert re.match(r"queue: oldest message in %s/mess waits for 36\d\ds \(more than 600s; "
                    r"1 waiting\)" % re.escape(env["queue_dir"]), failure.exitreason), failure.exitreason
    res = mon.resources["stack_health"]
    assert (res.role, res.failed, res.fail_count) == ("Started", False, 0)
    time.sleep(HEALTH_INTERVAL + 1)        # another monitor: still degraded, still no restart
    assert "stop operation for stack_health" not in cluster.log_since(mark)
