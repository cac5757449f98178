"""Scripts that cannot run where they are: MIME parts, gzip'd user-data, included documents.

Each is written to /var/lib/ccgen/scripts/SHA256 (root-only) before its unit runs
(the unit is ordered after ccgen-apply and has ConditionPathExists= on the file).
A script that already ran for this instance is not written again, and a file no
script of the config needs any more is removed, so the directory holds only what
is still to run.
"""

from __future__ import annotations

import os

from ccgen.base import cache

from .context import Context, StepError
from .fs import UnsafePath


def step_scripts(ctx: Context) -> None:
    wanted: dict[str, bytes] = {}
    for s in ctx.config.scripts:
        if s.data is not None and ctx.state.needed("script:" + s.digest, s.digest):
            wanted[cache.script_path(s.digest)] = s.data
    if not wanted and not ctx.root.exists(cache.SCRIPTS):
        return
    failures = []
    try:
        ctx.root.mkdir(cache.DIR, 0o700)
        ctx.root.mkdir(cache.SCRIPTS, 0o700)
    except OSError as e:
        raise StepError(f"{cache.SCRIPTS}: {e.strerror or e}") from None
    for path, data in wanted.items():
        try:
            if ctx.root.write(path, data, mode=0o700, dir_mode=0o700):
                ctx.say(f"scripts: wrote {path}")
        except (UnsafePath, OSError) as e:
            ctx.say(f"scripts: error: {path}: {e.strerror or e}")
            failures.append(path)
    host = ctx.root.resolve(cache.SCRIPTS)
    try:
        present = os.listdir(host) if host is not None else []
    except OSError:
        present = []
    for name in sorted(present):
        path = f"{cache.SCRIPTS}/{name}"
        if path not in wanted and ctx.root.remove(path):
            ctx.say(f"scripts: removed {path}, which no script of the config needs")
    if failures:
        raise StepError(f"{len(failures)} script(s) not written: {', '.join(failures)}")
