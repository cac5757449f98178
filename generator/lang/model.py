"""The typed model: one immutable record per section, every field with its span.

`build.py` makes these from checked nodes; the renderer and every `ccgen apply`
step read only these records, so no later stage re-checks a type.  Records hold
only values the builder accepted: an item with an error never gets here.
Merging the OEM config with the user's is `merge()`, a model operation.

Plain slotted classes: dataclasses would cost the generator milliseconds to import.
"""

from __future__ import annotations

from ccgen.base.diag import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic, TypeVar

    from .cloudinit import CloudInit

    T = TypeVar("T")


class _Frozen:
    """A record refuses assignment once built; __init__ sets its fields through _init."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__}.{name} is read-only")

    def __repr__(self) -> str:
        slots: tuple[str, ...] = getattr(type(self), "__slots__", ())
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in slots)
        return f"{type(self).__name__}({fields})"


def _init(record: _Frozen, **fields: object) -> None:
    for name, value in fields.items():
        object.__setattr__(record, name, value)


if TYPE_CHECKING:

    class Field(Generic[T]):
        value: T
        span: Span
        key_span: Span | None
        ok: bool

        def __init__(self, value: T, span: Span, key_span: Span | None = None, ok: bool = True) -> None: ...

else:
    try:
        from _operator import itemgetter
    except ImportError:  # not CPython
        from operator import itemgetter

    class Field(tuple):
        """A value and where it is, immutable.  `ok` is False when the value failed its
        key's rule: the validator reported it, and the builder refuses what depends on it."""

        __slots__ = ()

        def __new__(cls, value, span, key_span=None, ok=True):
            return tuple.__new__(cls, (value, span, key_span, ok))

        value = property(itemgetter(0))
        span = property(itemgetter(1))
        key_span = property(itemgetter(2))
        ok = property(itemgetter(3))

        def __repr__(self):
            return f"Field({self[0]!r}, {self[1]!r})"


class DropIn(_Frozen):
    __slots__ = ("content", "name", "span")
    name: str
    content: str
    span: Span

    def __init__(self, name: str, content: str, span: Span) -> None:
        # span: of the drop-in's name
        _init(
            self,
            name=name,
            content=content,
            span=span,
        )


class Unit(_Frozen):
    __slots__ = ("command", "content", "drop_ins", "enable", "mask", "name", "span")
    name: str
    span: Span
    content: Field[str] | None
    enable: Field[bool] | None
    mask: Field[bool] | None
    command: Field[str] | None
    drop_ins: tuple[DropIn, ...]

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
        # command: only values of schema.COMMANDS get here
        _init(
            self,
            name=name,
            span=span,
            content=content,
            enable=enable,
            mask=mask,
            command=command,
            drop_ins=drop_ins,
        )

    @property
    def masked(self) -> bool:
        return self.mask is not None and self.mask.value

    @property
    def enabled(self) -> bool:
        return self.enable is not None and self.enable.value

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


class Script(_Frozen):
    __slots__ = ("data", "digest", "interpreter", "name", "path", "span")
    path: str
    interpreter: tuple[str, ...]
    span: Span
    digest: str
    data: bytes | None
    name: str

    def __init__(
        self,
        path: str,
        interpreter: tuple[str, ...],
        span: Span,
        digest: str,
        data: bytes | None = None,
        name: str = "",
    ) -> None:
        # name: what the user knows the script by (a MIME part's file name, the input's);
        #   "" when it has none
        # path: the input it is (its unit is named after it), or for a part of one, the
        #   file it runs from (cache.script_path)
        # digest: sha256 of the script, so that each distinct script runs once
        # data: None when the script runs where it is (path is the input itself); else its
        #   bytes, which `ccgen apply` writes to cache.script_path(digest) for the unit to run
        _init(
            self,
            path=path,
            interpreter=interpreter,
            span=span,
            digest=digest,
            data=data,
            name=name,
        )


class WriteFile(_Frozen):
    __slots__ = ("append", "data", "defer", "mode", "owner", "path", "span")
    path: Field[str]
    data: bytes
    mode: int
    owner: Field[str] | None
    span: Span
    append: bool
    defer: bool

    def __init__(
        self,
        path: Field[str],
        data: bytes,
        mode: int,
        owner: Field[str] | None,
        span: Span,
        append: bool = False,
        defer: bool = False,
    ) -> None:
        # path: cleaned: absolute, no ".", ".." or "//"
        # data: decoded
        # append, defer: cloud-init's; defer writes it in ccgen-files-deferred.service
        _init(
            self,
            path=path,
            data=data,
            mode=mode,
            owner=owner,
            span=span,
            append=append,
            defer=defer,
        )


