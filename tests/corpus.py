"""The case corpus: cloud-config files whose `## ` comment lines say what must happen.

Assertions (one per line, anywhere in the file):

    ## oem: NAME                      use tests/cases/oem/NAME.yml as the OEM config
    ## installed: PATH :: TEXT        a file on the test system before the run
    ## installed-link: PATH -> TARGET a symlink on the test system before the run
    ## diag: LINE:COL SEVERITY CODE   a diagnostic for this file; the set must match exactly
    ## file: PATH                     the generator wrote this regular file
    ## file-has: PATH :: TEXT         ... and it contains TEXT
    ## link: PATH -> TARGET           the generator wrote this symlink
    ## absent: PATH                   the generator did not write PATH
    ## exit: N                        the generator's exit status
    ## encode: gzip                   the user-data is this file gzip'd, as a tool sends it
    ## include: URL :: TEXT           what the fetch unit cached for an #include of URL

In TEXT, \\n is a newline and \\\\ a backslash.  PATHs are relative to the
generator's normal directory.  A case without a
`## diag:` line expects no diagnostics at all for its own file.

Cases are NAME.yml, or NAME.mime for MIME multi-part user-data (the assertions sit
in the preamble before the first boundary, which MIME readers skip).  A line
`## template: jinja` is the Jinja header a case may be about, not an assertion.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

CASES = Path(__file__).parent / "cases"
USER_PATH = "/var/lib/ccgen/user-data"
_LINE = re.compile(r"^## ([a-z-]+): ?(.*)$")
KNOWN = {
    "oem", "installed", "installed-link", "diag", "file", "file-has", "link", "absent", "exit",
    "encode", "include",
}  # fmt: skip
NOT_ASSERTIONS = {"template"}


@dataclass
class Case:
    path: Path
    data: bytes
    oem: Path | None = None
    installed: dict[str, str] = field(default_factory=dict)
    installed_links: dict[str, str] = field(default_factory=dict)
    diags: set[tuple[int, int, str, str]] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    file_has: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    exit: int | None = None
    unknown: list[str] = field(default_factory=list)
    includes: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    def assertion_count(self) -> int:
        return (
            len(self.diags)
            + len(self.files)
            + len(self.file_has)
            + len(self.links)
            + len(self.absent)
            + (self.exit is not None)
        )


def _unescape(text: str) -> str:
    """\\n is a newline and \\\\ a backslash; every other character stands for itself."""
    return re.sub(r"\\([\\n])", lambda m: "\n" if m.group(1) == "n" else "\\", text)


def load(path: Path) -> Case:
    data = path.read_bytes()
    case = Case(path, data)
    for raw in data.decode("utf-8", "replace").splitlines():
        m = _LINE.match(raw.strip())
        if not m:
            continue
        verb, arg = m.groups()
        if verb == "oem":
            case.oem = CASES / "oem" / f"{arg.strip()}.yml"
        elif verb == "installed":
            where, _, text = arg.partition(" :: ")
            case.installed[where.strip()] = _unescape(text)
        elif verb == "installed-link":
            where, _, target = arg.partition(" -> ")
            case.installed_links[where.strip()] = target.strip()
        elif verb == "diag":
            pos, severity, code = arg.split()
            line, col = pos.split(":")
            case.diags.add((int(line), int(col), severity, code))
        elif verb == "file":
            case.files.append(arg.strip())
        elif verb == "file-has":
            where, _, text = arg.partition(" :: ")
            case.file_has.append((where.strip(), _unescape(text)))
        elif verb == "link":
            where, _, target = arg.partition(" -> ")
            case.links.append((where.strip(), target.strip()))
        elif verb == "absent":
            case.absent.append(arg.strip())
        elif verb == "exit":
            case.exit = int(arg)
        elif verb == "encode":
            if arg.strip() != "gzip":
                case.unknown.append(f"encode: {arg}")
            case.data = gzip.compress(data, mtime=0)
        elif verb == "include":
            url, _, text = arg.partition(" :: ")
            case.includes[url.strip()] = _unescape(text)
        if verb not in KNOWN and verb not in NOT_ASSERTIONS:
            case.unknown.append(verb)
    return case


def all_cases() -> list[Case]:
    return [load(p) for p in sorted([*CASES.glob("*.yml"), *CASES.glob("*.mime")])]
