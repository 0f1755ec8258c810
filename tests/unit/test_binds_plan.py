"""grommunio_ocf.binds.plan: the binds list of grodata-binds, parsed, checked and ordered."""

import pytest

from grommunio_ocf.binds import plan as bindplan
from grommunio_ocf.binds.plan import Bind

# -- bindplan.parse ----------------------------------------------------------------------

G = "/grodata"


def ok(items, grodata=G):
    plan, errors = bindplan.parse(items, grodata)
    assert errors == []
    return plan


def errs(items, grodata=G):
    return bindplan.parse(items, grodata)[1]


def test_bare_names():
    assert ok(["mysql", "redis"]) == [Bind("/grodata/mysql", "/var/lib/mysql"),
                                      Bind("/grodata/redis", "/var/lib/redis")]


def test_source_target():
    assert ok(["/grodata/www/:/srv//www"]) == [Bind("/grodata/www", "/srv/www")]


def test_unrelated_targets_keep_the_admins_order():
    # Neither target lies inside the other: the order given is the order bound.
    assert ok(["gromox", "/grodata/a/b/c:/opt/c"]) == [Bind("/grodata/gromox", "/var/lib/gromox"),
                                                       Bind("/grodata/a/b/c", "/opt/c")]


def test_bind_repr_eq_hash():
    b = Bind("/grodata/x", "/var/lib/x")
    assert repr(b) == "/grodata/x:/var/lib/x"
    assert b == Bind("/grodata/x", "/var/lib/x") and b != "/grodata/x:/var/lib/x"
    assert len({b, Bind("/grodata/x", "/var/lib/x")}) == 1


@pytest.mark.parametrize("item", ["/srv/x:/var/lib/x", "/grodata2/x:/var/lib/x",
                                  "/grodat/x:/var/lib/x", "/:/var/lib/x"])
def test_source_outside_grodata(item):
    [error] = errs([item])
    assert "is not under grodata /grodata" in error


def test_source_is_grodata_itself():
    [error] = errs(["/grodata:/var/lib/all"])
    assert error == "source /grodata is not under grodata /grodata"


@pytest.mark.parametrize("item", ["/grodata/a:/grodata/b", "/grodata/a:/grodata",
                                  "/grodata/a:/grodata/a/sub"])
def test_target_inside_grodata(item):
    [error] = errs([item])
    assert "is inside grodata /grodata" in error


def test_target_root_refused():
    assert errs(["/grodata/a:/"]) == ["target / is not allowed"]


@pytest.mark.parametrize("target", ["/srv", "/srv/"])
def test_target_covering_grodata(target):
    [error] = errs(["/srv/grodata/a:" + target], "/srv/grodata")
    assert error == "target /srv would cover grodata /srv/grodata"


def test_target_sibling_of_grodata_prefix_is_fine():
    assert ok(["/srv/grodata/a:/srv/grodatax"], "/srv/grodata") == [
        Bind("/srv/grodata/a", "/srv/grodatax")]


def test_duplicate_target():
    plan, errors = bindplan.parse(["mysql", "/grodata/other:/var/lib/mysql"], G)
    assert plan == [Bind("/grodata/mysql", "/var/lib/mysql")]
    assert errors == ["target /var/lib/mysql is listed twice "
                      "(/grodata/mysql:/var/lib/mysql, /grodata/other:/var/lib/mysql)"]


def test_duplicate_target_after_normalisation():
    plan, errors = bindplan.parse(["/grodata/a:/srv/x", "/grodata/b:/srv//x/"], G)
    assert len(plan) == 1 and len(errors) == 1 and "target /srv/x is listed twice" in errors[0]


def test_duplicate_source():
    plan, errors = bindplan.parse(["mysql", "/grodata/mysql:/srv/mysql"], G)
    assert plan == [Bind("/grodata/mysql", "/var/lib/mysql")]
    assert errors == ["source /grodata/mysql is listed twice "
                      "(/grodata/mysql:/var/lib/mysql, /grodata/mysql:/srv/mysql)"]


def test_same_item_twice():
    plan, errors = bindplan.parse(["mysql", "mysql"], G)
    assert len(plan) == 1
    assert errors == ["target /var/lib/mysql is listed twice "
                      "(/grodata/mysql:/var/lib/mysql, /grodata/mysql:/var/lib/mysql)"]


@pytest.mark.parametrize("item", ["grodata/a:/var/lib/a", "/grodata/a:var/lib/a",
                                  "./a:/var/lib/a"])
def test_relative_paths(item):
    [error] = errs([item])
    assert error.startswith(repr(item) + ": ")
    assert "is not an absolute path" in error


@pytest.mark.parametrize("item", ["/grodata/../etc:/var/lib/etc", "/grodata/a:/var/lib/../../etc"])
def test_dotdot_in_paths(item):
    [error] = errs([item])
    assert "contains '..'" in error


@pytest.mark.parametrize("item", ["..", ".", "a/b", "/grodata/a"])
def test_bare_item_that_is_not_a_name(item):
    assert errs([item]) == ["%r is neither a name nor source:target" % item]


@pytest.mark.parametrize("item", [":/var/lib/a", "/grodata/a:", ":"])
def test_source_or_target_missing(item):
    assert errs([item]) == ["%r needs both source and target" % item]


def test_more_than_one_colon():
    assert errs(["/grodata/a:/b:/c"]) == ["'/grodata/a:/b:/c' has more than one ':'"]


@pytest.mark.parametrize("items", [[], ()])
def test_empty_list(items):
    assert bindplan.parse(items, G) == ([], ["empty: give at least one name or source:target"])


def test_all_errors_collected_and_good_binds_kept():
    plan, errors = bindplan.parse(["mysql", "/srv/x:/y", "..", "redis", "/grodata/z:/grodata/q",
                                "mysql"], G)
    assert plan == [Bind("/grodata/mysql", "/var/lib/mysql"), Bind("/grodata/redis", "/var/lib/redis")]
    assert len(errors) == 4


def test_nested_targets_parent_first():
    plan = ok(["/grodata/inner:/srv/www/data/inner", "/grodata/data:/srv/www/data",
               "/grodata/www:/srv/www"])
    assert [b.target for b in plan] == ["/srv/www", "/srv/www/data", "/srv/www/data/inner"]


def test_order_stable_among_equal_depth():
    names = ["redis", "mysql", "gromox", "grommunio-web", "a", "zz"]
    assert [b.target for b in ok(names)] == ["/var/lib/" + n for n in names]


def test_nested_target_under_bare_name_target():
    plan = ok(["/grodata/sessions:/var/lib/grommunio-web/sessions", "grommunio-web", "mysql"])
    targets = [b.target for b in plan]
    # The nested target moves right behind its parent; the rest keep their order.
    assert targets == ["/var/lib/grommunio-web", "/var/lib/grommunio-web/sessions", "/var/lib/mysql"]


def test_ordered_every_parent_before_child():
    plan = ok(["/grodata/1:/a/b/c/d", "/grodata/2:/x", "/grodata/3:/a/b", "/grodata/4:/a/b/c",
               "/grodata/5:/a"])
    targets = [b.target for b in plan]
    for i, child in enumerate(targets):
        for parent in targets[i + 1:]:
            assert not child.startswith(parent + "/"), targets
