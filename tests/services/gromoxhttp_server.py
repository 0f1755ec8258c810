"""A stand-in for gromox-http's MAPI/HTTP door, run as a process of its own.

    /usr/bin/python3 -I gromoxhttp_server.py HOST PORT

Answers ``POST /mapi/emsmdb/...`` without credentials the way gromox-http
does (grommunio/gromox 1892eb3d exch/http/http_parser.cpp,
http_make_err_response for 401): the status line, Date, Content-Length,
Content-Type, Connection, then ``WWW-Authenticate: Basic realm="msrpc
realm", charset="utf-8"`` and the status text as the body.  Anything else
is 404.  It is a separate process (services.gromoxhttp runs it as a
Daemon) so that a test can hang it with SIGSTOP: the kernel still accepts
connections, nothing answers -- a hung gromox-http.  Standard library only.
"""

import email.utils
import socket
import socketserver
import sys

MAX_HEAD = 65536


def answer(status, text, extra=""):
    return ("HTTP/1.1 %s %s\r\nDate: %s\r\nContent-Length: %d\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n%s\r\n%s\r\n"
            % (status, text, email.utils.formatdate(usegmt=True), len(text) + 2, extra, text)
            ).encode("ascii")


UNAUTHORIZED = answer(401, "Unauthorized",
                      'WWW-Authenticate: Basic realm="msrpc realm", charset="utf-8"\r\n')
NOT_FOUND = answer(404, "Not Found")


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(10)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < MAX_HEAD:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
            method, path = (data.split(b"\r\n", 1)[0].split(b" ") + [b"", b""])[:2]
            mapi = method == b"POST" and path.startswith(b"/mapi/emsmdb/")
            self.request.sendall(UNAUTHORIZED if mapi else NOT_FOUND)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host, port):
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)


if __name__ == "__main__":
    with Server(sys.argv[1], int(sys.argv[2])) as server:
        server.serve_forever()
