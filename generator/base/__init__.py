"""The vocabulary every stage shares: positioned diagnostics (diag.py), ccgen's own unit and
file names (names.py), the cache's layout and metadata record (cache.py), the status record
(record.py), the value rules of cloud-config (rules.py), and systemd's unit-name rules and
unit-file text (unitfile.py, unittext.py).

Takes and gives plain values; reads and writes nothing itself.
May import: ccgen.bootpath.
"""
