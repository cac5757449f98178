"""cloud-init's dialect: the keys whose values take several shapes, checked and built.

The validator keeps these values as they are (schema.ANY); this module is their
parser, with a positioned diagnostic for every bad value: a wrong shape is a
`type` warning and is ignored, a value against a rule is an `invalid-value`
error and is left out.  It is imported only for a document that uses one of
cloud-init's keys (build.py), so a CoreOS-dialect config never pays for it.
docs/cloud-init.md says what each key does.
"""

from __future__ import annotations

from ccgen.base import rules
from ccgen.base.diag import Diagnostics, Span

from . import schema
from .model import Field, _Frozen, _init

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    # What the user-field parsers answer: the value (None: a wrong type, warned and
    # ignored), and whether the user is still good (False: an error; the user is refused).
    Answer = tuple[Optional[tuple[str, ...]], bool]
    from .validate import Tree, Value

# apt, dnf and zypper names, with an optional :arch; versions as the three take them.
_PACKAGE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+._-:@")
_VERSION = _PACKAGE | frozenset("~*")
_GROUP_BAD = frozenset(",:\0\n\r \t")
POWER_DELAY_MAX = 60 * 24 * 365  # minutes; shutdown(8) refuses nothing, a year is plenty
NTP_HOST_MAX = 253  # a DNS name's longest
PEM_BEGIN, PEM_END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
CERT_MAX = 64 * 1024  # one ca_certs.trusted item; a CA bundle of a few dozen fits
HOST_KEY_MAX = 64 * 1024  # one ssh_keys value; a 16384-bit RSA key is about 12 KiB
KEY_PREFIXES = ("ssh-", "ecdsa-", "sk-")  # how a public key or a certificate line starts
CERTS_MAX = 1000  # ca_certs.trusted items, each a file
# The placeholders final_message knows, as cloud-init spells them (either case).
MESSAGE_VARIABLES = ("UPTIME", "TIMESTAMP", "VERSION", "DATASOURCE")


class Command(_Frozen):
    """One bootcmd or runcmd item: words run as they are, or a line for the shell."""

    __slots__ = ("argv", "shell", "span")
    argv: tuple[str, ...] | None
    shell: str | None
    span: Span

    def __init__(self, span: Span, argv: tuple[str, ...] | None = None, shell: str | None = None) -> None:
        _init(self, argv=argv, shell=shell, span=span)


class Package(_Frozen):
    __slots__ = ("name", "span", "version")
    name: str
    version: str | None
    span: Span

    def __init__(self, name: str, version: str | None, span: Span) -> None:
        _init(self, name=name, version=version, span=span)


class Group(_Frozen):
    __slots__ = ("members", "name", "span")
    name: str
    members: tuple[str, ...]
    span: Span

    def __init__(self, name: str, members: tuple[str, ...], span: Span) -> None:
        _init(self, name=name, members=members, span=span)


class Password(_Frozen):
    """A chpasswd entry.  `secret` is never shown: repr leaves it out."""

    __slots__ = ("hashed", "name", "secret", "span")
    name: str
    secret: str
    hashed: bool
    span: Span

    def __init__(self, name: str, secret: str, hashed: bool, span: Span) -> None:
        _init(self, name=name, secret=secret, hashed=hashed, span=span)

    def __repr__(self) -> str:
        return f"Password({self.name!r}, hashed={self.hashed})"


class PowerState(_Frozen):
    __slots__ = ("condition", "delay", "message", "mode", "span")
    mode: str  # shutdown's option: -P, -r or -H
    delay: str  # "now" or "+N"
    message: str
    condition: bool | Command
    span: Span

    def __init__(self, mode: str, delay: str, message: str, condition: bool | Command, span: Span) -> None:
        _init(self, mode=mode, delay=delay, message=message, condition=condition, span=span)


class Ntp(_Frozen):
    __slots__ = ("client", "pools", "servers", "span")
    client: str  # schema.NTP_CLIENTS
    servers: tuple[str, ...]
    pools: tuple[str, ...]
    span: Span

    def __init__(self, client: str, servers: tuple[str, ...], pools: tuple[str, ...], span: Span) -> None:
        _init(self, client=client, servers=servers, pools=pools, span=span)


class CaCerts(_Frozen):
    __slots__ = ("remove_defaults", "span", "trusted")
    trusted: tuple[str, ...]  # PEM text, each ending in a line break
    remove_defaults: bool
    span: Span

    def __init__(self, trusted: tuple[str, ...], remove_defaults: bool, span: Span) -> None:
        _init(self, trusted=trusted, remove_defaults=remove_defaults, span=span)


