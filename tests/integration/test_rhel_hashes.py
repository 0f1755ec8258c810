"""The RHEL family's CPython: no builtin hashes, OpenSSL's under a FIPS policy.

RHEL 9 and 10 (and CentOS Stream) build CPython
``--with-builtin-hashlib-hashes=blake2``, so ``import _sha1`` fails there
and every digest comes from OpenSSL.  ``base/cpython.sha1`` (what
``protocols/mysql`` uses) takes CPython's ``_sha1`` where it exists (a
monitor that skips hashlib saves about 2.5 ms) and otherwise hashlib's
SHA-1 with ``usedforsecurity=False``: the digest serves
mysql_native_password, a protocol, and a FIPS policy may refuse it for
security use.  tests/support/rhel-python stands in for that interpreter (it
hides ``_md5``, ``_sha1``, ``_sha256``, ``_sha512`` and refuses MD5/SHA-1
asked for without the keyword); ``stack-health`` run under it logs in to
the real MariaDB.  Under RHEL 9's Python 3.9 where this machine has one
(pyenv), and under /usr/bin/python3.
"""

import os
import subprocess

import pytest

from helpers import TOP
from interpreters import find_pythons, missing
from services.gromox import CHECKS_OFF
from services.mariadb import DB_NAME, DB_PASSWORD, DB_USER

pytestmark = [pytest.mark.integration]

RHEL_PYTHON = os.path.join(TOP, "tests", "support", "rhel-python")
ALL_OFF = CHECKS_OFF
PYTHONS = {"RHEL 9's 3.9": "3.9", "/usr/bin/python3": None}


@pytest.fixture(params=sorted(PYTHONS), ids=lambda name: PYTHONS[name] or "system")
def interpreter(request):
    version = PYTHONS[request.param]
    if version is None:
        return "/usr/bin/python3"
    found = find_pythons((version,))
    if not found:
        missing("Python %s (%s)" % (version, request.param))
    return found[version]


PROBE = """
import hashlib, sys
sys.path.insert(0, %r)
from grommunio_ocf.protocols import mysql
try:
    hashlib.sha1(b"")
    print("sha1 for security: allowed")
except ValueError:
    print("sha1 for security: refused")
try:
    import _sha1
    print("_sha1: importable")
except ImportError:
    print("_sha1: missing")
digest = mysql.sha1(b"abc")
print("protocol sha1 from:", type(digest).__module__)
print(digest.hexdigest())
"""


@pytest.mark.parametrize("stand_in", [True, False], ids=["rhel", "plain"])
def test_the_stand_in_is_what_rhel_builds(interpreter, tmp_path, stand_in):
    """Under the stand-in the builtin SHA-1 is gone, OpenSSL's refuses security use,
    and the protocol's SHA-1 comes from OpenSSL all the same; without it, from _sha1."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE % os.path.join(TOP, "lib"))
    argv = [interpreter, "-IS"] + ([RHEL_PYTHON] if stand_in else []) + [str(probe)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    expected = ["sha1 for security: refused", "_sha1: missing",
                "protocol sha1 from: _hashlib"] if stand_in else [
                "sha1 for security: allowed", "_sha1: importable", "protocol sha1 from: _sha1"]
    # SHA-1("abc"), FIPS 180-2 appendix A.1
    assert proc.stdout.splitlines() == expected + ["a9993e364706816aba3e25717850c26c9cd0d89d"], \
        proc.stdout


def test_stack_health_logs_in_to_mariadb_without_builtin_hashes(interpreter, agent, tmp_path,
                                                                 mariadb):
    cfg = tmp_path / "mysql_adaptor.cfg"
    cfg.write_text("mysql_username = %s\nmysql_password = %s\nmysql_dbname = %s\n"
                   % (DB_USER, DB_PASSWORD, DB_NAME))
    params = dict(ALL_OFF, mysql_config=str(cfg), mysql_socket=mariadb.socket, critical="mysql",
                  check_timeout="5")
    prefix = (interpreter, "-IS", RHEL_PYTHON)
    assert agent("stack-health", "start", params, prefix=prefix).rc == 0
    healthy = agent("stack-health", "monitor", params, prefix=prefix, args=("--verbose",))
    assert (healthy.rc, healthy.reason) == (0, None), healthy
    # --verbose: one line per unit of the group; MariaDB's is proved by the mysql check.
    mariadb = [line for line in healthy.stdout.splitlines() if line.startswith("mariadb: ")]
    assert len(mariadb) == 1 and mariadb[0].startswith("mariadb: [mysql] "), healthy.stdout
    assert "FAILED" not in mariadb[0], healthy.stdout
    assert "logged in as '%s'" % DB_USER in healthy.stdout
    # The scramble is checked by the server: a wrong password is refused by it.
    cfg.write_text("mysql_username = %s\nmysql_password = wrong-%s\nmysql_dbname = %s\n"
                   % (DB_USER, DB_PASSWORD, DB_NAME))
    refused = agent("stack-health", "monitor", params, prefix=prefix)
    assert refused.rc == 1, refused
    assert refused.reason.startswith("mysql: Access denied for user '%s'" % DB_USER), refused
    assert agent("stack-health", "stop", params, prefix=prefix).rc == 0
    for result in (healthy, refused):
        assert DB_PASSWORD not in result.stdout + result.stderr
