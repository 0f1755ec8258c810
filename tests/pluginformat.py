"""The Monitoring Plugins output rules, as a test checks them.

From the Monitoring Plugins development guidelines
(https://www.monitoring-plugins.org/doc/guidelines.html, "Plugin Output for
Nagios" and "Performance data") and Icinga's reading of them
(icinga.com/docs/developer-guidelines, "Performance Data Metrics"):

* exit code 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, and the status line
  says the same word: ``SERVICE STATUS - text``;
* performance data after the first ``|``, space separated, each
  ``'label'=value[UOM];[warn];[crit];[min];[max]``: a label without ``=``
  or ``'`` (quoted when it has a space), a value of digits, '.' and '-'
  only (C locale, no exponent), a UOM among s/ms/us/%/B/KB/MB/TB/c,
  trailing empty fields optional;
* further lines are long text; none of them holds a ``|`` (it would start
  performance data).
"""

import re

WORDS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
THRESHOLD = r"@?(?:%s|~)?:?(?:%s)?" % (NUMBER, NUMBER)     # a range, as the guidelines allow
UOM = r"(?:us|ms|s|%|B|KB|MB|TB|c)?"
LABEL = r"(?:'[^'=]+'|[^'= ]+)"
DATUM = re.compile(r"^(%s)=(%s)(%s)(?:;(%s)?(?:;(%s)?(?:;(%s)?(?:;(%s)?)?)?)?)?$"
                   % (LABEL, NUMBER, UOM, THRESHOLD, THRESHOLD, NUMBER, NUMBER))
STATUS = re.compile(r"^GROMMUNIO (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+?)(?: \| (.+))?$")


def perfdata(text):
    """``text`` (what follows '|') split into data, each checked: {label: (value, uom, fields)}."""
    found = {}
    for datum in re.findall(r"'[^']*'=\S+|\S+", text):
        match = DATUM.match(datum)
        assert match, "not valid performance data: %r" % datum
        label = match.group(1).strip("'")
        assert label not in found, "label %r twice" % label
        found[label] = (float(match.group(2)), match.group(3), match.groups()[3:])
    return found


def parse(stdout, rc):
    """Check the whole output against the rules; ``(word, text, {label: datum}, long lines)``."""
    assert rc in WORDS, "exit code %r is no plugin state" % rc
    assert stdout.endswith("\n") and stdout.count("\n") >= 1, repr(stdout)
    first, *rest = stdout[:-1].split("\n")
    match = STATUS.match(first)
    assert match, "not a status line: %r" % first
    assert match.group(1) == WORDS[rc], (match.group(1), rc, first)
    assert first.isprintable()
    for line in rest:
        assert "|" not in line and line.isprintable(), line
    return match.group(1), match.group(2), perfdata(match.group(3) or ""), rest
