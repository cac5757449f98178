"""The pipeline: read sources, parse, validate, build the model, render a Plan."""

from __future__ import annotations

import os

from . import build, cache, compose, model, render, rules, source, subst, validate
from .diag import Diagnostics, Span
from .plan import Plan
from .system import InstalledUnits

OEM_PATH = "/usr/share/oem/cloud-config.yml"
# Lowest precedence first: CoreOS's installer drop, then ccgen's own cache.
USER_PATHS = ("/var/lib/coreos-install/user_data", "/var/lib/ccgen/user-data")


class Input:
    __slots__ = ("data", "path")

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path  # the path on the running system, used in every message and header
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Input) and (self.path, self.data) == (other.path, other.data)

    __hash__ = None  # type: ignore[assignment]


def host_path(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def read_input(root: str, path: str, diags: Diagnostics, *, host: str | None = None) -> Input | None:
    """The file's bytes; None when it is missing (a normal state) or unreadable."""
    try:
        with open(host or host_path(root, path), "rb") as f:
            data = f.read(source.MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        diags.error(Span(path, 1, 1), "read", "is a directory, not a cloud-config file")
        return None
    except OSError as e:
        diags.error(Span(path, 1, 1), "read", f"cannot read: {e.strerror or e}")
        return None
    return Input(path, data)


def default_inputs(root: str, diags: Diagnostics) -> list[Input]:
    found = (read_input(root, p, diags) for p in (OEM_PATH, *USER_PATHS))
    return [i for i in found if i is not None]


def ccgen_path(argv0: str) -> str:
    """The ccgen command installed beside the running script (generator or CLI)."""
    candidate = os.path.join(os.path.dirname(os.path.realpath(argv0)), "ccgen")
    return candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else render.CCGEN


def inputs_digest(inputs: list[Input]) -> str:
    """What the generator saw, so a later check can tell whether a mount changed it."""
    # Change detection, not security: crc32 and the length need no hashlib import at boot.
    import zlib

    crc = 0
    for inp in inputs:
        crc = zlib.crc32(b"%s\0%d\0" % (inp.path.encode(), len(inp.data)), crc)
        crc = zlib.crc32(inp.data, crc)
    return f"{crc:08x}{sum(len(i.data) for i in inputs):x}"


def usable_inputs(root: str, diags: Diagnostics) -> tuple[list[Input], dict[str, str]]:
    """The inputs and cached metadata, without a cache fetched on another machine."""
    inputs = default_inputs(root, diags)
    meta = cache.metadata(root)
    if not cache.belongs_here(root, meta):
        diags.info(
            Span(cache.METADATA, 1, 1),
            "cache-foreign",
            "the cache was fetched on another machine (a cloned image); ignored until the next fetch",
        )
        inputs = [i for i in inputs if i.path != cache.USER_DATA]
        meta = {}
    return inputs, meta


def kernel_options(root: str) -> dict[str, str]:
    try:
        with open(host_path(root, "/proc/cmdline"), encoding="utf-8", errors="replace") as f:
            words = f.read().split()
    except OSError:
        return {}
    return {k: v for k, _, v in (w.partition("=") for w in words)}


def compile_root(
    root: str,
    inputs: list[Input],
    meta: dict[str, str],
    kernel: dict[str, str],
    diags: Diagnostics,
    argv0: str,
    environ: dict[str, str],
) -> Plan:
    """What the generator writes for `inputs` on the system (or image) at `root`."""
    from . import fetchunits

    values = subst.known_values(meta, cache.read_env(root, "/etc/environment"))
    ccgen = ccgen_path(argv0)
    configs = [c for c in (parse(i, diags, values) for i in inputs) if c is not None]
    plan = render.render(
        configs, InstalledUnits(root), diags, instance=meta.get("INSTANCE_ID", ""), ccgen=ccgen
    )
    oem = next((c for c in configs if c.path == OEM_PATH), None)
    providers = fetchunits.choose(kernel, oem_id(oem), environ.get("SYSTEMD_VIRTUALIZATION", ""))
    fetchunits.render(plan, providers, ccgen, kernel.get("ccgen.ec2.endpoint"), inputs_digest(inputs))
    return plan


def oem_id(config: model.CloudConfig | None) -> str:
    coreos = config.sections.get("coreos") if config is not None else None
    if coreos is None or not isinstance(coreos.value, dict):
        return ""
    oem = coreos.value.get("oem")
    ident = oem.value.get("id") if oem is not None and isinstance(oem.value, dict) else None
    return ident.value if ident is not None and isinstance(ident.value, str) else ""


def parse(inp: Input, diags: Diagnostics, values: dict[str, str] | None = None) -> model.CloudConfig | None:
    """The document's model; `values` for substitution (None: leave variables alone)."""
    doc = source.classify(inp.path, inp.data, diags)
    if doc is None or doc.kind == source.EMPTY:
        return None
    if doc.kind == source.SCRIPT:
        if doc.compressed:
            diags.error(Span(inp.path, 1, 1), "script", "a gzip-compressed script cannot be run yet")
            return None
        return build.script(inp.path, doc.interpreter, inp.data)
    root = compose.compose(doc.text, inp.path, diags)
    top = validate.check(root, inp.path, diags)
    rules.check(top, diags)
    # Without a "$" in the document there is nothing to replace: skip walking the tree.
    return build.build(inp.path, top, diags, values if b"$" in inp.data else None)


def compile_inputs(
    inputs: list[Input],
    installed: InstalledUnits,
    diags: Diagnostics,
    values: dict[str, str] | None = None,
    instance: str = "",
    ccgen: str = render.CCGEN,
) -> Plan:
    configs = [c for c in (parse(i, diags, values or {}) for i in inputs) if c is not None]
    return render.render(configs, installed, diags, instance=instance, ccgen=ccgen)
