"""Prometheus metrics of the agents, for node_exporter's textfile collector.

``param`` declares the ``metrics_dir`` parameter every agent offers,
``model`` turns what an action observed into samples (the data model a
monitoring command can share), ``exposition`` writes them in Prometheus'
text format, ``textfile`` puts the file in place without following a
planted link, and ``publish`` is the step ``agent.run`` takes after start,
monitor and stop.  Nothing here is imported unless ``metrics_dir`` is set.
"""