class HostKey(_Frozen):
    """One part of an ssh_keys host key.  `text` of a private part is a secret: repr leaves it out."""

    __slots__ = ("part", "span", "text", "type")
    type: str  # schema.HOST_KEY_TYPES
    part: str  # private, public or certificate
    text: str  # ending in one line break
    span: Span

    def __init__(self, type: str, part: str, text: str, span: Span) -> None:
        _init(self, type=type, part=part, text=text, span=span)

    def __repr__(self) -> str:
        return f"HostKey({self.type!r}, {self.part!r})"


class CloudInit(_Frozen):
    """What a document says in cloud-init's dialect, beside users and write_files (which
    are the model's own).  A field is None when the document does not say it, so that a
    later document overrides only what it says (cloud-init replaces lists whole)."""

    __slots__ = (
        "bootcmd",
        "ca_certs",
        "chpasswd",
        "disable_root",
        "disable_root_opts",
        "expire",
        "final_message",
        "groups",
        "host_keys",
        "locale",
        "locale_file",
        "ntp",
        "package_reboot",
        "package_span",
        "package_update",
        "package_upgrade",
        "packages",
        "password",
        "power_state",
        "runcmd",
        "ssh_pwauth",
        "timezone",
    )
    bootcmd: tuple[Command, ...] | None
    runcmd: tuple[Command, ...] | None
    packages: tuple[Package, ...] | None
    package_update: bool | None
    package_upgrade: bool | None
    package_reboot: bool | None
    package_span: Span | None  # where the first package key is
    groups: tuple[Group, ...] | None
    chpasswd: tuple[Password, ...] | None
    password: Field[str] | None  # the default user's, when chpasswd names no user
    expire: bool | None
    ssh_pwauth: bool | None
    disable_root: bool | None  # None: neither disable_root nor disable_root_opts given
    disable_root_opts: str | None
    timezone: Field[str] | None
    locale: Field[str] | None
    locale_file: str | None
    ca_certs: CaCerts | None
    host_keys: tuple[HostKey, ...] | None
    ntp: Ntp | None  # None: no ntp, or `enabled: false`
    final_message: Field[str] | None
    power_state: PowerState | None

    def __init__(self, **fields: object) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, fields.get(name))

    def merged_with(self, later: CloudInit) -> CloudInit:
        return CloudInit(
            **{
                n: (getattr(later, n) if getattr(later, n) is not None else getattr(self, n))
                for n in self.__slots__
            }
        )

    def __repr__(self) -> str:
        return f"CloudInit({', '.join(n for n in self.__slots__ if getattr(self, n) is not None)})"

    @property
    def packages_wanted(self) -> bool:
        return bool(self.packages or self.package_update or self.package_upgrade)


def _kind(v: object) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", bytes: "a string",
            list: "a list", dict: "a mapping"}.get(type(v), "a value")  # fmt: skip