# User fields that are strings, in useradd's order; the booleans follow.  The last
# five text fields and two flags are cloud-init's.
USER_TEXT = (
    "passwd",
    "gecos",
    "homedir",
    "primary_group",
    "shell",
    "hashed_passwd",
    "plain_text_passwd",
    "expiredate",
    "inactive",
    "uid",
)
USER_SECRETS = ("passwd", "hashed_passwd", "plain_text_passwd")
USER_FLAGS = ("no_create_home", "no_user_group", "system", "no_log_init", "lock_passwd", "create_groups")
USER_CREATION_ONLY = ("homedir", "no_create_home", "no_user_group", "system", "no_log_init", "uid")


class User(_Frozen):
    __slots__ = ("flags", "groups", "name", "span", "ssh_authorized_keys", "sudo", "text")
    name: Field[str]
    span: Span
    text: dict[str, str]
    flags: dict[str, bool]
    groups: tuple[str, ...]
    ssh_authorized_keys: tuple[str, ...]
    sudo: tuple[str, ...] | None

    def __init__(
        self,
        name: Field[str],
        span: Span,
        text: dict[str, str],
        flags: dict[str, bool],
        groups: tuple[str, ...] = (),
        ssh_authorized_keys: tuple[str, ...] = (),
        sudo: tuple[str, ...] | None = None,
    ) -> None:
        # text: USER_TEXT fields that were given and not empty
        # flags: USER_FLAGS fields that were given
        # sudo: cloud-init's sudo rules; None when not given, () for `sudo: false`
        _init(
            self,
            name=name,
            span=span,
            text=text,
            flags=flags,
            groups=groups,
            ssh_authorized_keys=ssh_authorized_keys,
            sudo=sudo,
        )

    def __repr__(self) -> str:
        # Never a password in a message or a traceback, whatever prints the record.
        shown = {k: ("(secret)" if k in USER_SECRETS else v) for k, v in self.text.items()}
        return f"User({self.name.value!r}, {shown!r}, {self.flags!r}, groups={self.groups!r})"

    def merged_with(self, later: User) -> User:
        keys = tuple(dict.fromkeys(self.ssh_authorized_keys + later.ssh_authorized_keys))
        return User(
            later.name,
            later.span,
            {**self.text, **later.text},
            {**self.flags, **later.flags},
            later.groups or self.groups,
            keys,
            later.sudo if later.sudo is not None else self.sudo,
        )

    def identity(self) -> tuple[object, ...]:
        """What decides whether the user must be set up again: values, never positions."""
        return (
            self.name.value,
            sorted(self.text.items()),
            sorted(self.flags.items()),
            self.groups,
            self.sudo,
        )


class Setting(_Frozen):
    __slots__ = ("env", "key", "secret", "span", "value")
    key: str
    env: str
    value: str
    secret: bool
    span: Span

    def __init__(self, key: str, env: str, value: str, secret: bool, span: Span) -> None:
        # value: formatted as the original's Go %v
        _init(
            self,
            key=key,
            env=env,
            value=value,
            secret=secret,
            span=span,
        )


class Settings(_Frozen):
    """A section of KEY=value settings: etcd, etcd2, fleet, locksmith, flannel, update, oem."""

    __slots__ = ("items", "name", "span")
    name: str
    items: tuple[Setting, ...]
    span: Span

    def __init__(self, name: str, items: tuple[Setting, ...], span: Span) -> None:
        # items: in the key table's order
        _init(
            self,
            name=name,
            items=items,
            span=span,
        )

    def get(self, key: str) -> Setting | None:
        for s in self.items:
            if s.key == key:
                return s
        return None

    def value(self, key: str) -> str:
        s = self.get(key)
        return s.value if s is not None else ""

    def merged_with(self, later: Settings, order: tuple[str, ...]) -> Settings:
        by_key = {s.key: s for s in self.items}
        by_key.update({s.key: s for s in later.items})
        return Settings(self.name, tuple(by_key[k] for k in order if k in by_key), later.span)


