"""grommunio_ocf.ocf.log: stderr records, syslog, debug switch, the exit-reason line."""

import io

import pytest

from grommunio_ocf.ocf import log as log_mod
from grommunio_ocf.ocf.log import Log


@pytest.fixture
def syslog_calls(mocker):
    """Replace the syslog module's functions; returns the recorded calls."""
    import syslog
    calls = {"openlog": mocker.patch.object(syslog, "openlog"),
             "syslog": mocker.patch.object(syslog, "syslog")}
    return calls


def make(instance="res1", **environ):
    err = io.StringIO()
    environ.setdefault("HA_LOGFACILITY", "none")
    return Log("myagent", instance, environ, err), err


@pytest.mark.parametrize("level", ["info", "warning", "error"])
def test_record_format(level):
    log, err = make()
    getattr(log, level)("hello world")
    assert err.getvalue() == "%s: myagent(res1): hello world\n" % level.upper()


def test_tag_is_agent_and_instance():
    assert make("res1")[0].tag == "myagent(res1)"


@pytest.mark.parametrize("instance", [None, ""])
def test_tag_without_instance_is_agent(instance):
    log, err = make(instance)
    assert log.tag == "myagent"
    log.info("x")
    assert err.getvalue() == "INFO: myagent: x\n"


def test_debug_off_by_default():
    log, err = make()
    log.debug("hidden")
    log.debug_lines("a\nb")
    assert err.getvalue() == ""


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE", " 1 "])
def test_debug_on_with_ha_debug(value):
    log, err = make(HA_debug=value)
    log.debug("shown")
    assert err.getvalue() == "DEBUG: myagent(res1): shown\n"


@pytest.mark.parametrize("value", ["0", "false", "", "no"])
def test_debug_stays_off_with_false_ha_debug(value):
    log, err = make(HA_debug=value)
    log.debug("hidden")
    assert err.getvalue() == ""


def test_debug_lines_one_record_per_nonblank_line():
    log, err = make(HA_debug="1")
    log.debug_lines("Traceback (most recent call last):\n  File x\n\n   \nValueError: y\n")
    assert err.getvalue().splitlines() == [
        "DEBUG: myagent(res1): Traceback (most recent call last):",
        "DEBUG: myagent(res1): File x",
        "DEBUG: myagent(res1): ValueError: y",
    ]


def test_message_collapsed_to_one_line():
    log, err = make()
    log.error("line one\nERROR: forged\tline")
    assert err.getvalue() == "ERROR: myagent(res1): line one ERROR: forged line\n"


def test_exit_reason_is_one_line_for_multiline_reason():
    log, err = make()
    log.exit_reason("first line\nocf-exit-reason:forged\r\n  third\tline  ")
    assert err.getvalue() == "ocf-exit-reason:first line ocf-exit-reason:forged third line\n"
    assert len(err.getvalue().splitlines()) == 1


def test_exit_reason_has_no_level_or_tag():
    log, err = make()
    log.exit_reason("bad")
    assert err.getvalue() == "ocf-exit-reason:bad\n"
    assert log_mod.EXIT_REASON_PREFIX == "ocf-exit-reason:"


def test_exit_reason_not_sent_to_syslog(syslog_calls):
    log, _ = make(HA_LOGFACILITY="daemon")
    log.exit_reason("bad")
    syslog_calls["openlog"].assert_not_called()
    syslog_calls["syslog"].assert_not_called()


@pytest.mark.parametrize("facility", ["none", "NONE", " none "])
def test_logfacility_none_disables_syslog(syslog_calls, facility):
    log, err = make(HA_LOGFACILITY=facility)
    log.error("boom")
    syslog_calls["openlog"].assert_not_called()
    syslog_calls["syslog"].assert_not_called()
    assert err.getvalue() == "ERROR: myagent(res1): boom\n"


def test_syslog_default_facility_daemon(syslog_calls):
    import syslog
    err = io.StringIO()
    log = Log("myagent", "res1", {}, err)
    log.warning("careful\nnow")
    syslog_calls["openlog"].assert_called_once_with("myagent(res1)", syslog.LOG_PID,
                                                    syslog.LOG_DAEMON)
    syslog_calls["syslog"].assert_called_once_with(syslog.LOG_WARNING, "careful now")
    assert err.getvalue() == "WARNING: myagent(res1): careful now\n"


