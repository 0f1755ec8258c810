"""Every agent under every Python that grommunio's platforms ship: 3.9 to 3.13.

RHEL 9 runs the agents on 3.9, Debian 12 on 3.11, Ubuntu 24.04 on 3.12,
Debian 13 and openSUSE Leap 16 on 3.13.  This machine has 3.11 as
/usr/bin/python3 and, in the test image, the others under pyenv; each agent
runs a representative set of actions under each of them -- meta-data,
validate-all, a healthy monitor and a failing one -- with ``-IS`` as its own
first line asks.  Versions this machine lacks are named in a skipped test;
under CI (``CI=true``) a missing one fails it.
"""

import os
import subprocess

import pytest

from helpers import TOP
from interpreters import find_pythons, missing
from mountscratch import scratch, scratch_factory  # noqa: F401
from services.gromox import NEW_CHECKS_OFF
from services.listeners import closed_port
from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER

pytestmark = [pytest.mark.integration]

WANTED = ("3.9", "3.10", "3.11", "3.12", "3.13")
PYTHONS = find_pythons(WANTED)
MISSING = [v for v in WANTED if v not in PYTHONS]


def test_every_platform_python_is_here():
    if MISSING:
        missing("Python %s (the agents ran under %s only)" % (", ".join(MISSING),
                                                             ", ".join(PYTHONS) or "none"))


@pytest.fixture(params=sorted(PYTHONS), ids=lambda v: "py" + v)
def python(request, agent):
    """``python(name, action, params, **kw)`` runs the work tree's agent under one Python."""
    interpreter = PYTHONS[request.param]

    def call(name, action, params=None, **kw):
        return agent(name, action, params, prefix=(interpreter, "-IS"), **kw)
    call.version = request.param
    return call


def _metadata_ok(python, name):
    result = python(name, "meta-data")
    assert result.rc == 0, result
    assert result.stdout.startswith('<?xml version="1.0"?>') and "</resource-agent>" in result.stdout


# -- grodata-binds ----------------------------------------------------------------

def test_grodata_binds(python, scratch):
    _metadata_ok(python, "grodata-binds")
    scratch.sources("mysql", "redis")
    params = {"grodata": scratch.grodata, "binds": scratch.binds(["mysql", "redis"])}
    assert python("grodata-binds", "validate-all", params).rc == 0
    assert python("grodata-binds", "start", params).rc == 0
    try:
        healthy = python("grodata-binds", "monitor", params)
        assert (healthy.rc, healthy.reason) == (0, None), healthy
        subprocess.run(["umount", scratch.tgt("redis")], check=True)
        failing = python("grodata-binds", "monitor", params)
        assert failing.rc == 1, failing
        assert failing.reason.startswith("%s: not bound" % scratch.tgt("redis")), failing
    finally:
        assert python("grodata-binds", "stop", params).rc == 0


# -- stack-health -----------------------------------------------------------------

def test_stack_health(python, tmp_path, dovecot, mariadb, adminapi):
    _metadata_ok(python, "stack-health")
    cfg = tmp_path / "mysql_adaptor.cfg"
    cfg.write_text("mysql_username = %s\nmysql_password = %s\nmysql_dbname = %s\n"
                   % (DB_USER, DB_PASSWORD, DB_NAME))
    params = {"imap_url": "imap://127.0.0.1:%d" % dovecot.imap_port,
              "admin_api_url": adminapi.status_url, "mysql_config": str(cfg),
              "mysql_socket": mariadb.socket, "lmtp_address": "127.0.0.1:%d" % dovecot.lmtp_port,
              "check_timeout": "2"}
    params.update(NEW_CHECKS_OFF)
    env = {"HA_RSCTMP": str(tmp_path / "rsctmp")}
    assert python("stack-health", "validate-all", params, env=env).rc == 0
    assert python("stack-health", "start", params, env=env).rc == 0
    healthy = python("stack-health", "monitor", params, env=env, args=("--verbose",))
    assert (healthy.rc, healthy.reason) == (0, None), healthy
    checked = [line for line in healthy.stdout.splitlines() if "not checked" not in line]
    assert len(checked) == 4 and "FAILED" not in healthy.stdout, healthy.stdout
    port = closed_port()
    failing = python("stack-health", "monitor", dict(params, imap_url="imap://127.0.0.1:%d" % port),
                     env=env)
    assert failing.rc == 1, failing
    assert failing.reason == "imap: connection refused by 127.0.0.1:%d" % port
    assert python("stack-health", "stop", params, env=env).rc == 0
    for result in (healthy, failing):
        assert DB_PASSWORD not in result.stdout + result.stderr


# -- postfix-maps -----------------------------------------------------------------

def test_postfix_maps(python, tmp_path, postfix_config):
    _metadata_ok(python, "postfix-maps")
    pc = postfix_config
    params = {"config_directory": pc.directory, "milters": "",
              "maps": " ".join("%s=mysql:%s" % item for item in pc.maps.items())}
    env = {"HA_RSCTMP": str(tmp_path / "rsctmp"), "OCF_CHECK_LEVEL": "10"}
    assert python("postfix-maps", "validate-all", params, env=env).rc == 0
    assert python("postfix-maps", "start", params, env=env).rc == 0
    healthy = python("postfix-maps", "monitor", params, env=env)
    assert (healthy.rc, healthy.reason) == (0, None), healthy
    pc.edit_cf("virtual_mailbox_maps", "password", "wrong-password")
    failing = python("postfix-maps", "monitor", params, env=env)
    assert failing.rc == 1, failing
    assert "Access denied for user" in failing.reason, failing
    assert python("postfix-maps", "stop", params, env=env).rc == 0
    for result in (healthy, failing):
        assert DB_PASSWORD not in result.stdout + result.stderr


# -- grommunio-ocf-check ----------------------------------------------------------

@pytest.mark.parametrize("version", sorted(PYTHONS))
def test_check_command(version, adminapi):
    """The monitoring-plugin command under each Python, against the admin-api stand-in."""
    command = os.path.join(TOP, "packaging", "grommunio-ocf-check")
    argv = [PYTHONS[version], "-IS", command, "--agent", "stack-health"]
    for name in ("imap_url", "mysql_config", "lmtp_address") + tuple(NEW_CHECKS_OFF):
        argv += ["--set", name + "=off"]
    argv += ["--set", "admin_api_url=" + adminapi.status_url, "--set", "critical=admin_api"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd="/",
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc
    assert proc.stdout.startswith("GROMMUNIO OK - stack-health (stack-health): 1 check ok | "
                                  "admin_api="), proc.stdout
    assert proc.stderr == ""
