"""What the generator will write: files and symlinks, relative to its output directory.

Entries are added item by item (a unit, a script, one of ccgen's units): an
item whose rendering fails is rolled back whole, and the others stay.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Union

    Entry = Union["File", "Link"]

NAME_MAX = 255  # bytes in one path component, as file systems allow


class File:
    __slots__ = ("mode", "path", "text")

    def __init__(self, path: str, text: str, mode: int = 0o644) -> None:
        self.path = path
        self.text = text
        self.mode = mode

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and (self.path, self.text, self.mode) == (
            other.path,
            other.text,
            other.mode,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"File({self.path!r})"


class Link:
    __slots__ = ("path", "target")

    def __init__(self, path: str, target: str) -> None:
        self.path = path
        self.target = target

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Link) and (self.path, self.target) == (other.path, other.target)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Link({self.path!r} -> {self.target!r})"


def path_problem(path: str) -> str | None:
    """Why `path` cannot be an output entry: it must stay inside the output directory,
    and each component must be a name a file system takes."""
    if not path or path[0] == "/" or path[-1] == "/" or "//" in path or "\0" in path:
        return f"{path!r} is not a relative path"
    for part in path.split("/"):
        if part in (".", ".."):
            return f"{path!r} leaves the output directory"
        if len(part) * 4 <= NAME_MAX:
            continue  # within the limit even if every character took 4 bytes: no encoding
        try:
            size = len(part.encode("utf-8"))
        except UnicodeEncodeError:
            return f"{path!r} is not valid Unicode"
        if size > NAME_MAX:
            return f"a name in {path[:60]!r}... is longer than {NAME_MAX} bytes"
    return None


class Plan:
    """Entries by path; the first claim on a path wins and a clash is reported."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._pending: dict[str, Entry] | None = None

    def add(self, entry: Entry) -> tuple[str, str] | None:
        """None when added (or already there, identical); else (code, why not)."""
        problem = path_problem(entry.path)
        if problem is not None:
            return "output-path", problem
        for table in (self._entries, self._pending or {}):
            if entry.path in table:
                return (
                    None
                    if table[entry.path] == entry
                    else ("output-clash", f"{entry.path} is already generated")
                )
        (self._pending if self._pending is not None else self._entries)[entry.path] = entry
        return None

    def begin(self) -> None:
        self._pending = {}

    def commit(self) -> None:
        if self._pending is not None:
            self._entries.update(self._pending)
        self._pending = None

    def rollback(self) -> None:
        self._pending = None

    def entries(self) -> list[Entry]:
        return [self._entries[p] for p in sorted(self._entries)]

    def __contains__(self, path: str) -> bool:
        return path in self._entries or (self._pending is not None and path in self._pending)

    def get(self, path: str) -> Entry | None:
        return self._entries.get(path) or (self._pending or {}).get(path)

    def __len__(self) -> int:
        return len(self._entries)
