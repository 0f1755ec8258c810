"""The example configurations (packaging/examples/*.crm) made runnable on a test machine.

Only what cannot exist here is replaced, keeping every id, group and
constraint: the DRBD clone's primitive becomes ``ocf:pacemaker:Stateful``
(promotable, the same clone meta attributes), the VIP and the systemd units
``ocf:pacemaker:Dummy`` with the example's operations.  The primitives a
test does want real (the /grodata mount, our agents) are built by the
test's own functions, given the example's statement.
"""

import os
import re
import shlex

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(TOP, "packaging", "examples")


def example(name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as handle:
        return handle.read()


def statements(text):
    """crm statements of ``text``, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def stand_in(text, primitives, keep=lambda words: True):
    """``text`` with each primitive ``ID`` rebuilt by ``primitives[ID](stmt)`` (default: ``dummy``)
    and only the statements for which ``keep(words)`` is true."""
    out = []
    for stmt in statements(text):
        words = stmt.split()
        if not keep(words):
            continue
        if words[0] == "primitive":
            stmt = primitives.get(words[1], dummy)(stmt)
        out.append(stmt)
    return "\n".join(out) + "\n"


def ops(stmt):
    """The `` op ...`` (and ``meta``) tail of a primitive statement."""
    return stmt[stmt.index(" op "):] if " op " in stmt else ""


def params(stmt):
    """{name: value} of a primitive's ``params``."""
    if " params " not in stmt:
        return {}
    text = stmt.split(" params ", 1)[1]
    text = re.split(r" (?:op|meta) ", text, maxsplit=1)[0]
    return dict(word.split("=", 1) for word in shlex.split(text))


def dummy(stmt):
    words = stmt.split()
    assert words[2].startswith("systemd:") or words[2] == "IPaddr2", stmt
    return "primitive %s ocf:pacemaker:Dummy%s" % (words[1], ops(stmt))


def drbd(stmt):
    assert "ocf:linbit:drbd" in stmt, stmt
    return "primitive %s ocf:pacemaker:Stateful%s" % (stmt.split()[1], ops(stmt))


def quote(value):
    """A parameter value as crm reads it back unchanged."""
    return value if re.fullmatch(r"[\w@%+:,./-]+", value) else '"%s"' % value


def ours(stmt, agent, values, interval):
    """One of our primitives: ``values`` as its params, the example's ops with a shorter monitor interval."""
    assert "ocf:grommunio:%s" % agent in stmt, stmt
    tail = re.sub(r"(op monitor interval=)\d+s", r"\g<1>%ds" % interval, ops(stmt))
    text = " ".join("%s=%s" % (name, quote(value)) for name, value in values.items())
    return "primitive %s ocf:grommunio:%s params %s%s" % (stmt.split()[1], agent, text, tail)
