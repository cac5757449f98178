"""NoCloud, as cloud-init defines it: a seed with `user-data` and `meta-data` (YAML).

The seed is a file system labelled cidata or CIDATA (iso9660 or vfat), read
early like the config drive; or, when the kernel command line says
`ds=nocloud;s=URL/` (or `ds=nocloud-net;s=URL/`), a web server, fetched after
the network is up: URL + "meta-data" and URL + "user-data".  `h=` and `i=` in
that word override the meta-data's local-hostname and instance-id.

On a disk the seed must have meta-data (it may be empty); user-data missing
means none.  Over HTTP, 404 on meta-data means empty metadata and 404 on
user-data means none, but 404 on both is an error.  meta-data that is not YAML, or not a mapping, is an
error that keeps the cache.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, clean_keys

LABELS = ("cidata", "CIDATA")
SHORT = {"h": "local-hostname", "i": "instance-id", "s": "seedfrom"}


def parse_ds(kernel: dict[str, str]) -> dict[str, str] | None:
    """`ds=nocloud;k=v;...` (or nocloud-net) from the command line, or None when it is not there."""
    value = kernel.get("ds")
    if value is None:
        return None
    name, *items = value.split(";")
    if name not in ("nocloud", "nocloud-net"):
        return None
    out = {}
    for item in items:
        key, _, v = item.partition("=")  # only the first = splits: a URL may have more
        if key:
            out[SHORT.get(key, key)] = v
    return out


def detect(kernel: dict[str, str]) -> bool:
    return parse_ds(kernel) is not None


def seed_url(kernel: dict[str, str]) -> str | None:
    seed = (parse_ds(kernel) or {}).get("seedfrom", "")
    return seed if seed.startswith(("http://", "https://")) else None


def network_if(kernel: dict[str, str]) -> bool:
    return seed_url(kernel) is not None


def public_keys(value: object) -> list[str]:
    """meta-data's public-keys in each form cloud-init takes: a string of lines, a list, or a
    mapping whose values are keys or lists of keys."""
    if isinstance(value, str):
        return value.splitlines()
    if isinstance(value, list):
        return [k for k in value if isinstance(k, str)]
    if isinstance(value, dict):
        out = []
        for v in value.values():
            out += [v] if isinstance(v, str) else public_keys(v) if isinstance(v, list) else []
        return out
    return []


def parse_meta(raw: bytes | None) -> dict[str, object]:
    import yaml

    if raw is None or not raw.strip():
        return {}
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise FetchError(f"meta-data is not valid YAML: {' '.join(str(e).split())}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise FetchError("meta-data is not a YAML mapping")
    return {str(k): v for k, v in doc.items()}


def _from_disk(source: str) -> tuple[bytes | None, bytes | None]:
    import os

    from ..device import read_file

    meta = read_file(os.path.join(source, "meta-data"), tree=source)
    if meta is None:
        raise FetchError(f"{source} has no meta-data: not a NoCloud seed")
    return read_file(os.path.join(source, "user-data"), tree=source), meta


def _from_web(req: Request, notes: list[str]) -> tuple[bytes | None, bytes | None]:
    from ..client import Client, split_url

    base = req.endpoint or seed_url(req.kernel)
    if not base:
        raise FetchError("no seed: neither a cidata disk nor ds=nocloud;s=http://... on the command line")
    if not base.endswith("/"):
        # The file names are appended as they are; cloud-init asks for the slash.
        notes.append(f"the seed URL {base} does not end in /; one is added")
        base += "/"
    origin, path = split_url(base)
    client = Client([origin], req.deadline, req.timeout)
    meta = client.get(path + "meta-data")
    user_data = client.get(path + "user-data")
    if meta is None and user_data is None:
        # Most likely a wrong URL: dropping the cached config for it would be worse.
        raise FetchError(f"{base}: neither meta-data nor user-data is there (HTTP 404)")
    return user_data, meta


def fetch(req: Request) -> Result:
    from ccgen.base.cache import Metadata

    from .. import values

    notes: list[str] = []
    user_data, raw_meta = _from_disk(req.source) if req.source is not None else _from_web(req, notes)
    meta = parse_meta(raw_meta)
    meta.update({k: v for k, v in (parse_ds(req.kernel) or {}).items() if k in SHORT.values()})
    hostname = meta.get("local-hostname") or meta.get("hostname")
    found = {"instance_id": values.text(meta.get("instance-id")), "hostname": values.text(hostname)}
    keys = clean_keys(public_keys(meta.get("public-keys")))
    return Result(user_data, Metadata(**found), keys, notes)


PROVIDER = Provider(
    "nocloud",
    "a NoCloud seed (cidata disk or ds=nocloud;s=URL)",
    fetch,
    oem_ids=("nocloud", "qemu", "metal", "pxe", "proxmoxve", "kubevirt"),
    network=False,
    labels=LABELS,
    order=30,
    detect=detect,
    network_if=network_if,
)
