"""Checked values in, the typed model out, with the checks the original never made."""

from __future__ import annotations

from typing import TypeVar

from . import model, unitfile
from .diag import Diagnostics, Span
from .validate import Val

T = TypeVar("T", str, bool)


def _field(fields: dict[str, Val], name: str, kind: type[T]) -> model.Field[T] | None:
    v = fields.get(name)
    if v is None or not isinstance(v.value, kind):
        return None
    return model.Field(v.value, v.span)


def _text(fields: dict[str, Val], name: str) -> model.Field[str] | None:
    v = fields.get(name)
    if v is None:
        return None
    if isinstance(v.value, bytes):
        # Unit text is UTF-8 by definition; a !!binary unit is a mistake we can name.
        try:
            return model.Field(v.value.decode("utf-8"), v.span)
        except UnicodeDecodeError:
            return None
    return _field(fields, name, str)


def _drop_ins(unit: str, fields: dict[str, Val], diags: Diagnostics) -> tuple[model.DropIn, ...]:
    val = fields.get("drop_ins")
    out: list[model.DropIn] = []
    if val is None or not isinstance(val.value, list):
        return ()
    for item in val.value:
        if not isinstance(item.value, dict):
            continue
        name = _field(item.value, "name", str)
        content = _text(item.value, "content")
        if name is None or not name.value or content is None or not content.value:
            # The original silently skipped these; say so, since nothing is written.
            diags.warning(
                item.span, "dropin-incomplete", f"a drop-in of {unit} needs both name and content; skipped"
            )
            continue
        if "/" in name.value or name.value in (".", ".."):
            diags.error(name.span, "dropin-name", f'drop-in name "{name.value}" must be a plain file name')
            continue
        if not name.value.endswith(".conf"):
            diags.warning(
                name.span,
                "dropin-name",
                f'systemd reads only drop-ins ending in ".conf"; "{name.value}" is skipped',
            )
            continue
        out.append(model.DropIn(name.value, content.value, name.span))
    return tuple(out)


def _unit(item: Val, diags: Diagnostics) -> model.Unit | None:
    assert isinstance(item.value, dict)
    f = item.value
    name = _field(f, "name", str)
    if name is None or not name.value:
        diags.warning(item.span, "unit-name", "a unit without a name is skipped")
        return None
    problem = unitfile.name_problem(name.value)
    if problem is not None:
        diags.error(name.span, "unit-name", problem)
        return None
    runtime = f.get("runtime")
    if runtime is not None:
        diags.info(
            runtime.span, "runtime", "runtime has no effect: everything ccgen generates is already runtime"
        )
    unit = model.Unit(
        name=name.value,
        span=name.span,
        content=_text(f, "content"),
        enable=_field(f, "enable", bool),
        mask=_field(f, "mask", bool),
        command=_field(f, "command", str),
        drop_ins=_drop_ins(name.value, f, diags),
    )
    if unit.content is not None and not unit.content.value:
        unit = model.Unit(unit.name, unit.span, None, unit.enable, unit.mask, unit.command, unit.drop_ins)
    _check_command(unit, diags)
    return unit


def _check_command(unit: model.Unit, diags: Diagnostics) -> None:
    cmd = unit.command
    if cmd is None or not cmd.value:
        return
    if unitfile.is_network(unit.name):
        diags.info(cmd.span, "command", "command is ignored for network units; networkd is restarted instead")
    elif cmd.value in model.NO_EFFECT_AT_BOOT:
        diags.warning(
            cmd.span,
            "command",
            f'"{cmd.value}" does nothing at boot, where {unit.name} is not running yet; ignored',
        )
    elif cmd.value in ("restart", "reload-or-restart"):
        diags.info(cmd.span, "command", f'"{cmd.value}" at boot means start: {unit.name} is not running yet')
    elif cmd.value == "stop":
        diags.info(
            cmd.span,
            "command",
            f"stop becomes Conflicts= in ccgen.target: {unit.name} is stopped when ccgen.target starts",
        )
    if unit.mask is not None and unit.mask.value and cmd.value in model.STARTS:
        diags.warning(cmd.span, "command", f"{unit.name} is masked, so it cannot be started")


def build(path: str, top: dict[str, Val], diags: Diagnostics) -> model.CloudConfig:
    units: dict[str, model.Unit] = {}
    coreos = top.get("coreos")
    sections = dict(top)
    if coreos is not None and isinstance(coreos.value, dict):
        listed = coreos.value.get("units")
        if listed is not None and isinstance(listed.value, list):
            for item in listed.value:
                unit = _unit(item, diags)
                if unit is None:
                    continue
                earlier = units.get(unit.name)
                if earlier is not None:
                    diags.warning(
                        unit.span,
                        "unit-repeated",
                        f"{unit.name} is listed again (first at line {earlier.span.line}); "
                        "its fields override the earlier entry",
                    )
                    unit = earlier.merged_with(unit)
                units[unit.name] = unit
    return model.CloudConfig(path=path, units=tuple(units.values()), sections=sections)


def script(path: str, interpreter: tuple[str, ...]) -> model.CloudConfig:
    return model.CloudConfig(path=path, script=model.Script(path, interpreter, Span(path, 1, 1)))
