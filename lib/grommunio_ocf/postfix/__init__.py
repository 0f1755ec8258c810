"""postfix-maps' domain: Postfix's grommunio maps and milters.

``checks`` judges main.cf, the MySQL ``.cf`` files and the live lookups;
``tools`` runs ``postconf`` and ``postmap`` and reads their output.
"""
