"""Run a program within a deadline, with bounded output: the agents' only way to run one.

Not ``subprocess``: importing it costs a monitor about 5 ms (``locale``,
``re``, ``selectors``, ``signal``...) for features the agents never use.
This is ``posix_spawn`` with stdin from ``/dev/null``, stdout and stderr on
pipes read with ``poll`` until the deadline, and ``SIGKILL`` when it is up
(``postmap`` has no timeout of its own: it hangs on a silent database).
Output beyond ``limit`` bytes per stream is read and dropped, so a child
that talks forever can neither block on a full pipe nor fill our memory.

Every child is bounded in memory too: ``RLIMIT_DATA`` (heap and private
writable mappings: what a program grows by, not the libraries it maps),
set with ``prlimit(2)`` on the child right after the spawn.  The checks run
in threads, so a ``setrlimit`` of our own around the spawn would race; a
fork in a threaded process is unsafe, and a wrapper program (``prlimit``,
``sh -c 'ulimit -d'``) costs an exec per tool.  The child may run a moment
before its limit lands, but a limit below what it already holds stops any
further growth: a tool reading ``/dev/zero`` from its first instruction
still peaks at the limit (tests/bench/bench_spawn.py and doc/bounds.md have
the numbers).  A child that ran out of it (Postfix: "insufficient memory")
raises ``OutOfMemory``.  Every child is reaped, whatever ends the wait.
Safe to call from several threads at once.
"""

import os
import select

OUTPUT_LIMIT = 65536  # bytes kept per stream
# A healthy postmap with a MySQL map needs 1.1 MiB of data, postconf as
# much (tests/bench/bench_spawn.py measures it): 32 MiB is far beyond any
# healthy run and still bounds the tree of a monitor (doc/bounds.md).
MEMORY_LIMIT = 32 << 20
_CHUNK = 65536
# What a program says when an allocation fails: Postfix's mymalloc, strerror(ENOMEM),
# GLib (Pacemaker's tools), the MariaDB client library, C++, Python.
_EXHAUSTED = ("insufficient memory", "Cannot allocate memory", "failed to allocate",
              "client ran out of memory", "std::bad_alloc", "MemoryError")


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


class OutOfMemory(Exception):
    """The child failed for want of memory under its limit; ``str()`` says so."""

    def __init__(self, program, memory):
        super().__init__("%s ran out of its %d MB" % (os.path.basename(program), memory >> 20))
        self.program = program
        self.memory = memory


def run(argv, deadline, environ=None, limit=OUTPUT_LIMIT, memory=MEMORY_LIMIT):
    """Run ``argv`` (``argv[0]`` a path) with at most ``memory`` bytes of data.

    ``Finished``, or ``TimedOut``, ``OutOfMemory`` or ``OSError``.
    """
    if deadline.remaining() <= 0:
        raise TimedOut()
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    try:
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        try:
            pid = _start(argv, os.environ if environ is None else environ,
                         [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, out_w, 1),
                          (os.POSIX_SPAWN_DUP2, err_w, 2)], memory)
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
    except BaseException:  # the deadline, or a read that failed: never leave it running
        _kill(pid)
        raise
    finally:
        os.close(out_r)
        os.close(err_r)
    _, status = os.waitpid(pid, 0)
    done = Finished(os.waitstatus_to_exitcode(status), _text(output[out_r]), _text(output[err_r]))
    if done.returncode != 0 and memory and _exhausted(done.stderr):
        raise OutOfMemory(argv[0], memory)
    return done


def _exhausted(stderr):
    """Whether a failed program's last word was that an allocation failed.

    Only its last line: a dying program says why last (Postfix's "fatal:"),
    while a cause it merely relays -- a database server's "errno 12, Cannot
    allocate memory" in a warning -- comes before its own final line.
    """
    last = stderr.rstrip().rpartition("\n")[2]
    return any(words in last for words in _EXHAUSTED)


def _start(argv, environ, file_actions, memory):
    """The child's pid: spawned, then bounded; killed and reaped if bounding it fails."""
    pid = os.posix_spawn(argv[0], list(argv), environ, file_actions=file_actions)
    if memory:
        try:
            _limit(pid, memory)
        except ProcessLookupError:
            pass  # it has already exited: nothing left to bound
        except BaseException:
            _kill(pid)
            raise
    return pid


def _limit(pid, memory):
    import resource  # a small C module: ~0.2 ms, only for agents that run programs
    resource.prlimit(pid, resource.RLIMIT_DATA, (memory, memory))


def _kill(pid):
    """SIGKILL (the signal module would cost an import) and reap ``pid``."""
    try:
        os.kill(pid, 9)  # a child not yet reaped keeps its pid: this cannot hit another process
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


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
