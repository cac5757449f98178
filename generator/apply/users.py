"""users: created with the shadow tools; an existing user gets the fields that can safely change."""

from __future__ import annotations

from ccgen.lang.model import USER_CREATION_ONLY, User

from . import accounts
from .context import Context, StepError
from .state import digest


def groups(ctx: Context, user: User) -> list[str]:
    """The supplementary groups that exist; a missing one is reported, not fatal."""
    present = [g for g in user.groups if accounts.group_id(ctx.root, g) is not None]
    for g in user.groups:
        if g not in present:
            ctx.say(f"users: {user.name.value}: group {g} does not exist; not added to it")
    return present


def prefix(ctx: Context) -> list[str]:
    return [] if ctx.live else ["--prefix", ctx.root.path]


def set_password(ctx: Context, name: str, hashed: str) -> None:
    if ctx.live:
        # On stdin: a command line is visible to every user while the tool runs.
        ctx.run(["chpasswd", "-e"], stdin=f"{name}:{hashed}\n".encode())
    else:
        ctx.run(["usermod", *prefix(ctx), "--password", hashed, name])


def create(ctx: Context, user: User) -> None:
    t, name = user.text, user.name.value
    argv = ["useradd", *prefix(ctx)]
    if "gecos" in t:
        argv += ["--comment", t["gecos"]]
    if "homedir" in t:
        argv += ["--home-dir", t["homedir"]]
    argv.append("--no-create-home" if user.flags.get("no_create_home") else "--create-home")
    if "primary_group" in t:
        argv += ["--gid", t["primary_group"]]
    extra = groups(ctx, user)
    if extra:
        argv += ["--groups", ",".join(extra)]
    for key, option in (
        ("no_user_group", "--no-user-group"),
        ("system", "--system"),
        ("no_log_init", "--no-log-init"),
    ):
        if user.flags.get(key):
            argv.append(option)
    if "shell" in t:
        argv += ["--shell", t["shell"]]
    ctx.run([*argv, "--", name])
    if "passwd" in t:
        set_password(ctx, name, t["passwd"])
    ctx.say(f"users: created {name}")


def update(ctx: Context, user: User) -> None:
    t, name = user.text, user.name.value
    argv = []
    if "gecos" in t:
        argv += ["--comment", t["gecos"]]
    if "shell" in t:
        argv += ["--shell", t["shell"]]
    if "primary_group" in t:
        argv += ["--gid", t["primary_group"]]
    extra = groups(ctx, user)
    if extra:
        argv += ["--append", "--groups", ",".join(extra)]
    if argv:
        ctx.run(["usermod", *prefix(ctx), *argv, "--", name])
    if "passwd" in t:
        set_password(ctx, name, t["passwd"])
    ignored = [k for k in USER_CREATION_ONLY if k in t or k in user.flags]
    if ignored:
        ctx.say(f"users: {name} exists; {', '.join(ignored)} only apply when a user is created")
    ctx.say(f"users: updated {name}")


def step_users(ctx: Context) -> None:
    failures = []
    for user in ctx.config.users:
        name = user.name.value
        identity, item_digest = f"user:{name}", digest(user.identity())
        if not ctx.state.needed(identity, item_digest):
            continue
        try:
            if accounts.user(ctx.root, name) is None:
                create(ctx, user)
            else:
                update(ctx, user)
        except StepError as e:
            ctx.say(f"users: error: {name}: {e}")
            failures.append(name)
            continue
        ctx.written.append(f"user:{name}")
        ctx.state.record(identity, item_digest)
    if failures:
        raise StepError(f"user(s) not set up: {', '.join(failures)}")