class _Parser:
    def __init__(self, diags: Diagnostics) -> None:
        self.diags = diags

    def wrong(self, f: Field[Value], label: str, want: str) -> None:
        self.diags.warning(
            f.span, "type", f'incorrect type for "{label}" (want {want})', f"found {_kind(f.value)}; ignored"
        )

    def bad(self, span: Span, label: str, why: str) -> None:
        self.diags.error(span, "invalid-value", f'invalid value for "{label}": {why}', "left out")

    @staticmethod
    def text(v: object) -> str | None:
        if isinstance(v, bytes):
            try:
                return v.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return v if isinstance(v, str) else None

    # bootcmd, runcmd

    def commands(self, f: Field[Value], label: str) -> tuple[Command, ...] | None:
        if not isinstance(f.value, list):
            self.wrong(f, label, "a list of strings or of lists of strings")
            return None
        out = []
        for i, item in enumerate(f.value):
            c = self.command(item, f"{label}[{i}]")
            if c is not None:
                out.append(c)
        return tuple(out)

    def command(self, item: Field[Value], label: str) -> Command | None:
        line = self.text(item.value)
        if line is not None:
            if "\0" in line:
                self.bad(item.span, label, "a NUL character")
                return None
            return Command(item.span, shell=line) if line.strip() else None
        if isinstance(item.value, (int, float)) and not isinstance(item.value, bool):
            return Command(item.span, shell=str(item.value))
        if isinstance(item.value, list):
            words = []
            for w in item.value:
                word = self.text(w.value)
                if word is None and isinstance(w.value, (int, float)) and not isinstance(w.value, bool):
                    word = str(w.value)
                if word is None:
                    self.wrong(w, label, "a string")
                    return None
                if "\0" in word:
                    self.bad(w.span, label, "a NUL character")
                    return None
                words.append(word)
            return Command(item.span, argv=tuple(words)) if words else None
        self.wrong(item, label, "a string or a list of strings")
        return None

    # packages

    def packages(self, f: Field[Value]) -> tuple[Package, ...] | None:
        if not isinstance(f.value, list):
            self.wrong(f, "packages", "a list")
            return None
        out = []
        for i, item in enumerate(f.value):
            label = f"packages[{i}]"
            if isinstance(item.value, list):
                parts = [self.text(p.value) if not isinstance(p.value, (int, float)) else str(p.value)
                         for p in item.value]  # fmt: skip
                if len(parts) != 2 or any(p is None for p in parts):
                    self.wrong(item, label, "a name or a [name, version] pair")
                    continue
                name, version = parts
            else:
                name, version = self.text(item.value), None
                if name is None:
                    self.wrong(item, label, "a name or a [name, version] pair")
                    continue
            assert name is not None
            if not name or not _PACKAGE.issuperset(name) or name[0] in "-.:+":
                self.bad(item.span, label, "a package name is letters, digits and + . _ - : @")
                continue
            if version is not None and (not version or not _VERSION.issuperset(version)):
                self.bad(item.span, label, "a version is letters, digits and + . _ - : ~ *")
                continue
            out.append(Package(name, version, item.span))
        return tuple(out)

    # groups

    def group_name(self, name: str, span: Span, label: str) -> bool:
        if not name or _GROUP_BAD.intersection(name) or len(name) > 32:
            self.bad(span, label, f'"{name}" is not a group name')
            return False
        return True

    def members(self, f: Field[Value], label: str) -> tuple[str, ...] | None:
        one = self.text(f.value)
        items = [one] if one is not None else [self.text(m.value) for m in f.value] if isinstance(
            f.value, list) else None  # fmt: skip
        if items is None or any(m is None for m in items):
            self.wrong(f, label, "a user name or a list of them")
            return None
        return tuple(m.strip() for m in items if m and m.strip())

    def groups(self, f: Field[Value]) -> tuple[Group, ...] | None:
        out: list[Group] = []
        v = f.value
        entries: list[tuple[str, Field[Value] | None, Span]] = []
        one = self.text(v)
        if one is not None:
            # cloud-init keeps the spaces after the commas in a group's name; ccgen strips them.
            entries = [(n.strip(), None, f.span) for n in one.split(",") if n.strip()]
        elif isinstance(v, dict):
            entries = [(k, m, m.key_span or m.span) for k, m in v.items()]
        elif isinstance(v, list):
            for item in v:
                name = self.text(item.value)
                if name is not None:
                    entries.append((name, None, item.span))
                elif isinstance(item.value, dict):
                    entries += [(k, m, m.key_span or m.span) for k, m in item.value.items()]
                else:
                    self.wrong(item, "groups[]", "a name or {group: members}")
        else:
            self.wrong(f, "groups", "a list, a mapping or a comma string")
            return None
        for name, member_field, span in entries:
            if not self.group_name(name, span, "groups"):
                continue
            members = self.members(member_field, f"groups.{name}") if member_field is not None else ()
            if members is not None:
                out.append(Group(name, members, span))
        return tuple(out)

    # chpasswd

    def chpasswd(self, f: Field[Value]) -> tuple[tuple[Password, ...] | None, bool | None]:
        assert isinstance(f.value, dict)
        out: list[Password] = []
        given = False
        users = f.value.get("users")
        if users is not None:
            given = True
            if not isinstance(users.value, list):
                self.wrong(users, "chpasswd.users", "a list of {name, password, type}")
            else:
                for i, item in enumerate(users.value):
                    p = self.chpasswd_user(item, f"chpasswd.users[{i}]")
                    if p is not None:
                        out.append(p)
        lines = f.value.get("list")
        if lines is not None:
            given = True
            out += self.chpasswd_list(lines)
        expire = f.value.get("expire")
        return (tuple(out) if given else None), (expire.value if expire is not None else None)  # type: ignore[return-value]

    def secret_ok(self, name: str, secret: str, span: Span, label: str) -> bool:
        if not rules.is_user_name(name):
            self.bad(span, label, f'"{name}" is not a valid user name')
            return False
        if not secret or any(c in secret for c in "\0\n\r:"):
            # The value is a secret: say what is wrong, never what it is.
            self.bad(span, label, "a password cannot be empty or hold ':' or control characters")
            return False
        return True

    def chpasswd_user(self, item: Field[Value], label: str) -> Password | None:
        if not isinstance(item.value, dict):
            self.wrong(item, label, "{name, password, type}")
            return None
        name_f, secret_f = item.value.get("name"), item.value.get("password")
        name = self.text(name_f.value) if name_f is not None else None
        secret = self.text(secret_f.value) if secret_f is not None else None
        kind_f = item.value.get("type")
        kind = self.text(kind_f.value) if kind_f is not None else "hash"
        if name is None or secret is None:
            self.wrong(item, label, "a name and a password, both strings")
            return None
        if kind not in ("hash", "text"):
            # RANDOM prints a password to the console: not done (docs/cloud-init.md).
            self.bad(kind_f.span if kind_f is not None else item.span, label, "type is hash or text")
            return None
        if not self.secret_ok(name, secret, item.span, label):
            return None
        return Password(name, secret, kind == "hash", item.span)

    def chpasswd_list(self, f: Field[Value]) -> list[Password]:
        one = self.text(f.value)
        if one is not None:
            lines = [(line, f.span) for line in one.splitlines()]
        elif isinstance(f.value, list):
            lines = []
            for item in f.value:
                t = self.text(item.value)
                if t is None:
                    self.wrong(item, "chpasswd.list[]", "a user:password string")
                else:
                    lines.append((t, item.span))
        else:
            self.wrong(f, "chpasswd.list", "a list or a string of user:password lines")
            return []
        out = []
        for line, span in lines:
            if not line.strip():
                continue
            name, sep, secret = line.strip().partition(":")
            if not sep:
                self.bad(span, "chpasswd.list", "each line is user:password")
                continue
            if secret in ("R", "RANDOM"):
                self.bad(span, "chpasswd.list", "random passwords are not supported")
                continue
            if self.secret_ok(name, secret, span, "chpasswd.list"):
                out.append(Password(name, secret, is_hash(secret), span))
        return out

    # power_state

    def power_state(self, f: Field[Value]) -> PowerState | None:
        assert isinstance(f.value, dict)
        mode = f.value.get("mode")
        if mode is None or not isinstance(mode.value, str) or not mode.ok:
            if mode is None:
                self.bad(f.key_span or f.span, "power_state", "mode (poweroff, reboot or halt) is required")
            return None
        flag = schema.section("power_state", "mode").choices
        assert flag is not None
        delay = "now"
        d = f.value.get("delay")
        if d is not None:
            raw = d.value
            text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else self.text(raw)
            minutes = text[1:] if text is not None and text.startswith("+") else text
            if text == "now":
                delay = "now"
            elif (
                minutes is not None
                and minutes.isascii()
                and minutes.isdigit()
                and (int(minutes) <= POWER_DELAY_MAX)
            ):
                delay = "now" if int(minutes) == 0 else f"+{int(minutes)}"
            else:
                self.bad(d.span, "power_state.delay", "now, a number of minutes or +N")
                return None
        msg = f.value.get("message")
        message = self.text(msg.value) if msg is not None else ""
        if message is None or any(c in message for c in "\0\n\r"):
            self.bad(msg.span if msg is not None else f.span, "power_state.message", "one line of text")
            return None
        cond = f.value.get("condition")
        condition: bool | Command = True
        if cond is not None:
            if isinstance(cond.value, bool):
                condition = cond.value
            else:
                c = self.command(cond, "power_state.condition")
                if c is None:
                    return None
                condition = c
        return PowerState(flag[mode.value], delay, message, condition, f.key_span or f.span)

    # ntp

    def ntp(self, f: Field[Value]) -> Ntp | None:
        assert isinstance(f.value, dict)
        enabled = f.value.get("enabled")
        if enabled is not None and enabled.value is False:
            return None
        client = f.value.get("ntp_client")
        names: dict[str, tuple[str, ...]] = {}
        for key in ("servers", "pools"):
            given = f.value.get(key)
            good = []
            for item in given.value if given is not None and isinstance(given.value, list) else ():
                host = self.text(item.value)
                # One word of NTP= or of a chrony line: a blank, '#' or a line break would
                # make it two, or a comment.
                if (
                    host is None
                    or not host
                    or len(host) > NTP_HOST_MAX
                    or any(c in host for c in "# \t\0\n\r\\")
                ):
                    self.bad(item.span, f"ntp.{key}", "a host name or address, one word")
                    continue
                good.append(host)
            names[key] = tuple(good)
        word = client.value if client is not None and client.ok and isinstance(client.value, str) else "auto"
        return Ntp(word, names["servers"], names["pools"], f.key_span or f.span)

    # ca_certs

    def ca_certs(self, f: Field[Value]) -> CaCerts | None:
        assert isinstance(f.value, dict)
        trusted = f.value.get("trusted")
        good = []
        for i, item in enumerate(
            trusted.value if trusted is not None and isinstance(trusted.value, list) else ()
        ):
            pem = self.text(item.value)
            why = None
            if pem is None or len(pem) > CERT_MAX:
                why = f"at most {CERT_MAX // 1024} KiB of PEM text"
            elif "\0" in pem:
                why = "a NUL character"
            elif PEM_BEGIN not in pem or PEM_END not in pem.partition(PEM_BEGIN)[2]:
                why = f"a PEM certificate, from {PEM_BEGIN} to {PEM_END}"
            if why is not None:
                self.bad(item.span, f"ca_certs.trusted[{i}]", why)
                continue
            assert pem is not None
            good.append(pem.replace("\r\n", "\n").rstrip("\n") + "\n")
        if len(good) > CERTS_MAX:
            self.bad(
                trusted.span if trusted is not None else f.span, "ca_certs.trusted", f"at most {CERTS_MAX}"
            )
            return None
        remove = f.value.get("remove_defaults")
        return CaCerts(tuple(good), remove is not None and remove.value is True, f.key_span or f.span)

    # ssh_keys

    def host_keys(self, f: Field[Value]) -> tuple[HostKey, ...]:
        assert isinstance(f.value, dict)
        out = []
        for name, item in f.value.items():
            key_type, _, part = name.rpartition("_")
            text = self.text(item.value)
            if text is None or not item.ok:
                continue  # the validator said so
            text = text.replace("\r\n", "\n").strip("\n")
            why = None
            # The value is never quoted: a private key is a secret.
            if not text or len(text) > HOST_KEY_MAX or "\0" in text:
                why = f"at most {HOST_KEY_MAX // 1024} KiB of text, no NUL"
            elif part == "private" and not (text.startswith("-----BEGIN ") and "PRIVATE KEY-----" in text):
                why = "a private key, from -----BEGIN ... PRIVATE KEY-----"
            elif part != "private" and ("\n" in text or "\r" in text or not text.startswith(KEY_PREFIXES)):
                why = "one line, as ssh-keygen writes it (ssh-..., ecdsa-..., sk-...)"
            if why is not None:
                self.bad(item.span, f"ssh_keys.{name}", why)
                continue
            out.append(HostKey(key_type, part, text + "\n", item.span))
        return tuple(out)

    # disable_root

    def disable_root(self, top: Tree, out: dict[str, object]) -> None:
        flag, opts = top.get("disable_root"), top.get("disable_root_opts")
        if opts is not None and isinstance(opts.value, str):
            # One line of authorized_keys options: a line break would start a key line of its own.
            if any(c in opts.value for c in "\0\n\r"):
                self.bad(opts.span, "disable_root_opts", "one line of authorized_keys options")
                return
            out["disable_root_opts"] = opts.value.strip()
        if flag is not None and isinstance(flag.value, bool):
            out["disable_root"] = flag.value
        elif "disable_root_opts" in out:
            out["disable_root"] = True  # cloud-init's default

    # the document

    def build(self, top: Tree) -> CloudInit:
        out: dict[str, object] = {}
        for key in ("bootcmd", "runcmd"):
            v = top.get(key)
            if v is not None:
                out[key] = self.commands(v, key)
        v = top.get("packages")
        if v is not None:
            out["packages"] = self.packages(v)
        spans = [top[k].key_span for k in schema.PACKAGE_KEYS if k in top]
        out["package_span"] = min((s for s in spans if s is not None), key=lambda s: s.line, default=None)
        for key, old, name in (
            ("package_update", "apt_update", "package_update"),
            ("package_upgrade", "apt_upgrade", "package_upgrade"),
            ("package_reboot_if_required", "apt_reboot_if_required", "package_reboot"),
        ):
            flag = top.get(key) or top.get(old)
            if flag is not None and isinstance(flag.value, bool):
                out[name] = flag.value
        v = top.get("groups")
        if v is not None:
            out["groups"] = self.groups(v)
        v = top.get("chpasswd")
        if v is not None and isinstance(v.value, dict):
            out["chpasswd"], out["expire"] = self.chpasswd(v)
        v = top.get("password")
        if v is not None and isinstance(v.value, str) and v.value:
            if any(c in v.value for c in "\0\n\r:"):
                self.bad(v.span, "password", "a password cannot hold ':' or control characters")
            else:
                out["password"] = Field(v.value, v.span, v.key_span)
        v = top.get("ssh_pwauth")
        if v is not None:
            word = self.text(v.value)
            if isinstance(v.value, bool):
                out["ssh_pwauth"] = v.value
            elif word != "unchanged":
                self.wrong(v, "ssh_pwauth", "true, false or unchanged")
        self.disable_root(top, out)
        v = top.get("ca_certs")
        if v is not None and isinstance(v.value, dict):
            out["ca_certs"] = self.ca_certs(v)
        v = top.get("ssh_keys")
        if v is not None and isinstance(v.value, dict):
            out["host_keys"] = self.host_keys(v)
        v = top.get("ntp")
        if v is not None and isinstance(v.value, dict):
            out["ntp"] = self.ntp(v)
        for key in ("timezone", "locale", "final_message"):
            t = top.get(key)
            if t is not None and t.ok and isinstance(t.value, str) and t.value:
                out[key] = Field(t.value, t.span, t.key_span)
        lf = top.get("locale_configfile")
        if lf is not None and isinstance(lf.value, str) and lf.value:
            if not lf.value.startswith("/") or "\0" in lf.value:
                self.bad(lf.span, "locale_configfile", "an absolute path")
            else:
                out["locale_file"] = lf.value
        v = top.get("power_state")
        if v is not None and isinstance(v.value, dict):
            out["power_state"] = self.power_state(v)
        return CloudInit(**out)


