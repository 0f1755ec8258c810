"""The server's side of the MariaDB wire protocol, for fake peers.

Shared by the protocol's unit tests (a scripted server) and the hostile-peer
catalogue (services.hostile): a v10 handshake as MariaDB 10.11 sends it and
the packet frame around it.
"""

import struct

NONCE = b"k;Z}2l@Wq/0.E5Vb>n#X"          # 20 printable bytes, as MariaDB makes them
NEW_NONCE = b"7Hy!c$Ue+vN9)r8sG~Tq"
VERSION = b"5.5.5-10.11.6-MariaDB-0+deb12u1"
NATIVE = b"mysql_native_password"
# MariaDB 10.11's capability flags (lower and upper 16 bits).
CAPS = 0xF7FE | 0x81FF << 16


def frame(payload, seq):
    """``payload`` as one packet: 3-byte little-endian length, sequence number."""
    return struct.pack("<I", len(payload))[:3] + bytes((seq,)) + payload


def handshake(nonce=NONCE, plugin=NATIVE, caps=CAPS, version=VERSION):
    """A v10 initial handshake as MariaDB 10.11 sends it."""
    return (b"\x0a" + version + b"\0" + struct.pack("<I", 4711) + nonce[:8] + b"\0"
            + struct.pack("<H", caps & 0xFFFF) + bytes((45,)) + struct.pack("<H", 0x0002)
            + struct.pack("<H", caps >> 16) + bytes((len(nonce) + 1,)) + b"\0" * 6
            + struct.pack("<I", 0x1D)           # MariaDB's extended capabilities
            + nonce[8:] + b"\0" + plugin + b"\0")


def error(code, message, state=b"28000"):
    """An ERR packet's payload."""
    return b"\xff" + struct.pack("<H", code) + b"#" + state + message
