"""grommunio_ocf.params.SECONDS: Pacemaker-style durations (5, 2.5, 5s, 500ms)."""

import pytest

from grommunio_ocf.params import SECONDS, Param, parse


@pytest.mark.parametrize("text,value", [
    ("5", 5.0),
    ("2.5", 2.5),
    ("5s", 5.0),
    ("2.5s", 2.5),
    ("500ms", 0.5),
    ("1ms", 0.001),
    (".5", 0.5),
    ("5.", 5.0),
    ("007", 7.0),
    (" 5 ", 5.0),
    ("5S", 5.0),
    ("500MS", 0.5),
    ("\t30s\n", 30.0),
])
def test_seconds_accepts(text, value):
    assert SECONDS.convert(text) == pytest.approx(value)
    assert isinstance(SECONDS.convert(text), float)


@pytest.mark.parametrize("text", ["0", "0.0", "0s", "0ms", ".0"])
def test_seconds_zero_is_rejected(text):
    with pytest.raises(ValueError, match=r"must be more than zero"):
        SECONDS.convert(text)


@pytest.mark.parametrize("text", [
    "-1",
    "-0.5s",
    "+5",
    "x",
    "five",
    "1e3",
    "",
    "   ",
    "s",
    "ms",
    ".",
    "1.2.3",
    "5 s",
    "5m",           # minutes are not supported: refused, not read as seconds
    "5min",
    "1_000",
    "0x10",
    "inf",
    "nan",
    "\u0665",          # Arabic-Indic five
    "\u0665s",
    "\uff15",          # full-width five
    "\u0661.\u0665",
    "\u00b2",          # superscript two: isdigit() but no number
])
def test_seconds_rejects(text):
    with pytest.raises(ValueError) as info:
        SECONDS.convert(text)
    assert "is not a duration (e.g. 5, 2.5s or 500ms)" in str(info.value)
    assert str(info.value).startswith(repr(text))


def test_seconds_is_a_string_in_metadata():
    assert SECONDS.xml_type == "string"
    assert SECONDS.name == "seconds"


def test_seconds_param_default_and_problem():
    param = Param("check_timeout", SECONDS, "5", shortdesc="t")
    values, problems = parse([param], {})
    assert values.check_timeout == 5.0 and problems == []
    values, problems = parse([param], {"OCF_RESKEY_check_timeout": "250ms"})
    assert values.check_timeout == 0.25 and problems == []
    values, problems = parse([param], {"OCF_RESKEY_check_timeout": "-1"})
    assert values.check_timeout is None
    assert [p.text for p in problems] == [
        "check_timeout: '-1' is not a duration (e.g. 5, 2.5s or 500ms)"]
