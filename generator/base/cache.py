"""The on-disk cache: its layout and its metadata record, owned here and nowhere else.

/var/lib/ccgen/ is root-only (0700) with 0600 files:
  snap-HASH/  one fetch result: user-data (absent when there is none), metadata, ssh-keys,
              network (the platform's network data, when it gives any: providers/netconf),
              and include-HASH for each document the user-data #includes
  current     a symlink to the current snapshot
  user-data, metadata, ssh-keys, network
              fixed links into current/, which the generator and apply read
  applied/    what ccgen apply has done, for once-only semantics
  scripts/    scripts that cannot run where they are (MIME parts, gzip'd), written by
              ccgen apply before their units run, named by their sha256 (0700)
  plan        the precompiled plan the generator replays (replay.py)
  lock        taken by every fetch while it changes the cache
providers/store.py writes snapshots; it knows nothing of their contents.
"""

DIR = "/var/lib/ccgen"
USER_DATA = f"{DIR}/user-data"
METADATA = f"{DIR}/metadata"
SSH_KEYS = f"{DIR}/ssh-keys"
NETWORK = f"{DIR}/network"
APPLIED = f"{DIR}/applied"
SCRIPTS = f"{DIR}/scripts"
PLAN = f"{DIR}/plan"
FILES = ("user-data", "metadata", "ssh-keys", "network")
LOCK = "lock"
CURRENT = "current"
SNAPSHOT_PREFIX = "snap-"
INCLUDE_PREFIX = "include-"


def include_name(url: str) -> str:
    """The snapshot file that holds what `url` answered (docs/providers.md: includes)."""
    from ccgen.bootpath.digest import sha256

    return INCLUDE_PREFIX + sha256(url.encode("utf-8", "surrogateescape")).hexdigest()[:32]


STAMP_PREFIX = "stamp-"


def stamp_path(digest: str) -> str:
    """The file ccgen apply leaves after a clean run for exactly these inputs (docs/apply.md)."""
    return f"{APPLIED}/{STAMP_PREFIX}{digest}"


def script_path(digest: str) -> str:
    """Where ccgen apply writes a script that is not its own input, for its unit to run."""
    return f"{SCRIPTS}/{digest}"


def is_include_name(name: str) -> bool:
    digits = name[len(INCLUDE_PREFIX) :]
    return (
        name.startswith(INCLUDE_PREFIX) and len(digits) == 32 and all(c in "0123456789abcdef" for c in digits)
    )


def include_path(url: str) -> str:
    return f"{DIR}/{CURRENT}/{include_name(url)}"


# STATE: the user-data is in the cache, is known not to exist, or nobody knows.
PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class Reader(Protocol):
        """What the cache needs of ccgen.read.inputs.Reader, declared here so that the cache's
        layout depends on no reader (the input side imports the cache, not the reverse)."""

        def text(self, path: str, limit: int = ...) -> str: ...


def parse_env(text: str) -> dict[str, str]:
    """KEY=VALUE lines; blank lines, comments and optional double quotes allowed."""
    from ccgen.bootpath.fingerprint import parse_env as parse

    return parse(text)


def format_env(values: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items() if v and "\n" not in v and "\n" not in k)


class Metadata:
    """What a provider knows about this instance, as the cache's `metadata` file holds it."""

    # attribute -> the file's KEY, in the file's order
    FIELDS = (
        ("provider", "PROVIDER"),
        ("state", "STATE"),
        ("instance_id", "INSTANCE_ID"),
        ("hostname", "HOSTNAME"),
        ("local_ipv4", "LOCAL_IPV4"),
        ("public_ipv4", "PUBLIC_IPV4"),
        ("local_ipv6", "LOCAL_IPV6"),
        ("public_ipv6", "PUBLIC_IPV6"),
        ("region", "REGION"),
        ("zone", "ZONE"),
        ("instance_type", "INSTANCE_TYPE"),
        ("machine_key", "MACHINE_KEY"),
    )
    __slots__ = tuple(a for a, _ in FIELDS)

    provider: str
    state: str
    instance_id: str
    hostname: str
    local_ipv4: str
    public_ipv4: str
    local_ipv6: str
    public_ipv6: str
    region: str
    zone: str
    instance_type: str
    machine_key: str

    def __init__(self, **values: str) -> None:
        # The one gate: every value a shell sources, a unit or a script gets has its kind's
        # syntax, whether a provider just answered it or the cache held it.
        from ccgen.base.metavalues import checked

        for attr, _ in self.FIELDS:
            setattr(self, attr, checked(attr, values.pop(attr, "")))
        if values:
            raise TypeError(f"unknown metadata fields: {sorted(values)}")

    @classmethod
    def from_env(cls, values: dict[str, str]) -> "Metadata":
        return cls(**{attr: values.get(key, "") for attr, key in cls.FIELDS})

    def to_env(self) -> str:
        return format_env({key: getattr(self, attr) for attr, key in self.FIELDS})

    def replace(self, **values: str) -> "Metadata":
        current = {attr: getattr(self, attr) for attr, _ in self.FIELDS}
        current.update(values)
        return Metadata(**current)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Metadata) and self.to_env() == other.to_env()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Metadata({self.to_env()!r})"

    @property
    def known(self) -> bool:
        """The cache says something definite about this instance's user-data."""
        return self.state in (PRESENT, ABSENT)


def metadata(reader: "Reader") -> "Metadata":
    return Metadata.from_env(parse_env(reader.text(METADATA)))


DMI_KEYS = ("/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/board_asset_tag")


def machine_key(reader: "Reader") -> str:
    """What tells this machine from a clone of its image: the hypervisor's DMI identity."""
    for path in DMI_KEYS:
        value = reader.text(path, 256).strip()
        if value and value.lower() not in ("not specified", "none", "default string"):
            return value
    return ""


def belongs_here(reader: "Reader", meta: "Metadata") -> bool:
    """False when the cache was fetched on another machine (a cloned image)."""
    if not meta.machine_key:
        return True
    current = machine_key(reader)  # read only when there is something to compare
    return not current or current == meta.machine_key


def marker(instance: str, identity: str) -> str:
    """The file under APPLIED that records one applied item for one instance."""
    from ccgen.bootpath.digest import sha256

    return sha256(f"{instance}\0{identity}".encode()).hexdigest()[:40]
