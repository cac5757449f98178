"""The steps of cloud-init's dialect that change the system's own files (docs/cloud-init.md):
groups, sudo rules, chpasswd, ssh_pwauth, ssh_keys, timezone, locale, ntp and ca_certs.  Each is once per
instance and content, through the same records as the other steps; none of them
ever shows a password."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile

from ccgen.lang.cloudinit import Password, is_hash

from . import accounts
from .context import Context, StepError
from .fs import Owner
from .state import digest
from .users import ensure_group, prefix, set_password, set_plain_password

SUDOERS = "/etc/sudoers.d/90-ccgen-users"
SSHD_DROPIN = "/etc/ssh/sshd_config.d/50-ccgen.conf"
SSHD_INCLUDE = "Include /etc/ssh/sshd_config.d/*.conf"
ZONEINFO = "/usr/share/zoneinfo"
LOCALE_FILE = "/etc/default/locale"
NO_LOCALE_GEN = ("C", "C.UTF-8", "C.utf8", "POSIX")
TIMESYNCD_DROPIN = "/etc/systemd/timesyncd.conf.d/50-ccgen.conf"
TIMESYNCD = ("/usr/lib/systemd/systemd-timesyncd", "/lib/systemd/systemd-timesyncd")
# Debian 12's chrony.conf reads this directory (`sourcedir`), so ccgen adds sources
# without replacing the image's file (cloud-init replaces it).
CHRONY_SOURCES = "/etc/chrony/sources.d/ccgen.sources"
CHRONYD = ("/usr/sbin/chronyd", "/sbin/chronyd")
# ssh_keys: where each part goes (cloud-init's names) and its mode (cloud-init's is 0600 for all).
HOST_KEY_FILES = {"private": ("", 0o600), "public": (".pub", 0o644), "certificate": ("-cert.pub", 0o644)}
HOST_CERT_DROPIN = "/etc/ssh/sshd_config.d/50-ccgen-host-certificates.conf"
CA_DIR = "/usr/local/share/ca-certificates"  # update-ca-certificates trusts every .crt here
CA_CONF = "/etc/ca-certificates.conf"
# cloud-init's default when ntp names no server and no pool (generate_server_names, Debian).
DEBIAN_POOLS = tuple(f"{i}.debian.pool.ntp.org" for i in range(4))


def _once(ctx: Context, identity: str, *values: object) -> str | None:
    """The record's digest when the item must be applied, None when it already was."""
    d = digest(*values)
    return d if ctx.state.needed(identity, d) else None


def step_groups(ctx: Context) -> None:
    """Top-level groups, before the users (their members are added after them)."""
    ci = ctx.config.cloudinit
    if ci is None or not ci.groups:
        return
    failures = []
    for g in ci.groups:
        try:
            ensure_group(ctx, g.name)
        except StepError as e:
            ctx.say(f"groups: error: {g.name}: {e}")
            failures.append(g.name)
    if failures:
        raise StepError(f"group(s) not created: {', '.join(failures)}")


def step_members(ctx: Context) -> None:
    """Top-level groups' members, once the config's users exist (cloud-init adds only
    members that existed before its users were made)."""
    ci = ctx.config.cloudinit
    if ci is None or not ci.groups:
        return
    failures = []
    for g in ci.groups:
        todo = _once(ctx, f"group:{g.name}", g.name, g.members)
        if todo is None or accounts.group_id(ctx.root, g.name) is None:
            continue
        ok = True
        for member in g.members:
            if accounts.user(ctx.root, member) is None:
                ctx.say(f"groups: {g.name}: user {member} does not exist; not added")
                continue
            try:
                ctx.run(["usermod", *prefix(ctx), "--append", "--groups", g.name, "--", member])
            except StepError as e:
                ctx.say(f"groups: error: {g.name}: {member}: {e}")
                ok = False
        if ok:
            ctx.state.record(f"group:{g.name}", todo)
        else:
            failures.append(g.name)
    if failures:
        raise StepError(f"members not added to: {', '.join(failures)}")


