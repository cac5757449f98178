"""ccgen validate --root IMAGE: an OEM config checked against the image it ships in.

Reported, each at its position in the config:
- an Exec*= command that is not in the image, or not executable;
- an ELF binary for another architecture than the image's, or whose program
  interpreter (PT_INTERP) is missing from the image;
- a script whose #! interpreter is missing from the image;
- enable, mask or drop-ins for a unit neither the config nor the image has.
(write_files under the read-only /usr is one of validate's own rules.)
"""

from __future__ import annotations

import os
import stat

from ccgen.base import unitfile
from ccgen.base.diag import Diagnostics, Span
from ccgen.lang import model
from ccgen.read.inputs import Reader
from ccgen.read.system import InstalledUnits

EXEC_KEYS = (
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecStop",
    "ExecStopPost",
    "ExecReload",
    "ExecCondition",
)
SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin")


def resolve(root: str, path: str) -> str | None:
    """`path` inside the image with its symlinks followed there (as in a chroot), or None."""
    from .apply.fs import Root

    return Root(root, trust_every_symlink=True).resolve(path)


def image_machine(root: str) -> str | None:
    """The image's architecture, from the ELF e_machine of its shell."""
    for probe in ("/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/env"):
        host = resolve(root, probe)
        if host is not None:
            info = elf_info(host)
            if info is not None:
                return info[0]
    return None


def elf_info(host: str) -> tuple[str, str | None] | None:
    """(e_machine, PT_INTERP) of an ELF file, or None when it is not ELF."""
    try:
        with open(host, "rb") as f:
            if f.read(4) != b"\x7fELF":
                return None
            f.seek(0)
            from elftools.common.exceptions import ELFError
            from elftools.elf.elffile import ELFFile
            from elftools.elf.segments import InterpSegment

            try:
                elf = ELFFile(f)
                interp = None
                for seg in elf.iter_segments():
                    if isinstance(seg, InterpSegment):
                        interp = seg.get_interp_name()
                return str(elf["e_machine"]), interp
            except ELFError:
                return None
    except OSError:
        return None


def _command(value: str) -> str | None:
    """The program an Exec*= line runs, without systemd's prefixes; None if it needs expansion."""
    words = value.split()
    if not words:
        return None
    program = words[0].lstrip("@-:+!")
    if not program or "%" in program or "$" in program:
        return None
    return program


def _exec_lines(text: str) -> list[tuple[str, str]]:
    """(line as written, command) for every Exec*= line of a unit file."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        key, sep, value = line.partition("=")
        if sep and key.strip() in EXEC_KEYS:
            program = _command(value)
            if program is not None:
                out.append((line, program))
    return out


class ImageChecker:
    def __init__(self, root: str, source_text: dict[str, list[str]], diags: Diagnostics) -> None:
        self.root = root
        self.lines = source_text
        self.diags = diags
        self.machine = image_machine(root)
        self.installed = InstalledUnits(Reader(root))

    def locate(self, span: Span, line_text: str) -> Span:
        """Where a line of a unit's content stands in the config (block scalars keep lines)."""
        lines = self.lines.get(span.file, [])
        for number in range(span.line, min(len(lines), span.line + 10_000) + 1):
            raw = lines[number - 1]
            if raw.strip() == line_text:
                return Span(span.file, number, len(raw) - len(raw.lstrip()) + 1)
        return span

    def find_program(self, program: str) -> tuple[str, str | None]:
        """(the path as systemd would use it, its host path in the image or None)."""
        if program.startswith("/"):
            return program, resolve(self.root, program)
        for d in SEARCH_PATH:
            host = resolve(self.root, f"{d}/{program}")
            if host is not None:
                return f"{d}/{program}", host
        return program, None

    def check_program(self, program: str, span: Span) -> None:
        path, host = self.find_program(program)
        if host is None:
            self.diags.error(span, "image-missing", f"{path} is not in the image")
            return
        try:
            st = os.stat(host)
        except OSError:
            self.diags.error(span, "image-missing", f"{path} is not in the image")
            return
        if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o111:
            self.diags.error(span, "image-not-executable", f"{path} is not an executable file in the image")
            return
        info = elf_info(host)
        if info is not None:
            machine, interp = info
            if self.machine is not None and machine != self.machine:
                self.diags.error(
                    span, "image-arch", f"{path} is built for {machine}, the image is {self.machine}"
                )
            if interp is not None and resolve(self.root, interp) is None:
                self.diags.error(span, "image-interp", f"{path} needs {interp}, which is not in the image")
            return
        try:
            with open(host, "rb") as f:
                first = f.readline(512)
        except OSError:
            return
        if first.startswith(b"#!"):
            words = first[2:].decode("utf-8", "replace").split()
            if words and words[0].startswith("/") and resolve(self.root, words[0]) is None:
                self.diags.error(
                    span, "image-interp", f"{path} is a script for {words[0]}, which is not in the image"
                )

    def known_unit(self, name: str, units: dict[str, model.Unit]) -> bool:
        if unitfile.is_network(name):
            return True  # networkd files need no unit to exist
        template = unitfile.template_of(name)
        for candidate in (name, template):
            if candidate is None:
                continue
            unit = units.get(candidate)
            if unit is not None and unit.content is not None:
                return True
            if self.installed.find(candidate) is not None:
                return True
        return False

    def check(self, units: dict[str, model.Unit]) -> None:
        for unit in units.values():
            if unit.content is not None:
                for line, program in _exec_lines(unit.content.value):
                    self.check_program(program, self.locate(unit.content.span, line))
            elif not self.known_unit(unit.name, units):
                for what, present in (
                    ("enable", unit.enabled),
                    ("mask", unit.masked),
                    ("drop-ins", bool(unit.drop_ins)),
                ):
                    if present:
                        self.diags.warning(
                            unit.span,
                            "image-unknown-unit",
                            f"{what} names {unit.name}, which is neither in the config nor in the image",
                        )
