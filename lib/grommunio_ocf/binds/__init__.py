"""grodata-binds' domain: bind mounts of the replicated filesystem.

``plan`` parses the binds parameter into an ordered plan; ``mounts`` reads
mountinfo and makes or removes mounts; ``judge`` proves each target holds
the right source; ``actions`` are start and stop; ``origin`` remembers where
our binds came from; ``unmount`` is stop's ladder (unmount, signal holders
found by ``holders``, detach).
"""
