"""The ``metrics_dir`` parameter, which the OCF framework gives every agent.

Declared apart from the writer so that declaring it (every run, for the
parameter list) imports nothing but ``params``.
"""

from ..ocf.params import PATH, Param

METRICS_DIR = Param(
    "metrics_dir", PATH, "off", off=True,
    shortdesc="Directory for a Prometheus textfile (node_exporter's textfile collector); "
              "off: no metrics",
    longdesc="When set (Debian: /var/lib/prometheus/node-exporter; the directory given to "
             "node_exporter's --collector.textfile.directory elsewhere), every start and "
             "monitor replaces the file grommunio_ocf-AGENT-RESOURCE.prom there atomically "
             "(mode 0644; never through a symlink); stop, and a probe that finds the resource "
             "not running here, remove it. Labels: agent, resource, node (the node's name in "
             "Pacemaker), and check and target per check. Metrics: "
             "grommunio_ocf_result_code (the last start's or monitor's OCF exit code: 0 ok, "
             "190 degraded, 1 failed, 7 not running); "
             "grommunio_ocf_last_monitor_timestamp_seconds (when that start or monitor "
             "ended, Unix time); grommunio_ocf_monitor_interval_seconds (the recurring "
             "monitor's interval; not written by start and probes); "
             "grommunio_ocf_check_timeout_seconds (check_timeout); per check "
             "grommunio_ocf_check_up (1 unless the check failed), grommunio_ocf_check_degraded "
             "(1 when it works but needs attention) and grommunio_ocf_check_duration_seconds; "
             "grommunio_ocf_checks_omitted (checks left out to keep the file small); "
             "grodata-binds: grommunio_ocf_binds_proved and grommunio_ocf_binds_not_proved; "
             "postfix-maps: grommunio_ocf_postfix_lookup_duration_seconds per map and table. "
             "The directory must exist; a write that fails never changes the action's "
             "result and is logged once per start.")
