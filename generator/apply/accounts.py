"""Users and groups as the target tree knows them (never the host's NSS)."""

from __future__ import annotations

from dataclasses import dataclass

from .fs import Owner, Root

ID_MAX = 2**32 - 2  # (uid_t)-1 means "no change" to chown


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str


def _rows(root: Root, path: str) -> list[list[str]]:
    data = root.read(path) or b""
    return [line.split(":") for line in data.decode("utf-8", "replace").splitlines() if line and ":" in line]


def _number(text: str) -> int | None:
    """A decimal id in range, ASCII digits only ("²" is a digit to str.isdigit)."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if value <= ID_MAX else None


def user(root: Root, name: str) -> Account | None:
    for row in _rows(root, "/etc/passwd"):
        if len(row) >= 6 and row[0] == name:
            uid, gid = _number(row[2]), _number(row[3])
            if uid is not None and gid is not None:
                return Account(row[0], uid, gid, row[5])
    return None


def group_id(root: Root, name: str) -> int | None:
    for row in _rows(root, "/etc/group"):
        if len(row) >= 3 and row[0] == name:
            return _number(row[2])
    return None


def resolve_owner(root: Root, spec: str) -> Owner:
    """`user`, `user:group`, `:group`, `user.group` or numeric ids, as chown(1) reads them."""
    sep = ":" if ":" in spec else ("." if "." in spec and user(root, spec) is None else "")
    name, group = spec.split(sep, 1) if sep else (spec, "")
    uid, gid = 0, 0
    if name:
        acct = user(root, name)
        if acct is not None:
            uid, gid = acct.uid, acct.gid
        elif _number(name) is not None:
            uid = _number(name) or 0
        else:
            raise LookupError(f'unknown user "{name}"')
    if group:
        found = group_id(root, group)
        if found is not None:
            gid = found
        elif _number(group) is not None:
            gid = _number(group) or 0
        else:
            raise LookupError(f'unknown group "{group}"')
    return Owner(uid, gid)
