"""grommunio-ocf-migrate: replace a cluster's bind-mount Filesystem primitives.

No agent loads this subpackage.  Its modules, in the order data flows:

* ``crmconf``: crm configure syntax (read, follow references, write back);
* ``convert``: what replaces a group of bind primitives, and what becomes of
  the constraints that name them;
* ``command``: the command line, the crm script and crm output.

Importing the package imports none of them.
"""
