"""Compiled fast paths for ccgen (not built yet: see docs/design.md).

Every caller falls back to the pure-Python modules in ccgen when this package
has no compiled module, so BACKEND tells which one is live.
"""

BACKEND = "python"
