"""SSH keys: ccgen's keys kept apart from keys added by hand, in a layout stock OpenSSH reads.

On a system with CoreOS's layout (update-ssh-keys installed, or the user already
has ~/.ssh/authorized_keys.d/), ccgen's keys are the set authorized_keys.d/ccgen
and authorized_keys is rebuilt from all sets, as update-ssh-keys does.  Elsewhere
they are a marked block inside ~/.ssh/authorized_keys; every line outside the
block is kept as it was.
"""

from __future__ import annotations

import os

from ccgen.base import rules

from . import accounts
from .context import Context, StepError
from .fs import Owner, UnsafePath
from .state import digest

SET_NAME = "ccgen"
BEGIN = "# BEGIN ccgen: keys from cloud-config; lines up to END are replaced on change"
END = "# END ccgen"
UPDATE_SSH_KEYS = ("/usr/bin/update-ssh-keys", "/usr/sbin/update-ssh-keys")
KEY_TYPES = ("ssh-", "ecdsa-", "sk-")  # how a key line without options starts
# cloud-init's ssh_util.DISABLE_USER_OPTS, word for word: root's keys only print this.
DISABLE_ROOT_OPTS = (
    "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
    'command="echo \'Please login as the user \\"$USER\\" rather than the user '
    '\\"$DISABLE_USER\\".\';echo;sleep 10;exit 142"'
)


def wanted_keys(ctx: Context) -> dict[str, list[str]]:
    """user -> keys: users[].ssh_authorized_keys, then the top level and metadata for core.
    Every user ccgen gave keys before is listed too, so that removed keys go away."""
    out: dict[str, list[str]] = {u: [] for u in ctx.state.key_users()}
    for user in ctx.config.all_users():
        out.setdefault(user.name.value, []).extend(user.ssh_authorized_keys)
    # core on CoreOS; the image's default user where the OEM config declares one.
    core = out.setdefault(ctx.config.key_owner, [])
    core.extend(ctx.config.ssh_authorized_keys)
    # A line the config or the provider gives is one key: never a comment, never two lines.
    for k in ctx.ssh_keys:
        k = k.strip()
        if rules.is_key_line(k):
            core.append(k)
        elif k and not k.startswith("#"):
            ctx.say(f"keys: warning: a cached key holding a line break or NUL is skipped: {k[:60]!r}")
    root = root_keys(ctx, core)
    if root is not None:
        out.setdefault("root", []).extend(root)
    return {u: list(dict.fromkeys(keys)) for u, keys in out.items() if keys or u in ctx.state.key_users()}


def root_keys(ctx: Context, keys: list[str]) -> list[str] | None:
    """disable_root: root gets the default user's keys, behind options that only say whom
    to log in as (true), or as they are (false).  None when the config says neither key:
    a CoreOS-dialect config never gives root keys (docs/compat.md)."""
    ci = ctx.config.cloudinit
    if ci is None or ci.disable_root is None:
        return None
    if not ci.disable_root:
        return list(keys)
    opts = ci.disable_root_opts if ci.disable_root_opts is not None else DISABLE_ROOT_OPTS
    user = ctx.config.key_owner
    opts = opts.replace("$USER", user).replace("$DISABLE_USER", "root").replace("$ROOT", "root")
    return [f"{opts} {without_options(k)}" if opts else k for k in keys]


def without_options(line: str) -> str:
    """An authorized_keys line without its options, which disable_root's replace (as
    cloud-init's parser does): the options end at the first blank outside double quotes."""
    if line.startswith(KEY_TYPES):
        return line
    quoted = escaped = False
    for i, c in enumerate(line):
        if escaped:
            escaped = False
        elif c == "\\" and quoted:
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c in " \t" and not quoted:
            return line[i:].lstrip(" \t")
    return line


def replace_block(existing: str, keys: list[str]) -> str:
    """`existing` with ccgen's block replaced by `keys`.  Lines are split as sshd splits
    them, at "\n" only: a line sshd reads as one is one here, so nothing ccgen wrote
    inside its block can be read as a line outside it."""
    lines = existing.split("\n")
    if lines[-1] == "":
        lines.pop()
    kept: list[str] = []
    inside = False
    for line in lines:
        marker = line.rstrip("\r")  # a file saved with CR LF keeps its markers
        if marker == BEGIN:
            inside = True
        elif marker == END and inside:
            inside = False
        elif not inside:
            kept.append(line)
    block = [BEGIN, *keys, END] if keys else []
    return "".join(line + "\n" for line in kept + block)


def _read_own(ctx: Context, path: str, owner: Owner) -> str:
    """A file in the user's ~/.ssh; a hard link or someone else's file is refused."""
    data = ctx.root.read(path, owners=frozenset((owner.uid, 0)))
    return (data or b"").decode("utf-8", "replace")


def uses_keys_d(ctx: Context, home: str) -> bool:
    return any(ctx.root.exists(p) for p in UPDATE_SSH_KEYS) or ctx.root.exists(
        f"{home}/.ssh/authorized_keys.d"
    )


def install(ctx: Context, user: str, keys: list[str]) -> None:
    acct = accounts.user(ctx.root, user)
    if acct is None:
        raise StepError(f"user {user} does not exist (create it under users:)")
    owner = Owner(acct.uid, acct.gid)
    ssh = f"{acct.home.rstrip('/')}/.ssh"
    body = "".join(k + "\n" for k in keys).encode()
    try:
        ctx.root.mkdir(ssh, 0o700, owner)
        if uses_keys_d(ctx, acct.home):
            ctx.root.mkdir(f"{ssh}/authorized_keys.d", 0o700, owner)
            ctx.root.write(f"{ssh}/authorized_keys.d/{SET_NAME}", body, mode=0o600, owner=owner)
            parts = ["# auto-generated from authorized_keys.d by ccgen\n"]
            keys_d = ctx.root.host(f"{ssh}/authorized_keys.d")
            for name in sorted(os.listdir(keys_d)):
                parts.append(_read_own(ctx, f"{ssh}/authorized_keys.d/{name}", owner))
            ctx.root.write(f"{ssh}/authorized_keys", "".join(parts).encode(), mode=0o600, owner=owner)
        else:
            old = _read_own(ctx, f"{ssh}/authorized_keys", owner)
            ctx.root.write(
                f"{ssh}/authorized_keys", replace_block(old, keys).encode(), mode=0o600, owner=owner
            )
    except UnsafePath as e:
        raise StepError(f"{ssh}: {e.strerror}") from None
    except OSError as e:
        raise StepError(f"{ssh}: {e.strerror or e}") from None


def step_keys(ctx: Context) -> None:
    failures = []
    managed = set(ctx.state.key_users())
    for user, keys in wanted_keys(ctx).items():
        identity, item = f"keys:{user}", digest(keys)
        if not ctx.state.needed(identity, item):
            continue
        if not keys and accounts.user(ctx.root, user) is None:
            managed.discard(user)  # the user is gone, and ccgen's keys with it
            continue
        try:
            install(ctx, user, keys)
        except StepError as e:
            ctx.say(f"keys: error: {e}")
            failures.append(user)
            continue
        ctx.state.record(identity, item)
        ctx.written.append(f"keys:{user}")
        if keys:
            managed.add(user)
        else:
            managed.discard(user)
        ctx.say(f"keys: {len(keys)} key(s) for {user}" if keys else f"keys: ccgen's keys for {user} removed")
    if managed != set(ctx.state.key_users()):
        ctx.state.set_key_users(sorted(managed))
    if failures:
        raise StepError(f"keys not installed for: {', '.join(failures)}")
