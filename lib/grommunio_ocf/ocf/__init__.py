"""The OCF framework the three agents stand on.

An agent declares its parameters (``params``) and actions; ``agent`` turns
argv and the environment into one action's exit code (``status``) and exit
reason (``log``), inside the operation's time budget (``deadline``).
``metadata`` renders the meta-data XML, ``state`` keeps a resource's state
file in HA_RSCTMP, ``attrd`` sets node attributes.  Nothing here knows
about mounts, gromox or Postfix.
"""
