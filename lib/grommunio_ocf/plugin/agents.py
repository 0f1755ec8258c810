"""An agent's class, loaded from the agent's own file.

The command runs the very code Pacemaker runs: the agent file beside this
library -- ``agents/`` in a source tree, OCF's
``/usr/lib/ocf/resource.d/grommunio/`` when installed (the library is then
``/usr/lib/ocf/lib/grommunio``).  The file is compiled and run as a module
of its own name, so its ``main()`` does not run; it is not imported, so no
``__pycache__`` is written into the agents' directory, where Pacemaker
would list it as an agent.
"""

import os

from ..ocf.agent import Agent

LIBDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Where the agents are, seen from the library's directory: a source tree, the OCF layout.
PLACES = ("../agents", "../../resource.d/grommunio")
MODULE = "grommunio_ocf_check_agent"


class AgentError(Exception):
    """The agent cannot be found or loaded; ``str()`` says why."""


def directory(libdir=LIBDIR):
    for place in PLACES:
        path = os.path.normpath(os.path.join(libdir, place))
        if os.path.isdir(path):
            return path
    raise AgentError("no agent directory beside %s" % libdir)


def names(libdir=LIBDIR):
    where = directory(libdir)
    return sorted(n for n in os.listdir(where)
                  if not n.startswith(".") and os.path.isfile(os.path.join(where, n)))


def load(name, libdir=LIBDIR):
    """The ``Agent`` subclass of the agent ``name``."""
    known = names(libdir)
    if name not in known:  # also keeps '../x' and friends out
        raise AgentError("no grommunio agent %r (there are: %s)" % (name, ", ".join(known)))
    path = os.path.join(directory(libdir), name)
    namespace = {"__name__": MODULE, "__file__": path, "__builtins__": __builtins__}
    try:
        with open(path, "rb") as handle:
            code = compile(handle.read(), path, "exec", dont_inherit=True)
        exec(code, namespace)  # noqa: S102 -- the agent's own file, as Pacemaker runs it
    except Exception as exc:  # noqa: BLE001 -- a broken install: one line, not a traceback
        raise AgentError("cannot load the agent %s: %s: %s" % (path, type(exc).__name__, exc)) \
            from None
    for value in namespace.values():
        if isinstance(value, type) and issubclass(value, Agent) and value.name == name \
                and value.__module__ == MODULE:
            return value
    raise AgentError("%s defines no agent class named %s" % (path, name))
