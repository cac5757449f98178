"""write_files: each file decoded, written atomically with its mode and owner."""

from __future__ import annotations

import posixpath

from ..rules import DecodeError, decode_content
from ..validate import Val
from . import accounts
from .context import Context, StepError
from .etc import text
from .fs import UnsafePath
from .state import digest


def _entries(ctx: Context) -> dict[str, dict[str, Val]]:
    """The last entry for each path, across all sources, in first-seen order."""
    out: dict[str, dict[str, Val]] = {}
    for val in ctx.sections.get("write_files", []):
        for item in val.value if isinstance(val.value, list) else []:
            if isinstance(item.value, dict):
                path = text(item.value, "path")
                if path:
                    # Like the original: relative paths are under /, and .. is resolved.
                    out[posixpath.normpath("/" + path.lstrip("/"))] = item.value
    return out


def write_one(ctx: Context, path: str, entry: dict[str, Val]) -> None:
    content = entry.get("content")
    raw = content.value if content is not None and isinstance(content.value, (str, bytes)) else ""
    try:
        data = decode_content(raw, text(entry, "encoding"))
    except DecodeError as e:
        raise StepError(f'{path}: content cannot be decoded as "{text(entry, "encoding")}": {e}') from None
    perms = text(entry, "permissions") or "0644"
    try:
        mode = int(perms, 8)
    except ValueError:
        raise StepError(f'{path}: permissions "{perms}" are not an octal number') from None
    if mode > 0o7777:
        raise StepError(f'{path}: permissions "{perms}" are out of range')
    owner_spec = text(entry, "owner")
    try:
        owner = accounts.resolve_owner(ctx.root, owner_spec) if owner_spec else None
    except LookupError as e:
        raise StepError(f"{path}: {e}") from None
    identity = f"file:{path}"
    item = digest(data, mode, owner)
    if not ctx.state.needed(identity, item):
        return
    try:
        ctx.root.write(path, data, mode=mode, owner=owner)
    except UnsafePath as e:
        raise StepError(f"{path}: {e.strerror}") from None
    except OSError as e:
        raise StepError(f"{path}: {e.strerror or e}") from None
    ctx.state.record(identity, item)
    ctx.say(f"files: wrote {path} ({mode:04o})")


def step_files(ctx: Context) -> None:
    failures = []
    for path, entry in _entries(ctx).items():
        try:
            write_one(ctx, path, entry)
        except StepError as e:
            # One bad file must not stop the others.
            ctx.say(f"files: error: {e}")
            failures.append(path)
    if failures:
        raise StepError(f"{len(failures)} file(s) not written: {', '.join(failures)}")
