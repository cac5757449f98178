"""ccgen apply: every step in the original's order; a failed item or step does not stop the others.

After the steps, what systemd and networkd read is brought up to date, the way
the original did it: one daemon-reload when a file landed in a unit directory,
so that units the config starts see their drop-ins; networkd reloaded when its
files changed while it runs.  Neither happens when nothing there changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ccgen import compile
from ccgen.base import cache
from ccgen.base.diag import Diagnostics
from ccgen.lang import model
from ccgen.read import inputs
from ccgen.read.inputs import Input, Reader
from ccgen.read.system import NETWORK_PATHS, UNIT_PATHS

from . import cloudinit, etc, files, runtime, scripts, sshkeys, users
from .context import Context, StepError
from .fs import Root
from .state import State

STEPS: dict[str, Callable[[Context], None]] = {
    "hostname": etc.step_hostname,
    "groups": cloudinit.step_groups,
    "users": users.step_users,
    "members": cloudinit.step_members,
    "sudo": cloudinit.step_sudo,
    "chpasswd": cloudinit.step_chpasswd,
    "keys": sshkeys.step_keys,
    "host-keys": cloudinit.step_host_keys,
    "files": files.step_files,
    "ssh-pwauth": cloudinit.step_ssh_pwauth,
    "timezone": cloudinit.step_timezone,
    "locale": cloudinit.step_locale,
    "ntp": cloudinit.step_ntp,
    "ca-certs": cloudinit.step_ca_certs,
    "dropins": runtime.step_runtime_dropins,
    "scripts": scripts.step_scripts,
    "oem": etc.step_oem,
    "update": etc.step_update,
    "hosts": etc.step_hosts,
    "flannel": runtime.step_flannel,
    "services": runtime.step_service_secrets,
    "environment": etc.step_environment,
    "network": runtime.step_network,
    "platform-network": runtime.step_platform_network,
}


# Steps that only their own unit runs (`--only`), late in the boot (docs/cloud-init.md).
LATE_STEPS: dict[str, Callable[[Context], None]] = {
    "deferred-files": files.step_deferred_files,
}


def make_context(
    root_path: str, found: list[Input], meta: cache.Metadata, diags: Diagnostics, *, force: bool
) -> Context:
    reader = Reader(root_path)
    root = Root(root_path)
    parsed = compile.configs(
        found,
        diags,
        compile.substitution_values(reader, meta, found),
        compile.cached_includes(reader),
        lambda: inputs.usr_state(reader),
    )
    config = compile.merged(parsed) or model.CloudConfig(())
    foreign = not cache.belongs_here(reader, cache.metadata(reader))
    keys_file = "" if foreign else reader.text(cache.SSH_KEYS, 1024 * 1024)
    return Context(
        root=root,
        live=os.path.realpath(root_path) == "/",
        state=State(root, meta.instance_id, force),
        metadata=meta,
        ssh_keys=keys_file.split("\n"),  # sshd's rule; sshkeys.wanted_keys drops any other break
        config=config,
    )


def _under(paths: list[str], dirs: tuple[str, ...]) -> bool:
    return any(p.startswith(d.rstrip("/") + "/") for p in paths for d in dirs)


def settle(ctx: Context) -> list[str]:
    """daemon-reload and networkd's reload when, and only when, their files changed."""
    failed: list[str] = []
    if not ctx.live:
        return failed
    if _under(ctx.written, UNIT_PATHS):
        try:
            ctx.run(["systemctl", "daemon-reload"])
            ctx.say("systemd: reloaded, so that the config's units see the files written for them")
        except StepError as e:
            ctx.say(f"systemd: error: {e}")
            failed.append("daemon-reload")
    if _under(ctx.written, NETWORK_PATHS) and runtime.active("systemd-networkd.service"):
        try:
            ctx.run(["networkctl", "reload"])
            ctx.say("network: systemd-networkd reloaded")
        except StepError as e:
            ctx.say(f"network: error: {e}")
            failed.append("networkd")
    return failed


def run(ctx: Context, only: str | None = None) -> int:
    failed = []
    steps = STEPS if only not in LATE_STEPS else LATE_STEPS
    for name, step in steps.items():
        if only is not None and name != only:
            continue
        try:
            step(ctx)
            ctx.results[name] = "ok"
        except StepError as e:
            ctx.say(f"{name}: error: {e}")
            failed.append(name)
        except OSError as e:
            ctx.say(f"{name}: error: {e.strerror or e}")
            failed.append(name)
        if name in failed:
            ctx.results[name] = "failed"
    failed += settle(ctx)
    if failed:
        ctx.say(f"ccgen apply: failed steps: {', '.join(failed)}")
        return 1
    return 0
