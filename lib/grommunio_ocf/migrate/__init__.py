"""grommunio-ocf-migrate: replace a cluster's bind-mount Filesystem primitives.

No agent loads this subpackage.  Its modules, in the order data flows:

* ``crmconf``: crm configure syntax (read, follow references, write back);
* ``cib``: the CIB XML of a cluster run with pcs, as crm syntax;
* ``legacy``: ``ms`` and the Master/Slave roles in the form Pacemaker 2.1
  and 3.0 both take (promotable clones, Promoted/Unpromoted);
* ``convert``: what replaces a group of bind primitives, and what becomes of
  the constraints that name them;
* ``pcs``: the change as pcs commands;
* ``command``: the command line, the crm script and crm output.

Importing the package imports none of them.
"""
