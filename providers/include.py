"""#include and text/x-include-url: the documents user-data names by URL, fetched by the fetch unit.

The generator never fetches.  The fetch unit fetches every URL the user-data
includes (and what those include, as deep as the generator follows them) with
the same client as the provider's own requests: bounded answers, retries of
transient failures, and what is left of the fetch's deadline.  Each answer is
stored in the same cache snapshot as the user-data, named after its URL
(cache.include_name), where the generator reads it.  A URL that cannot be
fetched this time keeps the copy the previous snapshot had, as the user-data
itself does; one never fetched is missing, and the generator warns about it.
Redirects are not followed; https:// checks the server's certificate against
the system's CA store (providers/http.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ccgen.base import cache, rules
from ccgen.lang import userdata

from .base import FetchError


def _get(url: str, until: float, timeout: float) -> bytes | None:
    """The URL's body; None for a 404; FetchError for anything else that is not a 200."""
    from .client import Client, split_url

    origin, path = split_url(url)
    left = until - time.monotonic()
    if left <= 0:
        raise FetchError("no time left before the deadline")
    return Client([origin], deadline=left, timeout=timeout).get(path)


def wanted(user_data: bytes) -> bool:
    return bool(userdata.include_urls(user_data))


def fetch_all(
    user_data: bytes,
    until: float,
    previous: dict[str, bytes],
    say: Callable[[str], None],
    timeout: float = 5.0,
) -> dict[str, bytes]:
    """Every document `user_data` includes, as snapshot files (include name -> bytes).
    `until`: the fetch's deadline (time.monotonic()); `previous`: the last snapshot's
    include files, kept for a URL that cannot be fetched now."""
    stored: dict[str, bytes] = {}
    total = 0
    level = [user_data]
    for _ in range(userdata.MAX_INCLUDE_DEPTH):
        below: list[bytes] = []
        for doc in level:
            for url in userdata.include_urls(doc):
                name = cache.include_name(url)
                if name in stored:
                    continue
                if len(stored) >= userdata.MAX_INCLUDES:
                    say(f"include: {url}: more than {userdata.MAX_INCLUDES} includes; not fetched")
                    continue
                try:
                    data = _get(url, until, timeout)
                    if data is None:
                        say(f"include: {url}: not found (HTTP 404)")
                except FetchError as e:
                    data = previous.get(name)
                    kept = "; the cached copy is kept" if data is not None else ""
                    say(f"include: {url}: {e}{kept}")
                if data is None:
                    continue
                if total + len(data) > rules.MAX_BYTES:
                    say(f"include: {url}: the included documents exceed {rules.MAX_BYTES} bytes; not stored")
                    continue
                total += len(data)
                stored[name] = data
                below.append(data)
        level = below
        if not level:
            break
    return stored
