"""Everything the compile reads, through one Reader that records what it saw.

The record is what decides the compile: a precompiled plan (replay.py) is
valid exactly when every recorded read gives the same answer again, so any
read the compile makes must go through the Reader (a test enforces it).
Files are opened without following a FIFO or a device: a user-planted FIFO
must not hang the boot, so anything but a regular file is refused.
"""

from __future__ import annotations

from ccgen.base.diag import Diagnostics, Span
from ccgen.bootpath import fingerprint

MAX_BYTES = fingerprint.MAX_BYTES

OEM_PATH = "/usr/share/oem/cloud-config.yml"
# Lowest precedence first: CoreOS's installer drop, then ccgen's own cache.
INSTALLER_USER_DATA = "/var/lib/coreos-install/user_data"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Union

    from ccgen.base.cache import Metadata

    Seen = Union[bytes, str, None]  # bytes read, a listing or value, or None when missing


# The one place files are read (and refused when not regular): fingerprint.py.
read_file = fingerprint.read_file
host_path = fingerprint.host_path


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
            # Recorded in the very form replay compares (fingerprint.answer "dir").
            joined = fingerprint.listing(self.host(path))
            names = self._listings[path] = frozenset(joined.split("\0")) if joined else frozenset()
            self.seen[("dir", path)] = joined
        return names

    def env(self, name: str) -> str:
        value = self.environ.get(name, "")
        self.seen[("env", name)] = value
        return value

    def executable(self, path: str) -> bool:
        """Whether `path` (under root) is an executable file."""
        ok = fingerprint.executable(self.host(path))
        self.seen[("exec", path)] = "1" if ok else "0"
        return ok

    def script_dir(self) -> str:
        """The directory of the running script, as the booted system names it."""
        where = fingerprint.script_dir(self.root, self.argv0)
        self.seen[("argv0", "dir")] = where
        return where

    def package_listing(self, where: str) -> frozenset[str]:
        """A directory of ccgen's own installation (not under root), by its place in the
        package ("providers/sources"): recorded by that name, not by where this copy is
        installed, so that a plan primed by another copy of the same ccgen still replays."""
        listing = fingerprint.package_listing(where)
        self.seen[("pkgdir", where)] = listing
        return frozenset(listing.split("\0")) if listing else frozenset()

    def env_values(self, path: str, keys: tuple[str, ...]) -> dict[str, str]:
        """Some KEY=value settings of an environment file.  Only those are recorded, so that
        a change to the file's other lines (ccgen apply adds its own) changes nothing."""
        values = fingerprint.env_values(self.host(path), keys)
        self.seen[("envfile", path + "\0" + ",".join(keys))] = fingerprint.joined(values, keys)
        return values

    def mount_state(self, path: str) -> str:
        """How the mount holding `path` is mounted ("ro", "rw"; "" without a mount table).
        Recorded as that word, not the table, which changes at every boot."""
        state = fingerprint.mount_state(self.host(fingerprint.MOUNTINFO), path)
        self.seen[("mount", path)] = state
        return state

    def fact(self, name: str, value: str) -> str:
        """A value of ccgen's own build that decides the output (answer() knows each)."""
        self.seen[("fact", name)] = value
        return value


def ccgen_path(reader: Reader) -> str:
    """The ccgen command installed beside the running script (generator or CLI)."""
    from ccgen.base import names

    candidate = fingerprint.join(reader.script_dir(), "ccgen")
    return candidate if reader.executable(candidate) else names.CCGEN


facts = fingerprint.facts

USR_RO, USR_RW, USR_UNKNOWN = "ro", "rw", ""
# Systems that mount /usr read-only (os-release ID, ID_LIKE or VARIANT_ID).
_USR_RO_SYSTEMS = frozenset(("coreos", "flatcar", "rhcos"))


def usr_state(reader: Reader) -> str:
    """Whether /usr is read-only on the system under the reader's root: its mount table
    on a running system; else, for an image's tree, its fstab and os-release."""
    return reader.mount_state("/usr") or image_usr_state(reader)


def image_usr_state(reader: Reader) -> str:
    for line in reader.text("/etc/fstab").splitlines():
        words = line.split()
        if len(words) >= 4 and not words[0].startswith("#") and words[1].rstrip("/") == "/usr":
            return USR_RO if "ro" in words[3].split(",") else USR_RW
    keys = ("ID", "ID_LIKE", "VARIANT_ID")
    release = reader.env_values("/etc/os-release", keys) or reader.env_values("/usr/lib/os-release", keys)
    if not release.get("ID"):
        return USR_UNKNOWN
    names = {w for v in release.values() for w in v.split()}
    return USR_RO if names & _USR_RO_SYSTEMS else USR_RW


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
    _, data = _read_reporting(reader.read, path, diags)
    return None if data is None else Input(path, data)


def _read_reporting(
    read: Callable[[str], bytes | None], path: str, diags: Diagnostics
) -> tuple[bool, bytes | None]:
    """(readable, read(path)): an unreadable file is reported as an error."""
    try:
        return True, read(path)
    except IsADirectoryError:
        diags.error(Span(path, 1, 1), "read", "is a directory, not a cloud-config file")
    except OSError as e:
        diags.error(Span(path, 1, 1), "read", f"cannot read: {e.strerror or e}")
    return False, None


def read_named(path: str, diags: Diagnostics) -> Input | None:
    """A file named on the command line (`-` is standard input), by the name given."""
    import sys

    if path == "-":
        return Input("<stdin>", sys.stdin.buffer.read(MAX_BYTES + 1))
    readable, data = _read_reporting(read_file, path, diags)
    if not readable:
        return None
    if data is None:
        diags.error(Span(path, 1, 1), "read", "no such file")
        return None
    return Input(path, data)


def boot_input_paths() -> list[str]:
    """Where the generator looks for cloud-config, lowest precedence first."""
    from ccgen.base import cache

    return [OEM_PATH, INSTALLER_USER_DATA, cache.USER_DATA]


def boot_inputs(reader: Reader, diags: Diagnostics) -> tuple[list[Input], Metadata]:
    """What the generator compiles at boot, lowest precedence first: the OEM config, the
    installer's user-data and ccgen's cache, with the cache's metadata; a cache fetched on
    another machine (a cloned image) is left out."""
    from ccgen.base import cache

    meta = cache.metadata(reader)
    paths = boot_input_paths()
    if not cache.belongs_here(reader, meta):
        paths.remove(cache.USER_DATA)
        diags.info(
            Span(cache.METADATA, 1, 1),
            "cache-foreign",
            "the cache was fetched on another machine (a cloned image)",
            "ignored until the next fetch",
        )
        meta = cache.Metadata()
    found = (read_input(reader, p, diags) for p in paths)
    return [i for i in found if i is not None], meta
