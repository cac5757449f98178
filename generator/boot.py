"""ccgen-generator: what systemd runs at boot and on every daemon-reload.

First the precompiled plan (replay.py): when every input it was made from is
unchanged, it is written as it is.  Otherwise the full pipeline runs, and its
plan is left in the output directory for ccgen-apply to keep (docs/generator.md).
Imports are kept to what each path needs; no argparse, json or logging here.
"""

from __future__ import annotations

import gc
import os
import sys

from . import names, record
from .diag import Diagnostic, Diagnostics, Severity, Span
from .inputs import Reader, kernel_options
from .log import Log, run_by_systemd
from .plan import Plan

NAME = "ccgen"
_FALSE = ("0", "no", "false", "off")


class Outcome:
    """What a run wrote and said: its mode (full, replayed, disabled) and diagnostics."""

    __slots__ = ("diagnostics", "failed", "mode")

    def __init__(self, mode: str, diagnostics: list[Diagnostic], failed: int = 0) -> None:
        self.mode = mode
        self.diagnostics = diagnostics
        self.failed = failed


def _write(plan: Plan, outdir: str, diags: Diagnostics) -> int:
    from .write import write_plan

    def report(path: str, e: Exception) -> None:
        diags.error(Span(path, 1, 1), "write", f"cannot write {path}", str(e))

    return write_plan(plan, outdir, report)


def _extra(outdir: str, name: str, data: bytes, mode: int) -> None:
    """A file of ccgen's own beside the units (systemd ignores hidden names)."""
    from . import atomic

    fd = os.open(outdir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        atomic.write_at(fd, name, data, mode=mode, sync=False)
    finally:
        os.close(fd)


def generate(
    outdir: str,
    root: str,
    diags: Diagnostics,
    environ: dict[str, str] | None = None,
    argv0: str | None = None,
) -> Outcome:
    """Compile (or replay) and write."""
    reader = Reader(root, dict(os.environ) if environ is None else environ, argv0=argv0 or sys.argv[0])
    kernel = kernel_options(reader)
    if kernel.get("ccgen.enable", "1").lower() in _FALSE:
        diags.info(
            Span("/proc/cmdline", 1, 1),
            "disabled",
            "ccgen.enable=0 on the kernel command line",
            "nothing generated",
        )
        _extra(
            outdir,
            record.NAME,
            record.with_mode(record.render([], diags.sorted()), "disabled").encode(),
            0o644,
        )
        return Outcome("disabled", diags.sorted())
    if kernel.get("ccgen.plan", "1").lower() not in _FALSE:
        from . import replay

        stored = replay.stored_plan(Reader(root, reader.environ, argv0=reader.argv0))
        if stored is not None:
            failed = _write(stored.plan(), outdir, diags)
            found = stored.diags() + diags.sorted()
            _extra(outdir, record.NAME, record.with_mode(stored.record, "replayed").encode(), 0o644)
            return Outcome("replayed", found, failed)
    from . import compile as pipeline
    from . import planfile

    compiled = pipeline.compile_boot(reader, diags)
    failed = _write(compiled.plan, outdir, diags)
    found = diags.sorted()
    text = record.render(compiled.fields, found)
    if not failed:
        # Handed over through /run: the generator may write nowhere else; ccgen-apply keeps it.
        _extra(outdir, names.PLAN_CANDIDATE, planfile.dump(reader, compiled.plan, found, text), 0o600)
    _extra(outdir, record.NAME, record.with_mode(text, "full").encode(), 0o644)
    return Outcome("full", found, failed)


def main(argv: list[str] | None = None) -> int:
    # A short batch run whose objects form no cycles: the cyclic collector only
    # re-walks the growing tree (it made 5000 units cost 7x 1000, not 5x).
    gc.disable()
    args = sys.argv[1:] if argv is None else argv
    log = Log(NAME, kmsg=run_by_systemd())
    try:
        if os.environ.get("SYSTEMD_IN_INITRD") == "1":
            return 0
        if len(args) not in (1, 3):
            log.write(Severity.ERROR, "usage: ccgen-generator NORMAL-DIR [EARLY-DIR LATE-DIR]")
            return 2
        outcome = generate(args[0], os.environ.get("CCGEN_ROOT") or "/", Diagnostics())
        for d in outcome.diagnostics:
            log.diagnostic(d)
        if outcome.mode == "replayed":
            log.write(Severity.INFO, "replayed the precompiled plan: no input changed")
        return 1 if any(d.severity == Severity.ERROR for d in outcome.diagnostics) else 0
    except Exception as e:
        if os.environ.get("CCGEN_DEBUG") == "1":
            raise
        log.write(Severity.ERROR, f"internal error: {type(e).__name__}: {e}")
        return 1
    finally:
        log.close()
