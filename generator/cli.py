"""The ccgen command: --print, validate, schema, apply, fetch, and the generator entry."""

from __future__ import annotations

import gc
import os
import sys

from ccgen.base import cache, names
from ccgen.base.diag import Diagnostic, Diagnostics, Severity
from ccgen.bootpath.plan import File
from ccgen.read import inputs

from . import __version__

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


def _read_all(paths: list[str], diags: Diagnostics) -> list[inputs.Input] | None:
    """Every named input, or None (reported) when one cannot be read."""
    found = [inputs.read_named(p, diags) for p in paths]
    if any(i is None for i in found):
        return None
    return [i for i in found if i is not None]


class _PrintArgs:
    def __init__(self) -> None:
        self.root = "/"
        self.oem: str | None = None
        self.userdata: list[str] = []
        self.seen_print = False
        self.bad = ""  # why the arguments were refused


PRINT_USAGE = "usage: ccgen --print [--root DIR] [--oem FILE] [USERDATA ...]\n"


def _print_args(argv: list[str]) -> _PrintArgs:
    """--print's few options by hand: argparse (and the re it imports) cost 7 ms per run.
    What is wrong with the arguments, if anything, is in `bad`."""
    a = _PrintArgs()
    it = iter(argv)
    for arg in it:
        if arg == "--print":
            a.seen_print = True
        elif arg in ("--root", "--oem") or arg.startswith(("--root=", "--oem=")):
            name, eq, value = arg.partition("=")
            if not eq:
                value = next(it, "")
            if not value:
                a.bad = f"{name} needs a value"
                return a
            if name == "--root":
                a.root = value
            else:
                a.oem = value
        elif arg in ("-h", "--help"):
            sys.stdout.write(PRINT_USAGE)
            raise SystemExit(EXIT_OK)
        elif arg == "--":
            a.userdata += list(it)
        elif arg.startswith("-") and arg != "-":
            a.bad = f"unrecognized option {arg.partition('=')[0]}"
            return a
        else:
            a.userdata.append(arg)
    if not a.seen_print:
        a.bad = "give a command, or --print"
    return a


def _show(found: list[Diagnostic]) -> None:
    for d in found:
        sys.stderr.write(d.format() + "\n")


def cmd_print(argv: list[str]) -> int:
    from . import compile as pipeline

    a = _print_args(argv)
    if a.bad:
        sys.stderr.write(f"{PRINT_USAGE}ccgen: error: {a.bad}\n")
        return EXIT_USAGE
    gc.disable()  # see boot.main: a batch run without cycles
    diags = Diagnostics()
    reader = inputs.Reader(a.root, dict(os.environ), argv0=sys.argv[0])
    kernel = inputs.kernel_options(reader)
    if a.oem is None and not a.userdata:
        if not os.path.isdir(a.root):
            sys.stderr.write(f"ccgen: error: --root {a.root}: no such directory\n")
            return EXIT_USAGE
        found, meta = inputs.boot_inputs(reader, diags)
        if not found:
            looked = ", ".join(inputs.host_path(a.root, p) for p in inputs.boot_input_paths())
            sys.stderr.write(f"ccgen: no cloud-config found (looked for {looked}); nothing to compile\n")
    else:
        meta = cache.metadata(reader)
        named = _read_all(([a.oem] if a.oem else []) + a.userdata, diags)
        if named is None:
            _show(diags.sorted())
            return EXIT_USAGE
        oem = [] if a.oem else [inputs.read_input(reader, inputs.OEM_PATH, diags)]
        found = [i for i in oem if i is not None] + named
    plan = pipeline.compile_root(reader, found, meta, kernel, diags).plan
    _show(diags.sorted())
    out = sys.stdout
    for entry in plan.entries():
        dest = f"{names.NORMAL_DIR}/{entry.path}"
        if isinstance(entry, File):
            out.write(f"--- {dest} ---\n{entry.text}\n")
        else:
            out.write(f"--- {dest} -> {entry.target} ---\n\n")
    _print_platform_network(reader)
    return EXIT_ERRORS if diags.has_errors() else EXIT_OK


