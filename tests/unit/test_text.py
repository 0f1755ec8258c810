"""grommunio_ocf.base.text: outside text made printable, bounded and quoted for messages."""

import pytest

from grommunio_ocf.base.text import printable, quoted


@pytest.mark.parametrize("text,expected", [
    ("plain text", "plain text"),
    ("  a \t\n\r  b  ", "a b"),
    ("vertical\x0btab", "vertical\\x0btab"),
    ("line\u2028separator", "line\\u2028separator"),
    ("nel\x85", "nel\\x85"),
    ("esc\x1b[31mred", "esc\\x1b[31mred"),
    ("bad \udcff byte", "bad \\xff byte"),           # surrogateescape of b"\xff"
    ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
    ("stätus ²²²", "stätus ²²²"),                      # printable non-ASCII stays
    (b"raw \xfe bytes", "raw \\xfe bytes"),
    (42, "42"),
])
def test_printable(text, expected):
    assert printable(text) == expected


def test_printable_bounds_bytes_not_characters():
    assert printable("x" * 10000, 100) == "x" * 97 + "..."
    cut = printable("ä" * 1000, 101)
    assert len(cut.encode("utf-8")) <= 101 and cut.endswith("...")
    assert printable("\x00" * 10000, 40) == "\\x00" * 9 + "\\..."
    assert printable("x" * 100, 100) == "x" * 100


def test_printable_survives_a_broken_str():
    class Broken:
        def __str__(self):
            raise RuntimeError("no")
    assert printable(Broken()).startswith("<")


def test_quoted_quotes_and_bounds():
    assert quoted("\udcffa") == "'\\xffa'"
    assert len(quoted("y" * 1000)) == 66


@pytest.mark.parametrize("text,expected", [
    ("* OK ready", "'* OK ready'"),
    ("  421 too\tbusy", "'  421 too\\x09busy'"),
    ("   ", "'   '"),
    ("x" * 64, "'%s'" % ("x" * 64)),
    ("x" * 65, "'%s...'" % ("x" * 61)),
    ("it's", "'it's'"),
])
def test_quoted(text, expected):
    assert quoted(text) == expected


def test_quoted_custom_limit():
    assert quoted("abcdefghij", 8) == "'abcde...'"
