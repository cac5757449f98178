"""What a provider is: one module under providers/sources/ with a PROVIDER descriptor.

The descriptor answers the generator's questions (its name, the OEM ids it
serves, whether it needs the network, which disk labels it reads) without
importing anything heavy: the generator imports every descriptor at boot.  Its
`fetch` answers the fetch command's: user-data, metadata and SSH keys, or a
FetchError.  The fetch loop, the cache, the deadline and the reload live in
providers/fetch.py, once for every provider.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ccgen.base.cache import Metadata


class FetchError(Exception):
    """The fetch failed; the cache is kept (exit status 1)."""


class Unavailable(FetchError):
    """Nothing to fetch on this machine (no drive, service turned off); the cache is kept (exit 0)."""


class Request:
    """What one fetch is asked to do."""

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        source: str | None = None,
        deadline: float = 90.0,
        kernel: dict[str, str] | None = None,
        root: str = "/",
        timeout: float = 5.0,
    ) -> None:
        self.endpoint = endpoint  # a network provider's base URL (tests: their own server)
        self.source = source  # a device provider's mounted tree
        self.deadline = deadline  # seconds for the whole fetch
        self.kernel = kernel if kernel is not None else {}
        self.root = root
        self.timeout = timeout  # seconds for one request


class Result:
    """What a provider found.  user_data None: known not to exist (not an error)."""

    def __init__(
        self,
        user_data: bytes | None,
        metadata: Metadata,
        keys: list[str] | tuple[str, ...] = (),
        notes: list[str] | None = None,
        finish: Callable[[], None] | None = None,
        network: bytes | None = None,
        network_unusable: bool = False,
    ) -> None:
        self.user_data = user_data
        self.metadata = metadata
        self.keys = tuple(keys)
        self.notes = notes if notes is not None else []
        # Run once the result is in the cache (Azure's ready report); FetchError fails the fetch.
        self.finish = finish
        # The platform's network configuration as providers/netconf/stored.py records it.
        self.network = network
        # The platform has network data but it could not be read (damaged, too large): the
        # fetch keeps the network data the cache already has, as it never replaces a good
        # cache with a failed answer. Storing none would remove the installed units, and on
        # a platform without DHCP that leaves the machine unreachable.
        self.network_unusable = network_unusable


class Provider:
    __slots__ = (
        "default_endpoint",
        "description",
        "detect",
        "fetch",
        "labels",
        "name",
        "network",
        "network_if",
        "oem_ids",
        "order",
    )

    def __init__(
        self,
        name: str,
        description: str,
        fetch: Callable[[Request], Result],
        *,
        oem_ids: tuple[str, ...] = (),
        network: bool = True,
        labels: tuple[str, ...] = (),
        default_endpoint: str | None = None,
        order: int = 50,
        detect: Callable[[dict[str, str]], bool] | None = None,
        network_if: Callable[[dict[str, str]], bool] | None = None,
    ) -> None:
        self.name = name
        self.description = description
        self.fetch = fetch
        self.oem_ids = oem_ids  # coreos.oem.id / flatcar.oem.id values (and --oem presets) it serves
        self.network = network  # needs network-online.target; else it runs early, before ccgen-apply
        self.labels = labels  # file-system labels of the device it reads, if any
        self.default_endpoint = default_endpoint  # the platform's real address; tests never use it
        self.order = order  # when several serve one OEM id, lower runs first; the first to answer wins
        self.detect = detect  # chosen, besides any OEM id, when the kernel command line asks for it
        # A device provider that the kernel command line can point at a URL instead (NoCloud's s=).
        self.network_if = network_if

    def for_kernel(self, kernel: dict[str, str]) -> Provider:
        """The descriptor as this boot uses it: the network variant when the command line says so."""
        if self.network_if is None or not self.network_if(kernel):
            return self
        variant = Provider.__new__(Provider)
        for slot in Provider.__slots__:  # every slot, so that one added later is not lost
            setattr(variant, slot, getattr(self, slot))
        variant.network, variant.labels = True, ()  # fetched over the network, no device
        return variant


def first_line(data: bytes | None) -> str:
    """The first line of a small text answer, stripped; "" for none."""
    if not data or not data.strip():
        return ""
    return data.decode("utf-8", "replace").splitlines()[0].strip()


def clean_keys(keys: list[str]) -> list[str]:
    """SSH keys as one line each, without comments or duplicates; a key holding a line
    break of any kind or a NUL is dropped with a warning (rules.is_key_line)."""
    from ccgen.base.metavalues import warn
    from ccgen.base.rules import KEY_BREAKS, is_key_line

    out = []
    for k in keys:
        k = k.strip()
        if not k or k.startswith("#"):
            continue
        if is_key_line(k):
            out.append(k)
        elif not KEY_BREAKS.isdisjoint(k):
            warn(f"an SSH key holding a line break or NUL dropped: {k[:60]!r}")
    return list(dict.fromkeys(out))
