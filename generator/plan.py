"""What the generator will write: files and symlinks, relative to its output directory."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Union

    Entry = Union["File", "Link"]


class File:
    __slots__ = ("path", "text")

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and (self.path, self.text) == (other.path, other.text)

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


def is_safe(path: str) -> bool:
    """Relative, and no empty, "." or ".." component: it cannot leave the output directory."""
    if not path or path[0] == "/" or path[-1] == "/" or "//" in path:
        return False
    if "." not in path:
        return True
    parts = path.split("/")
    return "." not in parts and ".." not in parts


class Plan:
    """Entries by path; the first claim on a path wins and a clash is reported."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def add(self, entry: Entry) -> bool:
        if not is_safe(entry.path):
            raise ValueError(f"unsafe output path {entry.path!r}")
        if entry.path in self._entries:
            return self._entries[entry.path] == entry
        self._entries[entry.path] = entry
        return True

    def entries(self) -> list[Entry]:
        return [self._entries[p] for p in sorted(self._entries)]

    def __contains__(self, path: str) -> bool:
        return path in self._entries

    def __len__(self) -> int:
        return len(self._entries)
