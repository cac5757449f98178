"""ccgen apply: every step in the original's order; a failed step does not stop the others."""

from __future__ import annotations

import os
from collections.abc import Callable

from .. import cache, compile, render, subst, unitfile
from ..diag import Diagnostics
from . import etc, files, runtime, sshkeys, users
from .context import Context, StepError
from .fs import Root
from .state import State

STEPS: dict[str, Callable[[Context], None]] = {
    "hostname": etc.step_hostname,
    "users": users.step_users,
    "keys": sshkeys.step_keys,
    "files": files.step_files,
    "oem": etc.step_oem,
    "update": etc.step_update,
    "hosts": etc.step_hosts,
    "flannel": runtime.step_flannel,
    "services": runtime.step_service_secrets,
    "environment": etc.step_environment,
    "network": runtime.step_network,
}


def make_context(
    root_path: str, inputs: list[compile.Input], meta: dict[str, str], diags: Diagnostics, *, force: bool
) -> Context:
    root = Root(root_path)
    values = subst.known_values(meta, cache.read_env(root_path, "/etc/environment"))
    configs = [c for c in (compile.parse(i, diags, values) for i in inputs) if c is not None]
    sections: dict[str, list[object]] = {}
    coreos: dict[str, list[object]] = {}
    for config in configs:
        for key, val in config.sections.items():
            sections.setdefault(key, []).append(val)
            if key == "coreos" and isinstance(val.value, dict):
                for sub, subval in val.value.items():
                    coreos.setdefault(sub, []).append(subval)
    foreign = not cache.belongs_here(root_path, cache.metadata(root_path))
    keys_file = b"" if foreign else cache.read_bytes(root_path, cache.SSH_KEYS)
    return Context(
        root=root,
        live=os.path.realpath(root_path) == "/",
        state=State(root, meta.get("INSTANCE_ID", ""), force),
        metadata=meta,
        ssh_keys=keys_file.decode("utf-8", "replace").splitlines(),
        sections=sections,  # type: ignore[arg-type]
        coreos=coreos,  # type: ignore[arg-type]
        network_units=[u for u in render.merge_units(configs).values() if unitfile.is_network(u.name)],
    )


def run(ctx: Context, only: str | None = None) -> int:
    failed = []
    for name, step in STEPS.items():
        if only is not None and name != only:
            continue
        try:
            step(ctx)
        except StepError as e:
            ctx.say(f"{name}: error: {e}")
            failed.append(name)
        except OSError as e:
            ctx.say(f"{name}: error: {e.strerror or e}")
            failed.append(name)
    if failed:
        ctx.say(f"ccgen apply: failed steps: {', '.join(failed)}")
        return 1
    return 0
