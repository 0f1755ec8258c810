"""Reading a resource's agent and parameters from the CIB's XML (grommunio_ocf.plugin.cib).

The XML is shaped as ``cibadmin --query --scope configuration`` prints it
(Pacemaker's schema: pacemaker-*.rng, "primitive", "template", "nvset");
tests/integration/test_check_command.py reads it with the real cibadmin.
"""

import pytest

from grommunio_ocf.plugin.cib import CibError, resource

HEALTH = """
<primitive id="health" class="ocf" provider="grommunio" type="stack-health">
  <instance_attributes id="health-ia">
    <nvpair id="health-ia-imap" name="imap_url" value="imap://127.0.0.1:143"/>
    <nvpair id="health-ia-crit" name="critical" value="imap"/>
  </instance_attributes>
  <operations>
    <op id="health-mon" name="monitor" interval="30s">
      <instance_attributes id="health-mon-ia">
        <nvpair id="health-mon-depth" name="OCF_CHECK_LEVEL" value="10"/>
      </instance_attributes>
    </op>
  </operations>
</primitive>"""


def cib(resources, extra=""):
    return ("<configuration><crm_config/><nodes/><resources>%s</resources><constraints/>%s"
            "</configuration>" % (resources, extra))


def test_a_primitive_and_only_its_own_parameters():
    found = resource(cib(HEALTH), "health")
    assert (found.id, found.agent, found.type) == ("health", "ocf:grommunio:stack-health",
                                                   "stack-health")
    assert found.params == {"imap_url": "imap://127.0.0.1:143", "critical": "imap"}


@pytest.mark.parametrize("wrapper, name", [
    ('<group id="grp"><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"/>%s'
     '</group>', "grp"),
    ('<clone id="health-clone">%s</clone>', "health-clone"),
    ('<clone id="health-clone">%s</clone>', "health:1"),
    ('<clone id="health-clone"><group id="g">%s</group></clone>', "health-clone"),
])
def test_inside_groups_and_clones(wrapper, name):
    found = resource(cib(wrapper % HEALTH), name)
    assert found.id == "health" and found.params["critical"] == "imap"


def test_a_group_with_two_grommunio_resources_must_be_named_more_closely():
    two = HEALTH + HEALTH.replace('id="health', 'id="other')
    with pytest.raises(CibError, match=r"group 'g' holds 2 grommunio resources \(health, other\): "
                                       r"name one"):
        resource(cib('<group id="g">%s</group>' % two), "g")


def test_template_values_under_the_primitive_s_own():
    xml = cib('<template id="t" class="ocf" provider="grommunio" type="postfix-maps">'
              '<instance_attributes id="t-ia"><nvpair id="t1" name="check_timeout" value="3"/>'
              '<nvpair id="t2" name="milters" value="off"/></instance_attributes></template>'
              '<primitive id="maps" template="t"><instance_attributes id="m-ia">'
              '<nvpair id="m1" name="milters" value="inet:localhost:11332"/>'
              '</instance_attributes></primitive>')
    found = resource(xml, "maps")
    assert found.type == "postfix-maps"
    assert found.params == {"check_timeout": "3", "milters": "inet:localhost:11332"}


def test_sets_by_score_and_references_resolved():
    xml = cib('<primitive id="h" class="ocf" provider="grommunio" type="stack-health">'
              '<instance_attributes id="low" score="1"><nvpair id="l1" name="fall" value="1"/>'
              '<nvpair id="l2" name="tls_verify" value="true"/></instance_attributes>'
              '<instance_attributes id="high" score="INFINITY">'
              '<nvpair id="h1" name="fall" value="3"/></instance_attributes>'
              '<instance_attributes id-ref="shared"/></primitive>'
              '<primitive id="x" class="ocf" provider="grommunio" type="stack-health">'
              '<instance_attributes id="shared"><nvpair id="s1" name="check_timeout" value="7"/>'
              '<nvpair id-ref="h1"/></instance_attributes></primitive>')
    assert resource(xml, "h").params == {"fall": "3", "tls_verify": "true", "check_timeout": "7"}


@pytest.mark.parametrize("xml, name, message", [
    (cib(HEALTH), "nothere", "no resource 'nothere' in the CIB"),
    (cib(HEALTH), "health-ia", "no resource 'health-ia' in the CIB"),
    (cib('<primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"/>'), "ip",
     "resource 'ip' is ocf:heartbeat:IPaddr2, not a grommunio agent"),
    (cib('<primitive id="w" class="systemd" type="grommunio-web"/>'), "w",
     "resource 'w' is systemd:grommunio-web, not a grommunio agent"),
    (cib('<group id="g"><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"/>'
         '</group>'), "g", "group 'g' holds no ocf:grommunio resource"),
    (cib('<primitive id="p" template="gone"/>'), "p", "resource 'p': template 'gone' is not in the CIB"),
    (cib('<primitive id="p" class="ocf" provider="grommunio" type="stack-health">'
         '<instance_attributes id-ref="gone"/></primitive>'), "p",
     "instance_attributes refers to 'gone', which is not in the CIB"),
    (cib(HEALTH.replace('<instance_attributes id="health-ia">',
                        '<instance_attributes id="health-ia"><rule id="r" score="0">'
                        '<expression id="e" attribute="#uname" operation="eq" value="a"/></rule>')),
     "health", "the parameters in 'health-ia' depend on a rule, which only the cluster evaluates"),
    ("<configuration", "x", "the CIB is not XML"),
])
def test_what_cannot_be_read_says_why(xml, name, message):
    with pytest.raises(CibError) as caught:
        resource(xml, name)
    assert message in str(caught.value)


def test_a_cibadmin_out_of_memory_is_said_so(tmp_path):
    # spawn bounds every program's data; a CIB too large for it fails with the reason.
    from grommunio_ocf.ocf.deadline import Deadline
    from grommunio_ocf.plugin.cib import query
    tool = tmp_path / "cibadmin"
    tool.write_text("#!/bin/sh\necho 'error: Cannot allocate memory' >&2; exit 1\n")
    tool.chmod(0o755)
    with pytest.raises(CibError, match="^cibadmin ran out of its 512 MB$"):
        query(Deadline(5), {"PATH": str(tmp_path)})
