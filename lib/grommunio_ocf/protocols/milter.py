"""Milter option negotiation: the milter (grommunio-antispam's rspamd) must answer ``SMFIC_OPTNEG``.

The milter protocol (libmilter's mfdef.h, rspamd src/libserver/milter.c)
frames every packet as a big-endian u32 length, a command byte and the
data.  The MTA opens with ``O`` (SMFIC_OPTNEG) and three u32: the protocol
version, the actions and the protocol steps it offers -- here what
Postfix offers (version 6, actions 0x1ff, steps 0x1fffff), because a
milter may refuse an MTA that offers less than it needs.  rspamd refuses a
version below 6 and answers ``O`` with version 6 and its own actions and
steps: ``00 00 00 0d 4f 00 00 00 06 ...``.  A reply may carry macro
lists after the three words, so up to ``REPLY_LIMIT`` bytes are read;
the announced length is never trusted beyond that.  ``SMFIC_QUIT`` ends
the session.
"""

from ..checks.contract import CheckFailed
from . import connect, goodbye, hexbytes, recv_exact, send

VERSION = 6
ACTIONS = 0x1FF
STEPS = 0x1FFFFF
OPTNEG = (13).to_bytes(4, "big") + b"O" + VERSION.to_bytes(4, "big") \
    + ACTIONS.to_bytes(4, "big") + STEPS.to_bytes(4, "big")
QUIT = (1).to_bytes(4, "big") + b"Q"
REPLY_LIMIT = 4096


def check(address, deadline):
    sock = connect(address, deadline)
    try:
        send(sock, OPTNEG, deadline, address, "option negotiation")
        length = int.from_bytes(recv_exact(sock, 4, deadline, address, "answer to OPTNEG"), "big")
        if length > REPLY_LIMIT:
            raise CheckFailed("%s announced a %d-byte answer to OPTNEG (at most %d expected): "
                              "not a milter?" % (address, length, REPLY_LIMIT))
        if length < 13:
            raise CheckFailed("%s answered OPTNEG with a %d-byte packet, too short for an "
                              "option negotiation (13)" % (address, length))
        reply = recv_exact(sock, length, deadline, address, "answer to OPTNEG")
        goodbye(sock, QUIT)
    finally:
        sock.close()
    if reply[:1] != b"O":
        raise CheckFailed("%s answered OPTNEG with %s, not an option negotiation"
                          % (address, hexbytes(reply)))
    version = int.from_bytes(reply[1:5], "big")
    if version < VERSION:
        raise CheckFailed("%s negotiated milter protocol version %d (at least %d expected)"
                          % (address, version, VERSION))
    return "OPTNEG answered, protocol version %d" % version
