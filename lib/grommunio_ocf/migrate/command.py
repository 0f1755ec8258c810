"""grommunio-ocf-migrate: bind-mount Filesystem primitives -> one grodata-binds.

Reads ``crm configure show`` output, finds each group whose members are all
bind-mount ``ocf:heartbeat:Filesystem`` primitives, and writes what replaces
the group and its members with one ``ocf:grommunio:grodata-binds`` primitive.
This module is the command and writes its output; reading crm syntax is
crmconf's job, working out the replacement (and why it keeps the group's
name) convert's.

Output
------
``--format script`` (default) is a POSIX shell script.  Its shape follows
from two things crmsh does: ``crm configure delete GROUP`` hands the group's
constraints to its first member (and deleting that member then drops them),
and a batch of crm commands commits even after one of them failed.  So the
script works on a shadow copy of the CIB (``crm_shadow``): it deletes the
constraints that name the group or a bind primitive, the group and the
primitives; loads the new primitive and the re-created constraints with
``crm configure load update -``; and only if both succeeded commits the
shadow to the cluster.  Any failure leaves the cluster untouched.  (No
``crm_verify`` gate: the shadow carries the live status, in which the deleted
primitives are active orphans until the next probe, and crm_verify fails on
that warning as on an error.)  The script refuses to run unless
``maintenance-mode`` is true: otherwise Pacemaker would stop the deleted
primitives, unmounting the data under running services.

``--format crm`` is the whole configuration with the replacement made and
every other statement copied verbatim: for ``diff -u`` against the input, for
checks in an offline CIB, or for ``crm configure load replace``.

Exit status: 0 something was converted, 1 nothing to convert, 2 bad usage or
input.  Whatever could not be converted is a ``warning:`` line on standard
error (and a comment in the script).
"""

import argparse
import re
import sys

from .. import __version__
from ..base.paths import absolute_path
from . import pcs
from .cib import crm_text
from .convert import AGENT, UsageError, plan
from .crmconf import quote, read_statements, render_statement, render_tokens

PROG = "grommunio-ocf-migrate"
SHADOW = "grodata-binds-migration"


# -- output ------------------------------------------------------------------------

def render_primitive(conv):
    """The new primitive, after a comment that says where it came from."""
    def attrs(values):
        return render_tokens("%s=%s" % item for item in values.items())
    # No "--" in the comment: crmsh stores comments as XML comments, which may not hold one.
    head = "primitive %s %s" % (conv.name, AGENT)
    if conv.group.description is not None:
        head += " " + quote("description=" + conv.group.description)
    lines = [head, "\tparams " + attrs(conv.params)]
    if conv.meta:
        lines.append("\tmeta " + attrs(conv.meta))
    lines += ["\top %s %s" % (name, attrs(values)) for name, values in conv.ops]
    return "# %s replaces group %s of %d Filesystem bind primitives (%s %s)\n%s" % (
        conv.name, conv.group.id, len(conv.members), PROG, __version__, " \\\n".join(lines))


def render_crm(result):
    """The whole configuration: the replacements made, every other line verbatim."""
    replace, drop = {}, set()
    for conv in result.conversions:
        first = next(s for s in result.statements
                     if s.kind == "primitive" and s.tokens[1] == conv.members[0].id)
        replace[id(first)] = [render_primitive(conv)]
        drop.update(id(s) for s in result.statements
                    if s.kind in ("primitive", "group") and s.tokens[1] in conv.old_ids)
    for stmt, tokens in result.referring:
        if tokens is None:
            drop.add(id(stmt))
        else:
            replace[id(stmt)] = render_statement(stmt, tokens)
    out = []
    for stmt in result.statements:
        # A dropped statement's comments described it: they go with it.
        out += [line for line in stmt.lead if id(stmt) not in drop or not line.strip()]
        if id(stmt) in replace:
            out += replace[id(stmt)]
        elif id(stmt) not in drop:
            out += stmt.lines
    out += result.trailing
    squeezed = [line for i, line in enumerate(out)
                if line.strip() or (i and out[i - 1].strip())]   # no blank runs
    return "\n".join(squeezed).strip("\n") + "\n"


def _summary(result):
    """The script's comment block: what is converted, re-created, dropped."""
    kept = [s.id for s, t in result.referring if t is not None]
    dropped = [s.id for s, t in result.referring if t is None]
    summary = []
    for conv in result.conversions:
        summary += _listing("group %s, %d Filesystem bind primitives:"
                            % (conv.group.id, len(conv.members)), [p.id for p in conv.members])
        summary += ["-> primitive %s %s" % (conv.name, AGENT)]
    if kept:
        summary += _listing("re-created:", kept)
    if dropped:
        summary += _listing("dropped:", dropped)
    return "\n".join("#   " + line for line in summary)


