"""The network service fixtures behave as promised, seen by plain Python clients.

The stack-health tests rely on these behaviours (a paused Dovecot accepts
but never greets, NoAccept times out rather than refusing, ...), so they are
pinned down here with the same standard-library clients an agent would use.
"""

import imaplib
import json
import os
import socket
import ssl
import time
import urllib.error
import urllib.request

import pytest

from services.dovecot import Dovecot, read_greeting
from services.listeners import (DelayProxy, FakeImap, Greeter, NoAccept, SilentListener,
                                TcpAcceptor, closed_port)
from services.redis import resp

pytestmark = [pytest.mark.integration]

TIMEOUT = 0.5


def verifying_context(dovecot):
    return ssl.create_default_context(cafile=dovecot.cert_path)


def unverified_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def lmtp_greeting(host, port):
    with socket.create_connection((host, port), timeout=2) as sock:
        return sock.makefile("rb").readline()


def assert_refused(host, port):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=TIMEOUT).close()


def assert_times_out_after_connect(host, port):
    """connect() succeeds, the greeting never comes."""
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        started = time.monotonic()
        with pytest.raises(socket.timeout):
            sock.recv(100)
        assert time.monotonic() - started >= TIMEOUT * 0.9


# -- Dovecot --------------------------------------------------------------

def test_dovecot_plain_imap_offers_starttls(dovecot):
    imap = imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=2)
    assert imap.welcome.startswith(b"* OK")
    assert "STARTTLS" in imap.capabilities
    imap.starttls(ssl_context=unverified_context())
    imap.logout()


def test_dovecot_starttls_verifies_with_cert_name(dovecot):
    imap = imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=2)
    # imaplib passes self.host as server_hostname: verify against the name
    # the certificate carries, as an agent with a "TLS server name" would.
    imap.host = dovecot.cert_name
    imap.starttls(ssl_context=verifying_context(dovecot))
    assert imap.sock.version() in ("TLSv1.2", "TLSv1.3")
    assert "STARTTLS" not in imap.capabilities    # refreshed after TLS, as RFC 3501 wants
    imap.logout()


def test_dovecot_imaps_verifies_only_with_cert_name(dovecot):
    context = verifying_context(dovecot)
    with socket.create_connection((dovecot.host, dovecot.imaps_port), timeout=2) as raw:
        with context.wrap_socket(raw, server_hostname=dovecot.cert_name) as tls:
            assert tls.recv(100).startswith(b"* OK")
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
        imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context, timeout=2)
    unverified = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port,
                                   ssl_context=unverified_context(), timeout=2)
    assert unverified.welcome.startswith(b"* OK")
    unverified.logout()


def test_dovecot_lmtp_greets_on_ipv4_and_ipv6(dovecot):
    assert lmtp_greeting(dovecot.host, dovecot.lmtp_port).startswith(b"220 mail.example.com ")
    if dovecot.lmtp6_port is None:
        pytest.skip("no IPv6 loopback on this host")
    assert dovecot.lmtp6_address == "[::1]:%d" % dovecot.lmtp6_port
    assert lmtp_greeting("::1", dovecot.lmtp6_port).startswith(b"220 ")


def test_dovecot_key_is_private(dovecot):
    assert os.stat(dovecot.key_path).st_mode & 0o777 == 0o600


def test_dovecot_paused_accepts_but_never_greets(dovecot):
    with dovecot.hung():
        assert_times_out_after_connect(dovecot.host, dovecot.imap_port)
        assert_times_out_after_connect(dovecot.host, dovecot.lmtp_port)
    # The connections queued while it was stopped do not break it.
    assert read_greeting(dovecot.host, dovecot.imap_port).startswith(b"* OK")


def test_dovecot_killed_refuses_and_comes_back(dovecot):
    ports = (dovecot.imap_port, dovecot.imaps_port, dovecot.lmtp_port)
    dovecot.kill()
    for port in ports:
        assert_refused(dovecot.host, port)
    dovecot.start()
    assert (dovecot.imap_port, dovecot.imaps_port, dovecot.lmtp_port) == ports
    assert read_greeting(dovecot.host, dovecot.lmtp_port).startswith(b"220 ")


def test_dovecot_leaves_it_paused(dovecot):
    """Left paused on purpose: the fixture's teardown must resume it."""
    assert dovecot.running and not dovecot.paused
    dovecot.pause()


def test_dovecot_fixture_resumed_it(dovecot):
    assert not dovecot.paused
    assert read_greeting(dovecot.host, dovecot.imap_port).startswith(b"* OK")


# -- redis ----------------------------------------------------------------

def test_redis_pong(redis):
    with socket.create_connection((redis.host, redis.port), timeout=2) as sock:
        sock.sendall(resp("PING"))
        assert sock.recv(100) == b"+PONG\r\n"


def test_redis_auth_required(redis_auth):
    assert redis_auth.command("PING", auth=False) == b"-NOAUTH Authentication required."
    assert redis_auth.command("PING") == b"+PONG"
    assert redis_auth.password


def test_redis_paused_and_killed(redis):
    with redis.hung():
        assert_times_out_after_connect(redis.host, redis.port)
    assert redis.command("PING") == b"+PONG"
    redis.kill()
    assert_refused(redis.host, redis.port)


def test_redis_is_back(redis):
    assert redis.command("PING") == b"+PONG"


# -- admin API stand-in ---------------------------------------------------

