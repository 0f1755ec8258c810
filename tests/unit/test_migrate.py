"""grommunio-ocf-migrate: the guide's configuration and its variants, the CLI."""

import io
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from helpers import TOP
from grommunio_ocf.binds import mounts
from grommunio_ocf.migrate import command as migrate
from grommunio_ocf.migrate import convert, crmconf

EXAMPLES = os.path.join(TOP, "packaging", "examples")
GUIDE_FILE = os.path.join(EXAMPLES, "guide.crm")
LAUNCHER = os.path.join(TOP, "packaging", "grommunio-ocf-migrate")
SEED_BINDS = ("mysql redis gromox grommunio-web grommunio-antispam grommunio-dav "
              "grommunio-admin-api")
BIND_IDS = ["grodata_mount_bind_" + n.replace("-", "_") for n in SEED_BINDS.split()]

with open(GUIDE_FILE, encoding="utf-8") as _handle:
    SEED = _handle.read()


# -- helpers -----------------------------------------------------------------------

def run(text, *args):
    """main() on ``text`` as standard input: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    rc = migrate.main(list(args), stdin=io.StringIO(text), stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


def warnings_of(err):
    return [line[len("warning: "):] for line in err.splitlines() if line.startswith("warning: ")]


def statements(text):
    """The statements of crm text (asserting that it reads back without a warning)."""
    found, _, warnings = crmconf.read_statements(text)
    assert warnings == []
    return [s for s in found if s.kind]


def by_id(text):
    return {s.id: s for s in statements(text) if s.id}


def constraints(text):
    return {s.id: s.tokens for s in statements(text) if s.kind in crmconf.REFERRING}


def converted(text, *args):
    """The crm-format result: (statements by id, warnings); asserts exit 0."""
    rc, out, err = run(text, "--format", "crm", *args)
    assert rc == 0, err
    return by_id(out), warnings_of(err)


def new_primitive(found, name="grodata_binds"):
    stmt = found[name]
    assert stmt.kind == "primitive"
    prim = crmconf.Primitive(stmt)
    assert prim.agent == "ocf:grommunio:grodata-binds"
    return prim


def ops(prim):
    return [(op.name, op.attrs) for op in prim.ops]


def script_parts(script):
    """(ids deleted, crm text loaded) of a generated script."""
    deleted = re.search(r"crm configure delete \\\n((?:    .*\n)+)", script).group(1)
    loaded = re.search(r"load update - <<'(\w+)'\n(.*?)\n\1\n", script, re.S).group(2)
    return deleted.replace("\\", " ").split(), loaded


def guide_with(*replacements, append=""):
    """The guide's configuration, with (old, new) text replacements and extra statements."""
    text = SEED
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text + append


# -- the guide's configuration ----------------------------------------------------------------------

def test_guide_becomes_one_grodata_binds_primitive():
    found, warnings = converted(SEED)
    assert warnings == []
    prim = new_primitive(found)
    assert prim.params == {"grodata": "/grodata", "binds": SEED_BINDS}
    assert ops(prim) == [("start", {"interval": "0s", "timeout": "60s"}),
                         ("stop", {"interval": "0s", "timeout": "60s"}),
                         ("monitor", {"interval": "20s", "timeout": "40s"})]
    assert not set(BIND_IDS) & set(found)
    assert [s for s in found.values() if s.kind == "group"] == [found["grommunio_svc"]]


def test_guide_constraints_are_unchanged_and_name_the_group():
    before, after = constraints(SEED), constraints(run(SEED, "--format", "crm")[1])
    assert after == before
    naming = [i for i, tokens in after.items() if "grodata_binds" in crmconf.references(
        crmconf.Statement(tokens))]
    assert sorted(naming) == ["binds_before_grommunio_svc", "grodata_before_binds",
                              "grodata_binds_on_grodata", "grommunio_svc_on_binds"]


def test_guide_crm_output_keeps_every_other_line_verbatim():
    out = run(SEED, "--format", "crm")[1]
    for stmt in statements(SEED):
        if stmt.id not in BIND_IDS + ["grodata_binds"]:
            assert "\n".join(stmt.lines) in out, stmt


def test_guide_script_deletes_then_loads_in_one_shadow():
    rc, script, err = run(SEED)
    assert rc == 0 and warnings_of(err) == []
    deleted, loaded = script_parts(script)
    constraint_ids = ["grodata_before_binds", "binds_before_grommunio_svc",
                      "grodata_binds_on_grodata", "grommunio_svc_on_binds"]
    # Constraints first (crmsh would hand a deleted group's to its first member).
    assert deleted == constraint_ids + ["grodata_binds"] + BIND_IDS
    found = by_id(loaded)
    assert sorted(found) == sorted(constraint_ids + ["grodata_binds"])
    assert new_primitive(found).params["binds"] == SEED_BINDS
    for i in constraint_ids:
        assert found[i].tokens == constraints(SEED)[i]
    assert script.index("crm_shadow --batch --force --create") < script.index(
        "crm configure delete") < script.index("load update -") < script.index("--commit")
    assert "maintenance-mode" in script.split("crm_shadow")[0]


def test_guide_script_is_valid_sh():
    script = run(SEED)[1]
    proc = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr


def test_no_comment_holds_a_double_dash():
    # crmsh keeps comments as XML comments, which may not contain "--".
    for text in (run(SEED, "--format", "crm")[1], script_parts(run(SEED)[1])[1]):
        for line in text.splitlines():
            if line.startswith("#"):
                assert "--" not in line and not line.endswith("-"), line


def test_migrated_output_has_nothing_left_to_convert():
    rc, out, err = run(run(SEED, "--format", "crm")[1])
    assert rc == 1 and out == ""
    assert "nothing to convert" in err


# -- variants ----------------------------------------------------------------------

