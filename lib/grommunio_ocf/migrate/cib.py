"""The CIB as XML (``cibadmin -Q``) -> crm configure syntax, for clusters run with pcs.

A cluster made with pcs has no crmsh to print ``crm configure show``; its
configuration is the CIB XML.  ``crm_text`` writes what the conversion reads
-- primitives, groups, clones, the plain forms of order, colocation,
location and ticket constraints, tags, cluster properties and defaults -- in
crm syntax, and every other element of the configuration (resource sets,
rules, bundles, nodes, alerts, ...) as crm's own ``xml`` statement with the
element verbatim: nothing is lost, and the conversion sees and names any
such element that mentions a resource it replaces.
"""

import xml.etree.ElementTree as ET

from .crmconf import quote, render_tokens


def _nvpairs(parent, tag):
    """name=value of every nvpair in ``parent``'s ``tag`` blocks (None if one has a rule)."""
    values = []
    for block in parent.findall(tag):
        if block.find("rule") is not None:
            return None
        values += ["%s=%s" % (p.get("name"), p.get("value", "")) for p in block.findall("nvpair")]
    return values


def _agent(prim):
    if prim.get("class") == "ocf":
        return "ocf:%s:%s" % (prim.get("provider", "heartbeat"), prim.get("type"))
    return "%s:%s" % (prim.get("class"), prim.get("type"))


def _primitive(prim):
    tokens = ["primitive", prim.get("id"), _agent(prim)]
    if prim.get("description") is not None:
        tokens.append("description=" + prim.get("description"))
    for tag, word in (("instance_attributes", "params"), ("meta_attributes", "meta"),
                      ("utilization", "utilization")):
        values = _nvpairs(prim, tag)
        if values is None:
            return None
        if values:
            tokens += [word] + values
    for op in prim.findall("operations/op"):
        attrs = ["%s=%s" % (k, v) for k, v in op.attrib.items() if k not in ("id", "name")]
        nested = _nvpairs(op, "instance_attributes")
        meta = _nvpairs(op, "meta_attributes")
        if nested is None or meta is None:
            return None
        tokens += ["op", op.get("name")] + attrs + nested + meta
    return tokens


def _members(element, tag, word):
    tokens = [word, element.get("id")] + [c.get("id") for c in element if c.tag in tag]
    meta = _nvpairs(element, "meta_attributes")
    if meta is None or (element.tag == "group" and element.get("description") is not None):
        return None
    return tokens + (["meta"] + meta if meta else [])


def _score(value):
    return {"INFINITY": "inf", "+INFINITY": "inf", "-INFINITY": "-inf"}.get(value, value)


def _ref(rsc, qualifier):
    return rsc + (":" + qualifier if qualifier else "")


def _constraint(element):
    """Tokens of a constraint without sets or rules, else None."""
    if len(element):       # resource sets, a rule, a lifetime: no plain crm form
        return None
    get = element.get
    known = {"id"}
    if element.tag == "rsc_order":
        known |= {"first", "then", "first-action", "then-action", "kind", "score", "symmetrical"}
        kind = get("kind") or (_score(get("score")) if get("score") else "Mandatory")
        tokens = ["order", get("id"), kind + ":", _ref(get("first"), get("first-action")),
                  _ref(get("then"), get("then-action"))]
        if get("symmetrical") is not None:
            tokens.append("symmetrical=" + get("symmetrical"))
    elif element.tag == "rsc_colocation":
        known |= {"rsc", "with-rsc", "score", "rsc-role", "with-rsc-role"}
        tokens = ["colocation", get("id"), _score(get("score", "INFINITY")) + ":",
                  _ref(get("rsc"), get("rsc-role")), _ref(get("with-rsc"), get("with-rsc-role"))]
    elif element.tag == "rsc_location":
        known |= {"rsc", "node", "score", "role"}
        if get("rsc") is None or get("node") is None:
            return None
        tokens = ["location", get("id"), get("rsc")] + (
            ["role=" + get("role")] if get("role") else []) + [_score(get("score")) + ":", get("node")]
    elif element.tag == "rsc_ticket":
        known |= {"rsc", "rsc-role", "ticket", "loss-policy"}
        tokens = ["rsc_ticket", get("id"), get("ticket") + ":", _ref(get("rsc"), get("rsc-role"))]
        if get("loss-policy"):
            tokens.append("loss-policy=" + get("loss-policy"))
    else:
        return None
    if set(element.attrib) - known or None in tokens:
        return None
    return tokens


def _sets(configuration, path, word):
    """``property``, ``rsc_defaults``, ``op_defaults`` statements (None for an element with a rule)."""
    out = []
    for block in configuration.findall(path):
        if block.find("rule") is not None:
            out.append((block, None))
            continue
        values = ["%s=%s" % (p.get("name"), p.get("value", "")) for p in block.findall("nvpair")]
        out.append((block, [word, block.get("id") + ":"] + values))
    return out


def _raw(element):
    """crm's ``xml`` statement: the element as one line of XML."""
    for part in element.iter():       # the CIB's indentation: not part of the element
        if part.text is not None and not part.text.strip():
            part.text = None
        part.tail = None
    return "xml " + ET.tostring(element, encoding="unicode").replace("\n", " ")


def crm_text(text):
    """CIB XML -> crm configure text; ValueError if it is no CIB."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError("not well-formed XML (%s)" % exc) from None
    configuration = root if root.tag == "configuration" else root.find("configuration")
    if configuration is None:
        raise ValueError("XML without a <configuration>: give 'cibadmin -Q' output")
    lines = []

    def emit(tokens, element):
        lines.append(render_tokens(tokens) if tokens else _raw(element))

    for node in configuration.findall("nodes/node"):
        emit(None, node)
    for element in configuration.find("resources") if configuration.find("resources") is not None \
            else ():
        children = list(element.iter("primitive")) if element.tag in ("group", "clone", "master") \
            else [element]
        # Members first: crm syntax defines a group's primitives before the group.
        for prim in children:
            if prim.tag == "primitive":
                emit(_primitive(prim), prim)
        if element.tag == "group":
            emit(_members(element, ("primitive",), "group"), element)
        elif element.tag in ("clone", "master"):
            inner = [c for c in element if c.tag in ("primitive", "group")]
            for group in (c for c in inner if c.tag == "group"):
                emit(_members(group, ("primitive",), "group"), group)
            word = "clone" if element.tag == "clone" else "ms"
            emit(_members(element, ("primitive", "group"), word), element)
        elif element.tag != "primitive":
            emit(None, element)
    for element in configuration.find("constraints") if configuration.find("constraints") \
            is not None else ():
        emit(_constraint(element), element)
    for tag in configuration.findall("tags/tag"):
        lines.append("tag %s: %s" % (quote(tag.get("id")),
                                     render_tokens(r.get("id") for r in tag.findall("obj_ref"))))
    for path, word in (("crm_config/cluster_property_set", "property"),
                       ("rsc_defaults/meta_attributes", "rsc_defaults"),
                       ("op_defaults/meta_attributes", "op_defaults")):
        for block, tokens in _sets(configuration, path, word):
            emit(tokens, block)
    for other in configuration:
        if other.tag not in ("nodes", "resources", "constraints", "tags", "crm_config",
                             "rsc_defaults", "op_defaults"):
            for element in other:
                emit(None, element)
    return "\n".join(lines) + "\n"
