"""The pipeline: read, classify, parse, validate, build the model, render a Plan."""

from __future__ import annotations

from ccgen.base import cache, names
from ccgen.base.diag import Diagnostic, Diagnostics, Severity
from ccgen.bootpath.plan import Plan
from ccgen.lang import build, model, schema, subst, validate
from ccgen.read import compose, inputs, kinds, source
from ccgen.read.inputs import Input, Reader
from ccgen.read.system import InstalledUnits
from ccgen.units import render

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Includes = Callable[[str], "bytes | None"]


def parse(
    inp: Input, diags: Diagnostics, values: dict[str, str] | None = None, includes: Includes | None = None
) -> model.CloudConfig | None:
    """The document's model; `values` for substitution (None: leave variables alone);
    `includes` answers an #include's URL from the cache (None: not looked up).  A failure
    of ccgen's own costs only this document: it is reported, and the other inputs, ccgen's
    units, the fetch and error units are still generated."""
    from ccgen.base.diag import Span

    try:
        return _parse(inp, diags, values, includes)
    except Exception as e:  # a defect, not bad input: bad input is a diagnostic already
        diags.error(
            Span(inp.path, 1, 1),
            "internal",
            "this document could not be read",
            f"{type(e).__name__}: {str(e)[:200]}; the document is left out",
        )
        return None


def _parse(
    inp: Input, diags: Diagnostics, values: dict[str, str] | None, includes: Includes | None
) -> model.CloudConfig | None:
    doc = source.classify(inp.path, inp.data, diags)
    if doc is None or doc.kind == kinds.EMPTY:
        return None
    if doc.kind == kinds.SCRIPT and not doc.compressed:
        return build.script(inp.path, doc.interpreter, inp.data)
    if doc.kind != kinds.CLOUD_CONFIG:
        # MIME multi-part, #include, a gzip'd script: userdata.py, imported only for them.
        from ccgen.lang import userdata

        return userdata.parse(inp, doc, diags, values, includes)
    root = compose.compose(doc.text, inp.path, diags)
    top = validate.check(root, inp.path, diags)
    # Without a "$" in the document there is nothing to replace: skip walking the tree.
    return build.build(inp.path, top, diags, values if b"$" in inp.data else None)


def configs(
    inputs_: list[Input],
    diags: Diagnostics,
    values: dict[str, str] | None,
    includes: Includes | None = None,
    usr: Callable[[], str] | None = None,
) -> list[model.CloudConfig]:
    """Each input's model; `usr` says whether /usr is read-only where it applies
    (inputs.usr_state; None: not known, as for plain `validate`)."""
    usr_ = usr or (lambda: inputs.USR_UNKNOWN)
    found = (parse(i, diags, values, includes) for i in inputs_)
    return [build.usr_checked(c, usr_, diags) for c in found if c is not None]


def cached_includes(reader: Reader) -> Includes:
    """What the fetch unit stored for each URL an #include names (docs/providers.md)."""

    def read(url: str) -> bytes | None:
        try:
            return reader.read(cache.include_path(url))
        except OSError:
            return None

    return read


def merged(found: list[model.CloudConfig]) -> model.CloudConfig | None:
    return model.merge(found, schema.MERGE_ORDER) if found else None


def substitution_values(reader: Reader, meta: cache.Metadata, found: list[Input]) -> dict[str, str]:
    """$public_ipv4 & co.: the metadata's values, and /etc/environment's for the ones it
    lacks.  Read only when a config uses a variable, so that a config without one does not
    depend on /etc/environment (which ccgen apply itself changes)."""
    # MIME, gzip and #include inputs may hold variables their first bytes do not show.
    if not any(b"$" in i.data or not i.data.startswith((b"#cloud-config", b"#!")) for i in found):
        return {}
    values = subst.known_values(meta, {})
    missing = tuple(subst.VARIABLES[var][1] for var, value in values.items() if not value)
    if not missing:
        return values
    return subst.known_values(meta, reader.env_values("/etc/environment", missing))


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


