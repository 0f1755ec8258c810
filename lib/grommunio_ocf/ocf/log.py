"""Logging for agents: syslog and stderr, and the one exit-reason line.

Follows the conventions of ocf-shellfuncs' ``ha_log`` so that admins find our
messages where they find the heartbeat agents': syslog with the tag
``<agent>(<resource>)`` (facility from ``HA_LOGFACILITY``, default
``daemon``; ``none`` turns syslog off) and stderr, which Pacemaker copies into
pacemaker.log.  Debug messages are written only when ``HA_debug`` is true.
Uses the ``syslog`` module, not ``logging``: it costs microseconds where
``logging`` costs milliseconds on every monitor.

Logging cannot fail and cannot be abused: every text is made printable and
bounded by ``printable()`` before it goes anywhere (a directory name with a
non-UTF-8 byte, a peer's garbage or a megabyte-long error message included),
and no error of syslog or stderr ever leaves this module -- a logging problem
must never turn a clean ``stop`` into a failed one.
"""

import sys

from ..base.text import MESSAGE_LIMIT, as_text, printable
from .params import TRUE_WORDS

EXIT_REASON_PREFIX = "ocf-exit-reason:"
PACEMAKER_REASON_LIMIT = 128
# Bytes (UTF-8) of one exit reason after the prefix, and of one log message.
# Pacemaker shows the first 128 characters of a reason; the rest is for the
# logs, where one message may list every failing bind or check.
EXIT_REASON_LIMIT = 512
TAG_LIMIT = 128

_LEVELS = ("debug", "info", "warning", "error")


def _is_true(text):
    return (text or "").strip().lower() in TRUE_WORDS


class Log:
    def __init__(self, agent, instance=None, environ=None, stderr=None):
        environ = environ if environ is not None else {}
        tag = "%s(%s)" % (agent, instance) if instance else agent
        self.tag = printable(tag, TAG_LIMIT)
        self.debug_enabled = _is_true(environ.get("HA_debug"))
        self.facility_name = (environ.get("HA_LOGFACILITY") or "daemon").strip().lower()
        self.stderr = stderr if stderr is not None else sys.stderr
        self._syslog = None  # opened on the first message: a quiet monitor never pays for it
        self.reasons = 0     # exit reasons written (there must be at most one)

    def _open_syslog(self):
        if self._syslog is None:
            self._syslog = False
            if self.facility_name not in ("", "none"):
                import syslog
                name = "LOG_" + self.facility_name.upper()
                facility = getattr(syslog, name, syslog.LOG_DAEMON) if name.isascii() \
                    else syslog.LOG_DAEMON
                syslog.openlog(self.tag, syslog.LOG_PID, facility)
                self._syslog = syslog
        return self._syslog

    def log(self, level, message):
        if level == "debug" and not self.debug_enabled:
            return
        message = printable(message)
        try:
            syslog = self._open_syslog()
            if syslog:
                priority = {"debug": syslog.LOG_DEBUG, "info": syslog.LOG_INFO,
                            "warning": syslog.LOG_WARNING, "error": syslog.LOG_ERR}[level]
                syslog.syslog(priority, message)
        except Exception:  # noqa: BLE001 -- no /dev/log, or worse: stderr still has it
            pass
        self._write("%s: %s: %s" % (level.upper(), self.tag, message))

    def debug(self, message):
        self.log("debug", message)

    def info(self, message):
        self.log("info", message)

    def warning(self, message):
        self.log("warning", message)

    def error(self, message):
        self.log("error", message)

    def debug_lines(self, text):
        """Multi-line detail (a traceback) to the debug log, one record a line."""
        if self.debug_enabled:
            for line in as_text(text).splitlines():
                if line.strip():
                    self.debug(line)

    def exit_reason(self, reason):
        """The single ``ocf-exit-reason:`` line Pacemaker shows in crm_mon.

        Pacemaker keeps the first 128 characters; callers put the failing
        object and the cause first.  At most ``EXIT_REASON_LIMIT`` bytes are
        written, and only the first reason of a run: a second one goes to
        the log instead.
        """
        if self.reasons:
            self.log("error", "(not the exit reason) " + as_text(reason))
            return
        self.reasons += 1
        self._write(EXIT_REASON_PREFIX + printable(reason, EXIT_REASON_LIMIT))

    def _write(self, line):
        try:
            try:
                self.stderr.write(line + "\n")
            except UnicodeError:  # a stream with a narrow encoding and strict errors
                self.stderr.write(line.encode("ascii", "backslashreplace").decode("ascii") + "\n")
            self.stderr.flush()
        except Exception:  # noqa: BLE001 -- stderr closed or broken: nothing left to tell
            pass
