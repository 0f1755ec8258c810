"""The plugin command's output format and exit codes (grommunio_ocf.plugin.output)."""

import pytest

from grommunio_ocf.ocf.status import NAMES, Status
from grommunio_ocf.plugin import output
from pluginformat import parse, perfdata


@pytest.mark.parametrize("status, code", [
    (Status.SUCCESS, 0), (Status.DEGRADED, 1), (Status.ERR_GENERIC, 2), (Status.NOT_RUNNING, 2),
    (Status.ERR_ARGS, 3), (Status.ERR_UNIMPLEMENTED, 3), (Status.ERR_PERM, 3),
    (Status.ERR_INSTALLED, 3), (Status.ERR_CONFIGURED, 3),
    (Status.RUNNING_PROMOTED, 0), (Status.FAILED_PROMOTED, 2), (Status.DEGRADED_PROMOTED, 1)])
def test_exit_codes_follow_the_ocf_result(status, code):
    assert output.exit_code(status) == code


def test_every_ocf_code_has_a_plugin_code():
    assert {output.exit_code(s) for s in NAMES} == {0, 1, 2, 3}


@pytest.mark.parametrize("value, shown", [(2.1, "2.1"), (0.0004, "0"), (15000, "15000"),
                                          (1234567.891, "1234567.891"), (1e-9, "0"),
                                          (-1.5, "-1.5"), (-0.0001, "0")])
def test_numbers_have_no_exponent_and_no_trailing_zeros(value, shown):
    assert output.number(value) == shown


def test_perfdata_fields_and_trailing_empty_ones():
    assert str(output.Perf("imap", 2.1, "ms", crit=15000, min=0)) == "imap=2.1ms;;15000;0"
    assert str(output.Perf("bind_ok", 7, min=0, max=7)) == "bind_ok=7;;;0;7"
    assert str(output.Perf("x", 1)) == "x=1"


@pytest.mark.parametrize("name, shown", [
    ("imap", "imap"), ("lookup virtual_maps", "'lookup virtual_maps'"),
    ("a=b", "a_b"), ("it's", "it_s"), ("pipe|d", "pipe_d"), ("new\nline", "'new line'")])
def test_labels_never_hold_equals_or_quotes_and_are_quoted_with_spaces(name, shown):
    assert output.label(name) == shown
    assert perfdata(str(output.Perf(name, 1)))


def test_render_is_valid_plugin_output():
    text = output.render(output.WARNING, "health (stack-health): redis: refused | evil\nline two",
                         [output.Perf("imap", 2.1, "ms", crit=5000, min=0),
                          output.Perf("a label", 3, "ms")],
                         ["imap imap://x: ok | not perfdata", "redis x:1: failed"])
    word, summary, data, rest = parse(text, 1)
    assert word == "WARNING"
    assert summary == "health (stack-health): redis: refused / evil line two"
    assert data == {"imap": (2.1, "ms", ("", "5000", "0", None)),
                    "a label": (3.0, "ms", (None, None, None, None))}
    assert rest == ["imap imap://x: ok / not perfdata", "redis x:1: failed"]


def test_render_without_perfdata_and_a_long_summary_is_bounded():
    text = output.render(output.UNKNOWN, "x" * 5000)
    word, summary, data, rest = parse(text, 3)
    assert data == {} and rest == []
    assert len(text.encode()) <= len("GROMMUNIO UNKNOWN - ") + output.TEXT_LIMIT + 1
