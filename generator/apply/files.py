"""write_files: each file written atomically with its mode and owner.

Decoding, path cleaning and the mode were settled by the builder; an entry with
an error never reaches this step.  A file under /run is written on every boot,
because /run starts empty; the others once per instance and content.
"""

from __future__ import annotations

from ccgen.lang.model import WriteFile

from . import accounts
from .context import Context, StepError
from .fs import UnsafePath
from .state import digest

VOLATILE = ("/run/", "/tmp/")


def write_one(ctx: Context, f: WriteFile) -> None:
    path = f.path.value
    owner_spec = f.owner.value if f.owner is not None else ""
    try:
        owner = accounts.resolve_owner(ctx.root, owner_spec) if owner_spec else None
    except LookupError as e:
        raise StepError(f"{path}: {e}") from None
    volatile = path.startswith(VOLATILE)
    item = digest(f.data, f.mode, owner_spec)
    # Two appends to one file are two records; a replaced file is one, whatever its content.
    identity = f"file:{path}" if not f.append else f"append:{path}:{item}"
    if not volatile and not ctx.state.needed(identity, item):
        return
    try:
        data = f.data
        if f.append:
            # cloud-init's append: once per instance and content here (its record), so a
            # reboot does not add the lines again.
            data = (ctx.root.read(path) or b"") + f.data
        changed = ctx.root.write(path, data, mode=f.mode, owner=owner)
    except UnsafePath as e:
        raise StepError(f"{path}: {e.strerror}") from None
    except OSError as e:
        raise StepError(f"{path}: {e.strerror or e}") from None
    if not volatile:
        ctx.state.record(identity, item)
    if changed:
        ctx.written.append(path)
        ctx.say(f"files: wrote {path} ({f.mode:04o})")


def step_files(ctx: Context) -> None:
    write_all(ctx, [f for f in ctx.config.write_files if not f.defer])


def step_deferred_files(ctx: Context) -> None:
    """write_files with `defer`, run by ccgen-files-deferred.service after packages."""
    write_all(ctx, [f for f in ctx.config.write_files if f.defer])


def write_all(ctx: Context, todo: list[WriteFile]) -> None:
    failures = []
    for f in todo:
        try:
            write_one(ctx, f)
        except StepError as e:
            # One bad file must not stop the others.
            ctx.say(f"files: error: {e}")
            failures.append(f.path.value)
    if failures:
        raise StepError(f"{len(failures)} file(s) not written: {', '.join(failures)}")
