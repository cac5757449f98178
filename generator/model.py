"""The typed model the renderer reads: frozen, and every field keeps its span."""

from __future__ import annotations

from .diag import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic, TypeVar

    from .validate import Val

    T = TypeVar("T")

# What each coreos.units command means at boot (docs/units.md has the table).
STARTS = frozenset(("start", "restart", "reload-or-restart"))
STOPS = frozenset(("stop",))
NO_EFFECT_AT_BOOT = frozenset(("reload", "try-restart", "reload-or-try-restart"))

# Plain slotted classes: dataclasses would cost the generator milliseconds to import.
if TYPE_CHECKING:

    class Field(Generic[T]):
        value: T
        span: Span

        def __init__(self, value: T, span: Span) -> None: ...

else:

    class Field:
        __slots__ = ("span", "value")

        def __init__(self, value, span):
            self.value = value
            self.span = span

        def __repr__(self):
            return f"Field({self.value!r}, {self.span!r})"


class DropIn:
    __slots__ = ("content", "name", "span")

    def __init__(self, name: str, content: str, span: Span) -> None:
        self.name = name
        self.content = content
        self.span = span


class Unit:
    __slots__ = ("command", "content", "drop_ins", "enable", "mask", "name", "span")

    def __init__(
        self,
        name: str,
        span: Span,
        content: Field[str] | None = None,
        enable: Field[bool] | None = None,
        mask: Field[bool] | None = None,
        command: Field[str] | None = None,
        drop_ins: tuple[DropIn, ...] = (),
    ) -> None:
        self.name = name
        self.span = span
        self.content = content
        self.enable = enable
        self.mask = mask
        self.command = command
        self.drop_ins = drop_ins

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


class Script:
    __slots__ = ("digest", "interpreter", "path", "span")

    def __init__(self, path: str, interpreter: tuple[str, ...], span: Span, digest: str) -> None:
        self.path = path
        self.interpreter = interpreter
        self.span = span
        self.digest = digest  # sha256 of the script, so that each distinct script runs once


class CloudConfig:
    __slots__ = ("path", "script", "sections", "units")

    def __init__(
        self,
        path: str,
        units: tuple[Unit, ...] = (),
        sections: dict[str, Val] | None = None,
        script: Script | None = None,
    ) -> None:
        self.path = path
        self.units = units
        # Sections other than coreos.units, typed and checked; the apply steps read them.
        self.sections = sections if sections is not None else {}
        self.script = script
