"""The reads a compile depends on, and how to ask each one again.

inputs.Reader records every read as (kind, key) -> answer; a precompiled plan
stores those, and replay.py asks each again with answer(): the plan is valid
only if every answer is the same, byte for byte.  This module is on the
replay path, so it imports only posix and errno, both built into the interpreter
(os alone, with posixpath and _collections_abc, costs more than a whole replay),
and no `from __future__`.
Files are opened without following a FIFO or a device: a user-planted FIFO
must not hang the boot, so anything but a regular file is refused.
"""

import errno
import posix

MAX_BYTES = 16 * 1024 * 1024

# The Reader's own references: tests/test_plan.py makes every other use of these
# functions fail while a compile runs, so a read that bypasses the Reader (and so the
# plan's fingerprint) cannot go unnoticed.
_open, _read, _close, _fstat, _listdir = posix.open, posix.read, posix.close, posix.fstat, posix.listdir
_stat, _access, _readlink, _lstat = posix.stat, posix.access, posix.readlink, posix.lstat

_S_IFMT, _S_IFREG, _S_IFDIR, _S_IFLNK = 0o170000, 0o100000, 0o040000, 0o120000


class NotRegular(OSError):
    pass


def join(a: str, b: str) -> str:
    """os.path.join for a relative `b`."""
    return a + b if a.endswith("/") else f"{a}/{b}"


def host_path(root: str, path: str) -> str:
    return join(root, path.lstrip("/"))


def dirname(path: str) -> str:
    """os.path.dirname."""
    head = path[: path.rfind("/") + 1]
    return head.rstrip("/") or head


def read_file(host: str, limit: int = MAX_BYTES) -> "bytes | None":
    """A regular file's first `limit` + 1 bytes; None when it does not exist."""
    try:
        fd = _open(host, posix.O_RDONLY | posix.O_NONBLOCK | posix.O_CLOEXEC | posix.O_NOCTTY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        st = _fstat(fd)
        kind = st.st_mode & _S_IFMT
        if kind == _S_IFDIR:
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        if kind != _S_IFREG:
            raise NotRegular(errno.EINVAL, "not a regular file")
        chunks = []
        left = limit + 1
        # Sized by fstat (one byte more, to see the end): a fixed large buffer would be
        # part of the replay's peak memory.  procfs reports 0 (/proc/cmdline): one page.
        # The loop still copes with a growing file.
        size = st.st_size + 1 if st.st_size else 4096
        while left > 0:
            chunk = _read(fd, min(left, size))
            size = 1 << 16
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        _close(fd)


def executable(host: str) -> bool:
    try:
        regular = _stat(host).st_mode & _S_IFMT == _S_IFREG
    except OSError:
        return False
    return regular and _access(host, posix.X_OK)


def listing(host: str) -> str:
    """A directory's names, sorted and joined; "" when it cannot be listed."""
    try:
        return "\0".join(sorted(_listdir(host)))
    except OSError:
        return ""


def realpath(path: str, root: str = "/") -> str:
    """os.path.realpath for a path to something that exists (else the path as it is).
    Written out because the stdlib's needs os, and this is on the replay path.  With a
    root, the path and every absolute link are taken inside it (an image's tree), and the
    answer is the path as that system names it."""
    if not path.startswith("/"):
        path = join(posix.getcwd(), path)
    done = ""
    todo = [p for p in path.split("/") if p]
    hops = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            done = done[: done.rfind("/")]
            continue
        here = f"{done}/{part}"
        host = here if root == "/" else host_path(root, here)
        try:
            symlink = _lstat(host).st_mode & _S_IFMT == _S_IFLNK
        except OSError:
            return path
        if not symlink:
            done = here
            continue
        hops += 1
        if hops > 40:
            return path
        target = _readlink(host)
        if target.startswith("/"):
            done = ""
        todo[:0] = [p for p in target.split("/") if p]
    return done or "/"


PACKAGE = dirname(dirname(__file__))  # the ccgen package (this module is in ccgen/bootpath/)


def package_listing(where: str) -> str:
    """listing() of a directory of the ccgen package, named relative to it."""
    return listing(join(PACKAGE, where))


def script_dir(root: str, argv0: str) -> str:
    """The running script's directory as the booted system names it."""
    return dirname(argv0 if root != "/" else realpath(argv0))


def parse_env(text: str) -> "dict[str, str]":
    """KEY=VALUE lines; blank lines, comments and optional double quotes allowed."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def env_values(host: str, keys: "tuple[str, ...]") -> "dict[str, str]":
    try:
        data = read_file(host, 1024 * 1024) or b""
    except OSError:
        data = b""
    found = parse_env(data.decode("utf-8", "replace"))
    return {k: found[k] for k in keys if k in found}


def joined(values: "dict[str, str]", keys: "tuple[str, ...]") -> str:
    return "\0".join(f"{k}={values.get(k, '')}" for k in keys)


def facts() -> "dict[str, str]":
    """ccgen's build facts that decide the output: the providers it was built with."""
    try:
        from ccgen import _build  # type: ignore[attr-defined]
    except ImportError:
        return {"providers": "all"}
    return {"providers": " ".join(_build.PROVIDERS)}


MOUNTINFO = "/proc/self/mountinfo"


def mount_state(host: str, path: str) -> str:
    """ "ro" or "rw": how the mount that holds `path` is mounted, by the mount table at
    `host` (the last, longest mount point that holds it); "" without a table."""
    try:
        data = read_file(host, 4 * 1024 * 1024)
    except OSError:
        return ""
    best, state = -1, ""
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        f = line.split(" ")
        if len(f) < 6:
            continue
        point = f[4]
        if (point == path or path.startswith(point.rstrip("/") + "/")) and len(point) >= best:
            best, state = len(point), "ro" if "ro" in f[5].split(",") else "rw"
    return state


def answer(
    kind: str,
    key: str,
    root: str,
    environ: "dict[str, str]",
    argv0: str,
    overrides: "dict[str, bytes]",
) -> "bytes | str | None":
    """What a read answers now, as inputs.Reader recorded it."""
    if kind == "file":
        path, _, limit = key.partition("\0")
        if path in overrides:
            return overrides[path][: int(limit) + 1]
        try:
            return read_file(host_path(root, path), int(limit))
        except OSError as e:
            return f"error {e.errno}"
    if kind == "dir":
        return listing(host_path(root, key))
    if kind == "env":
        return environ.get(key, "")
    if kind == "exec":
        return "1" if executable(host_path(root, key)) else "0"
    if kind == "argv0":
        return script_dir(root, argv0)
    if kind == "pkgdir":
        return package_listing(key)
    if kind == "mount":
        return mount_state(host_path(root, MOUNTINFO), key)
    if kind == "fact":
        return facts().get(key, "")
    if kind == "envfile":
        path, _, keys = key.partition("\0")
        names = tuple(keys.split(",")) if keys else ()
        return joined(env_values(host_path(root, path), names), names)
    return "unknown"
