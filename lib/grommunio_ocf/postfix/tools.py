"""Postfix's own tools, asked within a deadline: ``postconf``, ``postmap -q``.

Facts this module is built on (Postfix 3.7, Debian 12):

* ``postconf -c DIR -x NAME...`` prints ``NAME = VALUE`` for each known
  parameter; an unknown NAME prints nothing (a warning on stderr) and the
  exit code stays 0, so a missing line means "not set / unknown".
* ``postmap -q KEY mysql:FILE`` exits 0 with the value when found and 1
  both for "not found" and for every error.  Errors are told apart by its
  stderr: a ``warning:`` line carries the cause (``Access denied for user
  ...``, ``Table ... doesn't exist``); the ``fatal:`` line that follows is
  generic ("table lookup problem").  It has no timeout of its own (it hangs
  on a silent server), so ``spawn.run`` kills it at the deadline.
* Both read their configuration whole, one line at a time: a main.cf or
  ``.cf`` that is ``/dev/zero`` or endless is one line that grows until
  memory runs out ("fatal: myrealloc: insufficient memory"), so
  ``spawn.run``'s memory limit is what ends it ("postmap ran out of its
  32 MB").
* mysql ``.cf`` files are ``key = value`` lines, ``#`` comments and
  continuation lines starting with whitespace; Postfix ignores unknown
  keys silently, so a typo (``passwd``) goes unnoticed without a check.
"""

from ..base import spawn
from ..base.text import quoted

# mysql_table(5), Postfix 3.7; the legacy select_field/... forms included.
MYSQL_KEYS = frozenset((
    "hosts", "user", "password", "dbname", "query", "result_format", "domain",
    "expansion_limit", "option_file", "option_group", "require_result_set", "tls_cert_file",
    "tls_key_file", "tls_CAfile", "tls_CApath", "tls_verify_cert", "tls_ciphers",
    "idle_interval", "retry_interval", "select_field", "table", "where_field",
    "additional_conditions"))
REQUIRED_KEYS = ("user", "password", "hosts", "dbname", "query")
STDERR_LIMIT = 300
# A mysql .cf file is a few hundred bytes; more is not one (and is not read).
CF_LIMIT = 65536


class PostfixError(Exception):
    """A Postfix tool failed; ``str()`` is its cause, fit for an exit reason."""


def _run(argv, deadline, what):
    left = deadline.remaining()
    if left <= 0:
        raise PostfixError("%s: out of time" % what)
    try:
        return spawn.run(argv, deadline)
    except spawn.TimedOut:
        raise PostfixError("%s gave no answer within %.1fs (killed)" % (what, deadline.total)) from None
    except spawn.OutOfMemory as exc:  # e.g. a .cf swapped for /dev/zero after our check
        raise PostfixError(str(exc)) from None
    except OSError as exc:
        raise PostfixError("cannot run %s: %s" % (argv[0], exc.strerror or exc)) from None


def _causes(stderr, kinds=("warning", "fatal", "error", "panic")):
    """Postfix's diagnostic lines, ``warning:`` ones first (they name the cause)."""
    found = {kind: [] for kind in kinds}
    for line in stderr.splitlines():
        _, sep, rest = line.partition(": ")
        kind, sep2, text = rest.partition(": ")
        if sep and sep2 and kind in found:
            found[kind].append(" ".join(text.split()))
    return [text for kind in kinds for text in found[kind]]


def postconf(program, directory, names, deadline):
    """``{name: value}`` for ``names`` from ``DIRECTORY/main.cf`` (missing: absent)."""
    # -x: expand $name references, so the values are the ones Postfix uses.
    proc = _run([program, "-c", directory, "-x", *names], deadline, "postconf")
    if proc.returncode != 0:
        causes = _causes(proc.stderr) or [proc.stderr.strip() or "exit %d" % proc.returncode]
        raise PostfixError("postconf -c %s: %s" % (directory, causes[0][:STDERR_LIMIT]))
    values = {}
    for line in proc.stdout.splitlines():
        name, sep, value = line.partition(" = ")
        if not sep and line.endswith(" ="):  # an empty value prints "name ="
            name, sep, value = line[:-2], " = ", ""
        if sep and name in names and name not in values:
            values[name] = value.strip()
    return values


def postmap_query(program, directory, key, table, deadline):
    """Look ``key`` up in ``table`` (``mysql:/path.cf``).

    Returns the value, or ``None`` when the key is not found; raises
    ``PostfixError`` with Postfix's own cause when the lookup failed.
    """
    proc = _run([program, "-c", directory, "-q", key, table], deadline, "postmap -q")
    if proc.returncode == 0:
        return proc.stdout.strip()
    causes = _causes(proc.stderr)
    if proc.returncode == 1 and not causes:
        return None
    cause = causes[0] if causes else "exit %d" % proc.returncode
    raise PostfixError(cause[:STDERR_LIMIT])


def parse_cf(text):
    """``{key: value}`` of a Postfix ``.cf`` file's text (continuations joined)."""
    settings = {}
    key = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and key is not None:
            settings[key] = (settings[key] + " " + line.strip()).strip()
            continue
        name, sep, value = line.partition("=")
        key = name.strip() if sep else None
        if key:
            settings[key] = value.strip()
    return settings


def split_milters(text, strict=False):
    """``smtpd_milters`` entries: ``inet:host:port``, ``unix:path``, ``{ inet:... , k=v }``.

    Returns each entry's milter address.  An empty group (``{,}``) names no
    milter and an unbalanced brace no clear one: ``strict`` (our own
    ``milters`` parameter) refuses them with ``ValueError``; otherwise (what
    main.cf says) they are skipped -- they cannot match an expected milter.
    """
    entries = []
    depth = 0
    word = ""
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                if strict:
                    raise ValueError("%s has a '}' without its '{'" % quoted(text))
                depth = 0
        if depth == 0 and (char.isspace() or char == ","):
            if word:
                entries.append(word)
            word = ""
        else:
            word += char
    if depth > 0 and strict:
        raise ValueError("%s has a '{' without its '}'" % quoted(text))
    if word:
        entries.append(word)
    addresses = []
    for entry in entries:
        address = _milter_address(entry)
        if address is None:
            if strict:
                raise ValueError("%s names no milter" % quoted(entry))
            continue
        addresses.append(address)
    return addresses


def _milter_address(entry):
    """The address of one entry; the first word of a ``{ ... }`` group; None if there is none."""
    if not entry.startswith("{"):
        return None if "{" in entry or "}" in entry else entry
    words = entry.strip("{} \t").replace(",", " ").split()
    if not words or "=" in words[0] or "{" in words[0] or "}" in words[0]:
        return None
    return words[0]


