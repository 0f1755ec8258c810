"""Logging for agents: syslog and stderr, and the one exit-reason line.

Follows the conventions of ocf-shellfuncs' ``ha_log`` so that admins find our
messages where they find the heartbeat agents': syslog with the tag
``<agent>(<resource>)`` (facility from ``HA_LOGFACILITY``, default
``daemon``; ``none`` turns syslog off) and stderr, which Pacemaker copies into
pacemaker.log.  Debug messages are written only when ``HA_debug`` is true.
Uses the ``syslog`` module, not ``logging``: it costs microseconds where
``logging`` costs milliseconds on every monitor.
"""

import sys

EXIT_REASON_PREFIX = "ocf-exit-reason:"
PACEMAKER_REASON_LIMIT = 128

_LEVELS = ("debug", "info", "warning", "error")


def one_line(text):
    """Collapse whitespace so that a message cannot forge extra log lines."""
    return " ".join(str(text).split())


def _is_true(text):
    return (text or "").strip().lower() in ("1", "true", "yes", "on", "y")


class Log:
    def __init__(self, agent, instance=None, environ=None, stderr=None):
        environ = environ if environ is not None else {}
        self.tag = "%s(%s)" % (agent, instance) if instance else agent
        self.debug_enabled = _is_true(environ.get("HA_debug"))
        self.facility_name = (environ.get("HA_LOGFACILITY") or "daemon").strip().lower()
        self.stderr = stderr if stderr is not None else sys.stderr
        self._syslog = None  # opened on the first message: a quiet monitor never pays for it

    def _open_syslog(self):
        if self._syslog is None:
            if self.facility_name in ("", "none"):
                self._syslog = False
            else:
                import syslog
                facility = getattr(syslog, "LOG_" + self.facility_name.upper(), syslog.LOG_DAEMON)
                syslog.openlog(self.tag, syslog.LOG_PID, facility)
                self._syslog = syslog
        return self._syslog

    def log(self, level, message):
        if level == "debug" and not self.debug_enabled:
            return
        message = one_line(message)
        syslog = self._open_syslog()
        if syslog:
            priority = {"debug": syslog.LOG_DEBUG, "info": syslog.LOG_INFO,
                        "warning": syslog.LOG_WARNING, "error": syslog.LOG_ERR}[level]
            try:
                syslog.syslog(priority, message)
            except OSError:  # no /dev/log: stderr still has it
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
            for line in str(text).splitlines():
                if line.strip():
                    self.debug(line)

    def exit_reason(self, reason):
        """The single ``ocf-exit-reason:`` line Pacemaker shows in crm_mon.

        Pacemaker keeps the first 128 characters; callers put the failing
        object and the cause first.  The full text goes to the log as well.
        """
        self._write(EXIT_REASON_PREFIX + one_line(reason))

    def _write(self, line):
        try:
            self.stderr.write(line + "\n")
            self.stderr.flush()
        except (OSError, ValueError):  # stderr closed: nothing left to tell
            pass