def sudoers_text(ctx: Context) -> str:
    lines = []
    for user in ctx.config.all_users():
        for rule in user.sudo or ():
            lines.append(f"{user.name.value} {rule}")
    if not lines:
        return ""
    return "# Created by ccgen from cloud-config (users[].sudo); replaced when it changes\n" + "".join(
        line + "\n" for line in lines
    )


def visudo_check(text: str) -> None:
    """`visudo -c -f` on the rules where the tool exists: a bad rule would lock sudo out."""
    tool = shutil.which("visudo")
    if tool is None:
        return
    with tempfile.NamedTemporaryFile("w", prefix="ccgen-sudoers-", suffix=".check") as f:
        f.write(text)
        f.flush()
        os.chmod(f.name, 0o440)
        proc = subprocess.run([tool, "-c", "-q", "-f", f.name], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        why = (proc.stdout + proc.stderr).replace(f.name, SUDOERS).strip().replace("\n", "; ")
        raise StepError(f"visudo refused the rules, none written: {why}")


def step_sudo(ctx: Context) -> None:
    text = sudoers_text(ctx)
    if not text:
        if ctx.root.exists(SUDOERS) and ctx.root.remove(SUDOERS):
            ctx.written.append(SUDOERS)
            ctx.say(f"sudo: removed {SUDOERS}, no user has sudo rules any more")
        return
    visudo_check(text)
    ctx.root.mkdir("/etc/sudoers.d", 0o755)
    if ctx.root.write(SUDOERS, text.encode(), mode=0o440):
        ctx.written.append(SUDOERS)
        ctx.say(f"sudo: wrote {SUDOERS}")
    sudoers = (ctx.root.read("/etc/sudoers") or b"").decode("utf-8", "replace")
    if sudoers and "includedir /etc/sudoers.d" not in sudoers:
        ctx.say(f"sudo: /etc/sudoers does not read /etc/sudoers.d; {SUDOERS} has no effect")


def step_chpasswd(ctx: Context) -> None:
    ci = ctx.config.cloudinit
    if ci is None:
        return
    todo_list = list(ci.chpasswd or ())
    if not todo_list and ci.password is not None:
        # The top-level `password` is the default user's, as cloud-init's.
        owner = ctx.config.key_owner
        if owner == "core" and ctx.config.default_user is None:
            ctx.say("chpasswd: password is for the default user, and the image declares none")
        else:
            secret = ci.password.value
            todo_list = [Password(owner, secret, is_hash(secret), ci.password.span)]
    if not todo_list:
        return
    expire = ci.expire is not False  # cloud-init's default: true
    failures = []
    for p in todo_list:
        todo = _once(ctx, f"chpasswd:{p.name}", p.name, p.secret, p.hashed, expire)
        if todo is None:
            continue
        try:
            if accounts.user(ctx.root, p.name) is None:
                raise StepError(f"user {p.name} does not exist")
            if p.hashed:
                set_password(ctx, p.name, p.secret)
            else:
                set_plain_password(ctx, p.name, p.secret)
            if expire:
                expire_password(ctx, p.name)
        except StepError as e:
            ctx.say(f"chpasswd: error: {p.name}: {e}")
            failures.append(p.name)
            continue
        ctx.state.record(f"chpasswd:{p.name}", todo)
        ctx.say(
            f"chpasswd: set the password of {p.name}"
            + (", to be changed at the next login" if expire else "")
        )
    if failures:
        raise StepError(f"password(s) not set: {', '.join(failures)}")


def expire_password(ctx: Context, name: str) -> None:
    """The next login must change the password: the last change at day 0 in /etc/shadow."""
    if ctx.live:
        ctx.run(["passwd", "--expire", name])
        return
    data = (ctx.root.read("/etc/shadow") or b"").decode("utf-8", "replace")
    rows = data.splitlines()
    for i, row in enumerate(rows):
        fields = row.split(":")
        if fields[0] == name and len(fields) >= 3:
            fields[2] = "0"
            rows[i] = ":".join(fields)
            host = ctx.root.resolve("/etc/shadow")
            st = os.stat(host) if host is not None else None
            owner = Owner(st.st_uid, st.st_gid) if st is not None else None
            mode = stat.S_IMODE(st.st_mode) if st is not None else 0o640
            ctx.root.write("/etc/shadow", ("\n".join(rows) + "\n").encode(), mode=mode, owner=owner)
            return
    raise StepError(f"{name} is not in /etc/shadow")


def step_ssh_pwauth(ctx: Context) -> None:
    ci = ctx.config.cloudinit
    if ci is None or ci.ssh_pwauth is None:
        return
    word = "yes" if ci.ssh_pwauth else "no"
    text = f"# Created by ccgen from cloud-config (ssh_pwauth)\nPasswordAuthentication {word}\n"
    ctx.root.mkdir("/etc/ssh/sshd_config.d", 0o755)
    if ctx.root.write(SSHD_DROPIN, text.encode(), mode=0o600):
        ctx.written.append(SSHD_DROPIN)
        ctx.say(f"ssh_pwauth: wrote {SSHD_DROPIN}")
    config = (ctx.root.read("/etc/ssh/sshd_config") or b"").decode("utf-8", "replace")
    if config and SSHD_INCLUDE not in config:
        ctx.say(f"ssh_pwauth: /etc/ssh/sshd_config has no '{SSHD_INCLUDE}'; {SSHD_DROPIN} has no effect")


def step_timezone(ctx: Context) -> None:
    ci = ctx.config.cloudinit
    if ci is None or ci.timezone is None:
        return
    zone = ci.timezone.value
    todo = _once(ctx, "timezone", zone)
    if todo is None:
        return
    found = ctx.root.resolve(f"{ZONEINFO}/{zone}")
    if found is None or not os.path.isfile(found):
        raise StepError(f"unknown time zone {zone}: no {ZONEINFO}/{zone}")
    changed = ctx.root.write("/etc/timezone", f"{zone}\n".encode())
    changed = ctx.root.symlink("/etc/localtime", f"{ZONEINFO}/{zone}") or changed
    ctx.state.record("timezone", todo)
    if changed:
        ctx.written.append("/etc/localtime")
        ctx.say(f"timezone: {zone}")


def step_locale(ctx: Context) -> None:
    ci = ctx.config.cloudinit
    if ci is None or ci.locale is None:
        return
    locale, path = ci.locale.value, ci.locale_file or LOCALE_FILE
    todo = _once(ctx, "locale", locale, path)
    if todo is None:
        return
    old = (ctx.root.read(path) or b"").decode("utf-8", "replace").splitlines()
    kept = [line for line in old if not line.startswith("LANG=")]
    ctx.root.write(path, "".join(line + "\n" for line in [*kept, f"LANG={locale}"]).encode())
    if locale not in NO_LOCALE_GEN:
        enable_locale(ctx, locale)
    ctx.state.record("locale", todo)
    ctx.written.append(path)
    ctx.say(f"locale: LANG={locale} in {path}")


def enable_locale(ctx: Context, locale: str) -> None:
    """Debian's locale-gen builds what /etc/locale.gen enables: enable it there first."""
    gen = (ctx.root.read("/etc/locale.gen") or b"").decode("utf-8", "replace")
    if not gen:
        return
    lines = gen.splitlines()
    if not any(line.split()[:1] == [locale] for line in lines):
        wanted = next((i for i, line in enumerate(lines) if line.lstrip("# ").split()[:1] == [locale]), None)
        if wanted is not None:
            lines[wanted] = lines[wanted].lstrip("# ")
        else:
            lines.append(f"{locale} {locale.partition('.')[2] or 'ISO-8859-1'}")
        ctx.root.write("/etc/locale.gen", "".join(line + "\n" for line in lines).encode())
    if ctx.live and shutil.which("locale-gen"):
        ctx.run(["locale-gen"])


def step_ntp(ctx: Context) -> None:
    """ntp: the servers and pools for chrony where the image has it (and ntp_client allows),
    else for systemd-timesyncd; ccgen's file for the other client, if any, is removed."""
    ci = ctx.config.cloudinit
    ntp = ci.ntp if ci is not None else None
    if ntp is None:
        for path in (TIMESYNCD_DROPIN, CHRONY_SOURCES):
            if ctx.root.exists(path) and ctx.root.remove(path):
                ctx.written.append(path)
                ctx.say(f"ntp: removed {path}, the config has no ntp any more")
        return
    has_chrony = any(ctx.root.exists(p) for p in CHRONYD)
    if ntp.client == "chrony" and not has_chrony:
        raise StepError("ntp_client is chrony, and the image has no chronyd (ccgen installs no NTP client)")
    chrony = ntp.client == "chrony" or (ntp.client == "auto" and has_chrony)
    names = (ntp.servers, ntp.pools) if ntp.servers or ntp.pools else ((), DEBIAN_POOLS)
    header = "# Created by ccgen from cloud-config (ntp); replaced when it changes\n"
    if chrony:
        path, other, service = CHRONY_SOURCES, TIMESYNCD_DROPIN, "chrony.service"
        lines = [f"server {s} iburst" for s in names[0]] + [f"pool {p} iburst" for p in names[1]]
        text = header + "".join(line + "\n" for line in lines)
    else:
        path, other, service = TIMESYNCD_DROPIN, CHRONY_SOURCES, "systemd-timesyncd.service"
        text = header + "[Time]\nNTP=" + " ".join((*names[0], *names[1])) + "\n"
        if not any(ctx.root.exists(p) for p in TIMESYNCD):
            ctx.say(f"ntp: systemd-timesyncd is not installed; {path} takes effect once it is")
    if ctx.root.exists(other) and ctx.root.remove(other):
        ctx.written.append(other)
    ctx.root.mkdir(os.path.dirname(path), 0o755)
    if not ctx.root.write(path, text.encode()):
        return
    ctx.written.append(path)
    ctx.say(f"ntp: wrote {path}")
    if chrony:
        conf = (ctx.root.read("/etc/chrony/chrony.conf") or b"").decode("utf-8", "replace")
        if conf and "sourcedir /etc/chrony/sources.d" not in conf:
            ctx.say(f"ntp: /etc/chrony/chrony.conf does not read /etc/chrony/sources.d; {path} has no effect")
    if ctx.live:
        # At boot the client may already run (timesyncd starts in sysinit): restart it if so.
        ctx.run(["systemctl", "try-restart", service])


def step_ca_certs(ctx: Context) -> None:
    """ca_certs: each trusted certificate a file of ccgen's in CA_DIR (those no longer
    wanted removed), remove_defaults once per instance, then update-ca-certificates."""
    ci = ctx.config.cloudinit
    ca = ci.ca_certs if ci is not None else None
    wanted = {f"{CA_DIR}/ccgen-{i}.crt": pem for i, pem in enumerate(ca.trusted if ca else (), 1)}
    changed = []
    found = ctx.root.resolve(CA_DIR)
    if found is not None and os.path.isdir(found):
        for name in sorted(os.listdir(found)):
            path = f"{CA_DIR}/{name}"
            ours = name.startswith("ccgen-") and name.endswith(".crt")
            if ours and path not in wanted and ctx.root.remove(path):
                changed.append(path)
    for path, pem in wanted.items():
        if ctx.root.write(path, pem.encode(), mode=0o644):
            changed.append(path)
    if ca is not None and ca.remove_defaults:
        todo = _once(ctx, "ca_certs:remove_defaults", True)
        if todo is not None:
            if distrust_defaults(ctx):
                changed.append(CA_CONF)
            ctx.state.record("ca_certs:remove_defaults", todo)
    if not changed:
        return
    ctx.written.extend(changed)
    ctx.say(
        f"ca_certs: {len(wanted)} certificate(s) in {CA_DIR}"
        + (", the image's distrusted" if CA_CONF in changed else "")
    )
    if not ctx.live:
        ctx.say(
            "ca_certs: update-ca-certificates is not run under --root; "
            "run it in the image (on the machine it runs at the next change)"
        )
        return
    tool = shutil.which("update-ca-certificates")
    if tool is None:
        ctx.say(
            "ca_certs: update-ca-certificates is not installed; "
            f"only programs that read {CA_DIR} see the certificates"
        )
        return
    ctx.run([tool, *(["--fresh"] if CA_CONF in changed else [])])


def distrust_defaults(ctx: Context) -> bool:
    """cloud-init's remove_defaults, as its current version does it: every entry of
    ca-certificates.conf disabled with `!` (update-ca-certificates then drops it from
    /etc/ssl/certs), rather than 22.4.2's deletion of the image's certificates."""
    text = (ctx.root.read(CA_CONF) or b"").decode("utf-8", "replace")
    lines = text.splitlines()
    out = ["!" + line if line.strip() and not line.startswith(("#", "!")) else line for line in lines]
    if out == lines:
        return False
    return ctx.root.write(CA_CONF, "".join(line + "\n" for line in out).encode())


def step_host_keys(ctx: Context) -> None:
    """ssh_keys: the host keys given in the config, once per instance and content, before
    sshd starts; a certificate is named in an sshd drop-in as cloud-init does it."""
    ci = ctx.config.cloudinit
    if ci is None or not ci.host_keys:
        return
    keys = ci.host_keys
    todo = _once(ctx, "ssh_keys", [(k.type, k.part, k.text) for k in keys])
    if todo is None:
        return
    ctx.root.mkdir("/etc/ssh", 0o755)
    given = {(k.type, k.part) for k in keys}
    certs = []
    for k in keys:
        suffix, mode = HOST_KEY_FILES[k.part]
        path = f"/etc/ssh/ssh_host_{k.type}_key{suffix}"
        ctx.root.write(path, k.text.encode(), mode=mode)
        ctx.written.append(path)
        if k.part == "certificate":
            certs.append(path)
        if k.part == "private" and (k.type, "public") not in given:
            derive_public(ctx, path)
    if certs:
        text = "# Created by ccgen from cloud-config (ssh_keys)\n" + "".join(
            f"HostCertificate {c}\n" for c in certs
        )
        ctx.root.mkdir("/etc/ssh/sshd_config.d", 0o755)
        ctx.root.write(HOST_CERT_DROPIN, text.encode(), mode=0o600)
        ctx.written.append(HOST_CERT_DROPIN)
    ctx.state.record("ssh_keys", todo)
    ctx.say(f"ssh_keys: {len(keys)} host key file(s) in /etc/ssh")  # never their text
    if ctx.live:
        # At boot sshd has not started yet (ccgen-apply is before it); later it must re-read them.
        ctx.run(["systemctl", "try-reload-or-restart", "ssh.service"])


def derive_public(ctx: Context, path: str) -> None:
    """A private key without its public part: `ssh-keygen -y`, as cloud-init does."""
    tool = shutil.which("ssh-keygen")
    host = ctx.root.resolve(path)
    if tool is None or host is None:
        ctx.say(f"ssh_keys: no ssh-keygen to make {path}.pub; sshd needs only the private key")
        return
    public = ctx.output([tool, "-y", "-f", host])
    ctx.root.write(path + ".pub", public, mode=0o644)
    ctx.written.append(path + ".pub")
