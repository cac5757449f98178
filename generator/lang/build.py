"""Checked values in, the typed model out, with the checks the original never made.

This is the one place (with the validator) that looks at value types.  An item
with an error is reported at its position and left out of the model, so no
later step can act on it; the other items are kept.
"""

from __future__ import annotations

from ccgen.base import names, rules, unitfile, unittext
from ccgen.base.diag import Diagnostics, Span

from . import model, schema, subst
from .model import Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .validate import Tree, Value

NAME_BYTES_MAX = 255  # one path component
is_user_name = rules.is_user_name  # shared with lang/cloudinit.py, so it lives in base/


def file_name_problem(name: str) -> str | None:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        return "must be a plain file name"
    if len(name.encode("utf-8")) > NAME_BYTES_MAX:
        return f"is longer than {NAME_BYTES_MAX} bytes"
    return None


class _Builder:
    def __init__(self, path: str, diags: Diagnostics) -> None:
        self.path = path
        self.diags = diags
        self.check_hostname = True

    # Typed access: the validator guarantees each key's kind, so these only tell
    # "present and well-typed" from "absent or refused".

    @staticmethod
    def text(fields: Tree, name: str) -> Field[str] | None:
        v = fields.get(name)
        if v is None or not v.ok:
            return None
        if isinstance(v.value, bytes):
            try:
                return Field(v.value.decode("utf-8"), v.span, v.key_span)
            except UnicodeDecodeError:
                return None
        return Field(v.value, v.span, v.key_span) if isinstance(v.value, str) else None

    @staticmethod
    def flag(fields: Tree, name: str) -> Field[bool] | None:
        v = fields.get(name)
        return Field(v.value, v.span, v.key_span) if v is not None and isinstance(v.value, bool) else None

    @staticmethod
    def items(fields: Tree, name: str) -> list[Field[Value]]:
        v = fields.get(name)
        return v.value if v is not None and isinstance(v.value, list) else []

    @staticmethod
    def struct(fields: Tree, name: str) -> Field[Value] | None:
        v = fields.get(name)
        return v if v is not None and isinstance(v.value, dict) else None

    def strings(self, fields: Tree, name: str) -> list[Field[str]]:
        return [Field(i.value, i.span) for i in self.items(fields, name) if isinstance(i.value, str)]

    def ssh_keys(self, fields: Tree, name: str) -> tuple[str, ...]:
        """The keys, one per line as authorized_keys has them.  The original wrote an entry
        of several lines as it was, each line a key of its own: so does ccgen, with a
        warning; comment lines (which sshd skips) and NULs are left out."""
        out = []
        for key in self.strings(fields, name):
            text = key.value.strip()
            if not text:
                continue
            # sshd splits authorized_keys at \n alone; strip() drops a CRLF's \r.  Any other
            # break (\v, \f, \x85, U+2028, a lone \r...) or a NUL inside a line would be one
            # line to sshd and two to another reader: that line is refused (rules.is_key_line).
            lines = [ln.strip() for ln in text.split("\n")]
            keys = []
            for ln in lines:
                if not ln or ln.startswith("#"):
                    continue
                if not rules.is_key_line(ln):
                    self.diags.warning(
                        key.span,
                        "ssh-key",
                        "an SSH key must be one line: this one holds a line break other than \\n, or a NUL",
                        "no \\v, \\f, \\r, \\x85, U+2028 or other line break, and no NUL; that line skipped",
                    )
                    continue
                keys.append(ln)
            if len(lines) > 1 or not keys:
                self.diags.warning(
                    key.span,
                    "ssh-key",
                    "an SSH key entry should be one key on one line",
                    f"its {len(keys)} key line(s) are used, comment lines left out",
                )
            out.extend(keys)
        return tuple(out)

    # Units

    def drop_ins(self, unit: str, fields: Tree) -> tuple[model.DropIn, ...]:
        out: dict[str, model.DropIn] = {}
        for item in self.items(fields, "drop_ins"):
            assert isinstance(item.value, dict)
            name = self.text(item.value, "name")
            content = self.text(item.value, "content")
            if name is None or not name.value or content is None or not content.value:
                # The original silently skipped these; say so, since nothing is written.
                self.diags.warning(
                    item.span,
                    "dropin-incomplete",
                    f"a drop-in of {unit} needs both name and content",
                    "skipped",
                )
                continue
            problem = file_name_problem(name.value)
            if problem is not None or len(unit) + 2 > NAME_BYTES_MAX:
                problem = problem or f"{unit}.d is longer than {NAME_BYTES_MAX} bytes"
                self.diags.error(name.span, "dropin-name", f'drop-in name "{name.value}" {problem}')
                continue
            if not name.value.endswith(".conf"):
                self.diags.warning(
                    name.span,
                    "dropin-name",
                    f'systemd reads only drop-ins ending in ".conf"; "{name.value}" is skipped',
                )
                continue
            out[name.value] = model.DropIn(name.value, content.value, name.span)
        return tuple(out.values())

    def unit(self, item: Field[Value]) -> model.Unit | None:
        assert isinstance(item.value, dict)
        f = item.value
        name = self.text(f, "name")
        if name is None or not name.value:
            self.diags.warning(item.span, "unit-name", "a unit without a name is skipped")
            return None
        problem = unitfile.name_problem(name.value)
        if problem is not None:
            self.diags.error(name.span, "unit-name", problem)
            return None
        if names.is_reserved(name.value):
            self.diags.error(
                name.span,
                "unit-reserved",
                f"{name.value} is one of ccgen's own units",
                "ccgen.target and ccgen-* names are reserved; this unit is skipped",
            )
            return None
        runtime = f.get("runtime")
        if runtime is not None:
            self.diags.info(
                runtime.span,
                "runtime",
                "runtime has no effect",
                "everything ccgen generates is already runtime",
            )
        content = self.text(f, "content")
        if content is not None and not content.value:
            content = None
        if content is not None:
            self.check_content(name.value, content)
        command = self.text(f, "command")
        unit = model.Unit(
            name=name.value,
            span=name.span,
            content=content,
            enable=self.flag(f, "enable"),
            mask=self.flag(f, "mask"),
            command=command if command is not None and command.value else None,
            drop_ins=self.drop_ins(name.value, f),
        )
        self.check_command(unit)
        return unit

    def check_content(self, name: str, content: Field[str]) -> None:
        outside = unittext.parse(content.value).outside
        if outside and not unitfile.is_network(name):
            first = outside[0]
            self.diags.warning(
                content.span,
                "unit-outside-section",
                f'line {first.line} of {name} ("{first.key}=...") comes before any [Section]',
                "systemd ignores such lines, and so does ccgen",
            )

    def check_command(self, unit: model.Unit) -> None:
        cmd = unit.command
        if cmd is None:
            return
        meaning = schema.COMMANDS[cmd.value]
        if unitfile.is_network(unit.name):
            self.diags.info(
                cmd.span, "command", "command is ignored for network units", "networkd is restarted instead"
            )
        elif meaning == schema.IGNORED:
            self.diags.warning(
                cmd.span,
                "command",
                f'"{cmd.value}" does nothing at boot',
                f"{unit.name} is not running yet; ignored",
            )
        elif cmd.value != "start" and meaning == schema.START:
            self.diags.info(
                cmd.span, "command", f'"{cmd.value}" at boot means start', f"{unit.name} is not running yet"
            )
        elif meaning == schema.STOP:
            self.diags.info(
                cmd.span,
                "command",
                "stop becomes Conflicts= in ccgen.target",
                f"{unit.name} is stopped when ccgen.target starts",
            )
        if unit.masked and meaning == schema.START:
            self.diags.warning(cmd.span, "command", f"{unit.name} is masked, so it cannot be started")

    def units(self, coreos: Tree) -> list[model.Unit]:
        units: dict[str, model.Unit] = {}
        for item in self.items(coreos, "units"):
            unit = self.unit(item)
            if unit is None:
                continue
            earlier = units.get(unit.name)
            if earlier is not None:
                self.diags.warning(
                    unit.span,
                    "unit-repeated",
                    f"{unit.name} is listed again",
                    f"first at line {earlier.span.line}; its fields override the earlier entry",
                )
                unit = earlier.merged_with(unit)
            units[unit.name] = unit
        return list(units.values())

    # coreos.etcd, etcd2, fleet, locksmith, flannel, update, oem

    def settings(self, key: schema.Key, val: Field[Value]) -> model.Settings:
        assert isinstance(val.value, dict)
        out = []
        for child in key.children:
            v = val.value.get(child.name)
            if v is None or not v.ok or child.env is None or isinstance(v.value, (list, dict)):
                continue
            if not v.value:
                continue  # the original wrote no zero value: "", false, 0
            raw = v.value.decode("utf-8", "replace") if isinstance(v.value, bytes) else v.value
            value = go_value(raw)
            if key.unit is not None and not child.secret:
                _, literal = unittext.quote_value(value)
                if literal:
                    self.diags.warning(
                        v.span,
                        "specifier",
                        f'"%" in {child.name} starts no systemd specifier',
                        'written as "%%", a literal percent sign; write %% to say so, or use a specifier',
                    )
            out.append(model.Setting(child.name, child.env, value, child.secret, v.span))
        return model.Settings(key.name, tuple(out), val.key_span or val.span)

    def sections(self, coreos: Tree) -> dict[str, model.Settings]:
        out = {}
        for key in schema.COREOS:
            if key.kind != schema.STRUCT:
                continue
            val = self.struct(coreos, key.name)
            if val is not None:
                s = self.settings(key, val)
                if s.items:
                    out[key.name] = s
        return out

    @staticmethod
    def service_units(sections: dict[str, model.Settings]) -> list[model.Unit]:
        """The units the original added for the service sections and coreos.update."""
        out = []
        for key in schema.SERVICE_SECTIONS:
            s = sections.get(key.name)
            if s is not None and key.unit is not None:
                out.append(model.Unit(key.unit, s.span))
        update = sections.get("update")
        if update is not None:
            strategy = update.get("reboot_strategy")
            unit = schema.section("coreos", "update", "reboot_strategy").unit
            assert unit is not None
            if strategy is not None:
                meaning = schema.REBOOT_STRATEGIES[strategy.value]
                span = strategy.span
                if meaning == schema.MASK:
                    out.append(model.Unit(unit, span, mask=Field(True, span), command=Field("stop", span)))
                else:
                    out.append(model.Unit(unit, span, command=Field("restart", span)))
            engine = update.get("group") or update.get("server")
            if engine is not None:
                name = schema.section("coreos", "update", "group").unit
                assert name is not None
                out.append(model.Unit(name, update.span, command=Field("restart", update.span)))
        return out

    # Top level

    def write_file(self, item: Field[Value]) -> model.WriteFile | None:
        """The entry, or None when any of its values has an error: every check runs, so
        each problem is reported, and a file with a bad mode is never written as 0644."""
        assert isinstance(item.value, dict)
        f = item.value
        refused = any(not v.ok for v in f.values())
        path = self.text(f, "path")
        clean = ""
        if path is None or not path.value:
            # The original's validator let it pass, and its apply failed on it.
            self.diags.warning(item.span, "write-path", "a file without a path is not written")
            refused = True
        elif "\0" in path.value:
            self.diags.error(path.span, "write-path", "a path cannot contain a NUL character")
            refused = True
        else:
            clean = rules.clean_path(path.value)
            if clean == "/" or any(len(p.encode("utf-8")) > NAME_BYTES_MAX for p in clean.split("/")):
                self.diags.error(path.span, "write-path", f'"{clean}" is not a file path that can be written')
                refused = True
        content = f.get("content")
        raw = content.value if content is not None and isinstance(content.value, (str, bytes)) else ""
        enc = f.get("encoding")
        encoding = enc.value if enc is not None and isinstance(enc.value, str) else ""
        data = b""
        try:
            data = rules.decode_content(raw, encoding)
        except rules.DecodeError as e:
            where = content.span if content is not None else enc.span if enc is not None else item.span
            self.diags.error(where, "decode", f'content cannot be decoded as "{encoding}"', str(e))
            refused = True
        owner = self.text(f, "owner")
        if owner is not None and any(c in owner.value for c in "\0\n"):
            self.diags.error(owner.span, "owner", "an owner cannot contain control characters")
            refused = True
        if refused or path is None:
            return None
        append, defer = self.flag(f, "append"), self.flag(f, "defer")
        perms = self.text(f, "permissions")
        mode = rules.parse_mode(perms.value) if perms is not None and perms.value else 0o644
        assert mode is not None  # an unparseable mode failed its rule, and refused the entry
        return model.WriteFile(
            Field(clean, path.span),
            data,
            mode,
            owner if owner is not None and owner.value else None,
            item.span,
            append=append is not None and append.value,
            defer=defer is not None and defer.value,
        )

    def user(self, item: Field[Value]) -> model.User | None:
        assert isinstance(item.value, dict)
        f = item.value
        name = self.text(f, "name")
        if name is None or not name.value:
            self.diags.warning(item.span, "user-name", "a user without a name is skipped")
            return None
        if not is_user_name(name.value):
            self.diags.error(name.span, "user-name", f'"{name.value}" is not a valid user name', "skipped")
            return None
        if any(not v.ok for v in f.values()):
            return None  # a value against its rule (expiredate) was reported; never half a user
        text: dict[str, str] = {}
        for key in model.USER_TEXT:
            v = self.text(f, key)
            if v is None or not v.value:
                continue
            if any(c in v.value for c in "\0\n:"):
                self.diags.error(
                    v.span, "user-field", f"{key} of {name.value} cannot contain ':' or control characters"
                )
                return None
            text[key] = v.value
        uid = f.get("uid")
        if uid is not None:
            digits = str(uid.value) if isinstance(uid.value, (int, str)) else ""
            if isinstance(uid.value, bool) or not digits.isascii() or not digits.isdigit():
                self.diags.error(uid.span, "user-field", f"uid of {name.value} must be a number")
                return None
            text["uid"] = str(int(digits))
        flags = {k: flag.value for k in model.USER_FLAGS if (flag := self.flag(f, k)) is not None}
        if "lock_passwd" not in flags and "passwd" not in text:
            given = [k for k in ("hashed_passwd", "plain_text_passwd") if k in text]
            if given:
                # cloud-init's trap, kept for compatibility: say it where it is written.
                self.diags.info(
                    f[given[0]].key_span or item.span,
                    "locked-password",
                    f"the password of {name.value} is set, then locked: lock_passwd is true by default",
                    "write lock_passwd: false to log in with it",
                )
        groups: tuple[str, ...] = ()
        sudo: tuple[str, ...] | None = None
        g_field = f.get("groups")
        if (
            g_field is not None
            and isinstance(g_field.value, list)
            and all(isinstance(g.value, str) for g in g_field.value)
        ):
            groups = tuple(g.value for g in g_field.value if g.value)  # type: ignore[misc]
            for g in groups:
                if any(c in g for c in ",:\0\n"):
                    self.diags.error(
                        item.span, "user-field", f'group "{g}" of {name.value} is not a valid group name'
                    )
                    return None
        elif g_field is not None:
            # cloud-init's other shapes: a comma string ("adm, sudo") or a mapping.
            from . import cloudinit

            found, good = cloudinit.group_list(g_field, "groups", self.diags)
            if not good:
                return None
            groups = found or ()
        s_field = f.get("sudo")
        if s_field is not None:
            from . import cloudinit

            sudo, good = cloudinit.sudo_rules(s_field, "sudo", self.diags)
            if not good:
                return None
        return model.User(name, item.span, text, flags, groups, self.ssh_keys(f, "ssh_authorized_keys"), sudo)

    def users(self, top: Tree) -> tuple[dict[str, model.User], bool | None]:
        """users[]: the users, and whether the list names `default` (None: no `users`)."""
        users: dict[str, model.User] = {}
        if "users" not in top:
            return users, None
        wants_default = False
        for item in self.items(top, "users"):
            if isinstance(item.value, str):
                # cloud-init: "default", a name, or names separated by commas.
                for word in (w.strip() for w in item.value.split(",")):
                    if word == "default":
                        wants_default = True
                    elif word:
                        entry = Field({"name": Field(word, item.span)}, item.span)
                        user = self.user(entry)  # type: ignore[arg-type]
                        if user is not None:
                            users.setdefault(user.name.value, user)
                continue
            user = self.user(item)
            if user is not None:
                earlier = users.get(user.name.value)
                users[user.name.value] = user if earlier is None else earlier.merged_with(user)
        return users, wants_default

    def hostname(self, top: Tree) -> Field[str] | None:
        """`hostname:` as `hostnamectl set-hostname` took it: any text is accepted; a name
        that is not a valid hostname becomes the pretty name, and its cleaned form the
        static one, which a warning names.  A value with a substitution variable is known
        only on the machine: it is checked there, after substitution, by apply."""
        hostname = self.text(top, "hostname")
        if hostname is None or not hostname.value or not self.check_hostname:
            return hostname
        text = hostname.value
        static, pretty = rules.host_names(text)
        if not pretty:
            return hostname
        becomes = (
            f'the static hostname will be "{static}", and "{text}" the pretty hostname'
            if static
            else f'no static hostname can be made from it; "{text}" is only the pretty hostname'
        )
        if rules.template_placeholder(text):
            self.diags.warning(
                hostname.span,
                "hostname",
                f'hostname "{text}" looks like an unrendered template',
                f"{rules.TEMPLATE_HINT}; {becomes}",
            )
        else:
            self.diags.warning(hostname.span, "hostname", f'"{text}" is not a valid hostname', becomes)
        return hostname

    def build(self, top: Tree) -> model.CloudConfig:
        hostname = self.hostname(top)
        manage = self.text(top, "manage_etc_hosts")
        files: dict[str, model.WriteFile] = {}
        for item in self.items(top, "write_files"):
            wf = self.write_file(item)
            if wf is not None:
                # The last entry for a path wins, as in the original; appends all count.
                files[model.file_key(wf, len(files))] = wf
        users, wants_default = self.users(top)
        default_user = None
        info = self.struct(top, "system_info")
        if info is not None:
            assert isinstance(info.value, dict)
            d = self.struct(info.value, "default_user")
            if d is not None:
                default_user = self.user(d)
        override = top.get("user")
        if override is not None:
            # cloud-init's `user`: the default user's fields, over the image's, field by field.
            if isinstance(override.value, str):
                override = Field({"name": Field(override.value, override.span)}, override.span)
            found = self.user(override)
            if found is not None:
                default_user = found if default_user is None else default_user.merged_with(found)
                wants_default = True if wants_default is None else wants_default
        cloudinit = None
        if not schema.CLOUD_INIT_NAMES.isdisjoint(top):
            # Imported only for a document in cloud-init's dialect (tests/test_imports.py).
            from . import cloudinit as ci

            cloudinit = ci.build(top, self.diags)
        coreos = self.struct(top, "coreos")
        units: list[model.Unit] = []
        sections: dict[str, model.Settings] = {}
        if coreos is not None:
            assert isinstance(coreos.value, dict)
            units = self.units(coreos.value)
            sections = self.sections(coreos.value)
            if "etcd" in sections:
                disc = sections["etcd"].get("discovery")
                if disc is not None and not rules.is_url(disc.value):
                    self.diags.warning(disc.span, "url", "discovery URL is not valid")
        return model.CloudConfig(
            (self.path,),
            hostname=hostname if hostname is not None and hostname.value else None,
            manage_etc_hosts=manage if manage is not None and manage.value else None,
            ssh_authorized_keys=self.ssh_keys(top, "ssh_authorized_keys"),
            users=tuple(users.values()),
            write_files=tuple(files.values()),
            # Like the original, the built-in units come after the listed ones and
            # override them field by field.
            units=tuple(model.merge_units(units + self.service_units(sections)).values()),
            sections=sections,
            default_user=default_user,
            wants_default=wants_default,
            cloudinit=cloudinit,
        )