def _warnings(result):
    return "\n".join("#   " + w for w in result.warnings or ["(none)"])


def render_script(result, source):
    """The sh script: delete and re-create in a shadow CIB, then commit it."""
    kept = [(s, t) for s, t in result.referring if t is not None]
    deletions = [s.id for s, _ in result.referring] + [
        i for conv in result.conversions for i in conv.old_ids]
    body = "\n".join([render_primitive(c) for c in result.conversions] + [
        "\n".join([line for line in s.lead if line.strip()] + render_statement(s, t))
        for s, t in kept])
    delimiter = "CRM"
    while delimiter in body.split("\n"):
        delimiter += "_END"
    return SCRIPT.format(
        prog=PROG, version=__version__, source=source, shadow=SHADOW, body=body,
        summary=_summary(result), warnings=_warnings(result),
        maintenance=MAINTENANCE.format(prog=PROG, how="crm configure property maintenance-mode=true"),
        deletions=" \\\n    ".join(_wrap(deletions, 76)), delimiter=delimiter,
        names=", ".join(c.name for c in result.conversions))


def render_pcs(result, source):
    """The sh script for pcs: the same change in a copy of the CIB, pushed as a diff."""
    blocks = []
    for comment, lines in pcs.steps(result):
        if lines:
            blocks.append("# %s\n%s" % (comment, "\n".join(lines)))
    return PCS_SCRIPT.format(
        prog=PROG, version=__version__, source=source, summary=_summary(result),
        warnings=_warnings(result), steps="\n\n".join(blocks),
        maintenance=MAINTENANCE.format(prog=PROG, how="pcs property set maintenance-mode=true"),
        names=", ".join(c.name for c in result.conversions))


def _listing(title, ids):
    """``title``, then ``ids`` indented and wrapped: a block of the script's summary."""
    return [title] + ["  " + line for line in _wrap(ids, 72)]


def _wrap(words, width):
    lines = [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append("")
        lines[-1] = (lines[-1] + " " + word).lstrip()
    return lines


# Both scripts' first step ({how}: how the admin's tool sets the property).
MAINTENANCE = """\
# Without maintenance mode Pacemaker would stop the deleted primitives
# (unmounting the data under running services) and start the new one.
case $(crm_attribute --type crm_config --name maintenance-mode --query --quiet 2>/dev/null |
       tr 'A-Z' 'a-z') in
    true|yes|on|y|1) ;;
    *) echo "{prog}: maintenance-mode is not true: run" \\
            "'{how}' first" >&2
       exit 1 ;;
esac"""


SCRIPT = """\
#!/bin/sh
# Generated by {prog} {version} from {source}.
#
# Replaces bind-mount Filesystem primitives with ocf:grommunio:grodata-binds:
{summary}
#
# Warnings:
{warnings}
#
# Run as root on one cluster node, with the cluster in maintenance mode and
# the package installed on every node (MIGRATION.md). The changes are made in
# a shadow copy of the CIB and committed only if all of them succeeded (crm
# refuses what fails its checks or the CIB schema): on an error the cluster
# is untouched.
set -eu

{maintenance}

shadow={shadow}
crm_shadow --batch --force --create "$shadow" >/dev/null
trap 'crm_shadow --batch --force --delete "$shadow" >/dev/null 2>&1 || :' EXIT
CIB_shadow=$shadow
export CIB_shadow

# 1. Delete the constraints that name them (deleting a group would hand its
#    constraints to its first member), the group, the bind primitives.
crm configure delete \\
    {deletions}

# 2. Create the grodata-binds primitive; re-create the constraints.
crm configure load update - <<'{delimiter}'
{body}
{delimiter}

# 3. Commit the shadow's configuration to the cluster.
unset CIB_shadow
crm_shadow --batch --force --commit "$shadow" >/dev/null
echo "{prog}: committed {names}: now run 'crm resource refresh' (MIGRATION.md)"
"""


PCS_SCRIPT = """\
#!/bin/sh
# Generated by {prog} {version} from {source}, for a cluster run with pcs.
#
# Replaces bind-mount Filesystem primitives with ocf:grommunio:grodata-binds:
{summary}
#
# Warnings:
{warnings}
#
# Run as root on one cluster node, with the cluster in maintenance mode and
# the package installed on every node (MIGRATION.md). The changes are made in
# a copy of the CIB (pcs -f) and pushed only if all of them succeeded, as the
# difference to the CIB they started from: on an error the cluster is
# untouched, and a configuration changed meanwhile makes the push fail.
set -eu

{maintenance}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
pcs cluster cib "$dir/before.xml"
cp "$dir/before.xml" "$dir/after.xml"
cib=$dir/after.xml

{steps}

# 4. Push the difference to the cluster.
pcs cluster cib-push "$dir/after.xml" diff-against="$dir/before.xml"
echo "{prog}: committed {names}: now run 'pcs resource refresh' (MIGRATION.md)"
"""


# -- command -----------------------------------------------------------------------

def _arguments():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Replace a grommunio cluster's bind-mount Filesystem primitives "
        "with one ocf:grommunio:grodata-binds primitive. Reads the configuration ('crm configure "
        "show' output, or the CIB XML of 'cibadmin -Q' for a cluster run with pcs) and writes a "
        "script that makes the change with crm or with pcs, or the whole new configuration.",
        epilog="Exit status: 0 converted, 1 nothing to convert, 2 bad usage or input. "
        "Warnings go to standard error.")
    parser.add_argument("file", nargs="?", default="-",
                        help="'crm configure show' output or 'cibadmin -Q' XML (default: "
                        "standard input)")
    parser.add_argument("--grodata", metavar="PATH",
                        help="grodata of the new primitive (default: the Filesystem mount "
                        "holding every source, else their common parent directory)")
    parser.add_argument("--name", metavar="ID",
                        help="id of the new primitive (default: the group's, so that every "
                        "constraint still names it)")
    parser.add_argument("--format", choices=("script", "pcs", "crm"), default="script",
                        help="script: a sh script that makes the change with crm (default); "
                        "pcs: a sh script that makes it with pcs; crm: the whole new "
                        "configuration, for diff or 'crm configure load replace'")
    parser.add_argument("--version", action="version", version="%s %s" % (PROG, __version__))
    return parser


