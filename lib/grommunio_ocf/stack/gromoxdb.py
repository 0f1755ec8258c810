"""The ``mysql`` check: log into MariaDB exactly as gromox would.

Three steps, each in its own module: gromox's ``mysql_adaptor.cfg``
(``gromoxcfg``), the socket the client library would pick when the host is
``localhost`` (``mycnf``, unless the agent's ``mysql_socket`` names one),
and the login itself (``protocols.mysql``).  The detail says which socket was
used and why, so ``--verbose`` answers "which server did it ask?".
"""

from . import gromoxcfg
from ..base.netaddr import Address
from ..checks.contract import CheckFailed
from ..protocols import mysql


def socket_for(explicit):
    """``(path, why)``: ``explicit`` when set, else what the client library would use."""
    if explicit:
        return explicit, "mysql_socket"
    from . import mycnf
    try:
        return mycnf.find_socket()
    except LookupError as exc:
        raise CheckFailed("%s (set mysql_socket)" % exc) from None


def check(config_path, explicit_socket, deadline):
    """Detail text when gromox's account logs in; ``CheckFailed`` otherwise."""
    try:
        config = gromoxcfg.load(config_path)
    except gromoxcfg.ConfigError as exc:
        raise CheckFailed(exc.text) from None
    if config.password_key != "mysql_password":
        from .obfuscated import DecodeError
        try:
            config.password  # noqa: B018 -- decoded here, once, before any connection
        except DecodeError as exc:  # never log in with an empty password instead
            raise CheckFailed("%s: %s" % (config_path, exc)) from None
    if config.uses_socket:
        path, why = socket_for(explicit_socket)
        via = "via %s (%s)" % (path, why)
    else:
        path, why, via = None, None, "via TCP %s" % Address(config.host, config.port)

    detail = mysql.check(config, path, deadline, why)
    if config.defaulted:
        detail += "; gromox defaults for %s" % ", ".join(config.defaulted)
    return "%s; %s" % (detail, via)
