"""Read-only view of the units installed on the target system (or image root)."""

from __future__ import annotations

import os

# The unit load path for files an administrator or a package installed, highest
# priority first.  Generator directories are left out: they are being rebuilt.
ADMIN_DIRS = ("/etc/systemd/system", "/run/systemd/system")
VENDOR_DIRS = ("/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
MAX_UNIT_BYTES = 1024 * 1024


class InstalledUnits:
    def __init__(self, root: str = "/") -> None:
        self.root = root
        self._cache: dict[str, tuple[str, str] | None] = {}
        self._listing: dict[str, frozenset[str]] = {}

    def _names(self, directory: str) -> frozenset[str]:
        # One listing per directory instead of one failed open per unit and directory.
        if directory not in self._listing:
            try:
                self._listing[directory] = frozenset(os.listdir(self._host(directory)))
            except OSError:
                self._listing[directory] = frozenset()
        return self._listing[directory]

    def _host(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def find(self, name: str) -> tuple[str, str] | None:
        """(path on the system, text) of the unit file systemd would load, if any."""
        if name not in self._cache:
            self._cache[name] = self._find(name)
        return self._cache[name]

    def _find(self, name: str) -> tuple[str, str] | None:
        for d in ADMIN_DIRS + VENDOR_DIRS:
            if name not in self._names(d):
                continue
            path = f"{d}/{name}"
            host = self._host(path)
            try:
                with open(host, "rb") as f:
                    data = f.read(MAX_UNIT_BYTES)
            except OSError:
                continue
            # A masked unit reads as empty; its path still counts as "installed".
            return path, data.decode("utf-8", "replace")
        return None

    def is_admin(self, path: str) -> bool:
        return path.startswith(tuple(d + "/" for d in ADMIN_DIRS))
