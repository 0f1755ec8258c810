"""gromox-zcore (the store behind grommunio-web): one ``checksession`` call.

gromox exch/zcore/rpc_parser.cpp reads a little-endian u32 length and
that many bytes; rpc_ext.cpp takes the first as the call id (checksession
is 0x52, include/gromox/zcore_allcalls.hpp) and a 16-byte GUID after it.
A GUID of zeros names no session, so zs_checksession returns ecError
(0x80004005) and rpc_ext_push_response writes ``00`` (success: the call
was dispatched), the length 4 and the result: ``00 04 00 00 00 05 40 00 80``.
That answer proves the daemon parsed, dispatched and answered a call; it
needs no credentials and creates nothing.

A single byte other than ``00`` is zcore's own failure code
(include/gromox/zcore_rpc.hpp).  The answer's length is read, never
trusted: more than ``ANSWER_LIMIT`` fails at once (a 4 GB length costs
nothing).
"""

from ..checks.contract import CheckFailed
from . import connect_unix, hexbytes, recv_exact, send

CHECKSESSION = 0x52
REQUEST = (17).to_bytes(4, "little") + bytes((CHECKSESSION,)) + bytes(16)
EC_ERROR = 0x80004005     # "no such session": the expected answer
EC_SUCCESS = 0
ANSWER_LIMIT = 64         # the answer's payload is 4 bytes
FAILURES = {0x01: "lack_memory", 0x02: "pull_error", 0x03: "dispatch_error", 0x04: "push_error"}


def check(path, deadline):
    sock = connect_unix(path, deadline)
    try:
        send(sock, REQUEST, deadline, path, "checksession call")
        code = recv_exact(sock, 1, deadline, path, "answer to checksession")[0]
        if code != 0:
            raise CheckFailed("%s answered checksession with %02x (%s)"
                              % (path, code, FAILURES.get(code, "not a zcore answer")))
        length = int.from_bytes(recv_exact(sock, 4, deadline, path, "answer's length"), "little")
        if length > ANSWER_LIMIT or length < 4:
            raise CheckFailed("%s announced a %d-byte answer to checksession (4 expected): "
                              "not gromox-zcore?" % (path, length))
        payload = recv_exact(sock, length, deadline, path, "answer to checksession")
    finally:
        sock.close()
    result = int.from_bytes(payload[:4], "little")
    if result == EC_ERROR:
        return "checksession answered ecError (no such session), as expected"
    if result == EC_SUCCESS:
        return "checksession answered ecSuccess"
    raise CheckFailed("%s answered checksession with %s (result 0x%08x, expected 0x%08x)"
                      % (path, hexbytes(payload), result, EC_ERROR))
