"""A stand-in for grommunio-admin-api's status endpoint, in-process.

``GET /api/v1/status`` answers according to ``mode``:

    healthy        200 {"message": "API is operational", "database": true, "ldap": false}
    database_down  200, the same with "database": false
    legacy         200 {"message": "API is operational"} (older API versions)
    error          500 with an HTML body, as nginx sends when the backend fails
    invalid_json   200 with an HTML body
    slow           the healthy answer, but only after ``slow_seconds``

Any other path is 404.  ``requests`` lists the paths asked for, so a test
can prove the agent asked (and asked the right thing).  The real service
sits behind nginx; the answers copy its headers' shape (HTTP/1.1,
Content-Length, Connection: close).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

STATUS_PATH = "/api/v1/status"
HEALTHY = {"message": "API is operational", "database": True, "ldap": False}
NGINX_500 = (b"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
             b"<center><h1>500 Internal Server Error</h1></center>\r\n"
             b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
NOT_JSON = b"<html><body><h1>Welcome to nginx!</h1></body></html>\r\n"


def _json(document):
    return 200, "application/json", json.dumps(document).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""

    def do_GET(self):
        api = self.server.api
        api.requests.append(self.path)
        if self.path != STATUS_PATH:
            status, ctype, body = 404, "text/html", b"<html><body>404 Not Found</body></html>\r\n"
        else:
            status, ctype, body = api.answer()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format, *args):      # noqa: A002 (the base class's name)
        pass                                    # keep pytest's output clean


class AdminApi:
    """The stand-in server on 127.0.0.1; ``url`` is its base (no trailing slash)."""

    MODES = ("healthy", "database_down", "legacy", "error", "invalid_json", "slow")

    def __init__(self, host="127.0.0.1"):
        self._mode = "healthy"
        self.slow_seconds = 5.0
        self.requests = []
        self._closed = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self
        self.host, self.port = self._server.server_address[:2]
        # A short poll interval: shutdown() waits up to one of them.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="AdminApi")
        self._thread.start()

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def status_url(self):
        return self.url + STATUS_PATH

    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, value):
        if value not in self.MODES:
            raise ValueError("unknown mode %r (one of %s)" % (value, ", ".join(self.MODES)))
        self._mode = value

    def reset(self):
        self.mode = "healthy"
        self.slow_seconds = 5.0
        self.requests.clear()

    def answer(self):
        """(status, content type, body) for the status path in the current mode."""
        mode = self._mode
        if mode == "slow":
            # Interruptible, so close() never waits out a slow answer.
            self._closed.wait(self.slow_seconds)
        if mode == "database_down":
            return _json(dict(HEALTHY, database=False))
        if mode == "legacy":
            return _json({"message": HEALTHY["message"]})
        if mode == "error":
            return 500, "text/html", NGINX_500
        if mode == "invalid_json":
            return 200, "text/html", NOT_JSON
        return _json(HEALTHY)

    def close(self):
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "AdminApi(%s, mode=%s)" % (self.url, self._mode)


@pytest.fixture(scope="session")
def adminapi_session():
    api = AdminApi()
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def adminapi(adminapi_session):
    """The shared stand-in, healthy and with no recorded requests at the start of each test."""
    adminapi_session.reset()
    yield adminapi_session
    adminapi_session.reset()
