"""The information store (exmdb, inside gromox-http): its built-in ping.

gromox exch/exmdb/parser.cpp: a request is a little-endian u32 length and
that many bytes; a length of 0 is the ping, answered with the one byte
``00`` (exmdb_response::success).  A peer not on the allow-list (compared
as an address string, default ``::1``) gets ``01`` (access_deny) at once
and is closed; a store out of connections gets ``02`` (max_reached).  One
byte is all the check reads.
"""

from ..checks.contract import CheckFailed
from . import connect, recv_exact, send

PING = b"\0\0\0\0"
# include/gromox/exmdb_rpc.hpp, enum class exmdb_response
ANSWERS = {
    0x01: "refused this check's address (access_deny: not on exmdb_hosts_allow / "
          "exmdb_acl.txt; connect to [::1])",
    0x02: "has no free connection (max_reached)",
    0x03: "is out of memory (lack_memory)",
}


def check(address, deadline):
    sock = connect(address, deadline)
    try:
        send(sock, PING, deadline, address, "ping")
        answer = recv_exact(sock, 1, deadline, address, "answer to the ping")
    finally:
        sock.close()
    if answer == b"\0":
        return "ping answered 00"
    code = answer[0]
    if code in ANSWERS:
        raise CheckFailed("%s %s" % (address, ANSWERS[code]))
    raise CheckFailed("%s answered the ping with %02x, not 00" % (address, code))
