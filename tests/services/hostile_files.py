"""Hostile files where postfix-maps expects small configuration files: a shared catalogue.

Used by tests/integration/test_hostile_files.py (time, tree memory and exit
reason bounds) and tests/bench/bench_hostile.py (the tree's peak per case).
What found issue "a Postfix tool grew to 4.3 GB": a ``.cf`` that is
``/dev/zero`` is one endless line to ``postmap``.  Each ``KIND`` is made in
a directory and stands at a path:

  dev-zero      /dev/zero (a device node of it where the name is fixed: main.cf)
  dev-urandom   /dev/urandom (likewise)
  fifo          a FIFO with a writer that never stops writing zeros
  sparse-64M    a regular file of 64 MiB, all holes: huge, and nothing on disk
  growing       a regular file that a writer keeps appending to, one endless line
  and each of them behind a symlink (``KIND-symlink``).

``PLACES`` are where such a path goes:

  maps          the .cf of ``maps`` (main.cf lists it too)
  main.cf-maps  a .cf that only main.cf names (beside a good map of ``maps``)
  config_directory   config_directory itself
  main.cf       config_directory/main.cf

    with made(kind, directory, fixed_name=None) as path:   # writers stopped on exit
        ...
"""

import contextlib
import os
import stat
import threading
import time

BASE_KINDS = ("dev-zero", "dev-urandom", "fifo", "sparse-64M", "growing")
KINDS = BASE_KINDS + tuple(kind + "-symlink" for kind in BASE_KINDS)
PLACES = ("maps", "main.cf-maps", "config_directory", "main.cf")
DEVICES = {"dev-zero": ("/dev/zero", (1, 5)), "dev-urandom": ("/dev/urandom", (1, 9))}
SPARSE_SIZE = 64 << 20
GROW_CHUNK = 4096          # bytes per append ...
GROW_INTERVAL = 0.005      # ... every 5 ms: ~800 KB/s, so a tool reading it finds an end
GROW_CAP = 16 << 20        # and never more than this on the disk


@contextlib.contextmanager
def made(kind, directory, fixed_name=None):
    """A hostile ``kind`` in ``directory``; yields its path (``fixed_name`` if given).

    A device kind without ``fixed_name`` is the real ``/dev/...`` path; with
    one, a device node of the same numbers (so that main.cf can be one).
    """
    base, symlink = kind[:-len("-symlink")] if kind.endswith("-symlink") else kind, \
        kind.endswith("-symlink")
    name = fixed_name or "hostile-" + kind
    target = os.path.join(directory, ("target-" + name) if symlink else name)
    stops = []
    if base in DEVICES:
        device, (major, minor) = DEVICES[base]
        if symlink or fixed_name is None:
            target = device
        else:
            os.mknod(target, stat.S_IFCHR | 0o644, os.makedev(major, minor))
    elif base == "fifo":
        os.mkfifo(target)
        stops.append(_endless_writer(target))
    elif base == "sparse-64M":
        with open(target, "wb") as handle:
            handle.truncate(SPARSE_SIZE)
    elif base == "growing":
        stops.append(_growing(target))
    else:
        raise ValueError(kind)
    path = target
    if symlink:
        path = os.path.join(directory, name)
        os.symlink(target, path)
    try:
        yield path
    finally:
        for stop in stops:
            stop()


def _endless_writer(fifo):
    """A thread that opens ``fifo`` for each reader and writes zeros until it goes away."""
    done = threading.Event()

    def write():
        chunk = b"\0" * 65536
        while not done.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY)         # blocks until a reader opens it
            except OSError:
                return
            try:
                while not done.is_set():
                    os.write(fd, chunk)
            except OSError:                             # the reader closed: wait for the next
                pass
            finally:
                os.close(fd)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()

    def stop():
        done.set()
        try:  # wake a writer blocked in open() (a reader that reads nothing)
            reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            time.sleep(0.01)
            os.close(reader)
        except OSError:
            pass
        thread.join(2)
    return stop


def _growing(path):
    """A thread appending one endless line to ``path`` until stopped (or capped)."""
    done = threading.Event()
    with open(path, "wb") as handle:
        handle.write(b"x" * GROW_CHUNK)

    def grow():
        with open(path, "ab", buffering=0) as handle:
            size = GROW_CHUNK
            while not done.wait(GROW_INTERVAL) and size < GROW_CAP:
                handle.write(b"x" * GROW_CHUNK)
                size += GROW_CHUNK

    thread = threading.Thread(target=grow, daemon=True)
    thread.start()

    def stop():
        done.set()
        thread.join(2)
    return stop
