"""Tests against a real single-node corosync + pacemaker cluster (see cluster.py)."""
