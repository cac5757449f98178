"""Steps that write the machine's identity files in /etc."""

from __future__ import annotations

from ccgen.base import rules
from ccgen.lang import schema, subst

from .context import Context, StepError
from .state import digest


def hostname_value(ctx: Context) -> str:
    """The config's hostname, else the provider's (docs/providers.md: the hostname policy)."""
    if ctx.config.hostname is not None:
        return ctx.config.hostname.value
    return platform_hostname(ctx.metadata.hostname)


def host_names(ctx: Context) -> tuple[str, str]:
    """(static, pretty): the config's hostname as `hostnamectl set-hostname` sets it, or
    the provider's as a static name alone."""
    if ctx.config.hostname is not None:
        return rules.host_names(ctx.config.hostname.value)
    name = platform_hostname(ctx.metadata.hostname)
    if name:
        return rules.kernel_hostname(name), ""
    # Neither the name nor its first label is valid: as the original's hostnamectl did.
    return rules.host_names(ctx.metadata.hostname) if ctx.metadata.hostname else ("", "")


def platform_hostname(name: str) -> str:
    """A provider's hostname as ccgen uses it: a valid name as it is; otherwise its first
    label, if that is valid; otherwise none."""
    if not name or rules.is_hostname(name):
        return name
    first = name.split(".")[0]
    return first if rules.is_hostname(first) else ""


def _shell_quote(text: str) -> str:
    """A value for an env-style file such as /etc/machine-info, in double quotes."""
    out = "".join("\\" + c if c in '"\\$`' else c for c in text)
    return f'"{out}"'


def machine_info(old: str, pretty: str) -> str:
    """/etc/machine-info with PRETTY_HOSTNAME set (or removed for ""), other lines kept;
    hostnamectl clears the pretty name when it sets a valid hostname."""
    lines = [line for line in old.splitlines() if not line.strip().startswith("PRETTY_HOSTNAME=")]
    if pretty:
        lines.append(f"PRETTY_HOSTNAME={_shell_quote(pretty)}")
    return "".join(line + "\n" for line in lines)


def step_hostname(ctx: Context) -> None:
    static, pretty = host_names(ctx)
    if not static and not pretty:
        return
    # One line per value: a pretty name may hold anything but a line end.
    pretty = " ".join(pretty.split("\n")).replace("\r", " ").replace("\0", "")
    # A valid name's record is the name alone, as before pretty names were kept.
    record = digest(static, pretty) if pretty else digest(static)
    if not ctx.state.needed("hostname", record):
        return
    old_info = (ctx.root.read("/etc/machine-info") or b"").decode("utf-8", "replace")
    info = machine_info(old_info, pretty)
    if info != old_info and ctx.root.write("/etc/machine-info", info.encode()):
        ctx.written.append("/etc/machine-info")
    if static:
        ctx.root.write("/etc/hostname", f"{static}\n".encode())
        ctx.written.append("/etc/hostname")
    if ctx.live and static:
        # The kernel's name changes in place; a rename into /proc is impossible.
        try:
            with open("/proc/sys/kernel/hostname", "w") as f:
                f.write(static)
        except OSError as e:
            raise StepError(f"cannot set the kernel hostname: {e.strerror}") from None
    ctx.state.record("hostname", record)
    if pretty:
        ctx.say(f'hostname: set to {static or "(none)"}, pretty hostname "{pretty}"')
    else:
        ctx.say(f"hostname: set to {static}")


HOSTS_HEADER = "# Written by ccgen (manage_etc_hosts in cloud-config); changes here are replaced.\n"


def hosts_names(static: str) -> str:
    """`fqdn short` for an /etc/hosts line, as cloud-init writes it (one name if equal)."""
    return " ".join(dict.fromkeys((static, static.split(".")[0])))


def hosts_rendered(static: str) -> str:
    """/etc/hosts whole, as cloud-init's Debian template renders it."""
    return (
        HOSTS_HEADER
        + f"127.0.1.1 {hosts_names(static)}\n127.0.0.1 localhost\n\n"
        + "::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"
    )


def hosts_with_localhost(old: str | None, static: str) -> str:
    """cloud-init's `localhost`: the file as it is, with a `127.0.1.1 fqdn short` line added
    unless one already names both (a new file also keeps localhost resolvable)."""
    names = hosts_names(static).split()
    line = f"127.0.1.1 {' '.join(names)}\n"
    if old is None:
        return HOSTS_HEADER + "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n" + line
    for have in old.splitlines():
        words = have.split("#")[0].split()
        if words[:1] == ["127.0.1.1"] and words[1:2] == names[:1] and set(names) <= set(words[1:]):
            return old
    sep = "" if not old or old.endswith("\n") else "\n"
    return old + sep + line


def step_hosts(ctx: Context) -> None:
    """manage_etc_hosts with cloud-init's meanings, checked on every run (cloud-init: every boot)."""
    manage = ctx.config.manage_etc_hosts
    if manage is None:
        return
    meaning = schema.ETC_HOSTS.get(manage.value)
    if meaning is None or meaning == schema.HOSTS_LEAVE:
        return  # another value was refused by the key's rule
    static = host_names(ctx)[0] or "localhost"
    raw = ctx.root.read("/etc/hosts")
    old = None if raw is None else raw.decode("utf-8", "replace")
    body = hosts_rendered(static) if meaning == schema.HOSTS_RENDER else hosts_with_localhost(old, static)
    if body != old and ctx.root.write("/etc/hosts", body.encode()):
        ctx.written.append("/etc/hosts")
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