def _read(path, stdin):
    try:
        if path == "-":
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except OSError as exc:
        raise UsageError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    try:
        return data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("cannot read %s: not UTF-8 text" % path) from None


def check_input(text, statements):
    """Refuse input that is no crm configure syntax at all (UsageError)."""
    start = text.lstrip()
    if start.startswith("pcs "):
        raise UsageError("the input is pcs commands: give 'cibadmin -Q' output (or "
                         "'crm configure show')")
    if "\0" in text:
        raise UsageError("the input is binary, not crm configure syntax")
    if statements and not any(s.kind for s in statements):
        raise UsageError("the input has no crm configure statement: "
                         "give 'crm configure show' output")


def _legacy_notes(result, fmt):
    """Warn about the legacy forms the output rewrites (legacy.modernise) or that
    Pacemaker 3.0 would refuse: in every statement for --format crm, which
    writes them all; in the re-created constraints for the scripts, which
    leave the rest of the live configuration as it is."""
    written = result.statements if fmt == "crm" else [
        s for s, tokens in result.referring if tokens is not None]
    for stmt in written:
        for note in result.legacy.get(id(stmt), ()):
            result.warn(note)


def _check_options(args):
    if args.grodata is not None:
        try:
            args.grodata = absolute_path(args.grodata)
        except ValueError as exc:
            raise UsageError("--grodata: %s" % exc) from None
        if args.grodata in (None, "/"):
            raise UsageError("--grodata: give a directory below /")
    if args.name is not None and not re.fullmatch(r"[A-Za-z_][\w.-]*", args.name):
        raise UsageError("--name %r is not an id (a letter or _, then letters, digits, "
                         "'.', '-' or '_')" % args.name)


def main(argv=None, stdin=None, stdout=None, stderr=None):
    """The command; returns its exit status."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = _arguments().parse_args(argv)
    try:
        _check_options(args)
        text = _read(args.file, stdin)
        if text.lstrip().startswith("<"):
            try:
                text = crm_text(text)
            except ValueError as exc:
                raise UsageError("the input is XML but no CIB: %s" % exc) from None
        statements, trailing, warnings = read_statements(text)
        check_input(text, statements)
        result = plan(statements, trailing, warnings, grodata=args.grodata, name=args.name)
        source = "standard input" if args.file == "-" else args.file
        render = None
        if result.conversions:
            _legacy_notes(result, args.format)
            render = {"crm": lambda: render_crm(result), "pcs": lambda: render_pcs(result, source),
                      "script": lambda: render_script(result, source)}[args.format]()
    except UsageError as exc:
        stderr.write("%s: %s\n" % (PROG, exc))
        return 2
    for warning in result.warnings:
        stderr.write("warning: %s\n" % warning)
    if render is None:
        stderr.write("%s: nothing to convert: no group of bind-mount Filesystem primitives\n"
                     % PROG)
        return 1
    stdout.write(render)
    return 0
