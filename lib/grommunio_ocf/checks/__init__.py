"""Agents that only check: the check contract and the agent built on it.

``contract`` says what a check is (``Check``, its ``CheckFailed`` /
``CheckDegraded`` / ``CheckWarning`` outcomes, ``CheckSkipped`` when what
it needs already failed), runs checks in parallel
within a budget and turns their outcomes into one verdict.  ``agent`` is
``CheckAgent``: start, monitor and stop for an agent that runs nothing of
its own (stack-health, postfix-maps), with its state file, the ``fall``
counter and the node-health attribute.
"""