EXTRA_BIND = """primitive grodata_mount_bind_postfix Filesystem \\
\tparams device="/grodata/postfix" directory="/var/lib/postfix" fstype=none options=bind \\
\top monitor interval=20s timeout=40s
"""


def test_eight_binds_keep_the_group_order():
    text = guide_with(("primitive grodata_mount_bind_mysql", EXTRA_BIND + "primitive "
                      "grodata_mount_bind_mysql"),
                     ("grodata_mount_bind_mysql grodata_mount_bind_redis",
                      "grodata_mount_bind_mysql grodata_mount_bind_postfix "
                      "grodata_mount_bind_redis"))
    found, warnings = converted(text)
    assert warnings == []
    assert new_primitive(found).params["binds"] == SEED_BINDS.replace("mysql", "mysql postfix")


def test_other_primitive_names():
    text = SEED
    for old in BIND_IDS:
        text = re.sub(r"\b%s\b" % old, old.replace("grodata_mount_bind_", "bind-"), text)
    found, warnings = converted(text)
    assert warnings == []
    assert new_primitive(found).params["binds"] == SEED_BINDS


PCS = """primitive grodata_fs ocf:heartbeat:Filesystem \\
\tparams device=/dev/drbd0 directory=/grodata fstype=xfs \\
\top monitor interval=20s timeout=40s
primitive fs_bind-mysql ocf:heartbeat:Filesystem \\
\tparams device=/grodata/mysql directory=/var/lib/mysql fstype=none options="bind,nosuid" \\
\tmeta target-role=Started \\
\top monitor interval=20s timeout=40s \\
\top start interval=0s timeout=60s \\
\top stop interval=0s timeout=60s \\
\top monitor interval=61s timeout=40s \\
\top_params OCF_CHECK_LEVEL=20
primitive fs_bind-redis ocf:heartbeat:Filesystem \\
\tparams device=/grodata/redis directory=/var/lib/redis fstype=none options="bind,nosuid" \\
\top monitor interval=20s timeout=40s \\
\top start interval=0s timeout=60s \\
\top stop interval=0s timeout=90s
group binds fs_bind-mysql fs_bind-redis
colocation colocation-binds-grodata_fs-INFINITY inf: binds grodata_fs
order order-grodata_fs-binds-mandatory grodata_fs:start binds:start
location location-binds binds \\
\trule -inf: #uname eq node3
"""


def test_pcs_style_ids_and_long_agent_names():
    found, warnings = converted(PCS)
    assert warnings == []                     # target-role=Started is the default
    prim = new_primitive(found, "binds")
    assert prim.params == {"grodata": "/grodata", "binds": "mysql redis", "options": "nosuid"}
    assert prim.meta == {}
    assert ops(prim) == [("start", {"interval": "0s", "timeout": "60s"}),
                         ("stop", {"interval": "0s", "timeout": "90s"}),
                         ("monitor", {"interval": "20s", "timeout": "40s"}),
                         ("monitor", {"interval": "61s", "timeout": "40s",
                                      "OCF_CHECK_LEVEL": "20"})]
    assert constraints(run(PCS, "--format", "crm")[1]) == constraints(PCS)


def test_a_source_outside_the_common_directory_is_not_converted():
    text = guide_with(("primitive grodata_mount_bind_mysql", EXTRA_BIND.replace(
        "/grodata/postfix", "/srv/postfix") + "primitive grodata_mount_bind_mysql"),
        ("grodata_mount_bind_mysql grodata_mount_bind_redis",
         "grodata_mount_bind_mysql grodata_mount_bind_postfix grodata_mount_bind_redis"))
    rc, out, err = run(text)
    assert (rc, out) == (1, "")
    assert warnings_of(err) == [
        "group grodata_binds: the sources have no common directory below /: /grodata/mysql, "
        "/srv/postfix, /grodata/redis, /grodata/gromox, /grodata/grommunio-web, "
        "/grodata/grommunio-antispam, /grodata/grommunio-dav, /grodata/grommunio-admin-api: "
        "not converted"]
    rc, _, err = run(text, "--grodata", "/grodata")
    assert rc == 1
    assert "not under --grodata /grodata: /srv/postfix: not converted" in err


def test_sources_elsewhere_under_grodata_become_source_target_items():
    text = guide_with(('device="/grodata/grommunio-web" directory="/var/lib/grommunio-web"',
                      'device="/grodata/web/data" directory="/var/lib/grommunio-web"'),
                     ('device="/grodata/redis" directory="/var/lib/redis"',
                      'device="/grodata/redis" directory="/srv/redis"'))
    found, warnings = converted(text)
    assert warnings == []
    assert new_primitive(found).params["binds"] == (
        "mysql /grodata/redis:/srv/redis gromox /grodata/web/data:/var/lib/grommunio-web "
        "grommunio-antispam grommunio-dav grommunio-admin-api")


def test_without_a_mount_grodata_is_the_common_parent_with_a_warning():
    text = PCS.replace("directory=/grodata fstype=xfs", "directory=/data fstype=xfs")
    found, warnings = converted(text)
    assert new_primitive(found, "binds").params["grodata"] == "/grodata"
    assert "group binds: no Filesystem primitive mounts /grodata: grodata-binds refuses to " \
        "bind unless it is a mount point (require_mountpoint=true)" in warnings
    assert "grodata_fs is a Filesystem primitive but not a bind mount (/dev/drbd0 on /data): " \
        "left alone" in warnings


def test_grodata_override_is_used_and_checked():
    rc, _, err = run(SEED, "--grodata", "/")
    assert rc == 2 and "--grodata: give a directory below /" in err
    rc, _, err = run(SEED, "--grodata", "relative")
    assert rc == 2 and "--grodata: 'relative' is not an absolute path" in err
    text = SEED.replace('directory="/grodata"', 'directory="/"')   # no mount holds them
    found, _ = converted(text, "--grodata", "/grodata/")
    assert new_primitive(found).params["grodata"] == "/grodata"


