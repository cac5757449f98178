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


def read_file(host: str, limit: int = MAX_BYTES) -> bytes | None:
    """A regular file's first `limit` + 1 bytes; None when it does not exist."""
    try:
        fd = os.open(host, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(errno.EINVAL, "not a regular file")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def host_path(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


class Reader:
    """Reads under `root`, each answer recorded in `seen` (kind, key) -> answer."""

    def __init__(self, root: str = "/", environ: dict[str, str] | None = None) -> None:
        self.root = root
        self.environ = environ if environ is not None else {}
        self.seen: dict[tuple[str, str], Seen] = {}
        self._listings: dict[str, frozenset[str]] = {}

    def host(self, path: str) -> str:
        return host_path(self.root, path)

    def read(self, path: str, limit: int = MAX_BYTES) -> bytes | None:
        """The file's bytes (at most limit + 1), None when missing; OSError when unreadable."""
        key = ("file", f"{path}\0{limit}")
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
                names = frozenset(os.listdir(self.host(path)))
            except OSError:
                names = frozenset()
            self._listings[path] = names
            self.seen[("dir", path)] = "\0".join(sorted(names))
        return names

    def env(self, name: str) -> str:
        value = self.environ.get(name, "")
        self.seen[("env", name)] = value
        return value

    def executable(self, host: str) -> bool:
        """Whether a host path (not under root: the running ccgen itself) is an executable file."""
        ok = os.path.isfile(host) and os.access(host, os.X_OK)
        self.seen[("exec", host)] = "1" if ok else "0"
        return ok


def answer(reader: Reader, kind: str, key: str) -> Seen:
    """What a Reader answers now for one recorded read: how replay checks a fingerprint."""
    if kind == "file":
        path, _, limit = key.partition("\0")
        try:
            return read_file(reader.host(path), int(limit))
        except OSError as e:
            return f"error {e.errno}"
    if kind == "dir":
        try:
            return "\0".join(sorted(os.listdir(reader.host(key))))
        except OSError:
            return ""
    if kind == "env":
        return reader.environ.get(key, "")
    if kind == "exec":
        return "1" if os.path.isfile(key) and os.access(key, os.X_OK) else "0"
    return "unknown"


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
