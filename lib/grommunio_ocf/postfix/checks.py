"""postfix-maps' judgement: what Postfix needs for grommunio, and one check per part.

The agent declares its parameters; everything it knows about Postfix is
here, under unit tests that need neither root nor a running Postfix:

* the parameter syntax: ``maps`` (``PARAMETER=mysql:/path.cf``),
  ``lookup_keys`` (``PARAMETER=KEY``), ``milters``;
* ``main.cf``'s settings, as ``postconf -x`` expands them: a map parameter
  must list our table (others beside it are fine), ``virtual_transport``
  must match exactly, every expected milter must be in ``smtpd_milters``;
* each mysql ``.cf`` file: a regular file with the keys Postfix needs,
  readable by the postfix user (judged from owner, group and mode);
  world-readable is a warning, or degrades with ``strict_permissions``;
* a live ``postmap -q`` per map (level 10), with a key that cannot exist
  unless ``lookup_keys`` names one that must be found, and a TCP connect to
  each ``inet:`` milter.  A lookup waits for its ``.cf`` file's judgement
  and is skipped when the file failed it: a file judged unfit (a device, a
  FIFO, too large) never reaches ``postmap``, which would read it whole.

Every check keeps ``health``'s contract; none ever quotes a password.
"""

import grp
import pwd
import stat

from ..base import smallfile
from ..checks.contract import Check, CheckDegraded, CheckFailed, CheckSkipped, CheckWarning
from ..base.netaddr import parse_address
from ..base.paths import path_limits
from ..base.text import quoted

# Keys that cannot exist: "not found" proves the query path end to end.
ABSENT_DOMAIN = "no-such-key.invalid"
ABSENT_ADDRESS = "nobody@no-such-key.invalid"
LOOKUP_LEVEL = 10  # OCF_CHECK_LEVEL of the checks that ask the database
# Postfix's own main.cf with every comment (main.cf.dist) is 27 KB.
MAIN_CF_LIMIT = 1 << 20


class MapSpec:
    """``parameter=mysql:/path.cf`` (``proxy:mysql:`` too): one expected map."""

    __slots__ = ("parameter", "table", "path")

    def __init__(self, parameter, table, path):
        self.parameter = parameter
        self.table = table
        self.path = path

    @property
    def lookup_table(self):
        # postmap queries the map itself; proxymap need not run for that.
        return "mysql:" + self.path

    @property
    def absent_key(self):
        return ABSENT_DOMAIN if self.parameter.endswith("_domains") else ABSENT_ADDRESS

    def __repr__(self):
        return "MapSpec(%s=%s)" % (self.parameter, self.table)


# -- parameter syntax (the agent's validators) ------------------------------------

def parameter_name(name, entry):
    if not name or not all(c.isascii() and (c.isalnum() or c == "_") for c in name):
        raise ValueError("%s: %s is not a Postfix parameter name" % (quoted(entry), quoted(name, 20)))
    return name


def parse_maps(entries):
    specs = []
    for entry in entries:
        name, sep, table = entry.partition("=")
        if not sep:
            raise ValueError("%s is not PARAMETER=mysql:/path.cf" % quoted(entry))
        parameter_name(name, entry)
        kind, _, path = table.rpartition(":")
        if kind not in ("mysql", "proxy:mysql"):
            raise ValueError("%s: only mysql: and proxy:mysql: tables are checked" % quoted(entry))
        if not path.startswith("/"):
            raise ValueError("%s: %s is not an absolute path" % (quoted(entry), quoted(path)))
        path_limits(path)
        specs.append(MapSpec(name, table, path))
    return tuple(specs)


def parse_lookup_keys(entries):
    keys = []
    for entry in entries:
        name, sep, key = entry.partition("=")
        if not sep or not key:
            raise ValueError("%s is not PARAMETER=KEY" % quoted(entry))
        keys.append((parameter_name(name, entry), key))
    return tuple(keys)


def parse_milters(text):
    """The expected ``smtpd_milters`` entries, or ``None`` for empty (not checked)."""
    from .tools import split_milters
    milters = split_milters(text, strict=True)
    for milter in milters:
        if milter.startswith("inet:"):
            parse_address(milter[len("inet:"):], whole=milter)
        elif milter.startswith("unix:"):
            path_limits(milter[len("unix:"):])
        else:
            raise ValueError("%s is neither inet:HOST:PORT nor unix:PATH" % quoted(milter))
    return tuple(milters) or None


def unlisted_lookup_keys(maps, lookup_keys):
    """The ``lookup_keys`` parameters that name no map (each a configuration error)."""
    listed = {m.parameter for m in maps}
    return [parameter for parameter, _key in lookup_keys if parameter not in listed]


# -- main.cf -------------------------------------------------------------------

