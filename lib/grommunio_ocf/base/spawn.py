"""Run a program within a deadline, with bounded output: the agents' only way to run one.

Not ``subprocess``: importing it costs a monitor about 5 ms (``locale``,
``re``, ``selectors``, ``signal``...) for features the agents never use.
This is ``posix_spawn`` with stdin from ``/dev/null``, stdout and stderr on
pipes read with ``poll`` until the deadline, and ``SIGKILL`` when it is up
(``postmap`` has no timeout of its own: it hangs on a silent database).
Output beyond ``limit`` bytes per stream is read and dropped, so a child
that talks forever can neither block on a full pipe nor fill our memory.
Safe to call from several threads at once.
"""

import os
import select

OUTPUT_LIMIT = 65536  # bytes kept per stream
_CHUNK = 65536


def which(program, environ=None):
    """The executable ``program`` on ``environ``'s PATH (default: ours), or ``None``.

    ``posix_spawn`` takes a path; this is the lookup a shell would make.
    """
    environ = os.environ if environ is None else environ
    for directory in (environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
        path = os.path.join(directory or ".", program)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


class Finished:
    """A child that ended: exit code and its (bounded) output as text."""

    __slots__ = ("returncode", "stdout", "stderr")

    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class TimedOut(Exception):
    """The deadline passed; the child was killed."""


def run(argv, deadline, environ=None, limit=OUTPUT_LIMIT):
    """Run ``argv`` (``argv[0]`` a path); ``Finished``, or ``TimedOut``, or ``OSError``."""
    if deadline.remaining() <= 0:
        raise TimedOut()
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    try:
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        try:
            pid = os.posix_spawn(argv[0], list(argv), os.environ if environ is None else environ,
                                 file_actions=[(os.POSIX_SPAWN_DUP2, null, 0),
                                               (os.POSIX_SPAWN_DUP2, out_w, 1),
                                               (os.POSIX_SPAWN_DUP2, err_w, 2)])
        finally:
            os.close(null)
    except BaseException:
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
        raise
    os.close(out_w)
    os.close(err_w)
    try:
        output = _collect({out_r: [], err_r: []}, deadline, limit)
    except TimedOut:
        os.kill(pid, 9)  # SIGKILL: the signal module would cost an import
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(out_r)
        os.close(err_r)
    _, status = os.waitpid(pid, 0)
    return Finished(os.waitstatus_to_exitcode(status), _text(output[out_r]), _text(output[err_r]))


def _collect(buffers, deadline, limit):
    """Read every pipe of ``buffers`` to its end; ``TimedOut`` at the deadline."""
    poller = select.poll()
    for fd in buffers:
        poller.register(fd, select.POLLIN)
    kept = dict.fromkeys(buffers, 0)
    open_fds = set(buffers)
    while open_fds:
        left = deadline.remaining()
        if left <= 0:
            raise TimedOut()
        for fd, _event in poller.poll(max(1, int(left * 1000))):
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                poller.unregister(fd)
                open_fds.discard(fd)
            elif kept[fd] < limit:
                buffers[fd].append(chunk[:limit - kept[fd]])
                kept[fd] += len(buffers[fd][-1])
    return buffers


def _text(chunks):
    return b"".join(chunks).decode("utf-8", "replace")
