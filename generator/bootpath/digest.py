"""SHA-256 without importing hashlib, which costs the generator milliseconds (OpenSSL).

CPython builds its own SHA-256 in as `_sha256` (`_sha2` from 3.12); hashlib is the
fallback elsewhere.  Both give the same digests.  On the replay path (planfile.py): no
`from __future__`.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:
        from _sha256 import sha256
    except ImportError:  # depends on the interpreter
        try:
            from _sha2 import sha256
        except ImportError:
            from hashlib import sha256

__all__ = ["hexdigest", "sha256"]


def hexdigest(*parts: bytes) -> str:
    """One digest of several byte strings, each length-prefixed so that none can run into the next."""
    h = sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return h.hexdigest()