def expected_settings(maps, virtual_transport, milters):
    """``[(parameter, what main.cf must contain)]`` in report order."""
    expected = [(m.parameter, m.table) for m in maps]
    if virtual_transport:
        expected.append(("virtual_transport", virtual_transport.strip()))
    if milters:
        expected.append(("smtpd_milters", milters))
    return expected


def judge_setting(name, want, settings):
    """``main.cf``'s value of ``name`` holds ``want``: the value, or ``CheckFailed``."""
    have = settings.get(name, "")
    if name == "virtual_transport":
        ok, expected = have == want, want
    elif name == "smtpd_milters":  # every expected milter listed, in any order
        from .tools import split_milters
        ok, expected = set(want) <= set(split_milters(have)), " ".join(want)
    else:  # a map parameter: our table must be among those listed
        ok, expected = want in have.replace(",", " ").split(), want
    if not ok:
        raise CheckFailed("%s is %s, expected %s" % (
            name, repr(have) if have else "empty or unknown", repr(expected)))
    return have


# -- the .cf files --------------------------------------------------------------

def judge_cf(path, strict=False, user=None):
    """The detail for a good ``.cf`` file; ``CheckFailed``/``CheckDegraded``/``CheckWarning``."""
    from .tools import CF_LIMIT, MYSQL_KEYS, REQUIRED_KEYS, parse_cf
    try:
        data, info = smallfile.read(path, CF_LIMIT)
    except OSError as exc:
        raise _unfit(exc, path, CF_LIMIT, "a Postfix map file", "%s does not exist" % path) from None
    settings = parse_cf(data.decode("utf-8", "replace"))
    unknown = sorted(set(settings) - MYSQL_KEYS)
    listed = ", ".join(unknown[:5]) + (" and %d more" % (len(unknown) - 5) if len(unknown) > 5 else "")
    note = "; unknown keys ignored by Postfix: %s" % listed if unknown else ""
    missing = [key for key in REQUIRED_KEYS if not settings.get(key)]
    if missing:
        raise CheckFailed("%s: %s not set%s" % (path, ", ".join(missing), note))
    mode = stat.S_IMODE(info.st_mode)
    if not postfix_can_read(info, user):
        raise CheckFailed("%s is not readable by the postfix user (owner %d:%d, mode %04o)"
                          % (path, info.st_uid, info.st_gid, mode))
    if info.st_mode & stat.S_IROTH:
        # grommunio-setup's own files are 0644: a stock install must not be
        # degraded forever, so this is a note unless the admin asks for more.
        outcome = CheckDegraded if strict else CheckWarning
        raise outcome("%s is world-readable (mode %04o) and holds a database password: "
                      "chmod o-r it" % (path, mode))
    return "keys complete, mode %04o%s" % (mode, note)


def judge_main_cf(directory):
    """``DIRECTORY/main.cf`` is fit for ``postconf`` and ``postmap``; else ``CheckFailed``.

    Both read it whole, one line at a time (a FIFO or ``/dev/zero`` is one
    endless line): it must be a regular file of at most ``MAIN_CF_LIMIT``
    bytes.  Not read here -- a file that grows afterwards meets the tools'
    memory limit.
    """
    path = directory.rstrip("/") + "/main.cf"
    try:
        smallfile.judge(path, MAIN_CF_LIMIT)
    except OSError as exc:
        raise _unfit(exc, path, MAIN_CF_LIMIT, "a Postfix main.cf",
                     "config_directory %s has no main.cf" % directory) from None
    return path


def _unfit(exc, path, limit, kind, missing):
    """The ``CheckFailed`` for a file ``smallfile`` would not read (``missing``: its text
    when the file does not exist)."""
    if isinstance(exc, FileNotFoundError):
        return CheckFailed(missing)
    if isinstance(exc, (IsADirectoryError, smallfile.NotRegular)):  # a FIFO would block a read
        return CheckFailed("%s is not a regular file" % path)
    if isinstance(exc, smallfile.TooLarge):
        return CheckFailed("%s is larger than %d bytes: not %s" % (path, limit, kind))
    return CheckFailed("%s: %s" % (path, exc.strerror or exc))


def postfix_user():
    """``(uid, gid, name)`` of the postfix user, or ``None`` when there is none."""
    try:
        entry = pwd.getpwnam("postfix")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid, entry.pw_name


def postfix_can_read(info, user=None, members=None):
    """Whether the postfix user may read a file of this ``os.stat`` result.

    ``user`` is ``(uid, gid, name)`` (default: the system's postfix user);
    ``members(gid)`` lists a group's supplementary members (default: grp).
    With no postfix user on the node there is nothing to judge against.
    """
    user = user or postfix_user()
    if user is None:
        return True
    uid, gid, name = user
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IRUSR)
    if info.st_gid == gid or name in (members or _group_members)(info.st_gid):
        return bool(info.st_mode & stat.S_IRGRP)
    return bool(info.st_mode & stat.S_IROTH)


