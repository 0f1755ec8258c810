"""stack-health's domain: what the grommunio stack's checks need beyond a protocol.

``checks`` is the table of checks and of the guide's units they prove;
``params`` the agent's parameters; ``report`` its ``--verbose`` lines, one
per unit; ``queue`` judges gromox-delivery's queue; ``gromoxdb`` logs in to MariaDB as
gromox does, reading gromox's ``mysql_adaptor.cfg`` (``gromoxcfg``),
MariaDB's option files (``mycnf``) and obfuscated passwords
(``obfuscated``).
"""
