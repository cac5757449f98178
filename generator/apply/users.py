"""users: created with the shadow tools; an existing user gets the fields that can safely change."""

from __future__ import annotations

from ccgen.lang.model import USER_CREATION_ONLY, User

from . import accounts
from .context import Context, StepError
from .state import digest


def groups(ctx: Context, user: User) -> list[str]:
    """The supplementary groups, a missing one created (cloud-init's `create_groups`,
    true by default); with `create_groups: false` a missing one is reported, not fatal."""
    if user.flags.get("create_groups", True):
        for g in user.groups:
            ensure_group(ctx, g)
    present = [g for g in user.groups if accounts.group_id(ctx.root, g) is not None]
    for g in user.groups:
        if g not in present:
            ctx.say(f"users: {user.name.value}: group {g} does not exist; not added to it")
    return present


def ensure_group(ctx: Context, name: str) -> None:
    if accounts.group_id(ctx.root, name) is None:
        ctx.run(["groupadd", *prefix(ctx), "--", name])
        ctx.say(f"groups: created {name}")


def prefix(ctx: Context) -> list[str]:
    return [] if ctx.live else ["--prefix", ctx.root.path]


def set_password(ctx: Context, name: str, hashed: str) -> None:
    if ctx.live:
        # On stdin: a command line is visible to every user while the tool runs.
        ctx.run(["chpasswd", "-e"], stdin=f"{name}:{hashed}\n".encode())
    else:
        ctx.run(["usermod", *prefix(ctx), "--password", hashed, name])


def set_plain_password(ctx: Context, name: str, plain: str) -> None:
    """A password given in clear, hashed here and never written or shown as it is."""
    if ctx.live:
        ctx.run(["chpasswd"], stdin=f"{name}:{plain}\n".encode())
        return
    # An image has no PAM of its own to ask: hash with SHA-512 crypt, the password on stdin.
    hashed = ctx.output(["openssl", "passwd", "-6", "-stdin"], stdin=plain.encode() + b"\n")
    set_password(ctx, name, hashed.decode("ascii", "replace").strip())


def passwords(ctx: Context, user: User, created: bool) -> None:
    """passwd / hashed_passwd / plain_text_passwd, then cloud-init's lock: lock_passwd,
    true by default for a user created here without CoreOS's `passwd` (docs/cloud-init.md)."""
    t, name = user.text, user.name.value
    for key in ("passwd", "hashed_passwd"):
        if key in t:
            set_password(ctx, name, t[key])
    if "plain_text_passwd" in t:
        set_plain_password(ctx, name, t["plain_text_passwd"])
    lock = user.flags.get("lock_passwd")
    if lock is None:
        lock = created and "passwd" not in t
    if lock:
        ctx.run(["usermod", *prefix(ctx), "--lock", "--", name])


def create(ctx: Context, user: User) -> None:
    t, name = user.text, user.name.value
    argv = ["useradd", *prefix(ctx)]
    if "gecos" in t:
        argv += ["--comment", t["gecos"]]
    if "homedir" in t:
        argv += ["--home-dir", t["homedir"]]
    argv.append("--no-create-home" if user.flags.get("no_create_home") else "--create-home")
    if "primary_group" in t:
        if user.flags.get("create_groups", True) and user.groups:
            ensure_group(ctx, t["primary_group"])  # cloud-init creates it only with `groups`
        argv += ["--gid", t["primary_group"]]
    for key, option in (("uid", "--uid"), ("expiredate", "--expiredate"), ("inactive", "--inactive")):
        if key in t:
            argv += [option, t[key]]
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
    passwords(ctx, user, created=True)
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
    if "expiredate" in t:
        argv += ["--expiredate", t["expiredate"]]
    if argv:
        ctx.run(["usermod", *prefix(ctx), *argv, "--", name])
    passwords(ctx, user, created=False)
    ignored = [k for k in USER_CREATION_ONLY if k in t or k in user.flags]
    if ignored:
        ctx.say(f"users: {name} exists; {', '.join(ignored)} only apply when a user is created")
    ctx.say(f"users: updated {name}")


def step_users(ctx: Context) -> None:
    failures = []
    for user in ctx.config.all_users():
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
