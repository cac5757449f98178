"""What the generator will write: files and symlinks, relative to its output directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class File:
    path: str
    text: str


@dataclass(frozen=True)
class Link:
    path: str
    target: str


Entry = Union[File, Link]


def is_safe(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") for p in parts)


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
