"""OpenStack config drive: a file system labelled config-2 (iso9660 or vfat).

Reads openstack/latest/user_data (missing means no user-data) and
openstack/latest/meta_data.json: uuid (the instance id), hostname,
availability_zone, public_keys (name -> key) and keys (entries of type ssh).

The network configuration: openstack/latest/network_data.json when the drive has one,
else the Debian interfaces file meta_data.json's network_config.content_path names
(under openstack/, e.g. /content/0000); kept raw in the cache (providers/netconf).
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, clean_keys

LABELS = ("config-2", "CONFIG-2")


def fetch(req: Request) -> Result:
    import os

    from ccgen.base.cache import Metadata

    from .. import values as checked
    from ..device import read_file

    if req.source is None:
        raise FetchError("no config drive tree to read")
    latest = os.path.join(req.source, "openstack", "latest")
    if not os.path.isdir(latest):
        raise FetchError(f"{latest} does not exist: not a config drive")
    user_data = read_file(os.path.join(latest, "user_data"), tree=req.source)
    raw = read_file(os.path.join(latest, "meta_data.json"), tree=req.source)
    values: dict[str, str] = {}
    keys: list[str] = []
    if raw is not None and raw.strip():
        doc = checked.json_object(raw, "meta_data.json")
        for key, attr in (("uuid", "instance_id"), ("hostname", "hostname"), ("availability_zone", "zone")):
            value = checked.text(doc.get(key))
            if value:
                values[attr] = value
        public = doc.get("public_keys")
        if isinstance(public, dict):
            keys += [v for _, v in sorted(public.items()) if isinstance(v, str)]
        listed = doc.get("keys")
        if isinstance(listed, list):
            for item in listed:
                if isinstance(item, dict) and item.get("type") == "ssh" and isinstance(item.get("data"), str):
                    keys.append(item["data"])
    notes: list[str] = []
    network, unusable = _network(req.source, doc if raw is not None and raw.strip() else {}, notes)
    return Result(
        user_data, Metadata(**values), clean_keys(keys), notes, network=network, network_unusable=unusable
    )


def _network(source: str, meta: dict[str, object], notes: list[str]) -> tuple[bytes | None, bool]:
    """The drive's network data as the cache keeps it, and whether the drive has some that
    cannot be used.  That is a note, never a failed fetch: the user-data is still good, and
    the fetch keeps the network data it stored before (base.Result.network_unusable)."""
    import os

    from ..device import read_file
    from ..netconf import model, stored

    json_path = "openstack/latest/network_data.json"
    failed = False
    try:
        raw = read_file(os.path.join(source, json_path), model.MAX_JSON)
        if raw is not None and raw.strip():
            return stored.record("openstack", json_path, model.json_doc(raw)), False
    except (FetchError, ValueError, UnicodeDecodeError) as e:
        notes.append(f"{json_path}: error: {e}; not used")
        failed = True
    config = meta.get("network_config")
    content = config.get("content_path") if isinstance(config, dict) else None
    if not isinstance(content, str) or not content:
        return None, failed
    rel = os.path.normpath("openstack/" + content.lstrip("/"))
    if not rel.startswith("openstack/") or "\0" in rel:
        notes.append(
            f"meta_data.json network_config.content_path {content[:60]!r} is outside openstack/; not used"
        )
        return None, True
    try:
        text = read_file(os.path.join(source, rel), model.MAX_JSON)
    except FetchError as e:
        notes.append(f"{rel}: error: {e}; not used")
        return None, True
    if text is None:
        notes.append(f"{rel}: error: meta_data.json's network_config names it, but it is missing")
        return None, True
    return stored.record("debian", rel, text.decode("utf-8", "replace")), False


PROVIDER = Provider(
    "configdrive",
    "the OpenStack config drive",
    fetch,
    oem_ids=(
        "openstack",
        "stackit",
        "rackspace",
        "rackspace-onmetal",
        "cloudstack",
        "cloudstack-configdrive",
        "configdrive",
        "config-drive",
        "ec2-compat",
        # Proxmox VE and KubeVirt offer both drives; NoCloud's (order 30) is tried after this one.
        "proxmoxve",
        "kubevirt",
    ),
    network=False,
    labels=LABELS,
    order=10,
)
