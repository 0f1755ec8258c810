"""The guide's three-node cluster under real Pacemaker: failover, fencing, the witness, node health."""
