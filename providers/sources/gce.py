"""Google Compute Engine's metadata server, under /computeMetadata/v1/.

Every request carries `Metadata-Flavor: Google`, and every answer must carry it
back: a server that does not is not Google's metadata server (a proxy, a
captive portal), and nothing it says is used.  The two attribute directories
are read whole (`?recursive=true&alt=json`: alt=json because recursive alone
does not always give JSON); the rest are single values where 404 means absent.

user-data is the instance attribute `user-data` (`user-data-encoding: base64`
honoured, as cloud-init does).  SSH keys follow Afterburn's rule: the
instance's legacy `sshKeys` alone when it has any; else the instance's
`ssh-keys`, then, unless `block-project-ssh-keys` is true, the project's
`sshKeys` and `ssh-keys`.  Each line is `user:key`; the user is dropped (every
key goes to core), and a key whose Google `expireOn` has passed is left out.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, clean_keys, first_line

ENDPOINT = "http://169.254.169.254"  # the IP: metadata.google.internal needs DNS, which may not be up
ROOT = "/computeMetadata/v1/"
FLAVOR = {"Metadata-Flavor": "Google"}
ATTRIBUTES = "attributes/?recursive=true&alt=json"


class _Server:
    def __init__(self, req: Request) -> None:
        from ..client import Client

        self.client = Client([req.endpoint or ENDPOINT], req.deadline, req.timeout, headers=FLAVOR)

    def get(self, path: str) -> bytes | None:
        resp = self.client.send("GET", ROOT + path)
        if resp.header("metadata-flavor") != "Google":
            raise FetchError(
                f"GET {ROOT}{path}: the answer has no Metadata-Flavor: Google header,"
                " so it is not from the metadata server"
            )
        from ..client import body_of

        return body_of(resp, ROOT + path)

    def attributes(self, where: str) -> dict[str, object]:
        from .. import values

        raw = self.get(f"{where}/{ATTRIBUTES}")
        return values.json_object(raw, f"{where} attributes") if raw is not None else {}


def _expired(key: str, now: float) -> bool:
    """Whether a key's `google-ssh {"expireOn": ...}` comment says it has expired."""
    import datetime

    from ccgen.read.nesting import loads

    _, marker, rest = key.partition(" google-ssh ")
    if not marker:
        return False
    try:
        when = loads(rest).get("expireOn", "")
        expiry = datetime.datetime.strptime(when, "%Y-%m-%dT%H:%M:%S%z")
    except (ValueError, TypeError, AttributeError):
        return False  # a comment ccgen cannot read does not take the key away
    return expiry.timestamp() < now


def ssh_keys(instance: dict[str, object], project: dict[str, object], notes: list[str]) -> list[str]:
    import time

    def lines(attrs: dict[str, object], name: str) -> list[str]:
        value = attrs.get(name)
        return [ln for ln in value.splitlines() if ln.strip()] if isinstance(value, str) else []

    chosen = lines(instance, "sshKeys")
    if not chosen:
        chosen = lines(instance, "ssh-keys")
        block = instance.get("block-project-ssh-keys")
        if not (isinstance(block, str) and block.strip().lower() == "true"):
            chosen += lines(project, "sshKeys") + lines(project, "ssh-keys")
    keys = []
    now = time.time()
    for line in chosen:
        _user, sep, key = line.partition(":")
        if not sep or not key.strip():
            notes.append(f"ignored an ssh-keys line without user: {line[:60]!r}")
        elif not _expired(key.strip(), now):
            keys.append(key.strip())
    return keys


def _user_data(attrs: dict[str, object]) -> bytes | None:
    from .. import values

    value = attrs.get("user-data")
    if not isinstance(value, str):
        return None
    encoding = attrs.get("user-data-encoding")
    if isinstance(encoding, str) and encoding.strip().lower() == "base64":
        return values.base64_bytes(value, "the user-data (user-data-encoding: base64)")
    return value.encode()


def fetch(req: Request) -> Result:
    from ccgen.base.cache import Metadata

    from .. import values

    server = _Server(req)
    notes: list[str] = []
    instance = server.attributes("instance")
    project = server.attributes("project")

    def value(path: str) -> str:
        return first_line(server.get(path))

    zone = value("instance/zone").rsplit("/", 1)[-1]
    found = {
        "instance_id": values.text(value("instance/id")),
        "hostname": values.text(value("instance/hostname")),
        "zone": values.text(zone),
        # A zone is its region plus one last -suffix: us-central1-a is in us-central1.
        "region": values.text(zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else ""),
        "instance_type": values.text(value("instance/machine-type").rsplit("/", 1)[-1]),
        "local_ipv4": values.ipv4(value("instance/network-interfaces/0/ip")),
        "public_ipv4": values.ipv4(value("instance/network-interfaces/0/access-configs/0/external-ip")),
        "local_ipv6": values.ipv6(value("instance/network-interfaces/0/ipv6s")),
        "public_ipv6": values.ipv6(
            value("instance/network-interfaces/0/ipv6-access-configs/0/external-ipv6")
        ),
    }
    keys = ssh_keys(instance, project, notes)
    meta = Metadata(**found)
    return Result(_user_data(instance), meta, clean_keys(keys), notes)


PROVIDER = Provider(
    "gce",
    "the Google Compute Engine metadata server",
    fetch,
    oem_ids=("gce", "gcp"),
    network=True,
    default_endpoint=ENDPOINT,
    order=20,
)
