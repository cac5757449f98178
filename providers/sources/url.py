"""One URL from the kernel command line: ccgen.url=, or the original's cloud-config-url=
(also spelled cloud_config_url=).

The last of them on the line wins, whichever spelling; one pair of surrounding
double quotes is taken off (the original kept them and then failed).  Only
http:// and https://.  200 is the user-data; any other answer is an error
that keeps the cache, as in the original: a URL the user named that answers
404 is more likely a mistake than a wish to drop the config.  Up to five
redirects are followed (the original's HTTP client followed them too).
No metadata at all.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result

KEYS = ("ccgen.url", "cloud-config-url", "cloud_config_url")
MAX_REDIRECTS = 5


def detect(kernel: dict[str, str]) -> bool:
    return any(k in kernel for k in KEYS)


def url_from_cmdline(cmdline: str) -> str | None:
    """The last ccgen.url= / cloud-config-url= / cloud_config_url= value, unquoted."""
    found = None
    for word in cmdline.split():
        key, sep, value = word.partition("=")
        if sep and key.replace("_", "-") in ("ccgen.url", "cloud-config-url"):
            found = value
    if found is not None and len(found) >= 2 and found[0] == found[-1] == '"':
        found = found[1:-1]
    return found


def fetch(req: Request) -> Result:
    import time

    from ccgen.base.cache import Metadata
    from ccgen.read.inputs import Reader

    from ..client import Client, split_url

    url = req.endpoint or url_from_cmdline(Reader(req.root).text("/proc/cmdline"))
    if not url:
        raise FetchError("no ccgen.url= or cloud-config-url= on the kernel command line")
    until = time.monotonic() + req.deadline
    notes: list[str] = []
    for _ in range(MAX_REDIRECTS + 1):
        origin, path = split_url(url)
        left = until - time.monotonic()
        if left <= 0:
            raise FetchError(f"{url}: no answer within the deadline")
        resp = Client([origin], left, req.timeout).send("GET", path)
        if resp.status == 200:
            return Result(resp.body, Metadata(), notes=notes)
        location = resp.header("location")
        if resp.status in (301, 302, 303, 307, 308) and location:
            import urllib.parse

            url = urllib.parse.urljoin(url, location)
            notes.append(f"redirected to {url}")
            continue
        raise FetchError(f"GET {url}: HTTP {resp.status}")
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


PROVIDER = Provider(
    "url",
    "the URL on the kernel command line",
    fetch,
    network=True,
    order=5,
    detect=detect,
)
