"""VMware: guestinfo variables, or the OVF environment.

Where the values come from, first found wins (the original's order): the OVF
environment on a disk labelled OVF_ENV (`--source DIR` names such a tree),
else the OVF environment in guestinfo.ovfEnv, else the guestinfo variables
themselves.  guestinfo is read with `vmware-rpctool "info-get guestinfo.KEY"`
(open-vm-tools); its "No value found" is a missing key, and a value that is
blank or `---` counts as missing too (a variable cannot be set to empty).

user-data: `coreos.config.data`, decoded as `coreos.config.data.encoding`
says ("", base64, gzip+base64 and the original's other spellings); else the
URL in `coreos.config.url` (200 only; its data is not decoded, as in Flatcar).
Metadata: `hostname`, and the addresses `interface.N.ip.M.address` of
interfaces whose `interface.N.role` is public or private; the instance id is
the hypervisor's DMI product UUID, as cloud-init has it.  The network keys
(`interface.N.*`, `dns.*`) are kept raw in the cache for providers/netconf/vmware.py.

It runs after the network is up, because `coreos.config.url` needs it.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, Unavailable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

RPCTOOL = "vmware-rpctool"
OVF_LABELS = ("OVF_ENV",)
OVF_NS = "http://schemas.dmtf.org/ovf/environment/1"
MAX_INDEX = 32  # interfaces and addresses per interface: a bound on a tool call per lookup
DECODERS = {
    "": (),
    "b64": ("base64",),
    "base64": ("base64",),
    **{f"{gz}+{b64}": ("base64", "gzip") for gz in ("gz", "gzip") for b64 in ("b64", "base64")},
}


CALL_TIMEOUT = 10.0  # one vmware-rpctool call, at most; all of them share --deadline


class GuestInfo:
    def __init__(self, tool: str, until: float) -> None:
        self.tool = tool
        self.until = until  # time.monotonic() by which the whole fetch ends (--deadline)

    def get(self, key: str) -> str:
        import os
        import signal
        import subprocess
        import time

        left = self.until - time.monotonic()
        if left <= 0:
            raise FetchError(f"guestinfo.{key} not read: the deadline has passed")
        try:
            # A session of its own: on time-out the tool and anything it started go, and
            # nothing left holding its pipes can keep this waiting.
            proc = subprocess.Popen(
                [self.tool, f"info-get guestinfo.{key}"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as e:
            raise FetchError(f"{self.tool}: {e}") from None
        try:
            out, err = proc.communicate(timeout=min(CALL_TIMEOUT, left))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise FetchError(f"{self.tool} info-get guestinfo.{key}: no answer within the deadline") from None
        said = err.decode("utf-8", "replace") + out.decode("utf-8", "replace")
        if proc.returncode != 0:
            if "No value found" in said:
                return ""
            raise FetchError(f"{self.tool} info-get guestinfo.{key}: {said.strip() or proc.returncode}")
        value = out.decode("utf-8", "replace").rstrip()
        return "" if not value.strip() or value == "---" else value


class OvfEnv:
    def __init__(self, xml: bytes) -> None:
        import xml.etree.ElementTree as ET

        try:
            root = ET.fromstring(xml)
        except ET.ParseError as e:
            raise FetchError(f"the OVF environment is not valid XML: {e}") from None
        self.properties: dict[str, str] = {}
        for prop in root.iter(f"{{{OVF_NS}}}Property"):
            key = prop.get(f"{{{OVF_NS}}}key", prop.get("key"))
            value = prop.get(f"{{{OVF_NS}}}value", prop.get("value", ""))
            if key:
                self.properties[key] = value

    def get(self, key: str) -> str:
        value = self.properties.get(f"guestinfo.{key}", "")
        return "" if not value.strip() else value


def _ovf_xml(req: Request, guestinfo: GuestInfo | None) -> bytes | None:
    import os

    from .. import device

    if req.source is not None:
        xml = device.read_file(os.path.join(req.source, "ovf-env.xml"), tree=req.source)
        if xml is None:
            raise FetchError(f"{req.source} has no ovf-env.xml")
        return xml
    disk = device.find_device(OVF_LABELS, 0)
    if disk is not None:
        xml = device.read_from_device(disk, "ovf-env.xml", root=req.root)
        if xml is not None:
            return xml
    value = guestinfo.get("ovfEnv") if guestinfo is not None else ""
    return value.encode() if value else None


def decode(data: str, encoding: str) -> bytes:
    from .. import values

    steps = DECODERS.get(encoding.strip().lower())
    if steps is None:
        raise FetchError(f"coreos.config.data.encoding: unsupported encoding {encoding!r}")
    out = data.encode()
    if "base64" in steps:
        out = values.base64_bytes(out, "coreos.config.data")
    if "gzip" in steps:
        out = values.gunzip(out, "coreos.config.data")
    return out


def _from_url(url: str, req: Request, until: float) -> bytes:
    import time

    from ..client import Client, split_url

    origin, path = split_url(url)
    left = until - time.monotonic()  # what the guestinfo calls left of --deadline
    if left <= 0:
        raise FetchError(f"coreos.config.url {url}: not fetched, the deadline has passed")
    resp = Client([origin], left, req.timeout).send("GET", path)
    if resp.status != 200:
        raise FetchError(f"coreos.config.url {url}: HTTP {resp.status}")
    return resp.body


def addresses(lookup: Callable[[str], str], notes: list[str]) -> dict[str, str]:
    import ipaddress

    found: dict[str, str] = {}
    for n in range(MAX_INDEX):
        base = f"interface.{n}"
        first = lookup(f"{base}.ip.0.address")
        if not first and not any(lookup(f"{base}.{k}") for k in ("name", "mac", "dhcp", "role")):
            break  # the interfaces are numbered from 0 without gaps
        role = lookup(f"{base}.role").strip().lower()
        if role not in ("public", "private"):
            if role:
                notes.append(f"{base}.role: unknown role {role!r}; its addresses are not used")
            continue
        for m in range(MAX_INDEX):
            text = first if m == 0 else lookup(f"{base}.ip.{m}.address")
            if not text:
                break
            try:
                ip = ipaddress.ip_interface(text.strip()).ip
            except ValueError:
                notes.append(f"{base}.ip.{m}.address: {text.strip()[:60]!r} is not an address")
                continue
            attr = ("public_" if role == "public" else "local_") + f"ipv{ip.version}"
            found.setdefault(attr, str(ip))
    return found


def fetch(req: Request) -> Result:
    import shutil
    import time

    from ccgen.base.cache import Metadata
    from ccgen.read.inputs import Reader

    from .. import values

    until = time.monotonic() + req.deadline
    tool = shutil.which(RPCTOOL)
    guestinfo = GuestInfo(tool, until) if tool else None
    xml = _ovf_xml(req, guestinfo)
    if xml is not None:
        lookup, source = OvfEnv(xml).get, "ovf-env.xml"
    elif guestinfo is not None:
        lookup, source = guestinfo.get, "guestinfo"
    else:
        raise Unavailable(f"no OVF environment and no {RPCTOOL} (open-vm-tools) to read guestinfo")
    notes: list[str] = []
    data = lookup("coreos.config.data")
    url = "" if data else lookup("coreos.config.url").strip()
    if data:
        user_data: bytes | None = decode(data, lookup("coreos.config.data.encoding"))
    elif url:
        user_data = _from_url(url, req, until)
    else:
        user_data = None
    found = {
        "hostname": values.text(lookup("hostname")),
        "instance_id": values.text(Reader(req.root).text("/sys/class/dmi/id/product_uuid").lower()),
        **addresses(lookup, notes),
    }
    from ..netconf import stored
    from ..netconf import vmware as netconf

    keys = netconf.wanted(lookup)
    network = stored.record("vmware", source, keys) if keys else None
    return Result(user_data, Metadata(**found), (), notes, network=network)


PROVIDER = Provider(
    "vmware",
    "VMware guestinfo or the OVF environment",
    fetch,
    oem_ids=("vmware", "vmware_raw", "vmware_ova", "vmware_insecure"),
    network=True,
    order=20,
)