def _print_platform_network(reader: inputs.Reader) -> None:
    """What ccgen apply installs from the cache's network data (docs/providers.md)."""
    try:
        data = reader.read(cache.NETWORK, 64 * 1024 * 1024)
    except OSError:
        return
    if data is None or not cache.belongs_here(reader, cache.metadata(reader)):
        return
    from .providers.netconf import render, stored

    _, links, problems = stored.convert(data)
    for p in problems:
        sys.stderr.write(f"platform network: {p.format()}\n")
    for name, (text, where) in render.render(links).items():
        sys.stdout.write(f"--- {render.DIR}/{name} (from the platform: {where}) ---\n{text}\n")


def cmd_validate(argv: list[str]) -> int:
    from ccgen.lang import build

    from . import compile as pipeline

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
    files = a.files or [inputs.host_path(a.root, inputs.OEM_PATH)]
    # /usr as the image has it (fstab, os-release); without an image, not known: a warning.
    image = inputs.Reader(a.root) if a.root is not None else None

    def usr() -> str:
        return inputs.usr_state(image) if image is not None else inputs.USR_UNKNOWN

    diags = Diagnostics()
    unreadable = False
    for path in files:
        inp = inputs.read_named(path, diags)
        if inp is None:
            unreadable = True
            continue
        config = pipeline.parse(inp, diags)
        if config is not None:
            config = build.usr_checked(config, usr, diags)
        if a.root is not None and config is not None:
            from . import imagecheck

            lines = {inp.path: inp.data.decode("utf-8", "replace").splitlines()}
            imagecheck.ImageChecker(a.root, lines, diags).check({u.name: u for u in config.units})
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
    from ccgen.lang import export

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
    p.add_argument("--only", choices=sorted([*run.STEPS, *run.LATE_STEPS]), help="run one step")
    p.add_argument("--force", action="store_true", help="apply again what was already applied")
    p.add_argument("--record-script", metavar="SHA256", help="==SUPPRESS==")
    p.add_argument("userdata", nargs="*", help="cloud-config files to apply")
    a = p.parse_args(argv)
    if not a.boot and not a.userdata and not a.record_script:
        p.error("give USERDATA files, or --boot")
    diags = Diagnostics()
    reader = inputs.Reader(a.root)
    if a.boot:
        found, meta = inputs.boot_inputs(reader, diags)
    else:
        meta = cache.metadata(reader)
        named = _read_all(a.userdata, diags)
        if named is None:
            _show(diags.sorted())
            sys.stderr.write("ccgen apply: cannot read every input\n")
            return EXIT_USAGE
        found = named
    ctx = run.make_context(a.root, found, meta, diags, force=a.force)
    if a.record_script:
        ctx.state.record("script:" + a.record_script, a.record_script)
        # It ran: its copy is needed no more, and ccgen-apply, which would remove it, is
        # skipped on boots where nothing changed (its condition).
        if all(c in "0123456789abcdef" for c in a.record_script):
            ctx.root.remove(cache.script_path(a.record_script))
        return EXIT_OK
    # At boot the generator already reported every warning; repeat only the errors.
    worst = Severity.ERROR if a.boot else Severity.INFO
    for d in diags.sorted():
        if d.severity >= worst:
            sys.stderr.write(d.format() + "\n")
    if a.boot:
        from .apply import boot as at_boot

        at_boot.keep_plan(ctx)
    status = run.run(ctx, a.only)
    # What validate calls an error was refused here too; say so in the exit status.
    status = status or (EXIT_ERRORS if diags.has_errors() else EXIT_OK)
    if a.boot and a.only is None:
        from . import compile as pipeline
        from .apply import boot as at_boot

        if status == EXIT_OK:
            at_boot.leave_stamp(ctx, cache.stamp_path(pipeline.apply_stamp(reader, found, meta)))
        at_boot.record(ctx, status, [d for d in diags.sorted() if d.severity >= Severity.ERROR])
    return status


def cmd_check_inputs(argv: list[str]) -> int:
    from ccgen.providers import reload

    from . import compile as pipeline

    p = _parser("ccgen check-inputs", "Compile again if the inputs changed.")
    p.add_argument("--expect", required=True, help="the digest the generator recorded")
    a = p.parse_args(argv)
    reader = inputs.Reader(os.environ.get("CCGEN_ROOT") or "/")
    found, _ = inputs.boot_inputs(reader, Diagnostics())
    if pipeline.inputs_digest(found) == a.expect:
        return EXIT_OK
    sys.stderr.write("ccgen: inputs changed since the generator ran; compiling again\n")
    return reload.reload_and_start()


