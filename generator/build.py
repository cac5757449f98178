"""Checked values in, the typed model out, with the checks the original never made."""

from __future__ import annotations

from . import model, services, subst, unitfile
from .diag import Diagnostics, Span
from .validate import Val

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

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


def substitute(val: Val, values: dict[str, str]) -> Val:
    """The tree with $public_ipv4 and friends replaced in every string value."""
    v = val.value
    if isinstance(v, str):
        new = subst.substitute(v, values)
        return val if new is v else Val(new, val.span, val.key_span)
    if isinstance(v, list):
        return Val([substitute(i, values) for i in v], val.span, val.key_span)
    if isinstance(v, dict):
        return Val({k: substitute(i, values) for k, i in v.items()}, val.span, val.key_span)
    return val


def _service_units(coreos: dict[str, Val]) -> list[model.Unit]:
    """The built-in units the original added for etcd, etcd2, fleet, locksmith and update."""
    out = []
    for section, unit in services.UNITS.items():
        val = coreos.get(section)
        if val is None or not isinstance(val.value, dict):
            continue
        entries = services.settings(section, val.value)
        if entries:
            span = val.key_span or val.span
            text = services.dropin_text(unit, entries)
            out.append(model.Unit(unit, span, drop_ins=(model.DropIn(services.DROPIN, text, span),)))
    update = coreos.get("update")
    if update is not None and isinstance(update.value, dict):
        strategy = update.value.get("reboot_strategy")
        if strategy is not None and strategy.value in ("etcd-lock", "reboot", "off"):
            on = strategy.value != "off"
            out.append(
                model.Unit(
                    "locksmithd.service",
                    strategy.span,
                    mask=None if on else model.Field(True, strategy.span),
                    command=model.Field("restart" if on else "stop", strategy.span),
                )
            )
        if any(update.value.get(k) for k in ("group", "server")):
            span = update.key_span or update.span
            out.append(model.Unit("update-engine.service", span, command=model.Field("restart", span)))
    return out


def build(
    path: str, top: dict[str, Val], diags: Diagnostics, values: dict[str, str] | None = None
) -> model.CloudConfig:
    if values is not None:
        top = {k: substitute(v, values) for k, v in top.items()}
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
        # Like the original, the built-in units come after the listed ones and
        # override them field by field.
        for unit in _service_units(coreos.value):
            earlier = units.get(unit.name)
            units[unit.name] = unit if earlier is None else earlier.merged_with(unit)
    return model.CloudConfig(path=path, units=tuple(units.values()), sections=sections)


def script(path: str, interpreter: tuple[str, ...], data: bytes) -> model.CloudConfig:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    return model.CloudConfig(path=path, script=model.Script(path, interpreter, Span(path, 1, 1), digest))
