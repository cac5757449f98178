"""The typed model the renderer reads: frozen, and every field keeps its span."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .diag import Span
from .validate import Val

T = TypeVar("T")

# What each coreos.units command means at boot (docs/units.md has the table).
STARTS = frozenset(("start", "restart", "reload-or-restart"))
STOPS = frozenset(("stop",))
NO_EFFECT_AT_BOOT = frozenset(("reload", "try-restart", "reload-or-try-restart"))


@dataclass(frozen=True)
class Field(Generic[T]):
    value: T
    span: Span


@dataclass(frozen=True)
class DropIn:
    name: str
    content: str
    span: Span


@dataclass(frozen=True)
class Unit:
    name: str
    span: Span
    content: Field[str] | None = None
    enable: Field[bool] | None = None
    mask: Field[bool] | None = None
    command: Field[str] | None = None
    drop_ins: tuple[DropIn, ...] = ()

    def merged_with(self, later: Unit) -> Unit:
        """This unit overridden field by field by a later definition of the same name."""
        drop_ins = {d.name: d for d in self.drop_ins}
        drop_ins.update({d.name: d for d in later.drop_ins})
        return Unit(
            name=self.name,
            span=later.span,
            content=later.content or self.content,
            enable=later.enable or self.enable,
            mask=later.mask or self.mask,
            command=later.command or self.command,
            drop_ins=tuple(drop_ins.values()),
        )


@dataclass(frozen=True)
class Script:
    path: str
    interpreter: tuple[str, ...]
    span: Span
    digest: str  # sha256 of the script, so that each distinct script runs once


@dataclass(frozen=True)
class CloudConfig:
    path: str
    units: tuple[Unit, ...] = ()
    # Sections other than coreos.units, typed and checked; applied by runtime steps.
    sections: dict[str, Val] = field(default_factory=dict)
    script: Script | None = None
