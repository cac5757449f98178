"""Steps for files other programs read: flannel's options, service secrets, networkd files.

Flannel's options and the config's networkd files live in /run, which is empty at every
boot, so those steps run every time; service secrets are kept root-only under
/var/lib/ccgen/env and written once per instance and content.  The platform's network
configuration persists in /etc/systemd/network (zz-ccgen-*), so that a boot whose
inputs did not change needs no ccgen-apply for it.
"""

from __future__ import annotations

import os
import subprocess

from ccgen.base import names, unitfile
from ccgen.lang import schema
from ccgen.units import services

from . import accounts
from .context import Context, StepError
from .fs import Owner
from .state import digest

NETWORK_DIR = "/run/systemd/network"


def step_flannel(ctx: Context) -> None:
    flannel = ctx.config.section("flannel")
    path = schema.section("coreos", "flannel").file
    assert path is not None
    # Root-only: it may carry the etcd password; flanneld reads it as root.
    if flannel is not None and ctx.root.write(path, services.env_file_text(flannel).encode(), mode=0o600):
        ctx.written.append(path)
        ctx.say(f"flannel: {path} written")


def step_service_secrets(ctx: Context) -> None:
    for key in schema.SERVICE_SECTIONS:
        settings = ctx.config.section(key.name)
        if settings is None or key.unit is None:
            continue
        body = services.secret_text(settings)
        path = services.secret_file(key.unit)
        if body and ctx.state.needed(f"secret:{key.unit}", digest(body)):
            ctx.root.mkdir(services.ENV_DIR, 0o700)
            if ctx.root.write(path, body.encode(), mode=0o600):
                ctx.written.append(path)
                ctx.say(f"services: {path} written")
            ctx.state.record(f"secret:{key.unit}", digest(body))


def _network_mode(ctx: Context, content: str) -> tuple[int, Owner | None]:
    # WireGuard keys and the like: readable by networkd's group only.
    if "Key=" in content:
        gid = accounts.group_id(ctx.root, "systemd-network")
        return (0o640, Owner(0, gid)) if gid is not None else (0o600, None)
    return 0o644, None


def step_network(ctx: Context) -> None:
    changed = False
    for unit in ctx.config.units:
        if not unitfile.is_network(unit.name):
            continue
        name = unit.name
        if unit.masked:
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
        ctx.written.append(f"{NETWORK_DIR}/")
        ctx.say(f"network: files written to {NETWORK_DIR}")


def step_platform_network(ctx: Context) -> None:
    """The cache's network data as networkd files: ccgen's own files (zz-ccgen-*) replaced
    whole, those no longer wanted removed, every other file left alone (docs/providers.md)."""
    from ccgen.base import cache
    from ccgen.providers.netconf import render, stored
    from ccgen.read.inputs import Reader

    reader = Reader(ctx.root.path)
    # Never a cache fetched on another machine (a cloned image): its addresses are not ours.
    foreign = not cache.belongs_here(reader, cache.metadata(reader))
    data = None if foreign else reader.read(cache.NETWORK, stored.MAX_RECORD)
    wanted: dict[str, bytes] = {}
    errors = 0
    if data is not None:
        _source, links, problems = stored.convert(data)
        for p in problems:
            ctx.say(f"platform network: {p.format()}")
        errors = sum(1 for p in problems if p.severity == "error")
        wanted = {name: text.encode() for name, (text, _) in render.render(links).items()}
    where = ctx.root.resolve(render.DIR)
    for name in sorted(os.listdir(where)) if where is not None and os.path.isdir(where) else []:
        path = f"{render.DIR}/{name}"
        if render.owned(name) and name not in wanted and ctx.root.remove(path):
            ctx.written.append(path)
            ctx.say(f"platform network: {path} removed")
    for name, text in wanted.items():
        path = f"{render.DIR}/{name}"
        if ctx.root.write(path, text, mode=0o644):
            ctx.written.append(path)
            ctx.say(f"platform network: {path} written")
    if errors:
        raise StepError(f"{errors} error(s) in the platform's network data; those links are not configured")


def active(unit: str) -> bool:
    try:
        proc = subprocess.run(["systemctl", "is-active", "--quiet", unit], timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def step_runtime_dropins(ctx: Context) -> None:
    """Drop-ins the generator held back because at boot they would make the boot cyclic
    (docs/units.md): installed into /run/systemd/system now, as the original wrote them."""
    source = f"{names.NORMAL_DIR}/{names.RUNTIME_DROPINS}"
    manifest = f"{names.RUN_DIR}/runtime-dropins"
    wanted: dict[str, bytes] = {}
    try:
        dirs = sorted(os.listdir(ctx.root.host(source)))
    except OSError:
        dirs = []
    for d in dirs:
        for name in sorted(os.listdir(ctx.root.host(f"{source}/{d}"))):
            data = ctx.root.read(f"{source}/{d}/{name}")
            if data is not None:
                wanted[f"{names.RUNTIME_UNIT_DIR}/{d}/{name}"] = data
    before = (ctx.root.read(manifest) or b"").decode("utf-8", "replace").splitlines()
    for path in before:
        if path not in wanted and path.startswith(names.RUNTIME_UNIT_DIR + "/") and ctx.root.remove(path):
            ctx.written.append(path)
    for path, data in wanted.items():
        if ctx.root.write(path, data):
            ctx.written.append(path)
            ctx.say(f"drop-ins: {path} installed")
    if wanted or before:
        ctx.root.write(manifest, "".join(p + "\n" for p in sorted(wanted)).encode())
