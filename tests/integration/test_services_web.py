"""The web, antispam and POP3 fixtures behave as promised, seen by plain Python clients.

stack-health's sync, web, antispam, milter and pop3 checks are proven
against these real daemons, so what they answer -- and how they fail -- is
pinned down here first, against the upstream sources they stand in for:

* grommunio-sync (grommunio/grommunio-sync cf4ebc68): index.php throws
  AuthenticationRequiredException for a request without credentials, and
  lib/exceptions/authenticationrequiredexception.php makes that
  ``401 Unauthorized`` with ``WWW-Authenticate: Basic realm="GSync"``; the body
  (the legal notice) is printed only for GET.  Its nginx fragment is
  build/grommunio-sync.conf, its pool build/pool-grommunio-sync.conf.
* rspamd (rspamd/rspamd src/libserver/milter.c, milter_internal.h): OPTNEG
  is answered with version 6 (RSPAMD_MILTER_PROTO_VER), the MTA's actions
  or'ed with RSPAMD_MILTER_ACTIONS_MASK (0x3f) and the no-reply protocol
  mask (0xff080); an offer below version 6 aborts the connection.
"""

import socket
import ssl
import struct
import time

import pytest

from services.dovecot import read_greeting
from services.rspamd import optneg
from services.web import CERT_NAME, ROBOTS_BODY, SYNC_PATH, request

pytestmark = [pytest.mark.integration]


def https(web, method, path, host="127.0.0.1", **kw):
    return request(host, web.nginx.port, method, path, **kw)


# -- nginx + php-fpm ----------------------------------------------------------

def test_sync_options_without_credentials_is_401_gsync_with_no_body(web):
    status, fields, body = https(web, "OPTIONS", SYNC_PATH)
    assert status == 401
    assert fields["www-authenticate"] == 'Basic realm="GSync"'
    # PHP sent no body; nginx frames the empty answer as one zero-size chunk.
    assert body in (b"", b"0\r\n\r\n")


def test_sync_get_without_credentials_has_the_notice(web):
    status, fields, body = https(web, "GET", SYNC_PATH)
    assert status == 401 and fields["www-authenticate"] == 'Basic realm="GSync"'
    assert b"Access denied. Please send authorisation information" in body


def test_sync_options_with_credentials_lists_protocol_versions(web):
    status, fields, _ = https(web, "OPTIONS", SYNC_PATH + "?User=probe",
                              headers=("Authorization: Basic cHJvYmU6cHJvYmU=",))
    assert status == 200
    assert "16.1" in fields["ms-asprotocolversions"]


def test_robots_txt_is_served_by_nginx_alone(web):
    web.fpm.kill()                      # nginx answers it without the pool
    status, fields, body = https(web, "GET", "/robots.txt")
    assert (status, body) == (200, ROBOTS_BODY)
    assert fields["content-type"] == "text/plain"


def test_localhost_reaches_nginx_on_both_loopbacks(web):
    assert web.base_url == "https://localhost:%d" % web.nginx.port
    for host in ["127.0.0.1"] + (["::1"] if web.nginx.ipv6 else []):
        assert https(web, "GET", "/robots.txt", host=host)[0] == 200


def test_nginx_certificate_verifies_only_with_its_name(web):
    context = ssl.create_default_context(cafile=web.nginx.cert_path)
    with socket.create_connection(("127.0.0.1", web.nginx.port), timeout=2) as raw:
        with context.wrap_socket(raw, server_hostname=CERT_NAME) as sock:
            assert sock.version().startswith("TLS")
    with socket.create_connection(("127.0.0.1", web.nginx.port), timeout=2) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="localhost")


def test_pool_gone_is_502_and_comes_back(web):
    web.fpm.kill()
    status, _, body = https(web, "OPTIONS", SYNC_PATH)
    assert status == 502 and b"Bad Gateway" in body
    web.ensure_running()
    assert https(web, "OPTIONS", SYNC_PATH)[0] == 401


def test_pool_hung_leaves_the_client_waiting(web):
    with web.fpm.hung():
        started = time.monotonic()
        assert https(web, "OPTIONS", SYNC_PATH, timeout=0.5) is None
        assert time.monotonic() - started >= 0.45
        assert https(web, "GET", "/robots.txt")[0] == 200    # nginx itself still serves


def test_nginx_stopped_refuses(web):
    web.nginx.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", web.nginx.port), timeout=0.5).close()


def test_web_fixture_repaired_it(web):
    assert web.nginx.running and web.fpm.running
    assert https(web, "OPTIONS", SYNC_PATH)[0] == 401


# -- rspamd ----------------------------------------------------------------------

def test_rspamd_controller_ping_is_pong(rspamd):
    status, body = rspamd.ping()
    assert status == b"HTTP/1.1 200 OK" and body == b"pong\r\n"
    assert rspamd.ping_url == "http://127.0.0.1:%d/ping" % rspamd.controller_port


def test_rspamd_milter_answers_optneg_as_milter_c_does(rspamd):
    reply = rspamd.negotiate()
    length, command, version, actions, protocol = struct.unpack(">IcIII", reply)
    assert (length, command, version) == (13, b"O", 6)
    assert actions == 0x1FF | 0x3F and protocol == 0xFF080
    assert reply[:5] == bytes.fromhex("0000000d4f")      # the "00 00 00 0d 4f ..."


def test_rspamd_milter_drops_an_old_protocol_version(rspamd):
    assert rspamd.negotiate(optneg(version=2)) == b""


def test_rspamd_milter_says_nothing_first(rspamd):
    with socket.create_connection(("127.0.0.1", rspamd.milter_port), timeout=0.3) as sock:
        with pytest.raises(socket.timeout):
            sock.recv(10)


def test_rspamd_paused_and_killed(rspamd):
    with rspamd.hung():
        assert rspamd.ping(timeout=0.3) is None
    assert rspamd.ping()[1] == b"pong\r\n"
    rspamd.kill()
    assert rspamd.ping() is None and rspamd.negotiate() is None


def test_rspamd_fixture_repaired_it(rspamd):
    assert rspamd.negotiate()[4:5] == b"O"


# -- dovecot POP3 -------------------------------------------------------------------

def test_dovecot_pop3_greets_and_quits(dovecot):
    assert dovecot.pop3_address == "127.0.0.1:%d" % dovecot.pop3_port   # fails without dovecot-pop3d
    assert read_greeting("127.0.0.1", dovecot.pop3_port) == b"+OK Dovecot (Debian) ready.\r\n"
    with socket.create_connection(("127.0.0.1", dovecot.pop3_port), timeout=2) as sock:
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"+OK")
        sock.sendall(b"QUIT\r\n")
        assert reader.readline().startswith(b"+OK")
        assert reader.readline() == b""
