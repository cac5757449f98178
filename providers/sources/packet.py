"""Packet (Equinix Metal): GET /userdata and GET /metadata (JSON).

/userdata: 200 is the user-data; 404, like an empty body, means none.
/metadata must be a JSON object: id, hostname, ssh_keys, plan (the instance
type), facility (the zone) and metro (the region), and from network.addresses
the first public and first private address of each family.  (The original
put any IPv6 address in the public slot, the last one winning.)  The `network`
object is kept raw in the cache for providers/netconf/packet.py.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, clean_keys

ENDPOINT = "https://metadata.packet.net"


def addresses(doc: dict[str, object]) -> dict[str, str]:
    from .. import values

    found: dict[str, str] = {}
    listed = values.dig(doc, "network", "addresses")
    for entry in listed if isinstance(listed, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("public"), bool):
            continue
        family = entry.get("address_family")
        if family == 4:
            attr, address = (
                ("public_ipv4" if entry["public"] else "local_ipv4"),
                values.ipv4(entry.get("address")),
            )
        elif family == 6:
            attr, address = (
                ("public_ipv6" if entry["public"] else "local_ipv6"),
                values.ipv6(entry.get("address")),
            )
        else:
            continue
        if address and attr not in found:
            found[attr] = address
    return found


def fetch(req: Request) -> Result:
    from ccgen.base.cache import Metadata

    from .. import values
    from ..client import Client

    client = Client([req.endpoint or ENDPOINT], req.deadline, req.timeout)
    raw = client.get("/metadata")
    if raw is None:
        raise FetchError("/metadata: HTTP 404 (not a Packet metadata service)")
    doc = values.json_object(raw, "/metadata")
    user_data = client.get("/userdata") or None
    found = {
        "instance_id": values.text(doc.get("id")),
        "hostname": values.text(doc.get("hostname")),
        "instance_type": values.text(doc.get("plan")),
        "zone": values.text(doc.get("facility")),
        "region": values.text(doc.get("metro")),
        **addresses(doc),
    }
    keys = doc.get("ssh_keys")
    listed = [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []
    from ..netconf import stored

    net = doc.get("network")
    network = stored.record("packet", "/metadata", net) if isinstance(net, dict) else None
    return Result(user_data, Metadata(**found), clean_keys(listed), network=network)


PROVIDER = Provider(
    "packet",
    "the Packet (Equinix Metal) metadata service",
    fetch,
    oem_ids=("packet", "equinixmetal"),
    network=True,
    default_endpoint=ENDPOINT,
    order=20,
)
