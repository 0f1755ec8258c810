"""grommunio_ocf.ocf.params: types, defaults, validators, parse() and worst()."""

import pytest

from grommunio_ocf.ocf.params import (BOOLEAN, INTEGER, LIST, PATH, SECONDS, STRING, Param, Problem,
                                  at_least_one, parse, split_list, worst)
from grommunio_ocf.ocf.status import Status


def env(**params):
    return {"OCF_RESKEY_" + k: v for k, v in params.items()}


def parse_one(param, text):
    """Parse a single param set to ``text`` (None: unset)."""
    environ = {} if text is None else env(**{param.name: text})
    values, problems = parse([param], environ)
    return values[param.name], problems


# -- types ----------------------------------------------------------------------

def test_string_is_kept_verbatim():
    assert STRING.convert("  a b, c ") == "  a b, c "
    assert STRING.convert("") == ""
    assert STRING.xml_type == "string"


@pytest.mark.parametrize("word", ["1", "true", "TRUE", "True", "yes", "YES", "Yes", "on", "ON",
                                  "y", "Y", " yes ", "true\n"])
def test_boolean_true_words(word):
    assert BOOLEAN.convert(word) is True


@pytest.mark.parametrize("word", ["0", "false", "FALSE", "False", "no", "NO", "No", "off", "OFF",
                                  "Off", "n", "N", " off "])
def test_boolean_false_words(word):
    assert BOOLEAN.convert(word) is False


@pytest.mark.parametrize("word", ["maybe", "", "2", "enabled", "truee", "yes please"])
def test_boolean_bad_word_is_rejected(word):
    with pytest.raises(ValueError, match="not a boolean"):
        BOOLEAN.convert(word)


def test_boolean_xml_type():
    assert BOOLEAN.xml_type == "boolean"


@pytest.mark.parametrize("text,value", [("0", 0), ("42", 42), ("-7", -7), (" 12 ", 12),
                                        ("007", 7)])
