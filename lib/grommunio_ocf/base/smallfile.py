"""Read a small configuration file without ever blocking or swallowing a huge one.

gromox's ``mysql_adaptor.cfg``, MariaDB's option files and Postfix's ``.cf``
maps are all a few hundred bytes that an admin (or a mistake) may have
replaced by a FIFO, a device, a directory or something enormous.  A FIFO
would block the monitor until Pacemaker kills it; a huge file would fill its
memory.  So: one ``open`` without blocking, ``fstat`` on that very
descriptor (no race between a check and the open), and a read that stops
past ``limit``.  Callers turn the exceptions into their own messages.
"""

import os
import stat

_CHUNK = 65536


class NotRegular(OSError):
    """A FIFO, device or socket: reading it could block."""


class TooLarge(OSError):
    """More than the limit: not the small file it should be."""


def read(path, limit):
    """``(bytes, os.stat_result)`` of the regular file ``path``.

    Raises ``IsADirectoryError``, ``NotRegular``, ``TooLarge`` or the
    ``OSError`` of the open or read (``FileNotFoundError``, ``PermissionError``).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = _regular(fd, path)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                return b"".join(chunks), info
            chunks.append(chunk)
            size += len(chunk)
        raise TooLarge(path)
    finally:
        os.close(fd)


def judge(path, limit):
    """``os.stat_result`` of ``path`` if a program may read it: regular, at most ``limit`` bytes.

    For a file another program reads (Postfix's main.cf): opened and
    ``fstat``-ed as ``read`` does, not read.  Raises as ``read`` does.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = _regular(fd, path)
    finally:
        os.close(fd)
    if info.st_size > limit:
        raise TooLarge(path)
    return info


def _regular(fd, path):
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "Is a directory", path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegular(path)
    return info
