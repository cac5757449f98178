"""ccgen-generator: what systemd runs at boot and on every daemon-reload.

First the precompiled plan (replay.py): when every input it was made from is
unchanged, it is written as it is.  Otherwise the full pipeline runs, and its
plan is left in the output directory for ccgen-apply to keep (docs/generator.md).
The generator's start-up is the boot's, so this module imports only gc, posix
and sys, all built into the interpreter (not os: see fingerprint.py), and each
path imports what it needs when it runs: the replay path loads five small
modules, the full pipeline the rest.  No `from __future__` here.
"""

import gc
import posix
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ccgen.base.diag import Diagnostics

NAME = "ccgen"
_FALSE = ("0", "no", "false", "off")
INFO, WARNING, ERROR = 0, 1, 2  # diag.Severity's numbers


class Outcome:
    """What a run wrote and said: its mode (full, replayed, disabled) and the lines it logs."""

    __slots__ = ("failed", "lines", "mode")

    def __init__(self, mode: str, lines: "list[tuple[int, str]]", failed: int = 0) -> None:
        self.mode = mode
        self.lines = lines  # (severity, message)
        self.failed = failed

    def has_errors(self) -> bool:
        return any(severity == ERROR for severity, _ in self.lines)


def may_replay(root: str) -> bool:
    """No ccgen.enable=0 or ccgen.plan=0 on the kernel command line.  Both are decided by the
    full path (it records "disabled"); a plan made under either would otherwise replay."""
    from ccgen.bootpath.fingerprint import host_path, read_file

    try:
        data = read_file(host_path(root, "/proc/cmdline"), 64 * 1024) or b""
    except OSError:
        return False
    for word in data.decode("utf-8", "replace").split():
        key, _, value = word.partition("=")
        if key in ("ccgen.enable", "ccgen.plan") and value.lower() in _FALSE:
            return False
    return True


def _extra(outdir: str, name: str, data: bytes, mode: int) -> None:
    """A file of ccgen's own beside the units (systemd ignores hidden names), by the same
    writer; unlike a unit, one that cannot be written is not skipped but fails the run."""
    from ccgen.bootpath.write import write_entries

    def fail(path: str, e: Exception) -> None:
        raise e

    write_entries([("f", name, data, mode)], outdir, fail)


def compile_and_write(
    outdir: str, root: str, diags: "Diagnostics", environ: "dict[str, str]", argv0: str
) -> Outcome:
    """The full pipeline: read, compile, write, and leave the plan for ccgen-apply."""
    from ccgen.base import names, record
    from ccgen.base.diag import Span
    from ccgen.bootpath import planfile
    from ccgen.bootpath.write import write_plan
    from ccgen.read.inputs import Reader, kernel_options

    from . import compile as pipeline

    reader = Reader(root, environ, argv0=argv0)
    kernel = kernel_options(reader)
    if kernel.get("ccgen.enable", "1").lower() in _FALSE:
        diags.info(
            Span("/proc/cmdline", 1, 1),
            "disabled",
            "ccgen.enable=0 on the kernel command line",
            "nothing generated",
        )
        found = diags.sorted()
        _extra(outdir, record.NAME, record.with_mode(record.render([], found), "disabled").encode(), 0o644)
        return Outcome("disabled", [(int(d.severity), d.format()) for d in found])

    def report(path: str, e: Exception) -> None:
        diags.error(Span(path, 1, 1), "write", f"cannot write {path}", str(e))

    compiled = pipeline.compile_boot(reader, diags, kernel)
    failed = write_plan(compiled.plan, outdir, report)
    found = diags.sorted()
    text = record.render(compiled.fields, found)
    if not failed:
        # Handed over through /run: the generator may write nowhere else; ccgen-apply keeps it.
        _extra(outdir, names.PLAN_CANDIDATE, planfile.dump(reader, compiled.plan, found, text), 0o600)
    _extra(outdir, record.NAME, record.with_mode(text, "full").encode(), 0o644)
    return Outcome("full", [(int(d.severity), d.format()) for d in found], failed)


def generate(
    outdir: str,
    root: str,
    diags: "Diagnostics | None" = None,
    environ: "dict[str, str] | None" = None,
    argv0: "str | None" = None,
) -> Outcome:
    """Replay the stored plan when nothing changed, else compile; write either way."""
    environ = process_environ() if environ is None else environ
    argv0 = argv0 or sys.argv[0]
    if may_replay(root):
        from ccgen.bootpath import replay

        try:
            replayed = replay.replay(root, environ, argv0, outdir)
        except Exception:  # whatever a plan does to the replay, the full compile still runs
            replayed = None
        if replayed is not None:
            return Outcome("replayed", list(replayed.lines), replayed.failed)
    if diags is None:
        from ccgen.base.diag import Diagnostics

        diags = Diagnostics()
    return compile_and_write(outdir, root, diags, environ, argv0)


def process_environ() -> "dict[str, str]":
    """os.environ's contents, without importing os when nothing else has."""
    os = sys.modules.get("os")
    if os is not None:
        return dict(os.environ)
    return {
        k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape")
        for k, v in posix.environ.items()
    }


USAGE = """usage: ccgen-generator NORMAL-DIR [EARLY-DIR LATE-DIR]

The systemd generator: systemd runs it at boot and at every daemon-reload, and it writes
ccgen's units into NORMAL-DIR (docs/generator.md). To see what it would write, run
`ccgen --print`.
"""


def main(argv: "list[str] | None" = None) -> int:
    # A short batch run whose objects form no cycles: the cyclic collector only
    # re-walks the growing tree (it made 5000 units cost 7x 1000, not 5x).
    gc.disable()
    args = sys.argv[1:] if argv is None else argv
    from ccgen.bootpath.log import Log, run_by_systemd

    log = Log(NAME, kmsg=run_by_systemd())
    try:
        environ = process_environ()
        if environ.get("SYSTEMD_IN_INITRD") == "1":
            return 0
        for arg in args:
            if arg in ("-h", "--help"):
                sys.stdout.write(USAGE)
                return 0
            if arg.startswith("-"):
                log.write(ERROR, f"unrecognized option {arg}; {USAGE.splitlines()[0]}")
                return 2
        if len(args) not in (1, 3):
            log.write(ERROR, USAGE.splitlines()[0])
            return 2
        outcome = generate(args[0], environ.get("CCGEN_ROOT") or "/", environ=environ)
        for severity, line in outcome.lines:
            log.write(severity, line)
        if outcome.mode == "replayed":
            log.write(INFO, "replayed the precompiled plan: no input changed")
        return 1 if outcome.has_errors() else 0
    except Exception as e:
        if posix.environ.get(b"CCGEN_DEBUG") == b"1":
            raise
        log.write(ERROR, f"internal error: {type(e).__name__}: {e}")
        return 1
    finally:
        log.close()
