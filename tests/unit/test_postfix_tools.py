"""grommunio_ocf.postfix.tools: parsing Postfix's files and tool output."""

import os

import pytest

from grommunio_ocf.postfix import tools as postfix
from grommunio_ocf.ocf.deadline import Deadline


def test_parse_cf_comments_continuations_and_last_one_wins():
    text = ("# grommunio\n"
            "user = grommunio\n"
            "password = a=b#c\n"          # '=' and '#' inside a value stay in it
            "hosts = unix:/run/mysqld/mysqld.sock\n"
            "query = SELECT 1 FROM domains\n"
            "    WHERE domainname='%s'\n"
            "\n"
            "  # an indented comment is a comment\n"
            "dbname = first\n"
            "dbname = grommunio\n")
    assert postfix.parse_cf(text) == {
        "user": "grommunio", "password": "a=b#c", "hosts": "unix:/run/mysqld/mysqld.sock",
        "query": "SELECT 1 FROM domains WHERE domainname='%s'", "dbname": "grommunio"}


def test_parse_cf_ignores_a_line_without_equals():
    assert postfix.parse_cf("garbage\nuser = x\n") == {"user": "x"}


@pytest.mark.parametrize("text,expected", [
    ("inet:localhost:11332", ["inet:localhost:11332"]),
    ("inet:localhost:11332, unix:/run/milter.sock", ["inet:localhost:11332", "unix:/run/milter.sock"]),
    ("{ inet:localhost:11332, connect_timeout=10s } inet:[::1]:12",
     ["inet:localhost:11332", "inet:[::1]:12"]),
    ("", []),
])
def test_split_milters(text, expected):
    assert postfix.split_milters(text) == expected


@pytest.mark.parametrize("text,lenient", [
    ("{,}", []),
    ("{ }", []),
    ("{,} inet:h:1", ["inet:h:1"]),
    ("{ connect_timeout=10s }", []),
    ("inet:h:1 }", ["inet:h:1"]),
    ("}}{{", []),
    ("{ inet:h:1", ["inet:h:1"]),
])
def test_split_milters_odd_groups(text, lenient):
    # main.cf is taken as it is (an odd group matches nothing); our own parameter is strict.
    assert postfix.split_milters(text) == lenient
    with pytest.raises(ValueError):
        postfix.split_milters(text, strict=True)


def test_causes_puts_warnings_before_fatal():
    stderr = ("postmap: fatal: table mysql:/x.cf: query error: Resource temporarily unavailable\n"
              "postmap: warning: connect to mysql server unix:/s: Access denied for user 'g'@'l'\n")
    assert postfix._causes(stderr) == [
        "connect to mysql server unix:/s: Access denied for user 'g'@'l'",
        "table mysql:/x.cf: query error: Resource temporarily unavailable"]


def fake_tool(tmp_path, body):
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n" + body)
    tool.chmod(0o755)
    return str(tool)


def test_postconf_reads_name_value_lines_and_empty_values(tmp_path):
    tool = fake_tool(tmp_path, "echo 'virtual_transport = smtp:[::1]:24'\n"
                               "echo 'recipient_bcc_maps ='\n"
                               "echo 'postconf: warning: nosuch: unknown parameter' >&2\n")
    values = postfix.postconf(tool, "/etc/postfix", ["virtual_transport", "recipient_bcc_maps",
                                                     "nosuch"], Deadline(5))
    assert values == {"virtual_transport": "smtp:[::1]:24", "recipient_bcc_maps": ""}


def test_postconf_failure_quotes_its_fatal_line(tmp_path):
    tool = fake_tool(tmp_path, "echo 'postconf: fatal: open /x/main.cf: No such file or directory' >&2\n"
                               "exit 1\n")
    with pytest.raises(postfix.PostfixError, match=r"^postconf -c /x: open /x/main.cf: No such file"):
        postfix.postconf(tool, "/x", ["virtual_transport"], Deadline(5))


@pytest.mark.parametrize("body,outcome", [
    ("echo alice@example.com\n", "alice@example.com"),
    ("exit 1\n", None),
    ("echo 'postmap: warning: mysql:/x.cf: query failed: Table x doesn'\"'\"'t exist' >&2\n"
     "echo 'postmap: fatal: table mysql:/x.cf: query error: Resource temporarily unavailable' >&2\n"
     "exit 1\n", "mysql:/x.cf: query failed: Table x doesn't exist"),
    ("echo 'postmap: fatal: open /x.cf: No such file or directory' >&2\nexit 1\n",
     "open /x.cf: No such file or directory"),
    ("exit 2\n", "exit 2"),
])
def test_postmap_query_tells_not_found_from_errors(tmp_path, body, outcome):
    tool = fake_tool(tmp_path, body)
    if outcome is None or "@" in outcome:
        assert postfix.postmap_query(tool, "/etc/postfix", "k", "mysql:/x.cf", Deadline(5)) == outcome
    else:
        with pytest.raises(postfix.PostfixError) as info:
            postfix.postmap_query(tool, "/etc/postfix", "k", "mysql:/x.cf", Deadline(5))
        assert str(info.value) == outcome


def test_postmap_that_hangs_is_killed_at_the_deadline(tmp_path):
    tool = fake_tool(tmp_path, "exec sleep 30\n")
    with pytest.raises(postfix.PostfixError, match=r"postmap -q gave no answer within 0\.3s \(killed\)"):
        postfix.postmap_query(tool, "/etc/postfix", "k", "mysql:/x.cf", Deadline(0.3))


def test_a_spent_deadline_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    tool = fake_tool(tmp_path, "touch %s\n" % marker)
    with pytest.raises(postfix.PostfixError, match="out of time"):
        postfix.postmap_query(tool, "/etc/postfix", "k", "mysql:/x.cf", Deadline(0))
    assert not os.path.exists(marker)


def test_a_tool_out_of_memory_is_said_so(tmp_path):
    # What postmap says when a .cf or main.cf of /dev/zero meets its memory limit.
    tool = fake_tool(tmp_path, "echo 'postmap: fatal: myrealloc: insufficient memory for 52428801"
                               " bytes: Cannot allocate memory' >&2; exit 1\n")
    with pytest.raises(postfix.PostfixError, match="^tool ran out of its 32 MB$"):
        postfix.postmap_query(tool, "/etc/postfix", "k", "mysql:/x.cf", Deadline(5))
