"""Steps that write the machine's identity files in /etc."""

from __future__ import annotations

import re

from .. import subst
from ..validate import Val
from .context import Context, StepError
from .state import digest

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?\Z")
KERNEL_HOSTNAME_MAX = 64


def text(fields: dict[str, Val], name: str) -> str:
    v = fields.get(name)
    if v is None:
        return ""
    if isinstance(v.value, bytes):
        return v.value.decode("utf-8", "replace")
    return v.value if isinstance(v.value, str) else ""


def hostname_value(ctx: Context) -> str:
    val = ctx.last("hostname")
    if val is not None and isinstance(val.value, str) and val.value:
        return val.value
    return ctx.metadata.get("HOSTNAME", "")


def step_hostname(ctx: Context) -> None:
    name = hostname_value(ctx).rstrip(".")
    if not name:
        return
    if len(name) > 253 or not _HOSTNAME.match(name):
        raise StepError(f'"{name}" is not a valid hostname')
    if len(name) > KERNEL_HOSTNAME_MAX:
        name = name.split(".")[0]  # the kernel keeps at most 64 bytes; the short name still fits
    if not ctx.state.needed("hostname", digest(name)):
        return
    ctx.root.write("/etc/hostname", f"{name}\n".encode())
    if ctx.live:
        # The kernel's name changes in place; a rename into /proc is impossible.
        try:
            with open("/proc/sys/kernel/hostname", "w") as f:
                f.write(name)
        except OSError as e:
            raise StepError(f"cannot set the kernel hostname: {e.strerror}") from None
    ctx.state.record("hostname", digest(name))
    ctx.say(f"hostname: set to {name}")


def step_hosts(ctx: Context) -> None:
    val = ctx.last("manage_etc_hosts")
    wanted = val.value if val is not None and isinstance(val.value, str) else ""
    if not wanted:
        return
    if wanted != "localhost":
        raise StepError(f'manage_etc_hosts supports only "localhost", not "{wanted}"')
    name = hostname_value(ctx).rstrip(".") or "localhost"
    short = name.split(".")[0]
    names = " ".join(dict.fromkeys((name, short)))
    # Unlike the original (which wrote only its one line), keep localhost resolvable.
    body = f"127.0.0.1 {names} localhost\n::1 {names} localhost ip6-localhost ip6-loopback\n"
    if ctx.state.needed("hosts", digest(body)):
        ctx.root.write("/etc/hosts", body.encode())
        ctx.state.record("hosts", digest(body))
        ctx.say("hosts: /etc/hosts written")


def go_quote(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif not ch.isprintable():
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def step_oem(ctx: Context) -> None:
    oem = ctx.merged_coreos("oem")
    if not text(oem, "id"):
        return
    body = (
        f"ID={text(oem, 'id')}\n"
        f"VERSION_ID={text(oem, 'version_id')}\n"
        f"NAME={go_quote(text(oem, 'name'))}\n"
        f"HOME_URL={go_quote(text(oem, 'home_url'))}\n"
        f"BUG_REPORT_URL={go_quote(text(oem, 'bug_report_url'))}\n"
    )
    if ctx.state.needed("oem", digest(body)):
        ctx.root.write("/etc/oem-release", body.encode())
        ctx.state.record("oem", digest(body))
        ctx.say("oem: /etc/oem-release written")


UPDATE_KEYS = {"reboot_strategy": "REBOOT_STRATEGY", "group": "GROUP", "server": "SERVER"}


def merge_assignments(base: str, values: dict[str, str]) -> str:
    """Replace each KEY= line in place (first occurrence), append the rest sorted."""
    lines = base.splitlines()
    pending = dict(values)
    for i, line in enumerate(lines):
        key = line.split("=", 1)[0].strip() if "=" in line else None
        if key is not None and key in pending:
            lines[i] = f"{key}={pending.pop(key)}"
    lines += [f"{k}={pending[k]}" for k in sorted(pending)]
    return "".join(line + "\n" for line in lines)


def step_update(ctx: Context) -> None:
    update = ctx.merged_coreos("update")
    values = {env: text(update, key) for key, env in UPDATE_KEYS.items() if text(update, key)}
    if not values:
        return
    base = ctx.root.read("/etc/coreos/update.conf") or ctx.root.read("/usr/share/coreos/update.conf") or b""
    body = merge_assignments(base.decode("utf-8", "replace"), values)
    if ctx.state.needed("update", digest(values)):
        ctx.root.write("/etc/coreos/update.conf", body.encode())
        ctx.state.record("update", digest(values))
        ctx.say("update: /etc/coreos/update.conf written")


def step_environment(ctx: Context) -> None:
    """The known addresses go into /etc/environment, unless the config wrote that file."""
    for val in ctx.sections.get("write_files", []):
        for item in val.value if isinstance(val.value, list) else []:
            if isinstance(item.value, dict) and text(item.value, "path").rstrip("/") == "/etc/environment":
                return
    values = {env: ctx.metadata[meta] for meta, env in subst.VARIABLES.values() if ctx.metadata.get(meta)}
    if not values:
        return
    old = (ctx.root.read("/etc/environment") or b"").decode("utf-8", "replace")
    new = merge_assignments(old, values)
    if new != old and ctx.root.write("/etc/environment", new.encode()):
        ctx.say("environment: addresses merged into /etc/environment")