def cmd_status(argv: list[str]) -> int:
    from . import status

    p = _parser("ccgen status", "What ccgen did at this boot.")
    p.add_argument(
        "--wait", action="store_true", help="wait until nothing ccgen started is queued or running"
    )
    p.add_argument("--timeout", type=float, default=status.WAIT_DEFAULT, help="seconds --wait waits at most")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--root", default="/", help="an image's tree instead of this system")
    a = p.parse_args(argv)
    return status.main(a.root, a.format, a.wait, a.timeout)


def cmd_prime(argv: list[str]) -> int:
    """The precompiled plan for an image, so that even its first boot replays it."""
    from ccgen.base import record
    from ccgen.bootpath import planfile

    from . import compile as pipeline
    from .apply.fs import Root

    p = _parser("ccgen prime", "Write the precompiled plan into an image.")
    p.add_argument("--root", required=True, metavar="DIR", help="the image's tree")
    p.add_argument("--cmdline", default="", help="the kernel command line the image will boot with")
    p.add_argument("--virtualization", default="", help="what SYSTEMD_VIRTUALIZATION will say (e.g. vm:kvm)")
    p.add_argument(
        "--generator",
        default="/usr/lib/systemd/system-generators/ccgen-generator",
        help="where the image has ccgen-generator",
    )
    a = p.parse_args(argv)
    from ccgen.bootpath.fingerprint import realpath

    env = {"SYSTEMD_VIRTUALIZATION": a.virtualization} if a.virtualization else {}
    # The booted generator records its directory with links resolved (/lib -> usr/lib).
    argv0 = realpath(a.generator, a.root) if a.generator.startswith("/") else a.generator
    reader = inputs.Reader(a.root, env, overrides={"/proc/cmdline": a.cmdline.encode() + b"\n"}, argv0=argv0)
    diags = Diagnostics()
    compiled = pipeline.compile_boot(reader, diags)
    found = diags.sorted()
    _show(found)
    text = record.render(compiled.fields, found)
    root = Root(a.root)
    root.mkdir(cache.DIR, 0o700)
    root.write(cache.PLAN, planfile.dump(reader, compiled.plan, found, text), mode=0o600)
    sys.stderr.write(f"ccgen prime: {cache.PLAN} written ({len(compiled.plan)} entries)\n")
    return EXIT_ERRORS if diags.has_errors() else EXIT_OK


USAGE = """usage: ccgen --print [--root DIR] [--oem FILE] [USERDATA ...]
       ccgen validate [--strict] [--format text|json] [--root IMAGE] [FILE...]
       ccgen schema [--format json|markdown]
       ccgen apply [--root DIR] [--only STEP] [--force] (--boot | USERDATA ...)
       ccgen fetch PROVIDER [--root DIR] [--endpoint URL | --source DIR] [--deadline S] [--reload]
       ccgen status [--wait [--timeout S]] [--format text|json] [--root DIR]
       ccgen prime --root DIR [--cmdline TEXT] [--virtualization V] [--generator PATH]
       ccgen check-inputs --expect DIGEST
       ccgen rerun
       ccgen generator NORMAL-DIR [EARLY-DIR LATE-DIR]
       ccgen --version
"""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if not args or args[0] in ("-h", "--help", "help"):
            (sys.stdout if args else sys.stderr).write(USAGE)
            return EXIT_OK if args else EXIT_USAGE
        command, rest = args[0], args[1:]
        if command == "--version":
            sys.stdout.write(f"ccgen {__version__}\n")
            return EXIT_OK
        if command == "validate":
            return cmd_validate(rest)
        if command == "schema":
            return cmd_schema(rest)
        if command == "apply":
            return cmd_apply(rest)
        if command == "fetch":
            from ccgen.providers import fetch

            return fetch.main(rest)
        if command == "status":
            return cmd_status(rest)
        if command == "prime":
            return cmd_prime(rest)
        if command == "check-inputs":
            return cmd_check_inputs(rest)
        if command == "rerun":
            from ccgen.providers import reload

            _parser(
                "ccgen rerun",
                "Daemon-reload, then start what the generator produced, all --no-block "
                "(what a fetch runs after new user-data, in a transient unit).",
            ).parse_args(rest)
            return reload.reload_and_start()
        if command == "generator":
            from . import boot

            return boot.main(rest)
        if command.startswith("-") or "--print" in args:
            return cmd_print(args)
        sys.stderr.write(f"ccgen: unknown command {command!r}\n" + USAGE)
        return EXIT_USAGE
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
