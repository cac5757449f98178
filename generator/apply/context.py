"""What every step gets: the tree, the merged config, metadata, state, and a way to run tools."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..model import Unit
from ..validate import Val
from .fs import Root
from .state import State


class StepError(Exception):
    """A step could not do its job; the message says why, in one line."""


@dataclass
class Context:
    root: Root
    live: bool  # the running system itself, not an image under --root
    state: State
    metadata: dict[str, str]
    ssh_keys: list[str]
    sections: dict[str, list[Val]]  # each top-level key, every source's value in order
    coreos: dict[str, list[Val]]  # each coreos.* key likewise
    network_units: list[Unit] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def say(self, message: str) -> None:
        self.messages.append(message)
        sys.stderr.write(message + "\n")

    def run(self, argv: Sequence[str], stdin: bytes | None = None) -> None:
        try:
            proc = subprocess.run(list(argv), input=stdin, capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise StepError(f"{argv[0]}: {e}") from None
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().replace("\n", "; ")
            raise StepError(f"{' '.join(argv[:2])} failed ({proc.returncode}): {err}")

    def last(self, key: str) -> Val | None:
        vals = self.sections.get(key) or []
        return vals[-1] if vals else None

    def merged_coreos(self, key: str) -> dict[str, Val]:
        """A coreos.* section, later sources overriding earlier ones field by field."""
        out: dict[str, Val] = {}
        for val in self.coreos.get(key, []):
            if isinstance(val.value, dict):
                out.update(val.value)
        return out
