"""users: created with the shadow tools; an existing user gets the fields that can safely change."""

from __future__ import annotations

import re

from ..validate import Val
from . import accounts
from .context import Context, StepError
from .etc import text
from .state import digest

_NAME = re.compile(r"[a-z_][a-z0-9_.-]{0,31}\$?\Z")
CREATION_ONLY = ("homedir", "no_create_home", "no_user_group", "system", "no_log_init")


def flag(fields: dict[str, Val], name: str) -> bool:
    v = fields.get(name)
    return v is not None and v.value is True


def groups(ctx: Context, fields: dict[str, Val], user: str) -> list[str]:
    """The supplementary groups that exist; a missing one is reported, not fatal."""
    v = fields.get("groups")
    wanted = [i.value for i in v.value if isinstance(i.value, str)] if v and isinstance(v.value, list) else []
    present = [g for g in wanted if accounts.group_id(ctx.root, g) is not None]
    for g in wanted:
        if g not in present:
            ctx.say(f"users: {user}: group {g} does not exist; not added to it")
    return present


def prefix(ctx: Context) -> list[str]:
    return [] if ctx.live else ["--prefix", ctx.root.path]


def set_password(ctx: Context, name: str, hashed: str) -> None:
    if ctx.live:
        # On stdin: a command line is visible to every user while the tool runs.
        ctx.run(["chpasswd", "-e"], stdin=f"{name}:{hashed}\n".encode())
    else:
        ctx.run(["usermod", *prefix(ctx), "--password", hashed, name])


def create(ctx: Context, name: str, f: dict[str, Val]) -> None:
    argv = ["useradd", *prefix(ctx)]
    if text(f, "gecos"):
        argv += ["--comment", text(f, "gecos")]
    if text(f, "homedir"):
        argv += ["--home-dir", text(f, "homedir")]
    argv.append("--no-create-home" if flag(f, "no_create_home") else "--create-home")
    if text(f, "primary_group"):
        argv += ["--gid", text(f, "primary_group")]
    extra = groups(ctx, f, name)
    if extra:
        argv += ["--groups", ",".join(extra)]
    for key, option in (
        ("no_user_group", "--no-user-group"),
        ("system", "--system"),
        ("no_log_init", "--no-log-init"),
    ):
        if flag(f, key):
            argv.append(option)
    if text(f, "shell"):
        argv += ["--shell", text(f, "shell")]
    ctx.run([*argv, name])
    if text(f, "passwd"):
        set_password(ctx, name, text(f, "passwd"))
    ctx.say(f"users: created {name}")


def update(ctx: Context, name: str, f: dict[str, Val]) -> None:
    argv = []
    if text(f, "gecos"):
        argv += ["--comment", text(f, "gecos")]
    if text(f, "shell"):
        argv += ["--shell", text(f, "shell")]
    if text(f, "primary_group"):
        argv += ["--gid", text(f, "primary_group")]
    extra = groups(ctx, f, name)
    if extra:
        argv += ["--append", "--groups", ",".join(extra)]
    if argv:
        ctx.run(["usermod", *prefix(ctx), *argv, name])
    if text(f, "passwd"):
        set_password(ctx, name, text(f, "passwd"))
    ignored = [k for k in CREATION_ONLY if k in f]
    if ignored:
        ctx.say(f"users: {name} exists; {', '.join(ignored)} only apply when a user is created")
    ctx.say(f"users: updated {name}")


def step_users(ctx: Context) -> None:
    failures = []
    for val in ctx.sections.get("users", []):
        for item in val.value if isinstance(val.value, list) else []:
            if not isinstance(item.value, dict):
                continue
            f = item.value
            name = text(f, "name")
            if not name or not _NAME.match(name):
                ctx.say(f'users: error: "{name}" is not a valid user name; skipped')
                failures.append(name or "?")
                continue
            fields = {k: v.value for k, v in f.items() if k != "ssh_authorized_keys"}
            identity, item_digest = f"user:{name}", digest(sorted(fields.items(), key=lambda kv: kv[0]))
            if not ctx.state.needed(identity, item_digest):
                continue
            try:
                if accounts.user(ctx.root, name) is None:
                    create(ctx, name, f)
                else:
                    update(ctx, name, f)
            except StepError as e:
                ctx.say(f"users: error: {name}: {e}")
                failures.append(name)
                continue
            ctx.state.record(identity, item_digest)
    if failures:
        raise StepError(f"user(s) not set up: {', '.join(failures)}")
