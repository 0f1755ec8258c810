"""grommunio-ocf-check: a configured resource's checks as a monitoring plugin.

``command`` is the program (options, the run, the exit code); ``cib``
reads a resource's agent and parameters from the CIB with Pacemaker's own
``cibadmin``; ``agents`` loads an agent's class from its file; ``output``
writes the Monitoring Plugins format.
"""