def test_syslog_facility_from_environment_and_levels(syslog_calls):
    import syslog
    log = Log("a", "r", {"HA_LOGFACILITY": "local3", "HA_debug": "1"}, io.StringIO())
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    syslog_calls["openlog"].assert_called_once_with("a(r)", syslog.LOG_PID, syslog.LOG_LOCAL3)
    assert [c.args for c in syslog_calls["syslog"].call_args_list] == [
        (syslog.LOG_DEBUG, "d"), (syslog.LOG_INFO, "i"), (syslog.LOG_WARNING, "w"),
        (syslog.LOG_ERR, "e")]


def test_syslog_opened_lazily(syslog_calls):
    Log("a", "r", {}, io.StringIO())
    syslog_calls["openlog"].assert_not_called()


def test_unknown_facility_falls_back_to_daemon(syslog_calls):
    import syslog
    Log("a", None, {"HA_LOGFACILITY": "bogus"}, io.StringIO()).info("x")
    syslog_calls["openlog"].assert_called_once_with("a", syslog.LOG_PID, syslog.LOG_DAEMON)


def test_syslog_oserror_still_writes_stderr(syslog_calls):
    syslog_calls["syslog"].side_effect = OSError("no /dev/log")
    err = io.StringIO()
    Log("a", "r", {}, err).error("boom")
    assert err.getvalue() == "ERROR: a(r): boom\n"


def test_closed_stderr_is_ignored():
    err = io.StringIO()
    log = Log("a", "r", {"HA_LOGFACILITY": "none"}, err)
    err.close()
    log.error("nobody listens")
    log.exit_reason("nobody listens")


def test_default_stderr_is_sys_stderr(capsys):
    Log("a", "r", {"HA_LOGFACILITY": "none"}).info("to stderr")
    assert capsys.readouterr().err == "INFO: a(r): to stderr\n"


# -- issue 11: text that cannot break logging ------------------------------------------

from grommunio_ocf.ocf.log import EXIT_REASON_LIMIT  # noqa: E402


def test_exit_reason_is_bounded_and_printable():
    log, err = make()
    log.exit_reason("peer said: " + "\udcfe\x0b" * 100000)
    line = err.getvalue()
    assert line.count("\n") == 1 and line.startswith("ocf-exit-reason:peer said: \\xfe\\x0b")
    assert len(line.rstrip("\n").encode()) <= len("ocf-exit-reason:") + EXIT_REASON_LIMIT
    assert line.isascii()


def test_only_the_first_exit_reason_is_written():
    log, err = make()
    log.exit_reason("first")
    log.exit_reason("second")
    lines = err.getvalue().splitlines()
    assert [x for x in lines if x.startswith("ocf-exit-reason:")] == ["ocf-exit-reason:first"]
    assert "ERROR: myagent(res1): (not the exit reason) second" in lines


def test_surrogates_reach_syslog_escaped(syslog_calls):
    import syslog
    log = Log("a", "r\udcff", {"HA_LOGFACILITY": "daemon"}, io.StringIO())
    log.error("dir \udcff name")
    syslog_calls["openlog"].assert_called_once_with("a(r\\xff)", syslog.LOG_PID, syslog.LOG_DAEMON)
    syslog_calls["syslog"].assert_called_once_with(syslog.LOG_ERR, "dir \\xff name")


@pytest.mark.parametrize("error", [UnicodeEncodeError("utf-8", "x", 0, 1, "no"), ValueError("x"),
                                   RuntimeError("x")])
def test_any_syslog_error_is_swallowed(syslog_calls, error):
    syslog_calls["syslog"].side_effect = error
    err = io.StringIO()
    Log("a", "r", {}, err).error("boom")
    assert err.getvalue() == "ERROR: a(r): boom\n"


def test_stderr_with_strict_ascii_encoding():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    log = Log("a", "r", {"HA_LOGFACILITY": "none"}, stream)
    log.error("stätus")
    log.exit_reason("stätus")
    stream.flush()
    assert raw.getvalue() == b"ERROR: a(r): st\\xe4tus\nocf-exit-reason:st\\xe4tus\n"


def test_tag_is_bounded():
    log, _ = make(instance="i" * 5000)
    assert len(log.tag) <= 128
