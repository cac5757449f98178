"""The ccgen command: --print, validate, schema, and the generator entry."""

from __future__ import annotations

import gc
import os
import sys

from . import __version__, boot, cache, source
from . import compile as pipeline
from .diag import Diagnostics, Severity
from .plan import File

NORMAL_DIR = "/run/systemd/generator"
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import NoReturn

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    """argparse for the less frequent commands, imported only when one of them runs."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            self.print_usage(sys.stderr)
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            raise SystemExit(EXIT_USAGE)

    return Parser(prog=prog, description=description)


def _read_named(path: str, diags: Diagnostics) -> pipeline.Input | None:
    if path == "-":
        return pipeline.Input("<stdin>", sys.stdin.buffer.read(source.MAX_BYTES + 1))
    return pipeline.read_input("/", os.path.abspath(path), diags, host=path)


class _PrintArgs:
    def __init__(self) -> None:
        self.root = "/"
        self.oem: str | None = None
        self.userdata: list[str] = []


PRINT_USAGE = "usage: ccgen --print [--root DIR] [--oem FILE] [USERDATA ...]\n"


def _print_args(argv: list[str]) -> _PrintArgs | None:
    """--print's few options by hand: argparse (and the re it imports) cost 7 ms per run."""
    a = _PrintArgs()
    it = iter(argv)
    for arg in it:
        if arg == "--print":
            continue
        if arg in ("--root", "--oem") or arg.startswith(("--root=", "--oem=")):
            name, _, value = arg.partition("=")
            value = value or next(it, "")
            if not value:
                return None
            if name == "--root":
                a.root = value
            else:
                a.oem = value
        elif arg in ("-h", "--help"):
            sys.stdout.write(PRINT_USAGE)
            raise SystemExit(EXIT_OK)
        elif arg.startswith("-") and arg != "-":
            return None
        else:
            a.userdata.append(arg)
    return a


def cmd_print(argv: list[str]) -> int:
    a = _print_args(argv)
    if a is None:
        sys.stderr.write(PRINT_USAGE)
        return EXIT_USAGE
    diags = Diagnostics()
    unreadable = False
    meta = cache.metadata(a.root)
    if a.oem is None and not a.userdata:
        inputs, meta = pipeline.usable_inputs(a.root, diags)
    else:
        named = [a.oem] if a.oem else []
        inputs = []
        if a.oem is None:
            found = pipeline.read_input(a.root, pipeline.OEM_PATH, diags)
            inputs += [found] if found is not None else []
        for path in named + a.userdata:
            inp = _read_named(path, diags)
            if inp is None:
                unreadable = True
                if not os.path.exists(path):
                    sys.stderr.write(f"{path}: no such file\n")
            else:
                inputs.append(inp)
    kernel = pipeline.kernel_options(a.root)
    plan = pipeline.compile_root(a.root, inputs, meta, kernel, diags, sys.argv[0], dict(os.environ))
    for d in diags.sorted():
        sys.stderr.write(d.format() + "\n")
    out = sys.stdout
    for entry in plan.entries():
        dest = f"{NORMAL_DIR}/{entry.path}"
        if isinstance(entry, File):
            out.write(f"--- {dest} ---\n{entry.text}\n")
        else:
            out.write(f"--- {dest} -> {entry.target} ---\n\n")
    if unreadable:
        return EXIT_USAGE
    return EXIT_ERRORS if diags.has_errors() else EXIT_OK


