"""Read-only view of the units installed on the target system (or image root)."""

from __future__ import annotations

from .inputs import Reader

# The unit load path for files an administrator or a package installed, highest
# priority first.  Generator directories are left out: they are being rebuilt.
ADMIN_DIRS = ("/etc/systemd/system", "/run/systemd/system")
VENDOR_DIRS = ("/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
UNIT_DIRS = ADMIN_DIRS + VENDOR_DIRS
# Where write_files can put units and drop-ins that systemd reads (docs/apply.md).
UNIT_PATHS = ("/etc/systemd/system.control", "/run/systemd/system.control", *UNIT_DIRS)
NETWORK_PATHS = (
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
)
MAX_UNIT_BYTES = 1024 * 1024
# The targets whose .wants/ directories put an installed unit into every boot.
BOOT_TARGETS = ("multi-user.target", "default.target", "graphical.target", "basic.target", "sysinit.target")


class InstalledUnits:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._cache: dict[str, tuple[str, str] | None] = {}
        self._boot: frozenset[str] | None = None

    def find(self, name: str) -> tuple[str, str] | None:
        """(path on the system, text) of the unit file systemd would load, if any."""
        if name not in self._cache:
            self._cache[name] = self._find(name)
        return self._cache[name]

    def _find(self, name: str) -> tuple[str, str] | None:
        for d in UNIT_DIRS:
            # One listing per directory instead of one failed open per unit and directory.
            if name not in self.reader.listdir(d):
                continue
            path = f"{d}/{name}"
            try:
                data = self.reader.read(path, MAX_UNIT_BYTES)
            except OSError:
                continue
            if data is None:
                continue
            # A masked unit reads as empty; its path still counts as "installed".
            return path, data[:MAX_UNIT_BYTES].decode("utf-8", "replace")
        return None

    def is_admin(self, path: str) -> bool:
        return path.startswith(tuple(d + "/" for d in ADMIN_DIRS))

    def started_at_boot(self, name: str) -> bool:
        """Whether the image itself pulls `name` into every boot (a .wants/ link of a boot target)."""
        if self._boot is None:
            found: set[str] = set()
            for d in UNIT_DIRS:
                for target in BOOT_TARGETS:
                    found |= self.reader.listdir(f"{d}/{target}.wants")
            self._boot = frozenset(found)
        return name in self._boot
