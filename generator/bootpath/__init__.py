"""The generator's boot path: what a boot whose inputs did not change loads, and nothing else.

Takes the precompiled plan and the reads it records; gives the generator's output directory
as the last full compile left it (replay.py), or says that the plan does not hold.  Also the
pieces every later stage shares with it: the Plan (plan.py) and its writer (write.py,
atomic.py), the plan file (planfile.py), how a recorded read is asked again
(fingerprint.py), SHA-256 (digest.py) and the log (log.py).

May import: modules built into the interpreter only (posix, sys, gc, marshal, errno), and
each other.  Every other package may import this one.  Keep this file empty of code: the
replay reads it at every boot.
"""