def test_a_non_bind_filesystem_is_left_alone_with_a_warning():
    extra = """primitive backup_fs Filesystem \\
\tparams device=/dev/sdb1 directory=/backup fstype=ext4 \\
\top monitor interval=20s
"""
    rc, out, err = run(SEED + extra, "--format", "crm")
    assert rc == 0
    assert warnings_of(err) == [
        "backup_fs is a Filesystem primitive but not a bind mount (/dev/sdb1 on /backup): "
        "left alone"]
    assert extra.rstrip("\n") in out


SINGLE = """
order mysql_before_mariadb Mandatory: grodata_mount_bind_mysql:start mariadb:start
colocation redis_with_mysql inf: grodata_mount_bind_redis grodata_mount_bind_mysql
order set_order Mandatory: grodata_mount ( grodata_mount_bind_mysql grodata_mount_bind_redis ) mariadb
location mysql_not_on_witness grodata_mount_bind_mysql -inf: node3
tag bind_tag: grodata_mount_bind_mysql grodata_mount_bind_redis groCluster
"""


def test_constraints_naming_one_bind_primitive_are_rewritten_with_a_warning():
    rc, out, err = run(SEED + SINGLE, "--format", "crm")
    assert rc == 0
    after = constraints(out)
    assert after["mysql_before_mariadb"][2:] == ["Mandatory:", "grodata_binds:start",
                                                 "mariadb:start"]
    assert after["set_order"][2:] == ["Mandatory:", "grodata_mount", "(", "grodata_binds", ")",
                                      "mariadb"]
    assert after["mysql_not_on_witness"][2] == "grodata_binds"
    assert after["bind_tag"][2:] == ["grodata_binds", "groCluster"]
    assert "redis_with_mysql" not in after       # related two binds: one resource now
    warnings = warnings_of(err)
    assert "order mysql_before_mariadb names bind primitive grodata_mount_bind_mysql: " \
        "now grodata_binds" in warnings
    assert "colocation redis_with_mysql names bind primitive grodata_mount_bind_redis: " \
        "dropped, it related only what is now grodata_binds" in warnings
    assert len(warnings) == 8


def test_script_deletes_and_recreates_rewritten_constraints():
    deleted, loaded = script_parts(run(SEED + SINGLE)[1])
    for i in ("mysql_before_mariadb", "redis_with_mysql", "set_order", "mysql_not_on_witness",
              "bind_tag"):
        assert i in deleted
    found = by_id(loaded)
    assert "redis_with_mysql" not in found
    assert found["set_order"].tokens == constraints(run(SEED + SINGLE, "--format", "crm")[1])[
        "set_order"]


def test_glued_set_brackets_are_understood():
    stmt = statements("order o Mandatory: a (grodata_mount_bind_mysql grodata_mount_bind_redis)\n")[0]
    mapping = dict.fromkeys(BIND_IDS, "grodata_binds")
    assert crmconf.rewrite(stmt, mapping) == ["order", "o", "Mandatory:", "a", "(grodata_binds",
                                              ")"]


def test_a_location_pattern_is_not_rewritten_but_named():
    rc, _, err = run(SEED + "location by_pattern /grodata_mount_bind_.*/ -inf: node3\n")
    assert rc == 0
    assert warnings_of(err) == ["location by_pattern: pattern /grodata_mount_bind_.*/ matches %s: "
                                "not rewritten" % ", ".join(sorted(BIND_IDS))]


def test_differing_options_keep_the_common_ones():
    text = SEED.replace("fstype=none options=bind", "fstype=none options=bind,nosuid,nodev")
    found, warnings = converted(text)
    assert warnings == []
    assert new_primitive(found).params["options"] == "nosuid,nodev"
    text = text.replace('directory="/var/lib/redis" fstype=none options=bind,nosuid,nodev',
                        'directory="/var/lib/redis" fstype=none options=bind,nosuid,x-keep')
    found, warnings = converted(text)
    assert new_primitive(found).params["options"] == "nosuid"
    assert warnings == [
        "grodata_mount_bind_redis: mount option x-keep has no grodata-binds equivalent: dropped",
        "options differ (" + ", ".join(
            "%s=%s" % (i, "nosuid" if i.endswith("redis") else "nosuid,nodev") for i in BIND_IDS)
        + "): using those all of them have: nosuid"]


def test_rbind_and_force_unmount():
    text = SEED.replace("options=bind", "options=rbind force_unmount=false")
    found, warnings = converted(text)
    prim = new_primitive(found)
    assert prim.params["kill_holders"] == "false"
    assert "grodata_mount_bind_mysql uses rbind: grodata-binds binds without the mounts below " \
        "/grodata/mysql" in warnings


def test_ops_take_the_largest_timeout_and_the_smallest_monitor_interval():
    text = guide_with(
        ('directory="/var/lib/mysql" fstype=none options=bind \\\n\top monitor interval=20s '
         'timeout=40s', 'directory="/var/lib/mysql" fstype=none options=bind \\\n\top monitor '
         'interval=10s timeout=1min \\\n\top start interval=0 timeout=90s \\\n\top notify '
         'interval=0 timeout=5s'),
        ('directory="/var/lib/redis" fstype=none options=bind \\\n\top monitor interval=20s '
         'timeout=40s', 'directory="/var/lib/redis" fstype=none options=bind \\\n\top monitor '
         'interval=20s timeout=40s on-fail=restart'))
    found, warnings = converted(text)
    assert ops(new_primitive(found)) == [
        ("start", {"interval": "0", "timeout": "90s"}),
        ("stop", {"interval": "0s", "timeout": "60s"}),
        ("monitor", {"interval": "10s", "timeout": "1min"})]
    assert "grodata_mount_bind_mysql: op notify is not an action of grodata-binds: dropped" \
        in warnings
    assert any(w.startswith("op monitor on-fail differs (") for w in warnings)


