"""What `ccgen apply --boot` does besides the steps: keep the generator's plan, leave the
stamp that lets the next boot skip this unit, and record the run for `ccgen status`."""

from __future__ import annotations

import json
import os
import time

from ccgen.base import cache, names
from ccgen.base.diag import Diagnostic

from .context import Context

RUN_RECORD = f"{names.RUN_DIR}/apply.json"
LAST_RECORD = f"{cache.APPLIED}/last.json"


def keep_plan(ctx: Context) -> bool:
    """The generator's full compile, persisted for it to replay (docs/generator.md)."""
    data = ctx.root.read(f"{names.NORMAL_DIR}/{names.PLAN_CANDIDATE}", 64 * 1024 * 1024)
    if data is None:
        return False
    ctx.root.mkdir(cache.DIR, 0o700)
    if ctx.root.write(cache.PLAN, data, mode=0o600):
        ctx.say("plan: kept the generator's plan for the next boot")
    return True


def leave_stamp(ctx: Context, stamp: str) -> None:
    """Applied, for exactly these inputs: the next boot's ccgen-apply.service is skipped
    while this file exists (its ConditionPathExists=!)."""
    ctx.root.mkdir(cache.DIR, 0o700)
    ctx.root.mkdir(cache.APPLIED, 0o700)
    name = os.path.basename(stamp)
    for old in os.listdir(ctx.root.host(cache.APPLIED)):
        if old.startswith(cache.STAMP_PREFIX) and old != name:
            ctx.root.remove(f"{cache.APPLIED}/{old}")
    ctx.root.write(stamp, b"", mode=0o600)


def record(ctx: Context, status: int, found: list[Diagnostic]) -> None:
    body = {
        "time": int(time.time()),
        "status": status,
        "steps": ctx.results,
        "messages": ctx.messages,
        "errors": [d.as_json() for d in found],
    }
    data = (json.dumps(body, indent=1, sort_keys=True) + "\n").encode()
    ctx.root.mkdir(names.RUN_DIR, 0o755)
    ctx.root.write(RUN_RECORD, data, mode=0o600)
    ctx.root.mkdir(cache.DIR, 0o700)
    ctx.root.mkdir(cache.APPLIED, 0o700)
    ctx.root.write(LAST_RECORD, data, mode=0o600)
