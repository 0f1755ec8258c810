"""Render an agent's metadata XML from its declarative spec.

The document must satisfy two validators at once: ra-api-1.dtd, which
ocf-tester and ``crm ra info`` use, and the OCF 1.1 RelaxNG schema.  That
fixes the shape: ``<version>``, then exactly one ``longdesc`` and one
``shortdesc`` (with ``lang``), parameters whose content type is string,
integer or boolean, and actions restricted to the DTD's list, each with a
timeout.  Built with ElementTree so that every text and attribute is escaped.
"""

import xml.etree.ElementTree as ET

DOCTYPE = '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">'
OCF_VERSION = "1.1"
LANG = "en"

# The action names ra-api-1.dtd accepts; anything else makes ocf-tester fail.
DTD_ACTIONS = frozenset(("start", "stop", "recover", "monitor", "restart", "migrate_to",
                         "migrate_from", "promote", "demote", "notify", "status", "reload",
                         "meta-data", "usage", "methods", "validate-all"))


def _flag(value):
    return "1" if value else "0"


def _seconds(value):
    """Timeouts and intervals as Pacemaker prints them: ``20s``."""
    if isinstance(value, str):
        return value
    return "%gs" % value


def _descriptions(parent, longdesc, shortdesc):
    ET.SubElement(parent, "longdesc", lang=LANG).text = longdesc.strip()
    ET.SubElement(parent, "shortdesc", lang=LANG).text = shortdesc.strip()


def build(agent):
    """The metadata of ``agent`` (an ``Agent`` subclass) as an Element."""
    root = ET.Element("resource-agent", name=agent.name, version=agent.version)
    ET.SubElement(root, "version").text = OCF_VERSION
    _descriptions(root, agent.longdesc, agent.shortdesc)

    params = ET.SubElement(root, "parameters")
    for param in agent.params:
        node = ET.SubElement(params, "parameter", name=param.name,
                             unique=_flag(param.unique), required=_flag(param.required))
        _descriptions(node, param.described(), param.shortdesc)
        content = ET.SubElement(node, "content", type=param.type.xml_type)
        if param.default is not None:
            content.set("default", param.default)

    actions = ET.SubElement(root, "actions")
    for action in agent.metadata_actions():
        if action.name not in DTD_ACTIONS:
            raise ValueError("action %r is not allowed by ra-api-1.dtd" % action.name)
        node = ET.SubElement(actions, "action", name=action.name, timeout=_seconds(action.timeout))
        if action.interval is not None:
            node.set("interval", _seconds(action.interval))
        if action.depth is not None:
            node.set("depth", str(action.depth))
        if action.role is not None:
            node.set("role", action.role)
    return root


def render(agent):
    """The metadata document as text, ending in a newline."""
    root = build(agent)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0"?>\n%s\n%s\n' % (DOCTYPE, body)
