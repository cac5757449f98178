"""Everything the compile reads, through one Reader that records what it saw.

The record is what decides the compile: a precompiled plan (replay.py) is
valid exactly when every recorded read gives the same answer again, so any
read the compile makes must go through the Reader (a test enforces it).
Files are opened without following a FIFO or a device: a user-planted FIFO
must not hang the boot, so anything but a regular file is refused.
"""

from __future__ import annotations

import errno
import os
import stat

from .diag import Diagnostics, Span

MAX_BYTES = 16 * 1024 * 1024

OEM_PATH = "/usr/share/oem/cloud-config.yml"
# Lowest precedence first: CoreOS's installer drop, then ccgen's own cache.
INSTALLER_USER_DATA = "/var/lib/coreos-install/user_data"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Union

    from .cache import Metadata

    Seen = Union[bytes, str, None]  # bytes read, a listing or value, or None when missing


class NotRegular(OSError):
    pass


# The Reader's own references: tests/test_plan.py makes every other use of these
# functions fail while a compile runs, so a read that bypasses the Reader (and so the
# plan's fingerprint) cannot go unnoticed.
_open, _read, _close, _fstat, _listdir = os.open, os.read, os.close, os.fstat, os.listdir
_stat, _access, _realpath = os.stat, os.access, os.path.realpath


def _executable(host: str) -> bool:
    try:
        regular = stat.S_ISREG(_stat(host).st_mode)
    except OSError:
        return False
    return regular and _access(host, os.X_OK)