def is_hash(secret: str) -> bool:
    """^\\$(1|2a|2y|5|6)(\\$.+){2}, cloud-init's test for a crypt hash in chpasswd.list
    (yescrypt's $y$ too, Debian 12's default)."""
    parts = secret.split("$")
    return (
        len(parts) >= 4
        and parts[0] == ""
        and parts[1] in ("1", "2a", "2y", "5", "6", "y")
        and all(parts[2:4])
    )


def build(top: Tree, diags: Diagnostics) -> CloudInit:
    return _Parser(diags).build(top)


def sudo_rules(f: Field[Value], label: str, diags: Diagnostics) -> Answer:
    """users[].sudo: a rule, a list of rules, or false (none)."""
    p = _Parser(diags)
    if f.value is False:
        return (), True
    one = p.text(f.value)
    rules: list[str | None] | None = [one] if one is not None else None
    if isinstance(f.value, list):
        rules = [p.text(r.value) for r in f.value]
    if rules is None or any(r is None for r in rules):
        p.wrong(f, label, "a sudoers rule, a list of rules, or false")
        return None, True
    for r in rules:
        assert r is not None
        if any(c in r for c in "\0\n\r"):
            p.bad(f.span, label, "a sudoers rule is one line")
            return None, False
    return tuple(r.strip() for r in rules if r and r.strip()), True


def group_list(f: Field[Value], label: str, diags: Diagnostics) -> Answer:
    """users[].groups: a list, or cloud-init's comma string ("adm, sudo")."""
    p = _Parser(diags)
    one = p.text(f.value)
    names: list[str]
    if one is not None:
        names = [n.strip() for n in one.split(",")]
    elif isinstance(f.value, list):
        found = [p.text(g.value) for g in f.value]
        bad = next((g for g in f.value if p.text(g.value) is None), None)
        if bad is not None:
            p.wrong(bad, label, "a group name")
            return None, True
        names = [n for n in found if n is not None]
    elif isinstance(f.value, dict):
        # cloud-init's deprecated {group: null} form: the keys are the groups.
        names = list(f.value)
    else:
        p.wrong(f, label, "a list of group names or a comma string")
        return None, True
    names = [n for n in names if n]
    for n in names:
        if not p.group_name(n, f.span, label):
            return None, False
    return tuple(names), True
