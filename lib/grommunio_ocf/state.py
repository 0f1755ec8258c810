"""A resource's small state file under ``HA_RSCTMP``.

For agents that start nothing of their own (the health checks), "started"
is this file: Pacemaker's resource tmp dir is emptied at boot, so a node
that rebooted reports the resource stopped, as it should.  The file holds
``key=value`` lines (the fall counter, the last published health colour)
and is replaced atomically, so a monitor killed halfway leaves the old one.
"""

import os


def state_path(rsctmp, agent, instance):
    # A clone's instance is "name:0"; "/" cannot be in an id but never trust it.
    safe = (instance or "default").replace("/", "_")
    return os.path.join(rsctmp, "%s-%s.state" % (agent, safe))


class StateFile:
    def __init__(self, path):
        self.path = path

    @classmethod
    def of(cls, agent_name, op):
        return cls(state_path(op.rsctmp, agent_name, op.instance))

    def read(self):
        """The stored values, or ``None`` when the resource is not started."""
        try:
            with open(self.path, encoding="utf-8") as stream:
                text = stream.read()
        except FileNotFoundError:
            return None
        values = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
        return values

    def write(self, values):
        os.makedirs(os.path.dirname(self.path), mode=0o755, exist_ok=True)
        temporary = "%s.%d.tmp" % (self.path, os.getpid())
        with open(temporary, "w", encoding="utf-8") as stream:
            for key in sorted(values):
                stream.write("%s=%s\n" % (key, values[key]))
        os.replace(temporary, self.path)

    def remove(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