def test_a_group_meta_attribute_is_carried_over():
    text = guide_with(("\tgrodata_mount_bind_grommunio_dav grodata_mount_bind_grommunio_admin_api",
                      "\tgrodata_mount_bind_grommunio_dav grodata_mount_bind_grommunio_admin_api "
                      "\\\n\tmeta resource-stickiness=100"))
    found, warnings = converted(text)
    assert warnings == []
    assert new_primitive(found).meta == {"resource-stickiness": "100"}


def test_name_option_renames_and_rewrites_the_constraints():
    found, warnings = converted(SEED, "--name", "binds_res")
    assert warnings == []
    new_primitive(found, "binds_res")
    assert "grodata_binds" not in found
    assert found["grodata_before_binds"].tokens[-1] == "binds_res:start"
    rc, _, err = run(SEED, "--name", "mariadb")
    assert rc == 2 and "--name mariadb: that id is taken" in err
    rc, _, err = run(SEED, "--name", "9lives")
    assert rc == 2 and "--name '9lives' is not an id" in err


def test_two_groups_two_primitives():
    second = """primitive other_bind Filesystem \\
\tparams device=/data2/spool directory=/var/spool/x fstype=none options=bind
primitive data2 Filesystem params device=/dev/drbd1 directory=/data2 fstype=xfs
group other_binds other_bind
order data2_first Mandatory: data2 other_binds grodata_binds
"""
    found, warnings = converted(SEED + second)
    assert new_primitive(found, "other_binds").params == {
        "grodata": "/data2", "binds": "/data2/spool:/var/spool/x"}
    assert new_primitive(found)
    assert found["data2_first"].tokens[3:] == ["data2", "other_binds", "grodata_binds"]
    assert any(w.startswith("no monitor op: other_binds") for w in warnings)
    rc, _, err = run(SEED + second, "--name", "x")
    assert rc == 2 and "--name needs one group to convert, but there are 2" in err


def test_groups_that_cannot_be_converted():
    mixed = guide_with(("\tgrodata_mount_bind_grommunio_dav grodata_mount_bind_grommunio_admin_api",
                       "\tgrodata_mount_bind_grommunio_dav grodata_mount_bind_grommunio_admin_api "
                       "mariadb"), ("\tmariadb redis-grommunio", "\tredis-grommunio"))
    rc, out, err = run(mixed)
    assert (rc, out) == (1, "")
    assert warnings_of(err) == ["group grodata_binds holds bind primitives and other resources "
                                "(mariadb): not converted"]
    loose = SEED + EXTRA_BIND
    rc, _, err = run(loose)
    assert rc == 0
    assert warnings_of(err) == ["grodata_mount_bind_postfix is a bind primitive outside any "
                                "group: not converted"]
    cloned = SEED + "clone binds_clone grodata_binds\n"
    rc, _, err = run(cloned)
    assert rc == 1 and "group grodata_binds is inside binds_clone: not converted" in err


def test_a_statement_crm_does_not_know_is_copied_and_named():
    rc, out, err = run(SEED + "frobnicate grodata_binds now\n", "--format", "crm")
    assert rc == 0
    assert warnings_of(err) == [
        "line %d: not a crm configure statement: frobnicate grodata_binds now"
        % (SEED.count("\n") + 1),
        "line %d: unparsed text names grodata_binds: not rewritten" % (SEED.count("\n") + 1)]
    assert out.endswith("frobnicate grodata_binds now\n")


def test_an_unclosed_quote_is_a_warning_not_an_abort():
    broken = 'primitive broken Dummy params state="/run/x\n'
    rc, out, err = run(SEED + broken, "--format", "crm")
    assert rc == 0
    assert warnings_of(err) == ["line %d: cannot parse (No closing quotation): left as it is"
                                % (SEED.count("\n") + 1)]
    assert broken in out


@pytest.mark.parametrize("text, message", [
    ("<cib/>\n", "the input is XML but no CIB: XML without a <configuration>"),
    ("<cib><configuration>\n", "the input is XML but no CIB: not well-formed XML"),
    ("pcs resource create x ocf:heartbeat:Dummy\n", "the input is pcs commands"),
    ("hello world\nthis is not crm\n", "the input has no crm configure statement"),
    ("primitive a Dummy\0\n", "the input is binary"),
])
def test_input_that_is_no_crm_syntax_is_a_usage_error(text, message):
    rc, out, err = run(text)
    assert (rc, out) == (2, "")
    assert err.startswith("grommunio-ocf-migrate: " + message)


def test_empty_input_has_nothing_to_convert():
    for text in ("", "\n\n# just a comment\n"):
        rc, out, err = run(text)
        assert (rc, out) == (1, "")
        assert err == ("grommunio-ocf-migrate: nothing to convert: no group of bind-mount "
                       "Filesystem primitives\n")


def test_a_continuation_at_the_end():
    rc, _, err = run(SEED + "primitive x Dummy \\\n")
    assert rc == 0
    assert "the input ends inside a continued statement" in err


# -- small pieces ------------------------------------------------------------------

@pytest.mark.parametrize("text, ms", [("40", 40000), ("40s", 40000), ("1min", 60000),
                                      ("1m", 60000), ("500ms", 500), ("2h", 7200000),
                                      ("PT1M30S", 90000), (" 20s ", 20000)])
def test_duration_ms(text, ms):
    assert crmconf.duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "P", "PT", "fast", "10 parsecs", "-1s"])
def test_duration_ms_refuses(text):
    with pytest.raises(ValueError):
        crmconf.duration_ms(text)


@pytest.mark.parametrize("token", ["plain", "binds=a b c", 'say="hi"', "back\\slash", "",
                                   "x=", "a b"])
