"""Packet (Equinix Metal) metadata's network object to links: the original's layout (every
interface in bond0, public and private netblocks), its bonding mode from the metadata, and no
`<nil>` gateway."""

from __future__ import annotations

import json

import pytest

from ccgen.providers.netconf import packet, render
from ccgen.providers.netconf.model import BOND, PHYSICAL, Link, Problem, Route

FILE = "/metadata"

BONDED = {
    "bonding": {"mode": 4, "link_aggregation": "bonded"},
    "interfaces": [
        {"name": "enp1s0f0", "mac": "0c:c4:7a:00:00:01", "bond": "bond0"},
        {"name": "enp1s0f1", "mac": "0c:c4:7a:00:00:02", "bond": "bond0"},
    ],
    "addresses": [
        {
            "address": "147.75.1.2",
            "netmask": "255.255.255.254",
            "cidr": 31,
            "gateway": "147.75.1.1",
            "address_family": 4,
            "public": True,
            "management": True,
        },
        {
            "address": "2604:1380:1:1::1",
            "netmask": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
            "cidr": 127,
            "gateway": "2604:1380:1:1::",
            "address_family": 6,
            "public": True,
        },
        {
            "address": "10.99.1.3",
            "netmask": "255.255.255.254",
            "cidr": 31,
            "gateway": "10.99.1.2",
            "address_family": 4,
            "public": False,
        },
    ],
}


def convert(doc: object) -> tuple[dict[str, Link], list[Problem]]:
    links, problems = packet.convert(doc, FILE)
    return {link.ident: link for link in links}, problems


def test_bonded_layout_as_the_original() -> None:
    links, problems = convert(BONDED)
    assert not problems
    assert sorted(links) == ["bond0", "enp1s0f0", "enp1s0f1"]
    bond = links["bond0"]
    assert (
        bond.kind == BOND and bond.slaves == ("enp1s0f0", "enp1s0f1") and bond.set_mac == "0c:c4:7a:00:00:01"
    )
    assert bond.addresses == ("147.75.1.2/31", "2604:1380:1:1::1/127", "10.99.1.3/31")
    assert bond.routes == (
        Route("0.0.0.0/0", "147.75.1.1"),
        Route("::/0", "2604:1380:1:1::"),
        Route("10.0.0.0/8", "10.99.1.2"),  # the private route
    )
    assert bond.dns == ("8.8.8.8", "8.8.4.4")  # the original's default without `dns`
    assert dict(bond.bond_options) == {
        "Mode": "802.3ad",
        "LACPTransmitRate": "fast",
        "MIIMonitorSec": "200ms",
        "UpDelaySec": "200ms",
        "DownDelaySec": "200ms",
    }
    assert links["enp1s0f0"] == Link(
        PHYSICAL, name="enp1s0f0", where=f"{FILE} $.network.interfaces[0]", master="bond0"
    )


def test_the_bonding_mode_comes_from_the_metadata() -> None:
    # The original always wrote 802.3ad, whatever the project's network mode was.
    doc = json.loads(json.dumps(BONDED))
    doc["bonding"]["mode"] = 5
    links, _ = convert(doc)
    assert dict(links["bond0"].bond_options)["Mode"] == "balance-tlb"
    assert "LACPTransmitRate" not in dict(links["bond0"].bond_options)  # LACP only for 802.3ad


def test_dns_from_the_metadata() -> None:
    links, problems = convert({**BONDED, "dns": ["147.75.207.207", "bad", "147.75.207.208"]})
    assert links["bond0"].dns == ("147.75.207.207", "147.75.207.208")
    assert problems[0].where == f"{FILE} $.network.dns[1]"


def test_no_gateway_is_no_route_never_nil() -> None:
    doc = json.loads(json.dumps(BONDED))
    del doc["addresses"][2]["gateway"]
    links, problems = convert(doc)
    text = "".join(t for t, _ in render.render(list(links.values())).values())
    assert "<nil>" not in text and "10.0.0.0/8" not in text and "Address=10.99.1.3/31" in text
    assert problems[0].severity == "note"


@pytest.mark.parametrize(
    "doc",
    [
        None,
        [],
        {},
        {"interfaces": "x"},
        {"interfaces": [{"mac": "x"}], "addresses": [{"address": "1.2.3.4"}]},
        {"interfaces": [{"name": "eth0"}], "bonding": {"mode": "fast"}},
        {"interfaces": [{"name": "eth0", "bond": "bond0"}, {"name": "bond0"}]},
        {
            "interfaces": [{"name": "eth0"}],
            "addresses": [{"address": "1.2.3.4", "cidr": 99}, None, {"address": 7}],
        },
        {"interfaces": [{"name": f"eth{i}"} for i in range(500)]},
    ],
)
def test_hostile_network_objects(doc: object) -> None:
    links, problems = convert(doc)
    assert problems and all(p.where.startswith(f"{FILE} $.network") for p in problems)
    assert all(link.kind in (BOND, PHYSICAL) for link in links.values())