def test_integer_accepts_decimal(text, value):
    assert INTEGER.convert(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1.5", "0x10", "12a", "1e3"])
def test_integer_rejects_non_decimal(text):
    with pytest.raises(ValueError, match="not an integer"):
        INTEGER.convert(text)


@pytest.mark.parametrize("text,value", [
    ("/grodata", "/grodata"),
    ("/", "/"),
    ("/grodata/", "/grodata"),
    ("//grodata//mysql/", "/grodata/mysql"),
    ("/grodata/./mysql/.", "/grodata/mysql"),
    ("/a b/c", "/a b/c"),
])
def test_path_absolute_and_normalised(text, value):
    assert PATH.convert(text) == value


@pytest.mark.parametrize("text", ["grodata", "./grodata", "grodata/mysql", "~/x", " /grodata"])
def test_path_relative_is_rejected(text):
    with pytest.raises(ValueError, match="not an absolute path"):
        PATH.convert(text)


@pytest.mark.parametrize("text", ["/grodata/../etc", "/..", "/a/b/.."])
def test_path_dotdot_is_rejected(text):
    with pytest.raises(ValueError, match=r"contains '\.\.'"):
        PATH.convert(text)


@pytest.mark.parametrize("text", ["/a\nb", "/a\0b"])
def test_path_nul_or_newline_is_rejected(text):
    with pytest.raises(ValueError, match="NUL or newline"):
        PATH.convert(text)


def test_path_empty_means_none():
    assert PATH.convert("") is None
    assert PATH.xml_type == "string"


@pytest.mark.parametrize("text,items", [
    ("a b c", ("a", "b", "c")),
    ("a,b,c", ("a", "b", "c")),
    ("a, b ,c", ("a", "b", "c")),
    ("  a\tb\n c  ", ("a", "b", "c")),
    (",,a,,  ,b,", ("a", "b")),
    ("", ()),
    (" , ", ()),
    ("/g/x:/var/lib/x", ("/g/x:/var/lib/x",)),
])
def test_list_splits_on_whitespace_and_commas(text, items):
    assert LIST.convert(text) == items
    assert split_list(text) == items


def test_list_is_a_string_in_metadata():
    assert LIST.xml_type == "string"


# -- Param spec -----------------------------------------------------------------

def test_required_param_cannot_have_default():
    with pytest.raises(TypeError, match="required"):
        Param("x", STRING, "d", shortdesc="x", required=True)


def test_longdesc_defaults_to_shortdesc():
    assert Param("x", shortdesc="short").longdesc == "short"
    assert Param("x", shortdesc="short", longdesc="long").longdesc == "long"


def test_error_status_is_a_status():
    param = Param("x", shortdesc="x", error_status=5)
    assert param.error_status is Status.ERR_INSTALLED
    assert Param("y", shortdesc="y").error_status is Status.ERR_CONFIGURED


# -- parse(): defaults -----------------------------------------------------------

@pytest.mark.parametrize("ptype,default,value", [
    (STRING, "hello", "hello"),
    (BOOLEAN, "yes", True),
    (BOOLEAN, "off", False),
    (INTEGER, "42", 42),
    (PATH, "/grodata//x/", "/grodata/x"),
    (PATH, "", None),
    (LIST, "a, b c", ("a", "b", "c")),
    (LIST, "", ()),
])
def test_default_is_converted_from_its_text(ptype, default, value):
    param = Param("p", ptype, default, shortdesc="p")
    got, problems = parse_one(param, None)
    assert problems == []
    assert got == value


def test_default_goes_through_the_validator():
    seen = []

    def validator(value):
        seen.append(value)
        return value * 2

    got, problems = parse_one(Param("n", INTEGER, "21", shortdesc="n", validator=validator), None)
    assert (got, problems, seen) == (42, [], [21])


def test_configured_value_overrides_default():
    got, problems = parse_one(Param("n", INTEGER, "1", shortdesc="n"), "5")
    assert (got, problems) == (5, [])


def test_unset_optional_param_without_default_is_none_and_no_problem():
    seen = []
    param = Param("x", STRING, shortdesc="x", validator=lambda v: seen.append(v) or v)
    got, problems = parse_one(param, None)
    assert (got, problems, seen) == (None, [], [])


def test_empty_string_is_a_value_not_unset():
    got, problems = parse_one(Param("x", STRING, "default", shortdesc="x"), "")
    assert (got, problems) == ("", [])


def test_bad_default_is_reported_like_a_bad_value():
    got, problems = parse_one(Param("n", INTEGER, "many", shortdesc="n"), None)
    assert got is None
    assert problems == [Problem(Status.ERR_CONFIGURED, "n: 'many' is not an integer")]


# -- parse(): required, validators -----------------------------------------------

def test_required_param_missing():
    got, problems = parse_one(Param("ip", STRING, shortdesc="ip", required=True), None)
    assert got is None
    assert problems == [Problem(Status.ERR_CONFIGURED, "ip: required parameter is not set")]


def test_required_param_missing_uses_error_status():
    param = Param("ip", STRING, shortdesc="ip", required=True, error_status=Status.ERR_INSTALLED)
    _, problems = parse_one(param, None)
    assert [p.status for p in problems] == [Status.ERR_INSTALLED]


def test_required_param_present():
    got, problems = parse_one(Param("ip", STRING, shortdesc="ip", required=True), "10.0.0.1")
    assert (got, problems) == ("10.0.0.1", [])


def test_required_path_set_to_empty_is_reported_as_empty():
    got, problems = parse_one(Param("dir", PATH, shortdesc="dir", required=True), "")
    assert got is None
    assert problems == [Problem(Status.ERR_CONFIGURED, "dir: required parameter is empty")]


def test_validator_error_becomes_problem_with_param_name():
    def even(value):
        if value % 2:
            raise ValueError("%d is odd" % value)
        return value

    got, problems = parse_one(Param("n", INTEGER, shortdesc="n", validator=even), "3")
    assert got is None
    assert problems == [Problem(Status.ERR_CONFIGURED, "n: 3 is odd")]


def test_validator_may_normalise():
    param = Param("s", STRING, shortdesc="s", validator=str.upper)
    assert parse_one(param, "abc") == ("ABC", [])


def test_validator_gets_converted_value():
    seen = []
    param = Param("l", LIST, shortdesc="l", validator=lambda v: seen.append(v) or v)
    parse_one(param, "a,b")
    assert seen == [("a", "b")]


def test_validator_not_called_when_conversion_fails():
    seen = []
    param = Param("n", INTEGER, shortdesc="n", validator=lambda v: seen.append(v) or v)
    _, problems = parse_one(param, "x")
    assert seen == [] and len(problems) == 1


def test_validator_error_uses_error_status():
    def bad(value):
        raise ValueError("nope")
    param = Param("x", STRING, shortdesc="x", validator=bad, error_status=Status.ERR_PERM)
    _, problems = parse_one(param, "v")
    assert problems == [Problem(Status.ERR_PERM, "x: nope")]


# -- parse(): collects everything --------------------------------------------------

def test_parse_collects_all_problems_at_once():
    params = [
        Param("flag", BOOLEAN, "true", shortdesc="flag"),
        Param("port", INTEGER, "80", minimum=1, shortdesc="port"),
        Param("dir", PATH, "/srv", shortdesc="dir"),
        Param("ip", STRING, shortdesc="ip", required=True),
        Param("name", STRING, "ok", shortdesc="name"),
    ]
    values, problems = parse(params, env(flag="perhaps", port="0", dir="srv"))
    assert [p.text.split(":")[0] for p in problems] == ["flag", "port", "dir", "ip"]
    assert all(p.status is Status.ERR_CONFIGURED for p in problems)
    assert values.flag is None and values.port is None and values.dir is None and values.ip is None
    assert values.name == "ok"


def test_parse_returns_values_by_attribute_and_name():
    params = [Param("a", INTEGER, "1", shortdesc="a"), Param("b", STRING, "x", shortdesc="b")]
    values, problems = parse(params, env(b="y"))
    assert problems == []
    assert values.a == 1 and values["a"] == 1
    assert values.b == "y" and values["b"] == "y"
    assert "Values(" in repr(values)


def test_parse_ignores_unknown_reskeys():
    values, problems = parse([Param("a", shortdesc="a")], env(a="1", other="2"))
    assert problems == [] and values.a == "1"
    with pytest.raises(AttributeError):
        values.other


def test_parse_reads_only_ocf_reskey_variables():
    values, _ = parse([Param("a", STRING, "default", shortdesc="a")], {"a": "plain"})
    assert values.a == "default"


def test_problem_equality_and_repr():
    assert Problem(6, "x") == Problem(Status.ERR_CONFIGURED, "x")
    assert Problem(6, "x") != Problem(5, "x")
    assert Problem(6, "x") != "x"
    assert repr(Problem(6, "x")) == "Problem(OCF_ERR_CONFIGURED, 'x')"


# -- worst() ------------------------------------------------------------------------

def problems_of(*codes):
    return [Problem(code, "p%d" % i) for i, code in enumerate(codes)]


@pytest.mark.parametrize("codes,expected", [
    ((Status.ERR_INSTALLED, Status.ERR_CONFIGURED), Status.ERR_CONFIGURED),
    ((Status.ERR_CONFIGURED, Status.ERR_INSTALLED), Status.ERR_CONFIGURED),
    ((Status.ERR_GENERIC, Status.ERR_PERM, Status.ERR_INSTALLED), Status.ERR_INSTALLED),
    ((Status.ERR_GENERIC, Status.ERR_PERM), Status.ERR_PERM),
    ((Status.ERR_GENERIC, Status.ERR_ARGS), Status.ERR_ARGS),
    ((Status.ERR_ARGS, Status.ERR_PERM), Status.ERR_PERM),
    ((Status.ERR_GENERIC,), Status.ERR_GENERIC),
    ((Status.ERR_INSTALLED,), Status.ERR_INSTALLED),
    ((Status.ERR_GENERIC, Status.ERR_CONFIGURED, Status.ERR_GENERIC), Status.ERR_CONFIGURED),
])
def test_worst_ranking(codes, expected):
    assert worst(problems_of(*codes)) is expected


def test_worst_full_ranking_order():
    ranking = [Status.ERR_CONFIGURED, Status.ERR_INSTALLED, Status.ERR_PERM, Status.ERR_ARGS,
               Status.ERR_GENERIC]
    for i, status in enumerate(ranking):
        assert worst(problems_of(*ranking[i:])) is status
        assert worst(problems_of(*reversed(ranking[i:]))) is status


def test_worst_of_unranked_status_is_the_first():
    assert worst(problems_of(Status.NOT_RUNNING, Status.FAILED_PROMOTED)) is Status.NOT_RUNNING


def test_worst_of_ranked_beats_unranked():
    assert worst(problems_of(Status.NOT_RUNNING, Status.ERR_GENERIC)) is Status.ERR_GENERIC


# -- issue 11: what the kernel and the CIB can hold ------------------------------------

from grommunio_ocf.base.paths import NAME_MAX, absolute_path  # noqa: E402
from grommunio_ocf.ocf.params import parse  # noqa: E402


def test_integer_with_too_many_digits_is_rejected_briefly():
    with pytest.raises(ValueError, match=r"has 5000 digits: too large") as info:
        INTEGER.convert("9" * 5000)
    assert len(str(info.value)) < 100
    assert INTEGER.convert("9" * 18) == int("9" * 18)


@pytest.mark.parametrize("text,words", [
    ("/" + "a" * 256, "is 256 bytes long, more than 255 (NAME_MAX)"),
    ("/x/" + "ä" * 128 + "/y", "is 256 bytes long, more than 255 (NAME_MAX)"),
    ("/" + "/".join(["a" * 200] * 21), "a path has less than 4096 (PATH_MAX)"),
])
def test_path_limits(text, words):
    with pytest.raises(ValueError) as info:
        absolute_path(text)
    assert words in str(info.value)
    assert len(str(info.value)) < 200


def test_path_at_the_limits_is_fine():
    name = "n" * NAME_MAX
    assert absolute_path("/" + name) == "/" + name
    longest = "/" + "/".join(["b" * 254] * 16)  # 4080 bytes
    assert absolute_path(longest) == longest


@pytest.mark.parametrize("value", ["\udcff", "/grodata/\udcfe\udcff", "ok\udc80"])
def test_non_utf8_value_is_a_configuration_problem(value):
    params = (Param("p", PATH, "/x", shortdesc="p"), Param("q", INTEGER, "1", shortdesc="q"))
    values, problems = parse(params, {"OCF_RESKEY_p": value, "OCF_RESKEY_q": value})
    assert values.p is None and values.q is None
    assert [p.status for p in problems] == [Status.ERR_CONFIGURED] * 2
    assert problems[0].text.startswith("p: '") and problems[0].text.endswith("' is not valid UTF-8")
    assert "\\x" in problems[0].text
    assert not any("\udc80" <= c <= "\udcff" for c in problems[0].text)


# -- the rules as data: nonempty, choices, minimum, at_least_one -------------------------

@pytest.mark.parametrize("ptype,text", [(PATH, ""), (STRING, ""), (LIST, " , ")])
def test_nonempty_refuses_empty_despite_a_default(ptype, text):
    param = Param("p", ptype, {PATH: "/etc/postfix"}.get(ptype, "x"), nonempty=True, shortdesc="p")
    assert parse_one(param, None)[1] == []
    value, problems = parse_one(param, text)
    assert value is None and problems == [Problem(Status.ERR_CONFIGURED, "p: must not be empty")]


def test_choices_of_a_list_name_every_unknown_item():
    param = Param("critical", LIST, "a", choices=("imap", "mysql", "lmtp"), shortdesc="c")
    assert parse_one(param, "imap,mysql")[0] == ("imap", "mysql")
    assert parse_one(param, "")[0] == ()
    _, problems = parse_one(param, "imap pop3 smtp")
    assert problems[0].text == "critical: unknown 'pop3', 'smtp' (choose from imap, mysql, lmtp)"


def test_choices_of_a_string():
    param = Param("mode", STRING, "fast", choices=("fast", "safe"), shortdesc="m")
    assert parse_one(param, "safe")[0] == "safe"
    assert parse_one(param, "")[0] == ""
    assert parse_one(param, "slow")[1][0].text == "mode: unknown 'slow' (choose from fast, safe)"


def test_choices_are_shown_in_the_longdesc():
    listed = Param("l", LIST, "", choices=("a", "b"), shortdesc="s", longdesc="Items.")
    single = Param("s", STRING, "", choices=("x", "y"), shortdesc="s", longdesc="A mode.")
    plain = Param("p", STRING, "", shortdesc="s", longdesc="Text.")
    assert listed.described() == "Items. Any of: a, b."
    assert single.described() == "A mode. One of: x, y."
    assert plain.described() == "Text."


@pytest.mark.parametrize("ptype,text,message", [
    (INTEGER, "0", "fall: 0 is less than 1"),
    (INTEGER, "-2", "fall: -2 is less than 1"),
    (SECONDS, "500ms", "fall: 0.5 is less than 1"),
])
def test_minimum(ptype, text, message):
    param = Param("fall", ptype, "1", minimum=1, shortdesc="f")
    assert parse_one(param, "3")[0] == 3
    assert parse_one(param, text)[1][0].text == message


def test_rules_are_checked_before_the_validator():
    seen = []
    param = Param("n", INTEGER, "1", minimum=1, validator=lambda v: seen.append(v) or v, shortdesc="n")
    parse_one(param, "0")
    parse_one(param, "5")
    assert seen == [5]


@pytest.mark.parametrize("kwargs", [dict(minimum=1, ptype=STRING), dict(choices=("a",), ptype=INTEGER),
                                    dict(choices=("a",), ptype=BOOLEAN)])
def test_rules_that_do_not_fit_the_type_fail_at_declaration(kwargs):
    ptype = kwargs.pop("ptype")
    with pytest.raises(TypeError):
        Param("p", ptype, shortdesc="p", **kwargs)


def test_replace_keeps_everything_else():
    base = Param("t", SECONDS, "5", minimum=1, shortdesc="short", longdesc="long")
    copy = base.replace(default="10", longdesc="other")
    assert (copy.name, copy.type, copy.default, copy.minimum, copy.shortdesc, copy.longdesc) == (
        "t", SECONDS, "10", 1, "short", "other")
    assert base.default == "5"


def test_at_least_one():
    params = [Param(n, STRING, "", shortdesc=n) for n in ("a", "b")] + [
        Param("c", PATH, "", shortdesc="c"), Param("d", LIST, "", shortdesc="d")]
    values, _ = parse(params, {})
    problem = at_least_one(("a", "b", "c", "d"), values)
    assert problem == Problem(Status.ERR_CONFIGURED, "at least one of a, b, c, d must be set "
                                                     "(each is empty or invalid)")
    values, _ = parse(params, env(c="/x"))
    assert at_least_one(("a", "b", "c", "d"), values) is None


# -- SECONDS: Pacemaker-style durations (5, 2.5, 5s, 500ms) ------------------------------

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


# -- off: the word for "empty" that pcs can store ----------------------------------------

@pytest.mark.parametrize("ptype,default,empty", [(STRING, "x", ""), (PATH, "/etc/x", None),
                                                (LIST, "a b", ())])
@pytest.mark.parametrize("word", ["off", "OFF", " Off "])
def test_off_means_empty(ptype, default, empty, word):
    param = Param("p", ptype, default, off=True, shortdesc="p")
    assert parse_one(param, word) == (empty, [])
    assert parse_one(param, "") == (empty, [])


def test_off_is_only_a_word_where_declared():
    assert parse_one(Param("p", STRING, "x", shortdesc="p"), "off")[0] == "off"
    _, problems = parse_one(Param("p", PATH, "/x", shortdesc="p"), "off")
    assert problems[0].text == "p: 'off' is not an absolute path"


def test_off_runs_through_the_validator_as_empty():
    seen = []
    param = Param("p", STRING, "x", off=True, validator=lambda v: seen.append(v) or v or None,
                  shortdesc="p")
    assert parse_one(param, "off")[0] is None and seen == [""]


def test_off_is_said_in_the_longdesc():
    param = Param("p", STRING, "x", off=True, shortdesc="s", longdesc="Empty disables it.")
    assert param.described() == ("Empty disables it. 'off' is the same as empty (pcs cannot set "
                                 "an empty value).")
