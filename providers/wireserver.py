"""Azure's wire server: the "ready" report, without which Azure marks the VM as failed.

The report is Afterburn's: GET /machine/?comp=goalstate for the incarnation,
the container id and the role instance id, then POST /machine/?comp=health
with those three and <State>Ready</State>.  Every request carries
x-ms-agent-name and x-ms-version: 2012-11-30.  The address is DHCP option 245
from systemd-networkd's lease, else the platform's fixed 168.63.129.16.
"""

from __future__ import annotations

import os

from .base import FetchError

DEFAULT = "http://168.63.129.16"
HEADERS = {"x-ms-agent-name": "ccgen", "x-ms-version": "2012-11-30"}
LEASES = "/run/systemd/netif/leases"

HEALTH = """<?xml version="1.0" encoding="utf-8"?>
<Health xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <GoalStateIncarnation>{incarnation}</GoalStateIncarnation>
  <Container>
    <ContainerId>{container}</ContainerId>
    <RoleInstanceList>
      <Role>
        <InstanceId>{instance}</InstanceId>
        <Health>
          <State>Ready</State>
        </Health>
      </Role>
    </RoleInstanceList>
  </Container>
</Health>
"""


def from_leases(root: str) -> str | None:
    """The wire server's address from a networkd lease's OPTION_245 (8 hex digits)."""
    directory = os.path.join(root, LEASES.lstrip("/"))
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return None
    for name in names:
        try:
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
                text = f.read(65536)
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition("=")
            digits = value.strip().replace(":", "")
            if key.strip() == "OPTION_245" and len(digits) == 8:
                try:
                    packed = bytes.fromhex(digits)
                except ValueError:
                    continue
                return "http://" + ".".join(str(b) for b in packed)
    return None


def goal_state(xml: bytes) -> tuple[str, str, str]:
    """(incarnation, container id, instance id) from the goal state document."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise FetchError(f"the goal state is not valid XML: {e}") from None
    found = (
        root.findtext("Incarnation"),
        root.findtext("Container/ContainerId"),
        root.findtext("Container/RoleInstanceList/RoleInstance/InstanceId"),
    )
    for value, name in zip(found, ("Incarnation", "ContainerId", "InstanceId")):
        if not value or not value.strip():
            raise FetchError(f"the goal state has no {name}")
    incarnation, container, instance = (v.strip() for v in found if v)
    return incarnation, container, instance


def health(incarnation: str, container: str, instance: str) -> bytes:
    from xml.sax.saxutils import escape

    return HEALTH.format(
        incarnation=escape(incarnation), container=escape(container), instance=escape(instance)
    ).encode()


def report_ready(address: str, deadline: float, timeout: float) -> None:
    from .client import Client

    client = Client([address], deadline, timeout, headers=HEADERS)
    resp = client.send("GET", "/machine/?comp=goalstate")
    if resp.status != 200:
        raise FetchError(f"the ready report: GET /machine/?comp=goalstate answered HTTP {resp.status}")
    body = health(*goal_state(resp.body))
    resp = client.send(
        "POST", "/machine/?comp=health", {"Content-Type": "text/xml; charset=utf-8"}, body=body
    )
    if not 200 <= resp.status < 300:
        raise FetchError(f"the ready report: POST /machine/?comp=health answered HTTP {resp.status}")
