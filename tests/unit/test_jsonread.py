"""grommunio_ocf.base.jsonread: a strict, depth-limited JSON reader, checked against the json module."""

import json
import random

import pytest

from grommunio_ocf.base import jsonread
from grommunio_ocf.base.jsonread import JSONError, TooDeep, brief, loads


@pytest.mark.parametrize("text", [
    '{"message": "API is operational", "database": true, "ldap": false}',
    "[]", "{}", " [1, -2, 3.5e+2, 0, -0.0, 1E5, 2e-3] ", "123", '"x"', "-0", "null",
    '"\\u00e4\\ud83d\\ude00\\n\\/\\t\\"\\\\\\b\\f\\r"', '{"a": {"b": [null, true, {"c": []}]}}',
    '{"a": 1, "a": 2}', '"\\ud800"',
])
def test_reads_what_json_reads(text):
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize("text,where", [
    ("", "a value expected at character 0"),
    ("{", "a member name expected at character 1"),
    ("[1,]", "unexpected ']' at character 3"),
    ('{"a":1,}', "a member name expected at character 7"),
    ("01", "a malformed number at character 0"),
    ("1.", "a malformed number"), (".5", "unexpected '.'"), ("+1", "unexpected '+'"),
    ("1e", "a malformed number"), ("1e+-5", "a malformed number"), ("--1", "a malformed number"),
    ("tru", "unexpected 't'"), ('"abc', "unterminated string"), ('"a\\x"', "a bad escape"),
    ('"\\u12"', "a bad \\u escape"), ('{"a" 1}', "':' expected"), ("{1: 2}", "a member name"),
    ("[1 2]", "',' or ']' expected"), ('"\x01"', "a control character"), ("NaN", "unexpected 'N'"),
    ("Infinity", "unexpected 'I'"), ("1 2", "extra data after the document at character 2"),
    ("\u00b2\u00b2\u00b2", "a malformed number"), ("9" * 65, "a number longer than 64 characters"),
])
def test_refuses_with_a_position(text, where):
    with pytest.raises(JSONError) as info:
        loads(text)
    assert where in str(info.value)


def test_depth_limit_without_recursion_error():
    assert loads("[" * 32 + "]" * 32, 32)
    for depth in (33, 30000):
        with pytest.raises(TooDeep) as info:
            loads("[" * depth + "]" * depth, 32)
        assert str(info.value) == "nested deeper than 32 levels at character 32"
    assert loads('{"note": "' + "[" * 1000 + '"}', 1) == {"note": "[" * 1000}


def test_a_too_deep_document_is_also_a_value_error():
    with pytest.raises(ValueError):
        loads("[[[]]]", 2)


@pytest.mark.parametrize("value,shown", [
    (False, "false"), (None, "null"), (True, "true"), (0, "0"), (1.5, "1.5"), ("down", '"down"'),
    ('a"b', '"a\\"b"'), ([1], "[...]"), ({}, "{...}"), ("x" * 100, '"' + "x" * 36 + "..."),
])
def test_brief_for_messages(value, shown):
    assert brief(value) == shown


def _random_value(rng, depth=0):
    pick = rng.random()
    if depth < 4 and pick < 0.2:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 4 and pick < 0.4:
        return {"k%d%s" % (i, chr(rng.randint(32, 0x2000))): _random_value(rng, depth + 1)
                for i in range(rng.randint(0, 3))}
    if pick < 0.55:
        return rng.randint(-10 ** 12, 10 ** 12)
    if pick < 0.7:
        return rng.random() * 10 ** rng.randint(-5, 5)
    if pick < 0.85:
        return "".join(chr(rng.choice((rng.randint(0, 0xD7FF), rng.randint(0xE000, 0x10FFFF))))
                       for _ in range(rng.randint(0, 5)))
    return rng.choice([True, False, None])


def test_seeded_documents_read_as_json_reads_them():
    rng = random.Random(14)
    for _ in range(2000):
        text = json.dumps(_random_value(rng), ensure_ascii=rng.random() < 0.5)
        assert loads(text) == json.loads(text), text


def test_seeded_garbage_accepted_and_refused_as_json_does():
    rng = random.Random(8259)
    alphabet = '{}[]",:0123456789.eE+-truefalsnl \\u'
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        try:
            ours = ("ok", loads(text))
        except JSONError:
            ours = ("refused",)
        try:
            theirs = ("ok", json.loads(text))
        except ValueError:
            theirs = ("refused",)
        assert ours == theirs, text


def test_importing_it_loads_neither_json_nor_re():
    import subprocess
    code = ("import sys; sys.path.insert(0, %r); from grommunio_ocf.base import jsonread; "
            "print('json' in sys.modules, 're' in sys.modules)"
            % jsonread.__file__.rsplit("/", 3)[0])
    out = subprocess.run(["/usr/bin/python3", "-IS", "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]
