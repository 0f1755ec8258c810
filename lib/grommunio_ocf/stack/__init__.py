"""stack-health's domain: what the grommunio stack's checks need beyond a protocol.

``checks`` is the table of checks; ``gromoxdb`` logs in to MariaDB as
gromox does, reading gromox's ``mysql_adaptor.cfg`` (``gromoxcfg``),
MariaDB's option files (``mycnf``) and obfuscated passwords
(``obfuscated``).
"""
