"""Steps that fill /run, which is empty at every boot, so they run every time."""

from __future__ import annotations

import subprocess

from .. import schema, services
from . import accounts
from .context import Context
from .etc import text
from .fs import Owner

NETWORK_DIR = "/run/systemd/network"
FLANNEL_ENV = "/run/flannel/options.env"


def step_flannel(ctx: Context) -> None:
    flannel = ctx.merged_coreos("flannel")
    key = (schema.KEYS.child("coreos") or schema.KEYS).child("flannel")
    assert key is not None
    lines = [
        f"{k.env}={services.env_file_quote(text(flannel, k.name))}"
        for k in key.children
        if k.env and text(flannel, k.name)
    ]
    # Root-only: it may carry the etcd password; flanneld reads it as root.
    if lines and ctx.root.write(FLANNEL_ENV, ("\n".join(lines) + "\n").encode(), mode=0o600):
        ctx.say(f"flannel: {FLANNEL_ENV} written")


def step_service_secrets(ctx: Context) -> None:
    for section, unit in services.UNITS.items():
        entries = services.settings(section, ctx.merged_coreos(section))
        body = services.secret_text(entries)
        if body and ctx.root.write(services.secret_file(unit), body.encode(), mode=0o600):
            ctx.say(f"services: {services.secret_file(unit)} written")


def _network_mode(ctx: Context, content: str) -> tuple[int, Owner | None]:
    # WireGuard keys and the like: readable by networkd's group only.
    if "Key=" in content:
        gid = accounts.group_id(ctx.root, "systemd-network")
        return (0o640, Owner(0, gid)) if gid is not None else (0o600, None)
    return 0o644, None


def step_network(ctx: Context) -> None:
    changed = False
    for unit in ctx.network_units:
        name = unit.name
        if unit.mask is not None and unit.mask.value:
            changed |= ctx.root.symlink(f"{NETWORK_DIR}/{name}", "/dev/null")
            continue
        if unit.content is not None:
            mode, owner = _network_mode(ctx, unit.content.value)
            changed |= ctx.root.write(
                f"{NETWORK_DIR}/{name}", unit.content.value.encode(), mode=mode, owner=owner
            )
        for d in unit.drop_ins:
            mode, owner = _network_mode(ctx, d.content)
            changed |= ctx.root.write(
                f"{NETWORK_DIR}/{name}.d/{d.name}", d.content.encode(), mode=mode, owner=owner
            )
    if changed:
        ctx.say(f"network: files written to {NETWORK_DIR}")
    if changed and ctx.live and _active("systemd-networkd.service"):
        # Once for all files, and without waiting: a job waiting on us would deadlock.
        ctx.run(["systemctl", "--no-block", "try-restart", "systemd-networkd.service"])
        ctx.say("network: systemd-networkd restarted")


def _active(unit: str) -> bool:
    try:
        proc = subprocess.run(["systemctl", "is-active", "--quiet", unit], timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0
