"""Small tools every other package may use, and which use nothing of ours.

``spawn`` runs a program bounded in time and output; ``smallfile`` reads a
small file without blocking or swallowing a huge one; ``paths`` and
``netaddr`` parse what parameters hold; ``jsonread`` reads a JSON reply.
"""
