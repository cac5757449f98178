"""The pipeline: read, classify, parse, validate, build the model, render a Plan."""

from __future__ import annotations

import os

from . import build, cache, compose, inputs, model, names, render, schema, source, subst, validate
from .diag import Diagnostic, Diagnostics, Severity
from .inputs import Input, Reader
from .plan import Plan
from .system import InstalledUnits

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Includes = Callable[[str], "bytes | None"]

# Each settings section's key order, for merging (model.merge keeps the table's order).
ORDER = {k.name: tuple(c.name for c in k.children) for k in schema.COREOS if k.kind == schema.STRUCT}


def parse(
    inp: Input, diags: Diagnostics, values: dict[str, str] | None = None, includes: Includes | None = None
) -> model.CloudConfig | None:
    """The document's model; `values` for substitution (None: leave variables alone);
    `includes` answers an #include's URL from the cache (None: not looked up)."""
    doc = source.classify(inp.path, inp.data, diags)
    if doc is None or doc.kind == source.EMPTY:
        return None
    if doc.kind == source.SCRIPT and not doc.compressed:
        return build.script(inp.path, doc.interpreter, inp.data)
    if doc.kind != source.CLOUD_CONFIG:
        # MIME multi-part, #include, a gzip'd script: userdata.py, imported only for them.
        from . import userdata

        return userdata.parse(inp, doc, diags, values, includes)
    root = compose.compose(doc.text, inp.path, diags)
    top = validate.check(root, inp.path, diags)
    # Without a "$" in the document there is nothing to replace: skip walking the tree.
    return build.build(inp.path, top, diags, values if b"$" in inp.data else None)


def configs(
    inputs_: list[Input], diags: Diagnostics, values: dict[str, str] | None, includes: Includes | None = None
) -> list[model.CloudConfig]:
    return [c for c in (parse(i, diags, values, includes) for i in inputs_) if c is not None]


def cached_includes(reader: Reader) -> Includes:
    """What the fetch unit stored for each URL an #include names (docs/providers.md)."""

    def read(url: str) -> bytes | None:
        try:
            return reader.read(cache.include_path(url))
        except OSError:
            return None

    return read


def merged(found: list[model.CloudConfig]) -> model.CloudConfig | None:
    return model.merge(found, ORDER) if found else None


def ccgen_path(reader: Reader, argv0: str) -> str:
    """The ccgen command installed beside the running script (generator or CLI)."""
    candidate = os.path.join(os.path.dirname(os.path.realpath(argv0)), "ccgen")
    return candidate if reader.executable(candidate) else names.CCGEN


def substitution_values(reader: Reader, meta: cache.Metadata) -> dict[str, str]:
    return subst.known_values(meta, cache.parse_env(reader.text("/etc/environment")))


def inputs_digest(found: list[Input]) -> str:
    """What the generator saw, so a later check can tell whether a mount changed it."""
    # Change detection, not security: crc32 and the length need no hashlib import at boot.
    import zlib

    crc = 0
    for inp in found:
        crc = zlib.crc32(b"%s\0%d\0" % (inp.path.encode(), len(inp.data)), crc)
        crc = zlib.crc32(inp.data, crc)
    return f"{crc:08x}{sum(len(i.data) for i in found):x}"


# The directories whose separate mount would hide an input from the generator.
_INPUT_DIRS = ("/usr/share/oem", "/var/lib/ccgen", "/var/lib/coreos-install")


def inputs_may_appear_late(reader: Reader, installed: InstalledUnits) -> bool:
    """Whether /var or the OEM partition is a mount of its own that the generator may run
    before (an fstab line or a .mount unit for it or a parent): only then is
    ccgen-inputs.service needed (docs/generator.md)."""
    prefixes = set()
    for d in _INPUT_DIRS:
        parts = d.strip("/").split("/")
        prefixes |= {"/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)}
    for line in reader.text("/etc/fstab").splitlines():
        words = line.split()
        if len(words) >= 2 and not words[0].startswith("#") and words[1].rstrip("/") in prefixes:
            return True
    from .unitfile import mount_unit

    return any(installed.find(mount_unit(p)) is not None for p in sorted(prefixes))


def compile_root(
    reader: Reader,
    found: list[Input],
    meta: cache.Metadata,
    kernel: dict[str, str],
    diags: Diagnostics,
    argv0: str,
) -> Plan:
    """What the generator writes for `found` on the system (or image) under the reader's root."""
    from ccgen.providers import registry

    installed = InstalledUnits(reader)
    parsed = configs(found, diags, substitution_values(reader, meta), cached_includes(reader))
    config = merged(parsed)
    oem = next((c for c in parsed if c.paths == (inputs.OEM_PATH,)), None)
    oem_settings = oem.section("oem") if oem is not None else None
    oem_id = oem_settings.value("id") if oem_settings is not None else ""
    chosen = registry.choose(kernel, oem_id, reader.env("SYSTEMD_VIRTUALIZATION"))
    errors: dict[str, list[Diagnostic]] = {}
    for d in diags.sorted():
        if d.severity == Severity.ERROR and d.span.file in {i.path for i in found}:
            errors.setdefault(d.span.file, []).append(d)
    settings = render.Settings(
        installed,
        ccgen=ccgen_path(reader, argv0),
        instance=meta.instance_id,
        fetch=[(p, kernel.get(f"ccgen.{p.name}.endpoint") or None) for p in chosen],
        blocking_fetch=not meta.known,
        inputs_digest=inputs_digest(found) if inputs_may_appear_late(reader, installed) else None,
        errors=errors,
    )
    return render.render(config, settings, diags)


def compile_boot(reader: Reader, diags: Diagnostics, argv0: str) -> Plan:
    """The generator's compile: its inputs, as found under the reader's root."""
    kernel = inputs.kernel_options(reader)
    found, meta = inputs.boot_inputs(reader, diags)
    return compile_root(reader, found, meta, kernel, diags, argv0)


def compile_inputs(found: list[Input], diags: Diagnostics, values: dict[str, str] | None = None) -> Plan:
    """Named files only, as on a machine with nothing installed (tests and docs)."""
    config = merged(configs(found, diags, values or {}))
    return render.render(config, render.Settings(InstalledUnits(Reader("/nonexistent"))), diags)