USR_READ_ONLY = "file cannot be written to a read-only filesystem"


def usr_checked(config: model.CloudConfig, usr: Callable[[], str], diags: Diagnostics) -> model.CloudConfig:
    """The config without its files under a read-only /usr.  `usr` says whether /usr is
    read-only where the config is applied (inputs.usr_state; asked only when a file is
    under /usr): "ro" refuses them (an error, as it would fail), "rw" writes them, and
    unknown (plain `validate`) keeps them with a warning."""
    under = [f for f in config.write_files if rules.is_read_only(f.path.value)]
    if not under:
        return config
    state = usr()
    if state == "rw":
        return config
    for f in under:
        if state == "ro":
            diags.error(
                f.path.span, "read-only", USR_READ_ONLY, "/usr is mounted read-only there; not written"
            )
        else:
            diags.warning(
                f.path.span,
                "read-only",
                USR_READ_ONLY,
                "if /usr is read-only there (Container Linux, Flatcar); ccgen apply checks the machine, "
                "validate --root IMAGE the image",
            )
    if state != "ro":
        return config
    return config.with_files(tuple(f for f in config.write_files if f not in under))


def substitute(val: Field[Value], values: dict[str, str], memo: dict[int, Field[Value]]) -> Field[Value]:
    """The tree with $public_ipv4 and friends replaced in every string value.  An alias
    shares its node, so a shared value is substituted once and shared again."""
    done = memo.get(id(val.value))
    if done is not None:
        return Field(done.value, val.span, val.key_span, val.ok)
    v = val.value
    out: Field[Value]
    if isinstance(v, str):
        new = subst.substitute(v, values)
        out = val if new is v else Field(new, val.span, val.key_span, val.ok)
    elif isinstance(v, list):
        out = Field([substitute(i, values, memo) for i in v], val.span, val.key_span, val.ok)
    elif isinstance(v, dict):
        out = Field({k: substitute(i, values, memo) for k, i in v.items()}, val.span, val.key_span, val.ok)
    else:
        return val
    memo[id(v)] = out
    return out


def build(
    path: str, top: Tree, diags: Diagnostics, values: dict[str, str] | None = None
) -> model.CloudConfig:
    builder = _Builder(path, diags)
    raw = top.get("hostname")
    if raw is not None and isinstance(raw.value, str) and subst.has_variable(raw.value):
        # Checked only once every variable it names has its value (on the machine).
        builder.check_hostname = values is not None and subst.all_known(raw.value, values)
    if values is not None:
        memo: dict[int, Field[Value]] = {}
        top = {k: substitute(v, values, memo) for k, v in top.items()}
    return builder.build(top)


def script(path: str, interpreter: tuple[str, ...], data: bytes) -> model.CloudConfig:
    from ccgen.bootpath.digest import sha256

    digest = sha256(data).hexdigest()
    return model.CloudConfig((path,), scripts=(model.Script(path, interpreter, Span(path, 1, 1), digest),))


def go_value(value: object) -> str:
    """The text Go's %v gave a value (the original formatted settings with it)."""
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
