"""Prometheus metrics of the agents, for node_exporter's textfile collector.

``param`` declares the ``metrics_dir`` parameter every agent offers;
``model`` turns what an action observed into samples (the data model a
monitoring command can share) and writes them in Prometheus' text format;
``publish`` is the step ``agent.run`` takes after start, monitor and stop,
and puts the file in place without following a planted link.  Nothing but
``param`` is imported unless ``metrics_dir`` is set, and the writer is two
modules because every module a monitor imports costs it time.
"""
