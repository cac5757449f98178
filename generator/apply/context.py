"""What every step gets: the tree, the merged config, metadata, state, and a way to run tools."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from ccgen.base.cache import Metadata
from ccgen.base.diag import one_line
from ccgen.lang.model import CloudConfig

from .fs import Root
from .state import State


class StepError(Exception):
    """A step could not do its job; the message says why, in one line."""


@dataclass
class Context:
    root: Root
    live: bool  # the running system itself, not an image under --root
    state: State
    metadata: Metadata
    ssh_keys: list[str]  # the provider's keys, for core
    config: CloudConfig  # the OEM and user configs, merged
    messages: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # every path a step changed
    results: dict[str, str] = field(default_factory=dict)  # step -> ok / failed

    def say(self, message: str) -> None:
        # Config text in messages is escaped, so one message is one line.
        line = one_line(message, 2000)
        self.messages.append(line)
        sys.stderr.write(line + "\n")

    def run(self, argv: Sequence[str], stdin: bytes | None = None) -> None:
        self.output(argv, stdin)

    def output(self, argv: Sequence[str], stdin: bytes | None = None) -> bytes:
        """What the tool wrote on stdout; a failure is a StepError with its stderr.  Secrets
        go on stdin, never in argv, and a tool's stderr never repeats its stdin."""
        try:
            proc = subprocess.run(list(argv), input=stdin, capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise StepError(f"{argv[0]}: {e}") from None
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().replace("\n", "; ")
            raise StepError(f"{' '.join(argv[:2])} failed ({proc.returncode}): {err}")
        return proc.stdout
