"""coreos.etcd, etcd2, fleet and locksmith as service environment, escaped for systemd."""

from __future__ import annotations

from . import schema

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .validate import Val

UNITS = {
    "etcd": "etcd.service",
    "etcd2": "etcd2.service",
    "fleet": "fleet.service",
    "locksmith": "locksmithd.service",
}
DROPIN = "20-cloudinit.conf"
SECRET_DIR = "/run/ccgen/env"


class Setting:
    __slots__ = ("env", "secret", "value")

    def __init__(self, env: str, value: str, secret: bool) -> None:
        self.env = env
        self.value = value
        self.secret = secret


def secret_file(unit: str) -> str:
    return f"{SECRET_DIR}/{unit}.env"


def go_value(value: object) -> str:
    """The text Go's %v gave a value (the original formatted with it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(f: float) -> str:
    if f != f or f in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(f)]
    if f == 0:
        return "0"
    from decimal import Decimal

    sign, digits, exponent = Decimal(repr(f)).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    exp10 = len(mantissa) + exponent - 1
    prefix = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        # strconv's shortest 'g' format: e-notation outside 1e-4 <= |f| < 1e6.
        m = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        return f"{prefix}{m}e{'+' if exp10 >= 0 else '-'}{abs(exp10):02d}"
    return prefix + format(Decimal(repr(abs(f))).normalize(), "f")


def settings(section: str, fields: dict[str, Val]) -> list[Setting]:
    """Non-zero fields in the table's order, which is the original's output order."""
    key = (schema.KEYS.child("coreos") or schema.KEYS).child(section)
    assert key is not None
    out = []
    for child in key.children:
        val = fields.get(child.name)
        if val is None or child.env is None or not val.value or isinstance(val.value, (list, dict)):
            continue
        value = val.value.decode("utf-8", "replace") if isinstance(val.value, bytes) else val.value
        out.append(Setting(child.env, go_value(value), "password" in child.name))
    return out


def unit_quote(text: str) -> str:
    """A double-quoted word for a unit file: C escapes, and %% for specifiers."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "%":
            out.append("%%")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def env_file_quote(text: str) -> str:
    """A double-quoted value for an EnvironmentFile=, which follows shell quoting."""
    escaped = "".join("\\" + ch if ch in '\\"$`' else ch for ch in text)
    return f'"{escaped}"'


def dropin_text(unit: str, entries: list[Setting]) -> str:
    lines = ["[Service]"]
    lines += [f"Environment={unit_quote(f'{s.env}={s.value}')}" for s in entries if not s.secret]
    if any(s.secret for s in entries):
        # Unit files are world-readable; passwords live in a root-only file ccgen apply writes.
        lines += ["[Unit]", "After=ccgen-apply.service", "[Service]", f"EnvironmentFile={secret_file(unit)}"]
    return "\n".join(lines) + "\n"


def secret_text(entries: list[Setting]) -> str:
    return "".join(f"{s.env}={env_file_quote(s.value)}\n" for s in entries if s.secret)