def get(url, timeout=2):
    """(status, body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.mark.parametrize("mode, status, document", [
    ("healthy", 200, {"message": "API is operational", "database": True, "ldap": False}),
    ("database_down", 200, {"message": "API is operational", "database": False, "ldap": False}),
    ("legacy", 200, {"message": "API is operational"}),
])
def test_adminapi_json_modes(adminapi, mode, status, document):
    adminapi.mode = mode
    got_status, body = get(adminapi.url + "/api/v1/status")
    assert (got_status, json.loads(body)) == (status, document)
    assert adminapi.requests == ["/api/v1/status"]


def test_adminapi_broken_modes(adminapi):
    adminapi.mode = "error"
    status, body = get(adminapi.status_url)
    assert status == 500 and b"500 Internal Server Error" in body
    adminapi.mode = "invalid_json"
    status, body = get(adminapi.status_url)
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)
    assert get(adminapi.url + "/api/v1/other")[0] == 404
    with pytest.raises(ValueError):
        adminapi.mode = "nonsense"


def test_adminapi_slow_times_out(adminapi):
    adminapi.mode = "slow"
    adminapi.slow_seconds = 2
    started = time.monotonic()
    with pytest.raises((socket.timeout, urllib.error.URLError)):
        get(adminapi.status_url, timeout=TIMEOUT)
    assert time.monotonic() - started < 1.5


def test_adminapi_mode_is_reset_per_test(adminapi):
    assert adminapi.mode == "healthy" and adminapi.requests == []


# -- in-process peers -----------------------------------------------------

def test_greeter_bye_makes_imaplib_fail():
    with Greeter(b"* BYE go away\r\n") as peer:
        with pytest.raises(imaplib.IMAP4.error, match="go away"):
            imaplib.IMAP4(peer.host, peer.port, timeout=2)
        assert peer.accepted == 1


def test_greeter_delay_and_banner():
    with Greeter(b"220 late\r\n", delay=0.2) as peer:
        started = time.monotonic()
        assert read_greeting(peer.host, peer.port) == b"220 late\r\n"
        assert time.monotonic() - started >= 0.2


def test_fake_imap_without_starttls():
    with FakeImap(b"* OK no starttls here", ("IMAP4rev1", "AUTH=PLAIN")) as peer:
        imap = imaplib.IMAP4(peer.host, peer.port, timeout=2)
        assert imap.welcome == b"* OK no starttls here"
        assert "IMAP4REV1" in imap.capabilities and "STARTTLS" not in imap.capabilities
        with pytest.raises(imaplib.IMAP4.error, match="TLS not supported"):
            imap.starttls()
        imap.logout()
        assert peer.commands[-1].endswith(b"LOGOUT")


def test_silent_listener_never_greets():
    with SilentListener() as peer:
        assert_times_out_after_connect(peer.host, peer.port)


def test_no_accept_times_out_rather_than_refusing():
    with NoAccept() as peer:
        started = time.monotonic()
        with pytest.raises(socket.timeout):
            socket.create_connection((peer.host, peer.port), timeout=TIMEOUT)
        assert TIMEOUT * 0.9 <= time.monotonic() - started < TIMEOUT + 0.5


def test_closed_port_refuses():
    assert_refused("127.0.0.1", closed_port())


def test_tcp_acceptor_accepts_then_closes():
    with TcpAcceptor() as peer:
        with socket.create_connection((peer.host, peer.port), timeout=2) as sock:
            assert sock.recv(10) == b""
        assert peer.address == "127.0.0.1:%d" % peer.port


def test_delay_proxy_redis_and_imaps(redis, dovecot):
    with DelayProxy(redis.host, redis.port, delay=0.1) as proxy:
        started = time.monotonic()
        with socket.create_connection((proxy.host, proxy.port), timeout=2) as sock:
            sock.sendall(resp("PING"))
            assert sock.recv(100) == b"+PONG\r\n"
            first = time.monotonic() - started
            sock.sendall(resp("PING"))            # later traffic is not delayed again
            assert sock.recv(100) == b"+PONG\r\n"
        assert 0.1 <= first < 0.5
        assert time.monotonic() - started - first < 0.09   # no second 0.1 s delay
    with DelayProxy(dovecot.host, dovecot.imaps_port) as proxy:
        context = verifying_context(dovecot)
        with socket.create_connection((proxy.host, proxy.port), timeout=2) as raw:
            with context.wrap_socket(raw, server_hostname=dovecot.cert_name) as tls:
                assert tls.recv(100).startswith(b"* OK")


def test_delay_proxy_starttls_and_http(dovecot, adminapi):
    with DelayProxy(dovecot.host, dovecot.imap_port) as proxy:
        imap = imaplib.IMAP4(proxy.host, proxy.port, timeout=2)
        imap.host = dovecot.cert_name
        imap.starttls(ssl_context=verifying_context(dovecot))
        imap.logout()
    with DelayProxy(adminapi.host, adminapi.port) as proxy:
        status, body = get("http://%s/api/v1/status" % proxy.address)
        assert status == 200 and json.loads(body)["database"] is True


def test_delay_proxy_to_dead_upstream_closes():
    with DelayProxy("127.0.0.1", closed_port()) as proxy:
        with socket.create_connection((proxy.host, proxy.port), timeout=2) as sock:
            assert sock.recv(10) == b""


def test_dovecot_start_moves_off_a_taken_port():
    """free_port() races other programs: a port taken before start() means new ports."""
    class Unlucky(Dovecot):
        def pick_ports(self):
            super().pick_ports()
            if not taken:
                taken.append(socket.create_server((self.host, 0)))
                self.imap_port = taken[0].getsockname()[1]

    taken = []
    server = Unlucky()
    try:
        server.start()
        assert server.imap_port != taken[0].getsockname()[1]
        assert read_greeting(server.host, server.imap_port).startswith(b"* OK")
        assert "Address already in use" in server.log_tail()
    finally:
        server.cleanup()
        taken[0].close()
    assert not os.path.exists(server.directory)
