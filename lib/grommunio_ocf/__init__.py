"""grommunio_ocf: the OCF plumbing shared by the grommunio resource agents.

Importing this package does nothing but define the version: every module is
imported on demand by the action that needs it, so that a monitor pays only
for what it uses.
"""

# The one place the version is written: setup.cfg, the agents' meta-data, the
# release tarball, both packages and the man pages take it from here.
__version__ = "0.1.0"
