"""What each platform's metadata service answers, for tests/fakemeta.py.

The bodies follow the platforms' documented examples (docs/providers.md names
the fields ccgen reads); the addresses are documentation ranges or the
platforms' own examples, and no key is real.
"""

from __future__ import annotations

import base64
import json

from .fakemeta import Behaviour, Reply, Rule

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsAAAAAAAAAAAAAAAAAAAAAAAAA a@test"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsBBBBBBBBBBBBBBBBBBBBBBBBB b@test"
KEY_C = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsCCCCCCCCCCCCCCCCCCCCCCCCC c@test"
USER_DATA = b"#cloud-config\nhostname: from-user-data\n"

# DigitalOcean


def digitalocean_doc(keys: list[str] | None = None, with_interfaces: bool = True) -> dict[str, object]:
    doc: dict[str, object] = {
        "droplet_id": 2756294,
        "hostname": "sample-droplet",
        "vendor_data": "#cloud-config\n",
        "public_keys": [KEY_A] if keys is None else keys,
        "region": "nyc3",
        "interfaces": {
            "public": [
                {
                    "ipv4": {"ip_address": "104.131.20.105", "netmask": "255.255.192.0"},
                    "ipv6": {"ip_address": "2604:a880:0800:0010:0000:0000:017d:2001", "cidr": 64},
                    "anchor_ipv4": {"ip_address": "10.17.0.5", "netmask": "255.255.0.0"},
                    "mac": "04:01:2a:0f:2a:01",
                    "type": "public",
                }
            ],
            "private": [
                {"ipv4": {"ip_address": "10.132.255.113", "netmask": "255.255.0.0"}, "type": "private"}
            ],
        }
        if with_interfaces
        else {"public": [], "private": []},
        "dns": {"nameservers": ["2001:4860:4860::8844", "8.8.8.8"]},
    }
    return doc


def digitalocean(user_data: bytes | None = USER_DATA, doc: dict[str, object] | None = None) -> Behaviour:
    doc = digitalocean_doc() if doc is None else dict(doc)
    routes: dict[str, Reply | bytes] = {}
    if user_data is not None:
        doc["user_data"] = user_data.decode()
        routes["/metadata/v1/user-data"] = user_data
    routes["/metadata/v1.json"] = Reply(200, json.dumps(doc).encode(), {"Content-Type": "application/json"})
    # An index without its slash answers 301, as DigitalOcean does; ccgen never asks for one.
    routes["/metadata/v1"] = Reply(301, b"", {"Location": "/metadata/v1/"})
    return Behaviour(routes=routes)


# Google Compute Engine

GCE = "/computeMetadata/v1/"
GCE_ATTRS = "attributes/?recursive=true&alt=json"


def gce(
    user_data: bytes | None = USER_DATA,
    instance: dict[str, str] | None = None,
    project: dict[str, str] | None = None,
    flavor_in_answers: bool = True,
    external_ip: str | None = "34.68.10.20",
) -> Behaviour:
    attrs = {"ssh-keys": f"core:{KEY_A}\nalice:{KEY_B}", "block-project-ssh-keys": "false"}
    attrs.update(instance or {})
    project_attrs = {"ssh-keys": f"core:{KEY_C}"} if project is None else project
    if user_data is not None:
        attrs["user-data"] = user_data.decode()
    routes: dict[str, Reply | bytes] = {
        GCE + "instance/" + GCE_ATTRS: json.dumps(attrs).encode(),
        GCE + "project/" + GCE_ATTRS: json.dumps(project_attrs).encode(),
        GCE + "instance/id": b"4520031799277581759",
        GCE + "instance/hostname": b"gce-node.c.my-project.internal",
        GCE + "instance/zone": b"projects/123456789012/zones/us-central1-a",
        GCE + "instance/machine-type": b"projects/123456789012/machineTypes/e2-medium",
        GCE + "instance/network-interfaces/0/ip": b"10.128.0.5",
    }  # fmt: skip
    if external_ip is not None:
        routes[GCE + "instance/network-interfaces/0/access-configs/0/external-ip"] = external_ip.encode()
    flavor = {"Metadata-Flavor": "Google"}
    return Behaviour(
        routes=routes,
        # The server refuses a request without the header, and its 403 still carries it.
        rules=[Rule("/computeMetadata/", "Metadata-Flavor", "Google", Reply(403, b"Missing header", flavor))],
        headers=flavor if flavor_in_answers else {},
    )


# Packet / Equinix Metal


def packet_doc() -> dict[str, object]:
    return {
        "id": "2f3c6a4e-6d1b-4c0e-9b1e-3f1a9f0b2c11",
        "hostname": "pkt-node-1",
        "plan": "c3.small.x86",
        "facility": "da11",
        "metro": "da",
        "ssh_keys": [KEY_A, KEY_B],
        "network": {
            "addresses": [
                {"address_family": 4, "public": True, "address": "147.75.80.11", "cidr": 31},
                {"address_family": 6, "public": True, "address": "2604:1380:4641:1b00::1", "cidr": 127},
                {"address_family": 4, "public": False, "address": "10.70.12.129", "cidr": 31},
                {"address_family": 4, "public": True, "address": "147.75.80.99", "cidr": 31},
            ]
        },
        "phone_home_url": "http://127.0.0.1:9/phone-home",
    }


