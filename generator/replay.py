"""The generator's fast path: write the stored plan when nothing it was made from changed.

Only what this needs is imported here (no YAML, no validation, no rendering): the
plan is read, its header and every fingerprinted read are compared byte for byte
with the live system, and the stored entries, diagnostics and record are written.
Anything else (no plan, another version, a damaged file, one changed byte) is a
"no", and boot.py runs the full pipeline.
"""

from __future__ import annotations

from . import cache, planfile
from .inputs import Reader, read_file


def stored_plan(reader: Reader) -> planfile.Stored | None:
    try:
        data = read_file(reader.host(cache.PLAN), 64 * 1024 * 1024)
    except OSError:
        return None
    stored = planfile.load(data)
    if stored is None or not planfile.matches(stored, reader):
        return None
    return stored