def test_quote_round_trips_through_crms_lexer(token):
    import shlex
    assert shlex.split(crmconf.quote(token)) == [token]


def test_agent_ops_match_the_agents_meta_data():
    root = ET.parse(os.path.join(TOP, "metadata", "grodata-binds.xml")).getroot()
    actions = {a.get("name"): a for a in root.iter("action")}
    for name, interval, timeout in convert.AGENT_OPS:
        assert actions[name].get("timeout") == timeout
    assert set(convert.AGENT_ACTIONS) <= set(actions)


def test_agent_options_are_the_agents_bind_flags():
    # The tool keeps its own list (it loads none of the agent's code): the same one.
    assert convert.AGENT_OPTIONS == set(mounts.BIND_FLAGS)


def test_the_tool_loads_no_agent_module():
    """The migration subpackage needs the binds list and path arithmetic, nothing else."""
    code = "import sys; sys.path.insert(0, %r); import grommunio_ocf.migrate.command; " \
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('grommunio_ocf'))))" \
        % os.path.join(TOP, "lib")
    loaded = subprocess.run(["/usr/bin/python3", "-IS", "-c", code], check=True,
                            capture_output=True, text=True).stdout.split()
    assert loaded == ["grommunio_ocf", "grommunio_ocf.base", "grommunio_ocf.base.paths",
                      "grommunio_ocf.base.text", "grommunio_ocf.binds", "grommunio_ocf.binds.plan", "grommunio_ocf.migrate",
                      "grommunio_ocf.migrate.cib", "grommunio_ocf.migrate.command",
                      "grommunio_ocf.migrate.convert", "grommunio_ocf.migrate.crmconf",
                      "grommunio_ocf.migrate.legacy", "grommunio_ocf.migrate.pcs"]


# -- the examples ------------------------------------------------------------------

