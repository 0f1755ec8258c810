"""stack-health's new checks against the real services Debian has.

The agent (from the work tree) asks real daemons, started privately by the
fixtures of tests/services: nginx with TLS in front of a php-fpm pool whose
script answers as grommunio-sync does (services.web), rspamd's controller
and its milter (services.rspamd), dovecot's POP3 (services.dovecot).  The
faults are the real ones: the pool killed (nginx answers 502), the pool
stopped with SIGSTOP (nginx waits), nginx or rspamd stopped, dovecot
killed.  What each answer must be is pinned down in test_services_web.py
against the upstream sources; here the question is what the cluster sees:
sync is critical by default (the monitor fails, rc 1), web, antispam,
milter and pop3 only degrade (rc 190), and --verbose shows one line per
unit of the guide's group with what was proved.
"""

import re
import time

import pytest

from services.gromox import CHECKS_OFF

pytestmark = [pytest.mark.integration]


MS = r"in \d+\.\d ms"


@pytest.fixture
def health(agent):
    """``health(action, **params)``: stack-health with every check off unless given."""
    def call(action, args=(), env=None, **params):
        values = dict(CHECKS_OFF, check_timeout="2")
        values.update(params)
        return agent("stack-health", action, values, env=env, args=args)
    return call


@pytest.fixture
def real(web, rspamd, dovecot):
    """The parameters that point every check these daemons can prove at them."""
    return dict(sync_url=web.sync_url, web_url=web.robots_url, antispam_url=rspamd.ping_url,
                milter_address=rspamd.milter_address, pop3_address=dovecot.pop3_address,
                imap_url="imap://127.0.0.1:%d" % dovecot.imap_port,
                lmtp_address="127.0.0.1:%d" % dovecot.lmtp_port)


def started(health, **params):
    result = health("start", **params)
    assert result.rc == 0, result
    return result


def verbose(result):
    """{unit: the rest of its --verbose line}."""
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def test_healthy_every_real_service_proved(health, real):
    started(health, **real)
    result = health("monitor", args=("--verbose",), **real)
    assert result.rc == 0, result
    assert result.reason is None
    units = verbose(result)
    # The guide's grommunio_svc group, in its order: one line each.
    assert list(units) == ["mariadb", "redis", "php-fpm", "gromox-http", "midb", "zcore",
                           "event", "timer", "imap", "pop3", "delivery-queue", "delivery",
                           "antispam", "admin-api", "nginx"]
    sync = r"\[sync\] 401 GSync realm %s" % MS
    assert re.fullmatch(sync, units["php-fpm"]), units["php-fpm"]
    assert re.fullmatch(r"\[web\] 200 robots\.txt \(User-agent: \* / Disallow: /\) %s; %s"
                        % (MS, sync), units["nginx"]), units["nginx"]
    assert re.fullmatch(r"pong %s; \[milter\] OPTNEG answered, protocol version 6 %s" % (MS, MS),
                        units["antispam"]), units["antispam"]
    # The POP3 greeting's text is shown: dovecot's here, gromox's on a real node.
    assert re.fullmatch(r"'\+OK Dovecot \(Debian\) ready\.' %s" % MS, units["pop3"]), units["pop3"]
    assert units["imap"].startswith("'* OK")
    assert units["gromox-http"] == "not checked (gromox_http_url and exmdb_address off)"


def test_the_sync_check_speaks_tls_through_localhost(health, web):
    params = dict(sync_url=web.sync_url, critical="sync")
    assert web.sync_url.startswith("https://localhost:")
    started(health, **params)
    assert health("monitor", **params).rc == 0


def test_php_fpm_pool_gone_fails_sync_critical_by_default(health, real, web):
    started(health, **real)
    web.fpm.kill()
    result = health("monitor", args=("--verbose",), **real)   # critical: the default
    assert result.rc == 1, result
    assert result.reason == ("sync: %s answered HTTP 502 Bad Gateway, not 401 (php-fpm pool not "
                             "answering: its socket is gone or refuses)" % web.sync_url)
    units = verbose(result)
    assert units["php-fpm"].startswith("[sync] FAILED %s answered HTTP 502" % web.sync_url)
    # nginx itself still serves: its own check passes, only the pool's fails.
    assert units["nginx"].startswith("[web] 200 robots.txt")


def test_php_fpm_pool_hung_fails_within_the_check_timeout(health, real, web):
    started(health, **real)
    with web.fpm.hung():
        began = time.monotonic()
        result = health("monitor", **dict(real, check_timeout="1"))
        took = time.monotonic() - began
    assert result.rc == 1, result
    assert result.reason.startswith("sync: "), result.reason
    assert "1.0s" in result.reason, result.reason
    assert took < 1 + 1.5, took          # the check timeout, plus one interpreter start


def test_nginx_stopped_fails_sync_and_degrades_web(health, real, web):
    started(health, **real)
    web.nginx.stop()
    result = health("monitor", args=("--verbose",), **real)
    assert result.rc == 1, result
    # One reason naming every failing check, the critical one first.
    assert result.reason.startswith("sync: connection refused by localhost:%d" % web.nginx.port), \
        result.reason
    assert "web: connection refused by localhost:%d" % web.nginx.port in result.reason
    units = verbose(result)
    assert units["nginx"].startswith("[web] failed connection refused")
    assert "[sync] FAILED connection refused" in units["nginx"]


def test_nginx_stopped_with_only_web_checked_degrades(health, web):
    params = dict(web_url=web.robots_url, critical="sync")
    started(health, **params)
    web.nginx.stop()
    result = health("monitor", **params)
    assert result.rc == 190, result
    assert result.reason.startswith("web: connection refused"), result.reason


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_rspamd_down_degrades(health, real, rspamd, fault):
    started(health, **real)
    if fault == "stopped":
        rspamd.stop()
        result = health("monitor", args=("--verbose",), **real)
    else:
        with rspamd.hung():
            result = health("monitor", args=("--verbose",), **dict(real, check_timeout="1"))
    assert result.rc == 190, result
    assert result.reason.startswith("antispam: "), result.reason
    assert "milter: " in result.reason, result.reason
    if fault == "stopped":
        assert "connection refused by 127.0.0.1:%d" % rspamd.controller_port in result.reason
        assert "connection refused by %s" % rspamd.milter_address in result.reason
    assert verbose(result)["antispam"].startswith("failed ")


def test_pop3_down_degrades(health, real, dovecot):
    params = dict(pop3_address=real["pop3_address"], critical="sync")
    started(health, **params)
    dovecot.kill()
    result = health("monitor", **params)
    assert result.rc == 190, result
    assert result.reason == "pop3: connection refused by %s" % dovecot.pop3_address


def test_sync_with_tls_verify_rejects_the_self_signed_certificate(health, web):
    params = dict(sync_url=web.sync_url, critical="sync", tls_verify="true")
    result = health("start", env={"OCF_RESKEY_CRM_meta_timeout": "3000"}, **params)
    assert result.rc == 1, result
    assert result.reason.startswith("sync: "), result.reason
    assert "certificate" in result.reason, result.reason
