"""One file in a directory others may write to, replaced atomically, never through a link.

node_exporter's directory is often owned by the prometheus user, so a
name in it may be anything when we come: a symlink to /etc/shadow, a hard
link, a directory, a FIFO.  Hence, with the directory opened once and every
step relative to that descriptor:

* the new text goes into a fresh temporary name (``O_CREAT | O_EXCL |
  O_NOFOLLOW``: a name planted there fails the open, nothing is followed),
  hidden and ending in ``.tmp`` so that the collector (``*.prom``) skips it;
* it gets mode 0644 whatever the umask (``fchmod`` on that descriptor);
* ``rename`` puts it in place: it replaces whatever the name was -- a
  symlink is replaced, never followed -- and a reader sees the old file or
  the new one, never half of one;
* ``unlink`` removes a name and never what a link points to.

The directory itself is the admin's choice (``metrics_dir``) and may be a
symlink.  Every function returns ``None`` or the error as text; none raises.
"""

import os

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
MODE = 0o644


def _reason(exc):
    return exc.strerror or str(exc)


def replace(directory, name, data):
    """Put ``data`` (bytes) in ``directory/name``; ``None`` or why not."""
    try:
        dir_fd = os.open(directory, _DIR_FLAGS)
    except OSError as exc:
        return _reason(exc)
    temporary = None
    try:
        for attempt in range(3):  # a leftover of a killed run with our pid: another name
            candidate = ".%s.%d.%d.tmp" % (name, os.getpid(), attempt)
            try:
                fd = os.open(candidate, _NEW_FLAGS, MODE, dir_fd=dir_fd)
            except FileExistsError:
                os.unlink(candidate, dir_fd=dir_fd)  # ours by name; unlink never follows
                continue
            temporary = candidate
            break
        if temporary is None:
            return "cannot create a temporary file"
        try:
            os.fchmod(fd, MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        temporary = None
        return None
    except OSError as exc:
        return _reason(exc)
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary, dir_fd=dir_fd)
            except OSError:
                pass
        os.close(dir_fd)


def remove(directory, name):
    """Remove ``directory/name`` if it is there; ``None`` or why not."""
    try:
        os.unlink(os.path.join(directory, name))
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # the directory is gone or a file: no file of ours in it
    except OSError as exc:
        return _reason(exc)
    return None