def read_file(host: str, limit: int = MAX_BYTES) -> bytes | None:
    """A regular file's first `limit` + 1 bytes; None when it does not exist."""
    try:
        fd = _open(host, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        st = _fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(errno.EINVAL, "not a regular file")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = _read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        _close(fd)


def host_path(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


class Reader:
    """Reads under `root`, each answer recorded in `seen`: (kind, key) -> answer.

    `overrides` answers reads of some paths with given bytes (`ccgen prime` says what
    the booted image's /proc/cmdline will be).  `argv0` is the running script, whose
    directory tells where the ccgen command is.
    """

    def __init__(
        self,
        root: str = "/",
        environ: dict[str, str] | None = None,
        *,
        overrides: dict[str, bytes] | None = None,
        argv0: str = "",
    ) -> None:
        self.root = root
        self.environ = environ if environ is not None else {}
        self.overrides = overrides or {}
        self.argv0 = argv0
        self.seen: dict[tuple[str, str], Seen] = {}
        self._listings: dict[str, frozenset[str]] = {}

    def host(self, path: str) -> str:
        return host_path(self.root, path)

    def read(self, path: str, limit: int = MAX_BYTES) -> bytes | None:
        """The file's bytes (at most limit + 1), None when missing; OSError when unreadable."""
        key = ("file", f"{path}\0{limit}")
        if path in self.overrides:
            self.seen[key] = self.overrides[path][: limit + 1]
            return self.overrides[path][: limit + 1]
        try:
            data = read_file(self.host(path), limit)
        except OSError as e:
            self.seen[key] = f"error {e.errno}"
            raise
        self.seen[key] = data
        return data

    def text(self, path: str, limit: int = 1024 * 1024) -> str:
        """A small text file, "" when missing or unreadable."""
        try:
            data = self.read(path, limit)
        except OSError:
            return ""
        return data.decode("utf-8", "replace") if data else ""

    def listdir(self, path: str) -> frozenset[str]:
        """A directory's names (read once per compile); empty when it cannot be listed."""
        names = self._listings.get(path)
        if names is None:
            try:
                names = frozenset(_listdir(self.host(path)))
            except OSError:
                names = frozenset()
            self._listings[path] = names
            self.seen[("dir", path)] = "\0".join(sorted(names))
        return names

    def env(self, name: str) -> str:
        value = self.environ.get(name, "")
        self.seen[("env", name)] = value
        return value

    def executable(self, path: str) -> bool:
        """Whether `path` (under root) is an executable file."""
        ok = _executable(self.host(path))
        self.seen[("exec", path)] = "1" if ok else "0"
        return ok

    def script_dir(self) -> str:
        """The directory of the running script, as the booted system names it."""
        where = os.path.dirname(self.argv0 if self.root != "/" else _realpath(self.argv0))
        self.seen[("argv0", "dir")] = where
        return where

    def host_listing(self, path: str) -> frozenset[str]:
        """A directory of ccgen's own installation (not under root), e.g. its providers."""
        try:
            names = frozenset(_listdir(path))
        except OSError:
            names = frozenset()
        self.seen[("hostdir", path)] = "\0".join(sorted(names))
        return names

    def env_values(self, path: str, keys: tuple[str, ...]) -> dict[str, str]:
        """Some KEY=value settings of an environment file.  Only those are recorded, so that
        a change to the file's other lines (ccgen apply adds its own) changes nothing."""
        values = _env_values(self.host(path), keys)
        self.seen[("envfile", path + "\0" + ",".join(keys))] = _joined(values, keys)
        return values

    def fact(self, name: str, value: str) -> str:
        """A value of ccgen's own build that decides the output (answer() knows each)."""
        self.seen[("fact", name)] = value
        return value


def answer(reader: Reader, kind: str, key: str) -> Seen:
    """What a Reader answers now for one recorded read: how replay checks a fingerprint."""
    if kind == "file":
        path, _, limit = key.partition("\0")
        if path in reader.overrides:
            return reader.overrides[path][: int(limit) + 1]
        try:
            return read_file(reader.host(path), int(limit))
        except OSError as e:
            return f"error {e.errno}"
    if kind == "dir":
        try:
            return "\0".join(sorted(_listdir(reader.host(key))))
        except OSError:
            return ""
    if kind == "env":
        return reader.environ.get(key, "")
    if kind == "exec":
        return "1" if _executable(reader.host(key)) else "0"
    if kind == "argv0":
        return os.path.dirname(reader.argv0 if reader.root != "/" else _realpath(reader.argv0))
    if kind == "hostdir":
        try:
            return "\0".join(sorted(_listdir(key)))
        except OSError:
            return ""
    if kind == "fact":
        return facts().get(key, "")
    if kind == "envfile":
        path, _, keys = key.partition("\0")
        names = tuple(keys.split(",")) if keys else ()
        return _joined(_env_values(reader.host(path), names), names)
    return "unknown"


def _env_values(host: str, keys: tuple[str, ...]) -> dict[str, str]:
    from .cache import parse_env

    try:
        data = read_file(host, 1024 * 1024) or b""
    except OSError:
        data = b""
    found = parse_env(data.decode("utf-8", "replace"))
    return {k: found[k] for k in keys if k in found}


def _joined(values: dict[str, str], keys: tuple[str, ...]) -> str:
    return "\0".join(f"{k}={values.get(k, '')}" for k in keys)


def facts() -> dict[str, str]:
    """ccgen's build facts that decide the output: the providers it was built with."""
    try:
        from . import _build  # type: ignore[attr-defined]
    except ImportError:
        return {"providers": "all"}
    return {"providers": " ".join(_build.PROVIDERS)}


class Input:
    __slots__ = ("data", "path")

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path  # the path on the running system, used in every message and header
        self.data = data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Input) and (self.path, self.data) == (other.path, other.data)

    __hash__ = None  # type: ignore[assignment]


def kernel_options(reader: Reader) -> dict[str, str]:
    """The kernel command line as key=value words; the last of a repeated key wins."""
    return {k: v for k, _, v in (w.partition("=") for w in reader.text("/proc/cmdline").split())}


def read_input(reader: Reader, path: str, diags: Diagnostics) -> Input | None:
    """A config file under the reader's root; None when it is missing (a normal state) or
    unreadable (an error)."""
    try:
        data = reader.read(path)
    except IsADirectoryError:
        diags.error(Span(path, 1, 1), "read", "is a directory, not a cloud-config file")
        return None
    except OSError as e:
        diags.error(Span(path, 1, 1), "read", f"cannot read: {e.strerror or e}")
        return None
    return None if data is None else Input(path, data)


def read_named(path: str, diags: Diagnostics) -> Input | None:
    """A file named on the command line (`-` is standard input), by the name given."""
    import sys

    if path == "-":
        return Input("<stdin>", sys.stdin.buffer.read(MAX_BYTES + 1))
    try:
        data = read_file(path)
    except IsADirectoryError:
        diags.error(Span(path, 1, 1), "read", "is a directory, not a cloud-config file")
        return None
    except OSError as e:
        diags.error(Span(path, 1, 1), "read", f"cannot read: {e.strerror or e}")
        return None
    if data is None:
        diags.error(Span(path, 1, 1), "read", "no such file")
        return None
    return Input(path, data)


def boot_inputs(reader: Reader, diags: Diagnostics) -> tuple[list[Input], Metadata]:
    """What the generator compiles at boot, lowest precedence first: the OEM config, the
    installer's user-data and ccgen's cache, with the cache's metadata; a cache fetched on
    another machine (a cloned image) is left out."""
    from . import cache

    meta = cache.metadata(reader)
    paths = [OEM_PATH, INSTALLER_USER_DATA]
    if cache.belongs_here(reader, meta):
        paths.append(cache.USER_DATA)
    else:
        diags.info(
            Span(cache.METADATA, 1, 1),
            "cache-foreign",
            "the cache was fetched on another machine (a cloned image)",
            "ignored until the next fetch",
        )
        meta = cache.Metadata()
    found = (read_input(reader, p, diags) for p in paths)
    return [i for i in found if i is not None], meta
