"""Azure: the provisioning media's ovf-env.xml, the instance metadata service, the ready report.

user-data is the CustomData of ovf-env.xml (base64) when it has one, else the
metadata service's userData (base64; empty means none).  The media is the
CD-ROM Azure attaches (/dev/sr0, else any iso9660 or udf device that has an
ovf-env.xml); `--source DIR` reads such a tree instead.  No media is not an
error: everything but CustomData is in the metadata service too.

The metadata service (IMDS) needs `Metadata: true` and an api-version; it must
answer, since it gives the instance id that once-only items are keyed by.
410 is retried like 5xx (Azure documents it as "retry after a while").

After the result is stored, the VM is reported ready to the wire server
(providers/wireserver.py), on every boot, as Afterburn does.  A failed report
fails the fetch unit (exit 1) but keeps what was stored.  With an endpoint
override the wire server is the same server (the tests' fake), unless
`ccgen.azure.wireserver=URL` names another.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, clean_keys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

ENDPOINT = "http://169.254.169.254"
INSTANCE = "/metadata/instance?api-version=2021-02-01"
USER_DATA = "/metadata/instance/compute/userData?api-version=2021-01-01&format=text"
WA = "{http://schemas.microsoft.com/windowsazure}"


class Provisioning:
    def __init__(self, custom_data: bytes | None, hostname: str, keys: list[str]) -> None:
        self.custom_data = custom_data
        self.hostname = hostname
        self.keys = keys


def parse_ovf(xml: bytes, notes: list[str]) -> Provisioning:
    """ovf-env.xml, by namespace (the prefixes differ between Azure's generations)."""
    import xml.etree.ElementTree as ET

    from .. import values

    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise FetchError(f"ovf-env.xml is not valid XML: {e}") from None

    def one(parent: ET.Element, name: str) -> ET.Element | None:
        found = parent.findall(f"{WA}{name}")
        if len(found) > 1:
            raise FetchError(f"ovf-env.xml has more than one {name}")
        return found[0] if found else None

    section = one(root, "ProvisioningSection")
    linux = one(section, "LinuxProvisioningConfigurationSet") if section is not None else None
    if linux is None:
        raise FetchError("ovf-env.xml has no LinuxProvisioningConfigurationSet")
    custom = one(linux, "CustomData")
    text = (custom.text or "").strip() if custom is not None else ""
    custom_data = values.base64_bytes(text, "CustomData") if text else None
    host = one(linux, "HostName")
    keys = []
    for key in linux.iter(f"{WA}PublicKey"):
        value = (key.findtext(f"{WA}Value") or "").strip()
        if value:
            keys.append(value)
        else:
            # Such keys come only through the wire server's certificates; IMDS has them as text.
            notes.append("a PublicKey in ovf-env.xml has only a fingerprint; the IMDS copy is used")
    return Provisioning(custom_data, values.text(host.text if host is not None else ""), keys)


def _media(req: Request, notes: list[str]) -> bytes | None:
    import os
    import subprocess

    from .. import device

    if req.source is not None:
        return device.read_file(os.path.join(req.source, "ovf-env.xml"), tree=req.source)
    candidates = ["/dev/sr0"] if os.path.exists("/dev/sr0") else []
    for fstype in ("udf", "iso9660"):
        try:
            proc = subprocess.run(
                ["blkid", "-o", "device", "-t", f"TYPE={fstype}"], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        candidates += [d for d in proc.stdout.split() if d not in candidates]
    for dev in candidates:
        try:
            xml = device.read_from_device(dev, "ovf-env.xml", root=req.root)
        except FetchError as e:
            notes.append(str(e))
            continue
        if xml is not None:
            return xml
    return None


def _imds(req: Request) -> tuple[dict[str, object], Callable[[], bytes | None]]:
    from .. import values
    from ..client import Client

    client = Client(
        [req.endpoint or ENDPOINT],
        req.deadline,
        req.timeout,
        headers={"Metadata": "true"},
        retry=frozenset({410}),
    )

    raw = client.get(INSTANCE)
    if raw is None:
        raise FetchError(f"GET {INSTANCE}: HTTP 404 (not Azure's metadata service)")

    def user_data() -> bytes | None:
        text = (client.get(USER_DATA) or b"").strip()
        return values.base64_bytes(text, "the metadata service's userData") if text else None

    return values.json_object(raw, "the instance metadata"), user_data


def _wire_server(req: Request) -> str:
    from .. import wireserver

    return (
        req.kernel.get("ccgen.azure.wireserver")
        or req.endpoint
        or wireserver.from_leases(req.root)
        or wireserver.DEFAULT
    )


def fetch(req: Request) -> Result:
    from ccgen.base.cache import Metadata

    from .. import values, wireserver

    notes: list[str] = []
    xml = _media(req, notes)
    ovf = parse_ovf(xml, notes) if xml is not None else None
    doc, imds_user_data = _imds(req)
    compute = values.dig(doc, "compute")
    if not isinstance(compute, dict) or not values.text(compute.get("vmId")):
        raise FetchError("the instance metadata has no compute.vmId")
    user_data = ovf.custom_data if ovf is not None and ovf.custom_data is not None else imds_user_data()
    hostname = (ovf.hostname if ovf is not None else "") or values.text(
        values.dig(compute, "osProfile", "computerName")
    )
    found = {
        "instance_id": values.text(compute.get("vmId")),
        "hostname": hostname or values.text(compute.get("name")),
        "region": values.text(compute.get("location")),
        "zone": values.text(compute.get("zone")),
        "instance_type": values.text(compute.get("vmSize")),
        "local_ipv4": values.ipv4(
            values.dig(doc, "network", "interface", 0, "ipv4", "ipAddress", 0, "privateIpAddress")
        ),
        "public_ipv4": values.ipv4(
            values.dig(doc, "network", "interface", 0, "ipv4", "ipAddress", 0, "publicIpAddress")
        ),
        "local_ipv6": values.ipv6(
            values.dig(doc, "network", "interface", 0, "ipv6", "ipAddress", 0, "privateIpAddress")
        ),
    }
    keys = list(ovf.keys) if ovf is not None else []
    listed = compute.get("publicKeys")
    for entry in listed if isinstance(listed, list) else []:
        data = values.dig(entry, "keyData")
        if isinstance(data, str):
            keys.append(data)
    address = _wire_server(req)

    def ready() -> None:
        wireserver.report_ready(address, req.deadline, req.timeout)

    meta = Metadata(**found)
    return Result(user_data, meta, clean_keys(keys), notes, finish=ready)


PROVIDER = Provider(
    "azure",
    "Azure: provisioning media, instance metadata service, wire server",
    fetch,
    oem_ids=("azure", "azurestack"),
    network=True,
    default_endpoint=ENDPOINT,
    order=20,
)
