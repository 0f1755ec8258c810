"""Test services: real daemons and in-process network peers, as pytest fixtures."""
