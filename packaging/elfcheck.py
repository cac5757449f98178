#!/usr/bin/env python3
"""Check built Python extensions (ELF shared objects) the way a distribution would.

    packaging/elfcheck.py [--arch ARCH] [--allow LIB]... FILE...

Each check is one small function that returns None when the file passes, or
the reason it does not.  Exit status: 0 when every file passes every check,
1 when a check failed, 2 when a file is not ELF or cannot be read.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import NoteSection, SymbolTableSection

# Libraries a ccgen extension may link: libyaml and the C library's own parts.
DEFAULT_ALLOW = ("libyaml-0.so.2", "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2")
# platform.machine() / dpkg architecture -> pyelftools' e_machine name.
MACHINES = {
    "x86_64": "EM_X86_64",
    "amd64": "EM_X86_64",
    "aarch64": "EM_AARCH64",
    "arm64": "EM_AARCH64",
    "i686": "EM_386",
    "i386": "EM_386",
    "armv7l": "EM_ARM",
    "armhf": "EM_ARM",
    "ppc64le": "EM_PPC64",
    "ppc64el": "EM_PPC64",
    "s390x": "EM_S390",
    "riscv64": "EM_RISCV",
}
DF_BIND_NOW = 0x8
DF_1_NOW = 0x1
PF_X = 0x1


class Context:
    def __init__(self, elf: ELFFile, path: str, arch: str, allow: frozenset[str]) -> None:
        self.elf = elf
        self.path = path
        self.arch = arch
        self.allow = allow

    def dynamic(self) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        for section in self.elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    value = (
                        getattr(tag, "needed", None)
                        or getattr(tag, "runpath", None)
                        or getattr(tag, "rpath", None)
                    )
                    out.append((tag.entry.d_tag, value if value is not None else tag.entry.d_val))
        return out


def check_architecture(c: Context) -> str | None:
    want = MACHINES.get(c.arch, c.arch)
    got = c.elf["e_machine"]
    return None if got == want else f"built for {got}, expected {want} ({c.arch})"


def check_pyinit(c: Context) -> str | None:
    module = os.path.basename(c.path).split(".")[0]
    symbol = f"PyInit_{module}"
    for section in c.elf.iter_sections():
        if (
            isinstance(section, SymbolTableSection)
            and section.name == ".dynsym"
            and section.get_symbol_by_name(symbol)
        ):
            return None
    return f"no exported {symbol} symbol, so Python cannot import it as {module}"


def check_needed(c: Context) -> str | None:
    needed = [str(v) for tag, v in c.dynamic() if tag == "DT_NEEDED"]
    extra = [n for n in needed if n not in c.allow and not n.startswith("ld-linux")]
    return None if not extra else f"links libraries outside the allow-list: {', '.join(extra)}"


def check_no_rpath(c: Context) -> str | None:
    paths = [f"{tag}={v}" for tag, v in c.dynamic() if tag in ("DT_RPATH", "DT_RUNPATH")]
    return None if not paths else f"has a library search path baked in: {', '.join(paths)}"


def check_relro_bind_now(c: Context) -> str | None:
    relro = any(seg["p_type"] == "PT_GNU_RELRO" for seg in c.elf.iter_segments())
    flags = dict((tag, v) for tag, v in c.dynamic() if tag in ("DT_FLAGS", "DT_FLAGS_1"))
    now = bool(int(str(flags.get("DT_FLAGS", 0))) & DF_BIND_NOW) or bool(
        int(str(flags.get("DT_FLAGS_1", 0))) & DF_1_NOW
    )
    missing = [name for name, ok in (("GNU_RELRO", relro), ("BIND_NOW", now)) if not ok]
    return (
        None
        if not missing
        else f"not fully RELRO: missing {' and '.join(missing)} (link with -z relro -z now)"
    )


def check_noexec_stack(c: Context) -> str | None:
    for seg in c.elf.iter_segments():
        if seg["p_type"] == "PT_GNU_STACK":
            return "asks for an executable stack" if seg["p_flags"] & PF_X else None
    return "has no PT_GNU_STACK header, so the loader may make the stack executable"


def check_build_id(c: Context) -> str | None:
    for section in c.elf.iter_sections():
        if isinstance(section, NoteSection) and any(
            n["n_type"] == "NT_GNU_BUILD_ID" for n in section.iter_notes()
        ):
            return None
    return "has no GNU build-id note (debug symbols cannot be matched to it)"


CHECKS: list[tuple[str, Callable[[Context], str | None]]] = [
    ("architecture", check_architecture),
    ("PyInit symbol", check_pyinit),
    ("DT_NEEDED allow-list", check_needed),
    ("no RPATH/RUNPATH", check_no_rpath),
    ("RELRO and BIND_NOW", check_relro_bind_now),
    ("non-executable stack", check_noexec_stack),
    ("build-id", check_build_id),
]


def check_file(path: str, arch: str, allow: frozenset[str], out: Callable[[str], None]) -> int:
    try:
        with open(path, "rb") as f:
            try:
                elf = ELFFile(f)
            except ELFError as e:
                out(f"{path}: error: not an ELF file ({e})")
                return 2
            return run_checks(Context(elf, path, arch, allow), out)
    except OSError as e:
        out(f"{path}: error: cannot read: {e.strerror}")
        return 2


def run_checks(context: Context, out: Callable[[str], None]) -> int:
    status = 0
    for name, check in CHECKS:
        try:
            problem = check(context)
        except ELFError as e:
            problem = f"cannot be read: {e}"
        if problem is None:
            out(f"{context.path}: ok: {name}")
        else:
            out(f"{context.path}: FAIL: {name}: {problem}")
            status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--arch", default=platform.machine(), help="expected architecture (default: this machine's)"
    )
    p.add_argument("--allow", action="append", default=[], help="another library DT_NEEDED may name")
    p.add_argument("files", nargs="+", metavar="FILE")
    a = p.parse_args(argv)
    allow = frozenset(DEFAULT_ALLOW) | frozenset(a.allow)
    worst = 0
    for path in a.files:
        worst = max(worst, check_file(path, a.arch, allow, print))
    return worst


if __name__ == "__main__":
    sys.exit(main())