class CloudConfig(_Frozen):
    __slots__ = (
        "cloudinit",
        "default_user",
        "hostname",
        "manage_etc_hosts",
        "paths",
        "scripts",
        "sections",
        "ssh_authorized_keys",
        "units",
        "users",
        "wants_default",
        "write_files",
    )
    paths: tuple[str, ...]
    hostname: Field[str] | None
    manage_etc_hosts: Field[str] | None
    ssh_authorized_keys: tuple[str, ...]
    users: tuple[User, ...]
    write_files: tuple[WriteFile, ...]
    units: tuple[Unit, ...]
    sections: dict[str, Settings]
    scripts: tuple[Script, ...]
    default_user: User | None
    wants_default: bool | None
    cloudinit: CloudInit | None

    def __init__(
        self,
        paths: tuple[str, ...],
        *,
        default_user: User | None = None,
        wants_default: bool | None = None,
        cloudinit: CloudInit | None = None,
        hostname: Field[str] | None = None,
        manage_etc_hosts: Field[str] | None = None,
        ssh_authorized_keys: tuple[str, ...] = (),
        users: tuple[User, ...] = (),
        write_files: tuple[WriteFile, ...] = (),
        units: tuple[Unit, ...] = (),
        sections: dict[str, Settings] | None = None,
        scripts: tuple[Script, ...] = (),
    ) -> None:
        # paths: the inputs this config came from, in precedence order
        # units: coreos.units, then the original's built-in service units
        # sections: coreos.* settings by section name
        # default_user: system_info.default_user (the OEM config's, by its distributor)
        # wants_default: `users` lists `default` (True), or is given without it (False)
        # cloudinit: the rest of cloud-init's dialect (lang/cloudinit.py), None if unused
        _init(
            self,
            paths=paths,
            hostname=hostname,
            manage_etc_hosts=manage_etc_hosts,
            ssh_authorized_keys=ssh_authorized_keys,
            users=users,
            write_files=write_files,
            units=units,
            sections=sections if sections is not None else {},
            scripts=scripts,
            default_user=default_user,
            wants_default=wants_default,
            cloudinit=cloudinit,
        )

    def section(self, name: str) -> Settings | None:
        return self.sections.get(name)

    def with_files(self, write_files: tuple[WriteFile, ...]) -> CloudConfig:
        """The same config with other write_files."""
        fields = {n: getattr(self, n) for n in self.__slots__ if n != "paths"}
        fields["write_files"] = write_files
        return CloudConfig(self.paths, **fields)

    def all_users(self) -> tuple[User, ...]:
        """The users to set up: the image's default user first, unless `users` was given
        without `default` (as cloud-init: a user-data `users` list replaces `[default]`)."""
        d = self.default_user
        if d is None or self.wants_default is False:
            return self.users
        later = next((u for u in self.users if u.name.value == d.name.value), None)
        merged = d if later is None else d.merged_with(later)
        return (merged, *(u for u in self.users if u is not later))

    @property
    def key_owner(self) -> str:
        """Who gets the top-level and the platform's SSH keys: the image's default user
        when it has one, else core (CoreOS's)."""
        d = self.default_user
        return d.name.value if d is not None and self.wants_default is not False else "core"

    @property
    def per_boot(self) -> bool:
        """Whether ccgen-apply has work at every boot: files in /run or /tmp, which start
        empty, flannel's options (in /run) or networkd files (installed in /run)."""
        return (
            any(f.path.value.startswith(("/run/", "/tmp/")) for f in self.write_files)
            or "flannel" in self.sections
            or any(u.name.rpartition(".")[2] in ("network", "netdev", "link") for u in self.units)
        )


def file_key(f: WriteFile, n: int) -> str:
    """Which entries replace each other: a file by its path; an `append` never."""
    return f.path.value if not f.append else f"{f.path.value}\0append {n}"


def merge_units(units: list[Unit]) -> dict[str, Unit]:
    """Later definitions override earlier ones field by field."""
    out: dict[str, Unit] = {}
    for unit in units:
        earlier = out.get(unit.name)
        out[unit.name] = unit if earlier is None else earlier.merged_with(unit)
    return out


def merge(configs: list[CloudConfig], order: dict[str, tuple[str, ...]]) -> CloudConfig:
    """One config from several, later (the user's) over earlier (the OEM's): scalars and
    each setting by the last that has them, units and users field by field, files by
    path, keys and scripts all kept.  `order` is each section's key order."""
    if len(configs) == 1:
        return configs[0]
    hostname = manage = None
    default_user: User | None = None
    wants_default: bool | None = None
    cloudinit: CloudInit | None = None
    keys: list[str] = []
    users: dict[str, User] = {}
    files: dict[str, WriteFile] = {}
    units: list[Unit] = []
    sections: dict[str, Settings] = {}
    scripts: list[Script] = []
    for c in configs:
        hostname = c.hostname or hostname
        manage = c.manage_etc_hosts or manage
        keys += c.ssh_authorized_keys
        for u in c.users:
            earlier = users.get(u.name.value)
            users[u.name.value] = u if earlier is None else earlier.merged_with(u)
        for f in c.write_files:
            files[file_key(f, len(files))] = f
        units += c.units
        for name, s in c.sections.items():
            earlier_s = sections.get(name)
            sections[name] = s if earlier_s is None else earlier_s.merged_with(s, order[name])
        scripts += c.scripts
        if c.default_user is not None:
            # The OEM config's default user, with a later document's fields over it.
            d = c.default_user
            default_user = d if default_user is None else default_user.merged_with(d)
        wants_default = c.wants_default if c.wants_default is not None else wants_default
        if c.cloudinit is not None:
            cloudinit = c.cloudinit if cloudinit is None else cloudinit.merged_with(c.cloudinit)
    return CloudConfig(
        tuple(p for c in configs for p in c.paths),
        hostname=hostname,
        manage_etc_hosts=manage,
        ssh_authorized_keys=tuple(keys),
        users=tuple(users.values()),
        write_files=tuple(files.values()),
        units=tuple(merge_units(units).values()),
        sections=sections,
        scripts=tuple(scripts),
        default_user=default_user,
        wants_default=wants_default,
        cloudinit=cloudinit,
    )
