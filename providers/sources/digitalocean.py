"""DigitalOcean's droplet metadata service: /metadata/v1/user-data and /metadata/v1.json.

user-data: 200 is the user-data (an empty body, like 404, means the droplet has
none: the service is not documented to tell the two apart).  v1.json must be a
JSON object: droplet_id, hostname, region, public_keys, and the first public
and private interface's IPv4 and IPv6 addresses.  Statuses, retries and the
deadline are providers/client.py's.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, clean_keys

ENDPOINT = "http://169.254.169.254"


def fetch(req: Request) -> Result:
    from ccgen.base.cache import Metadata

    from .. import values
    from ..client import Client

    client = Client([req.endpoint or ENDPOINT], req.deadline, req.timeout)
    raw = client.get("/metadata/v1.json")
    if raw is None:
        raise FetchError("/metadata/v1.json: HTTP 404 (not a DigitalOcean metadata service)")
    doc = values.json_object(raw, "/metadata/v1.json")
    user_data = client.get("/metadata/v1/user-data") or None
    found = {
        "instance_id": values.text(doc.get("droplet_id")),
        "hostname": values.text(doc.get("hostname")),
        "region": values.text(doc.get("region")),
    }
    for side, v4, v6 in (("public", "public_ipv4", "public_ipv6"), ("private", "local_ipv4", "local_ipv6")):
        # Either list may be missing or empty, and either address null.
        found[v4] = values.ipv4(values.dig(doc, "interfaces", side, 0, "ipv4", "ip_address"))
        found[v6] = values.ipv6(values.dig(doc, "interfaces", side, 0, "ipv6", "ip_address"))
    keys = doc.get("public_keys")
    listed = [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []
    return Result(user_data, Metadata(**found), clean_keys(listed))


PROVIDER = Provider(
    "digitalocean",
    "the DigitalOcean droplet metadata service",
    fetch,
    oem_ids=("digitalocean",),
    network=True,
    default_endpoint=ENDPOINT,
    order=20,
)
