"""systemd's rules for unit names: validity, templates, [Install] specifiers, path escaping."""

from __future__ import annotations

UNIT_TYPES = frozenset(
    ["service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"]
)
NETWORK_TYPES = frozenset(("network", "netdev", "link"))
NAME_MAX = 255

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_NAME_CHARS = frozenset(_ALNUM + ":_.\\@-")
_NETWORK_NAME_CHARS = frozenset(_ALNUM + ":_.@+-")


def suffix(name: str) -> str:
    return name.rpartition(".")[2] if "." in name else ""


def is_network(name: str) -> bool:
    return suffix(name) in NETWORK_TYPES


def name_problem(name: str) -> str | None:
    """Why `name` is not a valid unit (or networkd file) name, or None."""
    if not name:
        return "the unit name is empty"
    if "/" in name or ".." in name:
        return f'unit name "{name}" must not contain "/" or ".."'
    if len(name) > NAME_MAX:
        return f"unit name is longer than {NAME_MAX} characters"
    kind = suffix(name)
    if kind in NETWORK_TYPES:
        if not _NETWORK_NAME_CHARS.issuperset(name) or name.startswith("."):
            return f'"{name}" is not a valid networkd file name'
        return None
    if kind not in UNIT_TYPES:
        return f'unit name "{name}" has no valid type suffix (.service, .timer, ...)'
    if not _NAME_CHARS.issuperset(name):
        return f'unit name "{name}" contains characters systemd does not allow'
    prefix = name[: -len(kind) - 1]
    if not prefix:
        return f'unit name "{name}" has nothing before the type suffix'
    if prefix.count("@") > 1:
        return f'unit name "{name}" has more than one "@"'
    if prefix.startswith("@"):
        return f'unit name "{name}" has nothing before "@"'
    return None


def is_template(name: str) -> bool:
    return name.endswith("@." + suffix(name))


def template_of(name: str) -> str | None:
    """`foo@.service` for an instance `foo@bar.service`."""
    if "@" not in name or is_template(name):
        return None
    head, _, rest = name.partition("@")
    return f"{head}@.{suffix(rest)}"


def instance_of(name: str) -> str:
    if "@" not in name:
        return ""
    return name.partition("@")[2][: -len(suffix(name)) - 1]


def expand_specifiers(value: str, name: str) -> str | None:
    """The [Install] specifiers systemctl enable resolves; None for others."""
    if "%" not in value:
        return value
    kind = suffix(name)
    stem = name[: -len(kind) - 1]
    table = {
        "n": name,
        "N": stem,
        "p": stem.partition("@")[0],
        "i": instance_of(name),
        "j": stem.partition("@")[0].rpartition("-")[2],
        "%": "%",
    }
    out: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        spec = value[i + 1 : i + 2]
        if spec not in table:
            return None
        out.append(table[spec])
        i += 2
    return "".join(out)


def escape_path(path: str) -> str:
    """systemd-escape --path: how a file path becomes part of a unit name."""
    stripped = "/".join(p for p in path.split("/") if p)
    if not stripped:
        return "-"
    out: list[str] = []
    for i, ch in enumerate(stripped):
        if ch == "/":
            out.append("-")
        elif (ch.isascii() and (ch.isalnum() or ch in ":_.")) and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def mount_unit(path: str) -> str:
    """The mount unit for a path, as systemd names it (`/var/lib/x` -> `var-lib-x.mount`)."""
    return escape_path(path) + ".mount"


def mounts_for(path: str) -> list[str]:
    """The mount units RequiresMountsFor=PATH pulls in: the path and each of its parents."""
    parts = [p for p in path.split("/") if p and p != "."]
    return [mount_unit("/" + "/".join(parts[:i])) for i in range(len(parts), 0, -1)]