def example(name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("name", ["migrated.crm", "migrated-clone.crm"])
def test_examples_hold_the_helpers_primitive_and_every_guide_constraint(name):
    text = example(name)
    found = by_id(text)
    helper = by_id(run(SEED, "--format", "crm")[1])
    assert found["grodata_binds"].tokens == helper["grodata_binds"].tokens
    after = constraints(text)
    for i, tokens in constraints(SEED).items():
        assert after[i] == tokens
    for stmt in statements(SEED):
        if stmt.kind == "primitive" and stmt.id not in BIND_IDS:
            assert found[stmt.id].tokens == stmt.tokens
    assert run(text)[0] == 1                  # nothing left to convert
    health = crmconf.Primitive(found["stack_health"])
    assert health.agent == "ocf:grommunio:stack-health"
    maps = crmconf.Primitive(found["postfix_maps"])
    assert ("monitor", {"interval": "60s", "timeout": "30s", "OCF_CHECK_LEVEL": "10"}) in ops(maps)


def test_migrated_group_ends_with_stack_health_then_postfix_maps():
    members = crmconf.Group(by_id(example("migrated.crm"))["grommunio_svc"]).members
    assert members[-3:] == ["nginx", "stack_health", "postfix_maps"]


def test_migrated_clone_runs_postfix_maps_as_a_clone_after_mariadb():
    found = by_id(example("migrated-clone.crm"))
    assert crmconf.Group(found["grommunio_svc"]).members[-2:] == ["nginx", "stack_health"]
    assert found["postfix_maps_clone"].tokens[:3] == ["clone", "postfix_maps_clone",
                                                      "postfix_maps"]
    assert found["mariadb_before_postfix_maps"].tokens[2:] == [
        "Mandatory:", "mariadb:start", "postfix_maps_clone:start"]
    assert found["no_postfix_maps_on_witness"].tokens[2:] == ["postfix_maps_clone", "-inf:",
                                                              "node3"]


# -- the command -------------------------------------------------------------------

def launch(*args, stdin=""):
    proc = subprocess.run([LAUNCHER, *args], input=stdin, capture_output=True, text=True,
                          timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_cli_reads_stdin_and_files_alike():
    from_stdin = launch(stdin=SEED)
    from_file = launch(GUIDE_FILE)
    assert from_stdin.returncode == from_file.returncode == 0
    assert from_stdin.stderr == from_file.stderr == ""
    assert from_file.stdout == from_stdin.stdout.replace("standard input", GUIDE_FILE)
    assert launch("--format", "crm", GUIDE_FILE).stdout == run(SEED, "--format", "crm")[1]


@pytest.mark.parametrize("args, stdin, rc, message", [
    ((), "", 1, "nothing to convert"),
    (("/nonexistent/before.crm",), "", 2, "cannot read /nonexistent/before.crm: No such file"),
    (("--format", "yaml"), "", 2, "invalid choice: 'yaml'"),
    (("--bogus",), "", 2, "unrecognized arguments: --bogus"),
    ((), "\xff\xfe garbage", 2, "the input has no crm configure statement"),
])
def test_cli_exit_codes(args, stdin, rc, message):
    proc = launch(*args, stdin=stdin)
    assert proc.returncode == rc
    assert message in proc.stderr
    assert proc.stdout == ""


def test_cli_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.crm"
    path.write_bytes(b"primitive caf\xe9 Dummy\n")
    proc = launch(str(path))
    assert proc.returncode == 2
    assert proc.stderr == "grommunio-ocf-migrate: cannot read %s: not UTF-8 text\n" % path


def test_cli_version_and_help():
    assert launch("--version").stdout.startswith("grommunio-ocf-migrate ")
    assert "--format {script,pcs,crm}" in launch("--help").stdout


# -- CIB XML in, pcs commands out ---------------------------------------------------

CIB = """<cib><configuration>
  <crm_config><cluster_property_set id="opts"><nvpair id="o1" name="stonith-enabled" value="false"/>
  </cluster_property_set></crm_config>
  <nodes><node id="1" uname="node1"/></nodes>
  <resources>
    <primitive id="fs" class="ocf" provider="heartbeat" type="Filesystem">
      <instance_attributes id="fs-ia">
        <nvpair id="fs-d" name="device" value="/dev/drbd0"/>
        <nvpair id="fs-m" name="directory" value="/grodata"/>
        <nvpair id="fs-t" name="fstype" value="xfs"/>
      </instance_attributes>
    </primitive>
    <group id="binds">
      <primitive id="bind-mysql" class="ocf" provider="heartbeat" type="Filesystem">
        <instance_attributes id="bm-ia">
          <nvpair id="bm-d" name="device" value="/grodata/mysql"/>
          <nvpair id="bm-m" name="directory" value="/var/lib/mysql"/>
          <nvpair id="bm-t" name="fstype" value="none"/>
          <nvpair id="bm-o" name="options" value="bind"/>
        </instance_attributes>
        <operations>
          <op id="bm-mon" name="monitor" interval="20s" timeout="40s"/>
          <op id="bm-deep" name="monitor" interval="300s" timeout="60s">
            <instance_attributes id="bm-deep-ia"><nvpair id="bm-l" name="OCF_CHECK_LEVEL" value="20"/>
            </instance_attributes>
          </op>
        </operations>
      </primitive>
      <primitive id="bind-redis" class="ocf" provider="heartbeat" type="Filesystem">
        <instance_attributes id="br-ia">
          <nvpair id="br-d" name="device" value="/grodata/redis"/>
          <nvpair id="br-m" name="directory" value="/var/lib/redis"/>
          <nvpair id="br-t" name="fstype" value="none"/>
          <nvpair id="br-o" name="options" value="bind"/>
        </instance_attributes>
        <operations><op id="br-mon" name="monitor" interval="20s" timeout="40s"/></operations>
      </primitive>
    </group>
    <primitive id="db" class="systemd" type="mariadb"/>
  </resources>
  <constraints>
    <rsc_order id="fs-then-binds" first="fs" then="binds" first-action="start" then-action="start" kind="Mandatory"/>
    <rsc_colocation id="binds-with-fs" rsc="binds" with-rsc="fs" score="INFINITY"/>
    <rsc_colocation id="db-with-mysql" rsc="db" with-rsc="bind-mysql" score="INFINITY"/>
    <rsc_location id="binds-not-node3" rsc="binds" node="node3" score="-INFINITY"/>
    <rsc_order id="set-order"><resource_set id="s1"><resource_ref id="bind-redis"/><resource_ref id="db"/></resource_set></rsc_order>
  </constraints>
  <tags><tag id="data"><obj_ref id="binds"/><obj_ref id="db"/></tag></tags>
</configuration><status/></cib>
"""


def test_cib_xml_reads_as_the_crm_syntax_it_stands_for():
    from grommunio_ocf.migrate.cib import crm_text
    text = crm_text(CIB)
    found = by_id(text)
    assert found["bind-mysql"].tokens == [
        "primitive", "bind-mysql", "ocf:heartbeat:Filesystem", "params", "device=/grodata/mysql",
        "directory=/var/lib/mysql", "fstype=none", "options=bind", "op", "monitor",
        "interval=20s", "timeout=40s", "op", "monitor", "interval=300s", "timeout=60s",
        "OCF_CHECK_LEVEL=20"]
    assert found["binds"].tokens == ["group", "binds", "bind-mysql", "bind-redis"]
    assert found["fs-then-binds"].tokens == ["order", "fs-then-binds", "Mandatory:", "fs:start",
                                             "binds:start"]
    assert found["binds-not-node3"].tokens == ["location", "binds-not-node3", "binds", "-inf:",
                                               "node3"]
    assert found["data"].tokens == ["tag", "data:", "binds", "db"]
    assert ["property", "opts:", "stonith-enabled=false"] in [s.tokens for s in statements(text)]
    # What has no plain crm form stays verbatim, as crm's own xml statement.
    assert '<rsc_order id="set-order"><resource_set id="s1">' in text
    assert "xml <node id=\"1\" uname=\"node1\" />" in text


def test_cib_xml_converts_like_crm_text():
    from grommunio_ocf.migrate.cib import crm_text
    rc_xml, out_xml, err_xml = run(CIB, "--format", "crm")
    rc_crm, out_crm, err_crm = run(crm_text(CIB), "--format", "crm")
    assert (rc_xml, out_xml, err_xml) == (rc_crm, out_crm, err_crm)
    assert rc_xml == 0
    prim = new_primitive(by_id(out_xml), "binds")
    assert prim.params == {"grodata": "/grodata", "binds": "mysql redis"}
    assert ops(prim)[-1] == ("monitor", {"interval": "300s", "timeout": "60s",
                                         "OCF_CHECK_LEVEL": "20"})


def test_pcs_format_deletes_creates_and_recreates_with_pcs():
    rc, out, err = run(CIB, "--format", "pcs")
    assert rc == 0, err
    lines = [line for line in out.splitlines() if line.startswith("pcs ")]
    assert lines == [
        'pcs cluster cib "$dir/before.xml"',
        'pcs -f "$cib" constraint delete fs-then-binds binds-with-fs db-with-mysql binds-not-node3',
        'pcs -f "$cib" tag delete data',
        'pcs -f "$cib" resource delete binds',
        'pcs -f "$cib" --no-default-ops resource create binds ocf:grommunio:grodata-binds '
        'grodata=/grodata \'binds=mysql redis\' op start interval=0s timeout=60s '
        'op stop interval=0s timeout=60s op monitor interval=20s timeout=40s '
        'op monitor interval=300s timeout=60s OCF_CHECK_LEVEL=20',
        'pcs -f "$cib" constraint order start fs then start binds kind=Mandatory id=fs-then-binds',
        'pcs -f "$cib" constraint colocation add binds with fs INFINITY id=binds-with-fs',
        'pcs -f "$cib" constraint colocation add db with binds INFINITY id=db-with-mysql',
        'pcs -f "$cib" -- constraint location add binds-not-node3 binds node3 -INFINITY',
        'pcs -f "$cib" tag create data binds db',
        'pcs cluster cib-push "$dir/after.xml" diff-against="$dir/before.xml"']
    assert "pcs property set maintenance-mode=true" in out
    # The resource set names a member: a warning, it is not rewritten.
    assert "xml <rsc_order names bind-redis: not rewritten" in err
    assert subprocess.run(["sh", "-n"], input=out, text=True).returncode == 0


def test_pcs_format_refuses_what_pcs_cannot_recreate():
    text = guide_with(append="order with_set Mandatory: grodata_mount ( grodata_binds groCluster )\n")
    rc, out, err = run(text, "--format", "pcs")
    assert (rc, out) == (2, "")
    assert err.startswith("grommunio-ocf-migrate: order with_set has a score, a resource set")


# -- legacy forms in, the form Pacemaker 2.1 and 3.0 both take out ------------------
#
# crmsh 5 has no "ms" and Pacemaker 3.0's schema no <master>; pcs 0.12 refuses the
# role names Master and Slave. The tool reads them and writes promotable clones and
# Promoted/Unpromoted, which Pacemaker 2.1 and crmsh 4.4 read too (the guide's configuration is
# written so, and loads there: tests/integration/test_migrate_offline.py).

# The guide's configuration as a Pacemaker 1.1/2.0 cluster's crm configure show prints it.
LEGACY = (
    ("op monitor interval=15s role=Promoted \\\n\top monitor interval=30s role=Unpromoted",
     "op monitor interval=15s role=Master \\\n\top monitor interval=30s role=Slave"),
    ("clone ms_grodata grodata \\\n\tmeta promoted-max=1 promoted-node-max=1 clone-max=2 "
     "clone-node-max=1 \\\n\tnotify=true promotable=true interleave=true",
     "ms ms_grodata grodata \\\n\tmeta master-max=1 master-node-max=1 clone-max=2 "
     "clone-node-max=1 \\\n\tnotify=true interleave=true"),
    ("colocation grodata_on_drbd inf: grodata_mount ms_grodata:Promoted",
     "colocation grodata_on_drbd inf: grodata_mount ms_grodata:Master"),
)


def normal_form(text):
    """Statements by id as comparable data: a clone's or primitive's words as a set
    after the id (where the tool puts promotable=true is no matter)."""
    out = {}
    for stmt in statements(text):
        key = stmt.id or " ".join(stmt.tokens[:2])
        out[key] = (stmt.kind, frozenset(stmt.tokens[2:])) if stmt.kind in (
            "clone", "primitive") else tuple(stmt.tokens)
    return out


@pytest.mark.parametrize("keyword", ["ms", "master"])
def test_legacy_seed_converts_to_what_the_guide_converts_to(keyword):
    text = guide_with(*LEGACY)
    if keyword == "master":
        text = text.replace("\nms ms_grodata", "\nmaster ms_grodata")
    rc, out, err = run(text, "--format", "crm")
    assert rc == 0, err
    assert normal_form(out) == normal_form(run(SEED, "--format", "crm")[1])
    assert not re.search(r"\bms |master|Master|Slave", out)
    assert warnings_of(err) == [
        "primitive grodata: role Master/Slave is now Promoted/Unpromoted",
        "%s ms_grodata is now a promotable clone (clone ... meta promotable=true)" % keyword,
        "colocation grodata_on_drbd: role Master/Slave is now Promoted/Unpromoted"]
    # Rewritten statements keep crm configure show's layout: a line per section.
    assert "clone ms_grodata grodata \\\n\tmeta promotable=true promoted-max=1 " \
        "promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true interleave=true\n" in out


def test_ms_without_meta_gets_one_and_keeps_its_description():
    text = guide_with(("clone ms_grodata grodata \\\n\tmeta promoted-max=1 promoted-node-max=1 "
                      "clone-max=2 clone-node-max=1 \\\n\tnotify=true promotable=true "
                      "interleave=true", 'ms ms_grodata grodata description="DRBD, promoted once"'))
    found, _ = converted(text)
    assert found["ms_grodata"].tokens == ["clone", "ms_grodata", "grodata",
                                          "description=DRBD, promoted once", "meta",
                                          "promotable=true"]


def test_every_role_spelling_is_written_promoted_or_unpromoted():
    text = guide_with(append="\n".join((
        "location drbd_prefers_node1 ms_grodata rule $role=Master 100: #uname eq node1",
        "location drbd_not_node3 ms_grodata role=slave -inf: node3",
        "colocation binds_on_promoted inf: grodata_binds ms_grodata:Master",
        "colocation promoted_with_binds inf: ms_grodata:Master grodata_binds:Started",
        "rsc_ticket binds_ticket ticketA: grodata_binds ms_grodata:Slave loss-policy=demote",
        "primitive dummy ocf:pacemaker:Dummy meta target-role=Master",
    )) + "\n")
    found, warnings = converted(text)
    assert found["drbd_prefers_node1"].tokens[3:5] == ["rule", "$role=Promoted"]
    assert found["drbd_not_node3"].tokens[3] == "role=Unpromoted"
    assert found["binds_on_promoted"].tokens[-1] == "ms_grodata:Promoted"
    assert found["promoted_with_binds"].tokens[3] == "ms_grodata:Promoted"
    assert found["binds_ticket"].tokens[-2] == "ms_grodata:Unpromoted"
    assert found["dummy"].tokens[-1] == "target-role=Promoted"
    assert len([w for w in warnings if "Master/Slave is now" in w]) == 6


def test_the_scripts_write_roles_as_pcs_012_and_crmsh_5_take_them():
    text = guide_with(append="colocation binds_on_promoted inf: grodata_binds ms_grodata:Master\n"
                     "ms legacy_ms grodata\n")
    rc, script, err = run(text)
    assert rc == 0, err
    loaded = script_parts(script)[1]
    assert "colocation binds_on_promoted inf: grodata_binds ms_grodata:Promoted" in loaded
    # The script re-creates what names the group; the rest of the live
    # configuration stays as it is, and so no word about it.
    assert warnings_of(err) == [
        "colocation binds_on_promoted: role Master/Slave is now Promoted/Unpromoted"]
    rc, pcs_script, err = run(text, "--format", "pcs")
    assert rc == 0, err
    assert "pcs -f \"$cib\" constraint colocation add grodata_binds with Promoted ms_grodata " \
        "INFINITY id=binds_on_promoted" in pcs_script


CIB_LEGACY = CIB.replace('<primitive id="db" class="systemd" type="mariadb"/>', """
    <master id="ms-drbd">
      <meta_attributes id="ms-drbd-meta">
        <nvpair id="ms-drbd-mm" name="master-max" value="1"/>
        <nvpair id="ms-drbd-n" name="notify" value="true"/>
      </meta_attributes>
      <primitive id="drbd" class="ocf" provider="linbit" type="drbd">
        <operations>
          <op id="drbd-m" name="monitor" interval="15s" role="Master"/>
          <op id="drbd-s" name="monitor" interval="30s" role="Slave"/>
        </operations>
      </primitive>
    </master>
    <primitive id="db" class="systemd" type="mariadb"/>""").replace("<constraints>", """<constraints>
    <rsc_colocation id="binds-on-drbd" rsc="binds" with-rsc="ms-drbd" with-rsc-role="Master" score="INFINITY"/>
    <rsc_location id="drbd-not-node3" rsc="ms-drbd" role="Slave" node="node3" score="-INFINITY"/>
    <rsc_ticket id="drbd-ticket" ticket="t" rsc="ms-drbd" rsc-role="Master"/>
    <rsc_colocation id="set-coloc" score="INFINITY"><resource_set id="cs" role="Master"><resource_ref id="ms-drbd"/></resource_set><resource_set id="cs2"><resource_ref id="db"/></resource_set></rsc_colocation>""")


def test_cib_xml_master_and_legacy_roles_are_written_in_the_current_form():
    rc, out, err = run(CIB_LEGACY, "--format", "crm")
    assert rc == 0, err
    found = by_id(out)
    assert found["ms-drbd"].tokens == ["clone", "ms-drbd", "drbd", "meta", "promotable=true",
                                       "promoted-max=1", "notify=true"]
    assert [op.attrs.get("role") for op in crmconf.Primitive(found["drbd"]).ops] == [
        "Promoted", "Unpromoted"]
    assert found["binds-on-drbd"].tokens[-1] == "ms-drbd:Promoted"
    assert found["drbd-not-node3"].tokens[3] == "role=Unpromoted"
    assert found["drbd-ticket"].tokens[-1] == "ms-drbd:Promoted"
    assert '<resource_set id="cs" role="Promoted">' in out
    assert not re.search(r"Master|Slave|\bms |<master", out)


def test_cib_xml_of_pacemaker_3_reads_as_it_is():
    """A Pacemaker 3.0 CIB (promotable clone, Promoted): nothing to rewrite, no warning."""
    modern = CIB_LEGACY.replace("Master", "Promoted").replace("Slave", "Unpromoted").replace(
        '<master id="ms-drbd">', '<clone id="ms-drbd">').replace("</master>", "</clone>").replace(
        'name="master-max"', 'name="promoted-max"').replace(
        '<nvpair id="ms-drbd-n" name="notify" value="true"/>',
        '<nvpair id="ms-drbd-n" name="notify" value="true"/>'
        '<nvpair id="ms-drbd-p" name="promotable" value="true"/>')
    rc, out, err = run(modern, "--format", "crm")
    assert rc == 0, err
    assert by_id(out)["ms-drbd"].tokens == ["clone", "ms-drbd", "drbd", "meta", "promoted-max=1",
                                            "notify=true", "promotable=true"]
    assert "Master/Slave" not in err and "promotable clone" not in err
    assert normal_form(out) == normal_form(run(CIB_LEGACY, "--format", "crm")[1])


def test_what_pacemaker_3_refuses_and_no_rewrite_decides_is_named():
    cib = CIB.replace("<constraints>", """<constraints>
    <rsc_location id="two-rules" rsc="db"><rule id="r1" score="100"><expression id="e1" attribute="#uname" operation="eq" value="node1"/></rule><rule id="r2" score="50"><expression id="e2" attribute="#uname" operation="eq" value="node2"/></rule></rsc_location>
    <rsc_location id="for-a-while" rsc="db" node="node1" score="100"><lifetime id="lt"><rule id="lr" boolean-op="and"><date_expression id="d" operation="lt" end="2030-01-01"/></rule></lifetime></rsc_location>""")
    rc, out, err = run(cib, "--format", "crm")
    assert rc == 0, err
    assert warnings_of(err)[-2:] == [
        "xml <rsc_location two-rules> has 2 rules: Pacemaker 3.0 takes one per location "
        "constraint",
        "xml <rsc_location for-a-while> has a lifetime: Pacemaker 3.0 takes none (use a rule)"]
    rc, out, err = run(guide_with(append="location two ms_grodata rule 100: #uname eq node1 "
                                 "rule 50: #uname eq node2\n"), "--format", "crm")
    assert rc == 0
    assert "location two has 2 rules: Pacemaker 3.0 takes one rule per location constraint " \
        "(make one constraint of each, or join them with or/and)" in warnings_of(err)
