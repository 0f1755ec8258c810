"""gromox's line services: midb, event and timer greet ``OK`` and answer ``PING`` with ``TRUE``.

The three daemons share one accept path (gromox exch/midb/main.cpp,
tools/event.cpp, tools/timer.cpp): a peer whose address *string* is on
the allow-list (default ``::1``) gets ``OK\\r\\n``; any other gets
``FALSE Access denied`` -- 19 bytes, *no* line end, because the length
written is 19 -- and the connection closes.  A daemon out of threads says
``FALSE Maximum ...`` (cut to 35 bytes by event and timer) and closes.

After ``OK`` the check sends its ping and reads one line:

* midb takes ``PING <dir>`` -- exactly two words (exch/midb/cmd_parser.cpp:
  PING is registered with two arguments, fewer earn ``FALSE 1``);
* event and timer take a bare ``PING`` (strcasecmp with the whole line).
  Never three words to event: it takes ``A B C`` as an event to broadcast.

``TRUE\\r\\n`` proves the daemon's command loop runs.  ``QUIT`` ends the
session politely (all three answer ``BYE``; the answer is not awaited).
"""

from ..base.text import quoted
from ..checks.contract import CheckFailed
from . import connect, goodbye, recv_some, send

GREETING_LIMIT = 64  # "OK\r\n" is 4 bytes, the longest refusal 35
ANSWER_LIMIT = 64    # "TRUE\r\n", or "FALSE <number>\r\n"
REFUSED = b"FALSE Access denied"


def check(address, deadline, command, acl):
    """Greeting, ``command`` (bytes with CRLF), ``TRUE``.  ``acl``: where the
    daemon's allow-list is configured, for the message."""
    sock = connect(address, deadline)
    try:
        lines = _Lines(sock, deadline, address)
        greeting = lines.next("greeting", GREETING_LIMIT)
        if greeting.startswith(REFUSED):
            local = _local_address(sock)
            raise CheckFailed("%s refused this check's address %s: 'FALSE Access denied' "
                              "(not on its allow-list, %s; connect to [::1])"
                              % (address, local, acl))
        if greeting != b"OK\r\n":
            raise CheckFailed("%s greeted with %s, not OK" % (address, _shown(greeting)))
        send(sock, command, deadline, address, "ping")
        answer = lines.next("answer to PING", ANSWER_LIMIT)
        if answer != b"TRUE\r\n":
            raise CheckFailed("%s answered PING with %s, not TRUE" % (address, _shown(answer)))
        goodbye(sock, b"QUIT\r\n")
    finally:
        sock.close()
    return "OK, PING answered TRUE"


class _Lines:
    """Lines as bytes, each bounded, all by the deadline; what came beyond a
    line is kept for the next.

    A refusal has no line end: the peer's close ends it, or its 19 bytes
    (a peer that refuses and keeps the connection open).
    """

    def __init__(self, sock, deadline, address):
        self.sock = sock
        self.deadline = deadline
        self.address = address
        self.data = b""

    def next(self, what, limit):
        while True:
            end = self.data.find(b"\n", 0, limit)
            if end >= 0:
                line, self.data = self.data[:end + 1], self.data[end + 1:]
                return line
            if self.data.startswith(REFUSED):
                line, self.data = self.data, b""
                return line
            if len(self.data) >= limit:
                raise CheckFailed("%s sent more than %d bytes without a line end as the %s"
                                  % (self.address, limit, what))
            chunk = recv_some(self.sock, limit - len(self.data), self.deadline, self.address,
                              what, self.data)
            if not chunk:
                if not self.data:
                    raise CheckFailed("%s closed the connection before the %s"
                                      % (self.address, what))
                line, self.data = self.data, b""
                return line
            self.data += chunk


def _shown(data):
    return quoted(data.decode("latin-1").rstrip("\r\n"), 40)


def _local_address(sock):
    try:
        return str(sock.getsockname()[0])
    except (OSError, IndexError):
        return "unknown"
