"""What has been applied, so that the same config on the next boot changes nothing.

One small file per applied item under /var/lib/ccgen/applied/, named from the
instance id and the item's identity and holding a digest of the item's values
(never their positions: a comment added above an entry changes nothing).  A
new instance id or a changed item means a different name or digest, so the
item is applied again; a deleted file whose entry is unchanged stays deleted.
"""

from __future__ import annotations

from ccgen.base import cache
from ccgen.bootpath.digest import sha256

from .fs import Root

MANAGED_KEYS = f"{cache.APPLIED}/keys-users"


def digest(*parts: object) -> str:
    h = sha256()
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

    def _prepare(self) -> None:
        self.root.mkdir(cache.DIR, 0o700)
        self.root.mkdir(cache.APPLIED, 0o700)

    def record(self, identity: str, item_digest: str) -> None:
        self._prepare()
        self.root.write(self._path(identity), item_digest.encode(), mode=0o600)

    def key_users(self) -> list[str]:
        """Users whose ~/.ssh ccgen has put keys into (so a removed key can be taken away)."""
        data = self.root.read(MANAGED_KEYS) or b""
        return [u for u in data.decode("utf-8", "replace").splitlines() if u]

    def set_key_users(self, users: list[str]) -> None:
        self._prepare()
        self.root.write(MANAGED_KEYS, "".join(u + "\n" for u in sorted(set(users))).encode(), mode=0o600)