def inputs_may_appear_late(
    reader: Reader, installed: InstalledUnits, defined: frozenset[str] = frozenset()
) -> bool:
    """Whether /var or the OEM partition is a mount of its own that the generator may run
    before (an fstab line, or a .mount unit for it or a parent, installed or `defined` by the
    config itself): only then is ccgen-inputs.service needed (docs/generator.md)."""
    prefixes = set()
    for d in _INPUT_DIRS:
        parts = d.strip("/").split("/")
        prefixes |= {"/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)}
    for line in reader.text("/etc/fstab").splitlines():
        words = line.split()
        if len(words) >= 2 and not words[0].startswith("#") and words[1].rstrip("/") in prefixes:
            return True
    from ccgen.base.unitfile import mount_unit

    mounts = [mount_unit(p) for p in sorted(prefixes)]
    return any(m in defined or installed.find(m) is not None for m in mounts)


class Compiled:
    """A compile's plan, and what the generator records about it for `ccgen status`."""

    __slots__ = ("fields", "plan")

    def __init__(self, plan: Plan, fields: list[tuple[str, str]]) -> None:
        self.plan = plan
        self.fields = fields


def apply_stamp(
    reader: Reader, found: list[Input], meta: cache.Metadata, values: dict[str, str] | None = None
) -> str:
    """Names what ccgen-apply acts on: every input, the cache's metadata, keys and network
    data, and the substitution values in use.  Apply leaves a file of this name when it succeeded, and
    its unit is skipped while that file exists (docs/apply.md)."""
    from ccgen.bootpath.digest import hexdigest

    from . import __version__

    parts = [__version__.encode(), meta.to_env().encode()]
    for inp in found:
        parts += [inp.path.encode(), inp.data]
    for path in (cache.SSH_KEYS, cache.NETWORK):
        try:
            parts.append(reader.read(path) or b"")
        except OSError as e:
            parts.append(f"error {e.errno}".encode())
    if values is None:
        values = substitution_values(reader, meta, found)
    parts += [f"{k}={v}".encode() for k, v in sorted(values.items())]
    return hexdigest(*parts)[:32]


def compile_root(
    reader: Reader,
    found: list[Input],
    meta: cache.Metadata,
    kernel: dict[str, str],
    diags: Diagnostics,
) -> Compiled:
    """What the generator writes for `found` on the system (or image) under the reader's root."""
    import zlib

    from ccgen.providers import registry

    from . import __version__

    installed = InstalledUnits(reader)
    values = substitution_values(reader, meta, found)
    parsed = configs(found, diags, values, cached_includes(reader), lambda: inputs.usr_state(reader))
    config = merged(parsed)
    oem = next((c for c in parsed if c.paths == (inputs.OEM_PATH,)), None)
    oem_settings = oem.section("oem") if oem is not None else None
    oem_id = oem_settings.value("id") if oem_settings is not None else ""
    chosen = registry.choose(reader, kernel, oem_id)
    errors: dict[str, list[Diagnostic]] = {}
    for d in diags.sorted():
        if d.severity == Severity.ERROR and d.span.file in {i.path for i in found}:
            errors.setdefault(d.span.file, []).append(d)
    stamp = cache.stamp_path(apply_stamp(reader, found, meta, values))
    defined = frozenset(u.name for u in config.units) if config is not None else frozenset()
    settings = render.Settings(
        installed,
        ccgen=inputs.ccgen_path(reader),
        instance=meta.instance_id,
        fetch=[(p, kernel.get(f"ccgen.{p.name}.endpoint") or None) for p in chosen],
        blocking_fetch=not meta.known,
        inputs_digest=inputs_digest(found) if inputs_may_appear_late(reader, installed, defined) else None,
        apply_conditions=[f"|!{stamp}", f"|{names.NORMAL_DIR}/{names.PLAN_CANDIDATE}"],
        errors=errors,
    )
    plan = render.render(config, settings, diags)
    fields = [
        ("version", __version__),
        ("instance", meta.instance_id),
        ("cache", meta.state or cache.UNKNOWN),
    ]
    fields += [("input", f"{i.path}\t{len(i.data)}\t{zlib.crc32(i.data):08x}") for i in found]
    fields += [("provider", p.name) for p in chosen]
    fields.append(("stamp", stamp))
    return Compiled(plan, fields)


def compile_boot(reader: Reader, diags: Diagnostics, kernel: dict[str, str] | None = None) -> Compiled:
    """The generator's compile: its inputs, as found under the reader's root."""
    if kernel is None:
        kernel = inputs.kernel_options(reader)
    found, meta = inputs.boot_inputs(reader, diags)
    return compile_root(reader, found, meta, kernel, diags)


def compile_inputs(found: list[Input], diags: Diagnostics, values: dict[str, str] | None = None) -> Plan:
    """Named files only, as on a machine with nothing installed (tests and docs)."""
    config = merged(configs(found, diags, values or {}))
    return render.render(config, render.Settings(InstalledUnits(Reader("/nonexistent"))), diags)
