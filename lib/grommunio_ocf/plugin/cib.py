"""A configured resource's agent and parameters, from the CIB.

Read with Pacemaker's own ``cibadmin --query``, which honours ``CIB_file``
(an offline CIB) and ``CIB_shadow`` as every Pacemaker tool does, so the
command sees exactly what the cluster would pass.  The configuration
section is read whole: a primitive may take its agent and parameters from
an ``rsc_template`` and its parameter sets by ``id-ref`` from elsewhere.

A name may be a primitive, a clone instance (``name:0``) or a group, clone
or bundle holding exactly one ``ocf:grommunio`` primitive.  Parameter sets
are applied as Pacemaker applies them: the template's first, the
primitive's over them; within one element the set with the higher score
first, and the first value of a name wins.  A set with a ``rule`` depends
on the node and the time, which only the cluster evaluates: such a
resource is refused with a pointer to ``--set``, never checked with values
that may not be the ones it runs with.
"""

from ..base.text import quoted
from ..base.spawn import OutOfMemory, TimedOut, run, which

CONTAINERS = ("group", "clone", "master", "bundle")
CIB_TIMEOUT = 10.0  # seconds for cibadmin, within the command's own budget
# The configuration section of a large cluster runs to megabytes, and cibadmin
# needs 64-128 MiB of data to print a 1.5 MB one (tests/bench/bench_spawn.py):
# the monitors' 64 KiB and 32 MiB would cut a real CIB short.
CIB_OUTPUT_LIMIT = 16 << 20
CIB_MEMORY_LIMIT = 512 << 20
INFINITY = 1000000  # Pacemaker's score for INFINITY


class CibError(Exception):
    """The resource cannot be read from the CIB; ``str()`` says why and what to do."""


class Resource:
    __slots__ = ("id", "standard", "provider", "type", "params")

    def __init__(self, id, standard, provider, type, params):
        self.id = id
        self.standard = standard
        self.provider = provider
        self.type = type
        self.params = params

    @property
    def agent(self):
        return ":".join(part for part in (self.standard, self.provider, self.type) if part)


def query(deadline, environ):
    """The CIB's configuration section as XML text (``cibadmin --query``)."""
    program = which("cibadmin", environ)
    if program is None:
        raise CibError("cibadmin not found in PATH (is pacemaker installed?): "
                       "use --agent and --set")
    try:
        done = run([program, "--query", "--scope", "configuration"],
                   deadline.child(CIB_TIMEOUT), environ, limit=CIB_OUTPUT_LIMIT,
                   memory=CIB_MEMORY_LIMIT)
    except TimedOut:
        raise CibError("cibadmin gave no answer within %.0fs" % min(CIB_TIMEOUT, deadline.total)) \
            from None
    except OutOfMemory as exc:  # spawn bounds every program: "cibadmin ran out of its 512 MB"
        raise CibError(str(exc)) from None
    except OSError as exc:
        raise CibError("cannot run cibadmin: %s" % (exc.strerror or exc)) from None
    if done.returncode != 0:
        said = " ".join(done.stderr.split()) or "exit status %d" % done.returncode
        raise CibError("cannot read the CIB: cibadmin: %s" % said)
    return done.stdout


def resource(xml_text, name):
    """The ``Resource`` called ``name`` in the configuration ``xml_text``."""
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise CibError("the CIB is not XML: %s" % exc) from None
    ids = {}
    for element in root.iter():
        if element.get("id") is not None:
            ids.setdefault(element.get("id"), element)
    element = _resource_element(ids, name)
    if element is None and ":" in name and name.rpartition(":")[2].isdigit():
        name = name.rpartition(":")[0]  # a clone's instance, as crm_mon shows it
        element = _resource_element(ids, name)
    if element is None:
        raise CibError("no resource %s in the CIB" % quoted(name))
    if element.tag != "primitive":
        element = _only_grommunio_primitive(element)
    return _primitive(element, ids)


def _resource_element(ids, name):
    element = ids.get(name)
    if element is not None and element.tag in ("primitive",) + CONTAINERS:
        return element
    return None


def _only_grommunio_primitive(container):
    found = [p for p in container.iter("primitive")
             if (p.get("class"), p.get("provider")) == ("ocf", "grommunio")]
    if len(found) == 1:
        return found[0]
    if not found:
        raise CibError("%s %s holds no ocf:grommunio resource" % (container.tag,
                                                                  quoted(container.get("id"))))
    raise CibError("%s %s holds %d grommunio resources (%s): name one"
                   % (container.tag, quoted(container.get("id")), len(found),
                      ", ".join(p.get("id") for p in found)))


def _primitive(element, ids):
    template = None
    if element.get("template"):
        template = ids.get(element.get("template"))
        if template is None or template.tag != "template":
            raise CibError("resource %s: template %s is not in the CIB"
                           % (quoted(element.get("id")), quoted(element.get("template"))))
    agent = {}
    for attr in ("class", "provider", "type"):
        agent[attr] = element.get(attr) or (template.get(attr) if template is not None else None)
    res = Resource(element.get("id"), agent["class"], agent["provider"], agent["type"], {})
    if (res.standard, res.provider) != ("ocf", "grommunio"):
        raise CibError("resource %s is %s, not a grommunio agent" % (quoted(res.id), res.agent))
    params = {}
    for owner in (element, template):  # the primitive's values over the template's
        if owner is not None:
            for key, value in _values(owner, ids).items():
                params.setdefault(key, value)
    res.params = params
    return res


def _values(owner, ids):
    """The parameters of ``owner``'s own instance_attributes sets (not its ops')."""
    sets = [_dereferenced(s, ids) for s in owner.findall("instance_attributes")]
    ranked = sorted(enumerate(sets), key=lambda item: (-_score(item[1]), item[0]))
    values = {}
    for _, nvset in ranked:
        if nvset.find("rule") is not None:
            raise CibError("resource %s: the parameters in %s depend on a rule, which only the "
                           "cluster evaluates: give them with --set and --agent"
                           % (quoted(owner.get("id")), quoted(nvset.get("id"))))
        for pair in nvset.findall("nvpair"):
            pair = _dereferenced(pair, ids)
            if pair.get("name") is not None:
                values.setdefault(pair.get("name"), pair.get("value") or "")
    return values


def _dereferenced(element, ids):
    ref = element.get("id-ref")
    if ref is None:
        return element
    target = ids.get(ref)
    if target is None or target.tag != element.tag:
        raise CibError("%s refers to %s, which is not in the CIB" % (element.tag, quoted(ref)))
    return target


def _score(nvset):
    text = (nvset.get("score") or "0").strip().upper()
    if text.lstrip("+-") == "INFINITY":
        return -INFINITY if text.startswith("-") else INFINITY
    try:
        return int(text)
    except ValueError:
        return 0