def packet(user_data: bytes | None = USER_DATA, doc: dict[str, object] | None = None) -> Behaviour:
    routes: dict[str, Reply | bytes] = {
        "/metadata": json.dumps(packet_doc() if doc is None else doc).encode()
    }
    if user_data is not None:
        routes["/userdata"] = user_data
    return Behaviour(routes=routes)


# Azure

AZURE_CUSTOM = b"#cloud-config\nhostname: az1\n"


def ovf_env(custom_data: bytes | None = AZURE_CUSTOM, key: str | None = KEY_A) -> str:
    custom = (
        f"<ns1:CustomData>{base64.b64encode(custom_data).decode()}</ns1:CustomData>" if custom_data else ""
    )
    public_key = (
        "<ns1:SSH><ns1:PublicKeys><ns1:PublicKey>"
        "<ns1:Fingerprint>0123456789ABCDEF0123456789ABCDEF01234567</ns1:Fingerprint>"
        "<ns1:Path>/home/core/.ssh/authorized_keys</ns1:Path>"
        f"<ns1:Value>{key}</ns1:Value>"
        "</ns1:PublicKey></ns1:PublicKeys></ns1:SSH>"
        if key
        else ""
    )
    return f"""<ns0:Environment xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1" xmlns:ns1="http://schemas.microsoft.com/windowsazure" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <ns1:ProvisioningSection>
    <ns1:Version>1.0</ns1:Version>
    <ns1:LinuxProvisioningConfigurationSet>
      <ns1:ConfigurationSetType>LinuxProvisioningConfiguration</ns1:ConfigurationSetType>
      <ns1:UserName>core</ns1:UserName>
      <ns1:DisableSshPasswordAuthentication>true</ns1:DisableSshPasswordAuthentication>
      {public_key}
      <ns1:HostName>az1</ns1:HostName>
      {custom}
    </ns1:LinuxProvisioningConfigurationSet>
  </ns1:ProvisioningSection>
  <ns1:PlatformSettingsSection><ns1:Version>1.0</ns1:Version></ns1:PlatformSettingsSection>
</ns0:Environment>
"""  # noqa: E501


def azure_instance(user_data: bytes | None = None) -> dict[str, object]:
    return {
        "compute": {
            "location": "westeurope",
            "name": "az1-resource",
            "osProfile": {"adminUsername": "core", "computerName": "az1-imds"},
            "publicKeys": [{"keyData": KEY_B + "\r\n", "path": "/home/core/.ssh/authorized_keys"}],
            "userData": base64.b64encode(user_data).decode() if user_data else "",
            "vmId": "5c08b38e-4d57-4c23-ac45-aca61037f084",
            "vmSize": "Standard_B2s",
            "zone": "1",
        },
        "network": {
            "interface": [
                {
                    "ipv4": {"ipAddress": [{"privateIpAddress": "10.0.0.4", "publicIpAddress": "20.50.1.2"}]},
                    "ipv6": {"ipAddress": []},
                    "macAddress": "000D3A2B4C5D",
                }
            ]
        },
    }


GOAL_STATE = b"""<?xml version="1.0" encoding="utf-8"?>
<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:noNamespaceSchemaLocation="goalstate10.xsd">
  <Version>2012-11-30</Version>
  <Incarnation>1</Incarnation>
  <Machine><ExpectedState>Started</ExpectedState></Machine>
  <Container>
    <ContainerId>a511aa6d-29e7-4f53-8788-55655dfe848f</ContainerId>
    <RoleInstanceList>
      <RoleInstance>
        <InstanceId>f6cd1d7ef1644557b9059345e5ba890c.az1</InstanceId>
        <State>Started</State>
      </RoleInstance>
    </RoleInstanceList>
  </Container>
</GoalState>
"""

AZURE_INSTANCE = "/metadata/instance?api-version=2021-02-01"
AZURE_USER_DATA = "/metadata/instance/compute/userData?api-version=2021-01-01&format=text"


def azure(imds_user_data: bytes | None = None, health: int = 200) -> Behaviour:
    """IMDS and the wire server on one fake (their paths do not overlap)."""
    bad_request = Reply(
        400, json.dumps({"error": "Bad request. Required metadata header not specified"}).encode()
    )
    wire_version = Reply(400, b"<Error>x-ms-version missing</Error>")
    return Behaviour(
        routes={
            AZURE_INSTANCE: json.dumps(azure_instance(imds_user_data)).encode(),
            AZURE_USER_DATA: base64.b64encode(imds_user_data) if imds_user_data else b"",
            "GET /machine/?comp=goalstate": GOAL_STATE,
            "POST /machine/?comp=health": Reply(health, b""),
        },
        rules=[
            Rule("/metadata/", "Metadata", "true", bad_request),
            Rule("/machine", "x-ms-version", "2012-11-30", wire_version),
        ],
    )  # fmt: skip