def cmd_validate(argv: list[str]) -> int:
    p = _parser("ccgen validate", "Check cloud-config files.")
    p.add_argument("--strict", action="store_true", help="warnings count as errors")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--root",
        metavar="IMAGE",
        help="check against the unpacked image IMAGE (default FILE: IMAGE/usr/share/oem/cloud-config.yml)",
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="a cloud-config file, or - for stdin")
    a = p.parse_args(argv)
    if not a.files and a.root is None:
        p.error("give a FILE, or --root IMAGE")
    files = a.files or [pipeline.host_path(a.root, pipeline.OEM_PATH)]
    diags = Diagnostics()
    unreadable = False
    for path in files:
        before = len(diags)
        inp = _read_named(path, diags)
        if inp is None:
            unreadable = True
            if len(diags) == before:
                sys.stderr.write(f"{path}: no such file\n")
            continue
        inp = inp if path == "-" else pipeline.Input(path, inp.data)
        config = pipeline.parse(inp, diags)
        if a.root is not None and config is not None:
            from . import imagecheck, render

            lines = {inp.path: inp.data.decode("utf-8", "replace").splitlines()}
            imagecheck.ImageChecker(a.root, lines, diags).check(render.merge_units([config]))
    found = diags.sorted()
    if a.format == "json":
        import json

        json.dump([d.as_json() for d in found], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for d in found:
            sys.stdout.write(d.format() + "\n")
    if unreadable:
        return EXIT_USAGE
    worst = Severity.WARNING if a.strict else Severity.ERROR
    return EXIT_ERRORS if any(d.severity >= worst for d in found) else EXIT_OK


def cmd_schema(argv: list[str]) -> int:
    from . import export

    p = _parser("ccgen schema", "Print the cloud-config schema.")
    p.add_argument("--format", choices=("json", "markdown"), default="json")
    a = p.parse_args(argv)
    if a.format == "markdown":
        sys.stdout.write(export.markdown())
    else:
        import json

        json.dump(export.json_schema(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    return EXIT_OK


def cmd_apply(argv: list[str]) -> int:
    from .apply import run

    p = _parser("ccgen apply", "Apply files, users, keys, hostname and network.")
    p.add_argument("--root", default="/", help="apply to the image tree under DIR instead of this system")
    p.add_argument("--boot", action="store_true", help="read the generator's inputs (OEM config and cache)")
    p.add_argument("--only", choices=sorted(run.STEPS), help="run one step")
    p.add_argument("--force", action="store_true", help="apply again what was already applied")
    p.add_argument("--record-script", metavar="SHA256", help="==SUPPRESS==")
    p.add_argument("userdata", nargs="*", help="cloud-config files to apply")
    a = p.parse_args(argv)
    if not a.boot and not a.userdata and not a.record_script:
        p.error("give USERDATA files, or --boot")
    diags = Diagnostics()
    meta = cache.metadata(a.root)
    if a.boot:
        inputs, meta = pipeline.usable_inputs(a.root, diags)
    else:
        found = [_read_named(path, diags) for path in a.userdata]
        if any(i is None for i in found):
            for d in diags.sorted():
                sys.stderr.write(d.format() + "\n")
            sys.stderr.write("ccgen apply: cannot read every input\n")
            return EXIT_USAGE
        inputs = [i for i in found if i is not None]
    ctx = run.make_context(a.root, inputs, meta, diags, force=a.force)
    if a.record_script:
        ctx.state.record("script:" + a.record_script, a.record_script)
        return EXIT_OK
    # At boot the generator already reported every warning; repeat only the errors.
    worst = Severity.ERROR if a.boot else Severity.INFO
    for d in diags.sorted():
        if d.severity >= worst:
            sys.stderr.write(d.format() + "\n")
    return run.run(ctx, a.only)


def cmd_check_inputs(argv: list[str]) -> int:
    from . import rerun

    p = _parser("ccgen check-inputs", "Compile again if the inputs changed.")
    p.add_argument("--expect", required=True, help="the digest the generator recorded")
    a = p.parse_args(argv)
    return rerun.check_inputs(a.expect, os.environ.get("CCGEN_ROOT") or "/")


USAGE = """usage: ccgen --print [--root DIR] [--oem FILE] [USERDATA ...]
       ccgen validate [--strict] [--format text|json] [--root IMAGE] [FILE...]
       ccgen schema [--format json|markdown]
       ccgen apply [--root DIR] [--only STEP] [--force] (--boot | USERDATA ...)
       ccgen fetch ec2 [--endpoint URL] [--deadline S] [--cache-dir DIR] [--reload]
       ccgen fetch configdrive [--source DIR] [--cache-dir DIR] [--reload]
       ccgen generator NORMAL-DIR [EARLY-DIR LATE-DIR]
       ccgen --version
"""


def main(argv: list[str] | None = None) -> int:
    gc.disable()  # see boot.main: a batch run without cycles
    args = sys.argv[1:] if argv is None else argv
    try:
        if not args or args[0] in ("-h", "--help", "help"):
            (sys.stdout if args else sys.stderr).write(USAGE)
            return EXIT_OK if args else EXIT_USAGE
        if args[0] == "--version":
            sys.stdout.write(f"ccgen {__version__}\n")
            return EXIT_OK
        if args[0] == "validate":
            return cmd_validate(args[1:])
        if args[0] == "schema":
            return cmd_schema(args[1:])
        if args[0] == "apply":
            return cmd_apply(args[1:])
        if args[0] == "fetch":
            from ccgen.providers import fetch

            return fetch.main(args[1:])
        if args[0] == "check-inputs":
            return cmd_check_inputs(args[1:])
        if args[0] == "generator":
            return boot.main(args[1:])
        if "--print" in args:
            return cmd_print(args)
        sys.stderr.write(USAGE)
        return EXIT_USAGE
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