def _group_members(gid):
    try:
        return grp.getgrgid(gid).gr_mem
    except KeyError:
        return ()


# -- the live checks -------------------------------------------------------------

def lookup(postmap_path, directory, spec, key, deadline):
    """``postmap -q`` one map: the detail, or ``CheckFailed`` with Postfix's own cause."""
    from .tools import PostfixError, postmap_query
    asked = key or spec.absent_key
    try:
        value = postmap_query(postmap_path, directory, asked, spec.lookup_table, deadline)
    except PostfixError as exc:
        raise CheckFailed("%s: %s" % (spec.parameter, exc)) from None
    if key is None:
        return "%s %s (query path works)" % (asked, "not found" if value is None else "found")
    if value is None:
        raise CheckFailed("%s: %s not found in %s" % (spec.parameter, key, spec.lookup_table))
    return "%s -> %s" % (key, value)


def lookup_usable(judges, postmap_path, directory, spec, key, deadline):
    """``lookup``, once ``judges`` (main.cf's, the map's ``.cf``'s) passed; else skipped.

    A warning or a degraded mode still lets Postfix read the file: the lookup runs.
    """
    main_cf, cf_file = judges
    try:
        main_cf(deadline)
    except CheckFailed:
        raise CheckSkipped("lookup skipped: main.cf is not usable") from None
    try:
        cf_file(deadline)
    except CheckFailed:
        raise CheckSkipped("lookup skipped: the .cf file is not usable") from None
    except (CheckDegraded, CheckWarning):
        pass
    return lookup(postmap_path, directory, spec, key, deadline)


def connect_milter(milter, deadline):
    from ..protocols import tcp
    return tcp.check(parse_address(milter[len("inet:"):]), deadline)


# -- all of them ------------------------------------------------------------------

def checks(values, postconf_path, postmap_path):
    """The ``health.Check`` list for postfix-maps' parameters.

    ``postconf`` runs once, in whichever setting check runs first, while
    the lookups already run beside it; the other setting checks wait for
    its answer.  A failing ``postconf`` fails each of them with the same
    reason, which ``health.verdict`` reports once.
    """
    from . import tools as postfix
    directory = values.config_directory
    expected = expected_settings(values.maps, values.virtual_transport, values.milters)
    names = sorted({name for name, _ in expected})
    # main.cf is judged once, before either tool is given it.
    main_cf = _Once(lambda deadline: judge_main_cf(directory), CheckFailed)

    def postconf(deadline):
        main_cf(deadline)
        return postfix.postconf(postconf_path, directory, names, deadline)

    settings = _Once(postconf, (postfix.PostfixError, CheckFailed))
    result = [Check("setting", name, lambda d, n=name, w=want: judge_setting(n, w, settings(d)))
              for name, want in expected]
    # One judgement per file, shared by its cf check and the lookups of its maps.
    judged = {path: _Once(lambda deadline, p=path: judge_cf(p, values.strict_permissions),
                          _OUTCOMES)
              for path in dict.fromkeys(spec.path for spec in values.maps)}
    result.extend(Check("cf", path, judge) for path, judge in judged.items())
    keys = dict(values.lookup_keys)
    for spec in values.maps:
        result.append(Check("lookup", "%s %s" % (spec.parameter, spec.lookup_table),
                            lambda d, s=spec: lookup_usable((main_cf, judged[s.path]), postmap_path,
                                                            directory, s, keys.get(s.parameter), d),
                            level=LOOKUP_LEVEL))
    for milter in values.milters or ():
        if milter.startswith("inet:"):
            result.append(Check("milter", milter, lambda d, m=milter: connect_milter(m, d),
                                level=LOOKUP_LEVEL))
    return result


_OUTCOMES = (CheckFailed, CheckDegraded, CheckWarning)


class _Once:
    """``compute(deadline)``, run by the first caller; the others wait for its value or error.

    An error of ``error_type`` is raised again to every caller: a check
    outcome as itself, anything else as ``CheckFailed`` with its text.
    """

    def __init__(self, compute, error_type):
        from ..base.cpython import allocate_lock  # the checks run in threads (run_all)
        self._lock = allocate_lock()
        self._compute = compute
        self._error_type = error_type
        self._result = None

    def __call__(self, deadline):
        with self._lock:
            if self._result is None:
                try:
                    self._result = (self._compute(deadline), None, None)
                except self._error_type as exc:
                    outcome = type(exc) if isinstance(exc, _OUTCOMES) else CheckFailed
                    self._result = (None, outcome, str(exc))
        value, outcome, error = self._result
        if outcome is not None:
            raise outcome(error)
        return value
