"""What has been applied, so that the same config on the next boot changes nothing.

One small file per applied item under /var/lib/ccgen/applied/, named from the
instance id and the item's identity and holding the item's digest.  A new
instance id or a changed item means a different name or digest, so the item
is applied again; a deleted file whose entry is unchanged stays deleted.
"""

from __future__ import annotations

import hashlib

from .. import cache
from .fs import Root


def digest(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()


class State:
    def __init__(self, root: Root, instance: str, force: bool = False) -> None:
        self.root = root
        self.instance = instance
        self.force = force

    def _path(self, identity: str) -> str:
        return f"{cache.APPLIED}/{cache.marker(self.instance, identity)}"

    def needed(self, identity: str, item_digest: str) -> bool:
        if self.force:
            return True
        return self.root.read(self._path(identity)) != item_digest.encode()

    def record(self, identity: str, item_digest: str) -> None:
        self.root.mkdir(cache.DIR, 0o700)
        self.root.mkdir(cache.APPLIED, 0o700)
        self.root.write(self._path(identity), item_digest.encode(), mode=0o600)
