"""OpenStack config drive: a file system labelled config-2 (iso9660 or vfat).

Reads openstack/latest/user_data (missing means no user-data) and
openstack/latest/meta_data.json: uuid (the instance id), hostname,
availability_zone, public_keys (name -> key) and keys (entries of type ssh).
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, clean_keys

LABELS = ("config-2", "CONFIG-2")


def fetch(req: Request) -> Result:
    import os

    from ccgen.cache import Metadata

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
    return Result(user_data, Metadata(**values), clean_keys(keys))


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
