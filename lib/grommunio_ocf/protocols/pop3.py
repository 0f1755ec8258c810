"""POP3 greeting: ``+OK`` proves gromox-pop3 serves sessions.

gromox answers a new connection with ``+OK <host> pop service ready``
(mra/pop3/resource.cpp, code 1711; ``<host>`` is the node's name), or
``-ERR <host> pop service unavailable`` when it cannot take more.  Other
servers greet with other words after ``+OK`` (dovecot: ``+OK Dovecot
ready.``), so only the ``+OK`` is judged; the text is shown.
"""

from . import greeting


def check(address, deadline):
    return greeting(address, deadline, "+OK")
