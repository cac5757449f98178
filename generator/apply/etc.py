"""Steps that write the machine's identity files in /etc."""

from __future__ import annotations

from ccgen.base import rules
from ccgen.lang import subst

from .context import Context, StepError
from .state import digest


def hostname_value(ctx: Context) -> str:
    """The config's hostname, else the provider's (docs/providers.md: the hostname policy)."""
    if ctx.config.hostname is not None:
        return ctx.config.hostname.value
    return platform_hostname(ctx.metadata.hostname)


def platform_hostname(name: str) -> str:
    """A provider's hostname as ccgen uses it: a valid name as it is; otherwise its first
    label, if that is valid; otherwise none."""
    if not name or rules.is_hostname(name):
        return name
    first = name.split(".")[0]
    return first if rules.is_hostname(first) else ""


def step_hostname(ctx: Context) -> None:
    wanted = hostname_value(ctx)
    if not wanted:
        if ctx.metadata.hostname:
            ctx.say(f'hostname: the provider\'s "{ctx.metadata.hostname}" is not a valid hostname; ignored')
        return
    if not rules.is_hostname(wanted):
        raise StepError(f'"{wanted}" is not a valid hostname')
    name = rules.kernel_hostname(wanted)
    if not ctx.state.needed("hostname", digest(name)):
        return
    ctx.root.write("/etc/hostname", f"{name}\n".encode())
    ctx.written.append("/etc/hostname")
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
    if ctx.config.manage_etc_hosts is None:
        return  # only "localhost" gets here: the key's rule refused every other value
    name = rules.kernel_hostname(hostname_value(ctx) or "localhost")
    short = name.split(".")[0]
    names = " ".join(dict.fromkeys((name, short)))
    # Unlike the original (which wrote only its one line), keep localhost resolvable.
    body = f"127.0.0.1 {names} localhost\n::1 {names} localhost ip6-localhost ip6-loopback\n"
    if ctx.state.needed("hosts", digest(body)):
        ctx.root.write("/etc/hosts", body.encode())
        ctx.written.append("/etc/hosts")
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
    oem = ctx.config.section("oem")
    if oem is None or not oem.value("id"):
        return
    body = (
        f"ID={oem.value('id')}\n"
        f"VERSION_ID={oem.value('version_id')}\n"
        f"NAME={go_quote(oem.value('name'))}\n"
        f"HOME_URL={go_quote(oem.value('home_url'))}\n"
        f"BUG_REPORT_URL={go_quote(oem.value('bug_report_url'))}\n"
    )
    if ctx.state.needed("oem", digest(body)):
        ctx.root.write("/etc/oem-release", body.encode())
        ctx.written.append("/etc/oem-release")
        ctx.state.record("oem", digest(body))
        ctx.say("oem: /etc/oem-release written")


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
    update = ctx.config.section("update")
    if update is None:
        return
    values = {s.env: s.value for s in update.items}
    base = ctx.root.read("/etc/coreos/update.conf") or ctx.root.read("/usr/share/coreos/update.conf") or b""
    body = merge_assignments(base.decode("utf-8", "replace"), values)
    if ctx.state.needed("update", digest(sorted(values.items()))):
        ctx.root.write("/etc/coreos/update.conf", body.encode())
        ctx.written.append("/etc/coreos/update.conf")
        ctx.state.record("update", digest(sorted(values.items())))
        ctx.say("update: /etc/coreos/update.conf written")


def step_environment(ctx: Context) -> None:
    """The known addresses go into /etc/environment, unless the config wrote that file."""
    if any(f.path.value == "/etc/environment" for f in ctx.config.write_files):
        return
    values = {
        env: getattr(ctx.metadata, attr)
        for attr, env in subst.VARIABLES.values()
        if getattr(ctx.metadata, attr)
    }
    if not values:
        return
    old = (ctx.root.read("/etc/environment") or b"").decode("utf-8", "replace")
    new = merge_assignments(old, values)
    if new != old and ctx.root.write("/etc/environment", new.encode()):
        ctx.written.append("/etc/environment")
        ctx.say("environment: addresses merged into /etc/environment")
