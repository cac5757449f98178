"""VMware guestinfo keys to links: the original's vmware_test.go tables as vectors, two NICs,
and what the original got wrong (one bad key stopped every interface)."""

from __future__ import annotations

import pytest

from ccgen.providers.netconf import render, vmware
from ccgen.providers.netconf.model import PHYSICAL, Link, Problem, Route

FILE = "guestinfo"
ANY4 = Route("0.0.0.0/0", "10.0.0.1")


def convert(config: dict[str, str]) -> tuple[list[Link], list[Problem]]:
    return vmware.convert(config, FILE)


def test_the_original_process_table() -> None:
    # TestProcessVMwareNetconf, in its order.
    assert convert({}) == ([], [])
    links, _ = convert({"interface.0.dhcp": "yes"})
    # Neither name nor MAC: the original matched every link; here every Ethernet link.
    assert links == [Link(PHYSICAL, label="interface0", where=f"{FILE} interface.0", dhcp="yes")]
    assert "[Match]\nType=ether\n" in render.network(links[0])
    links, _ = convert({"interface.0.mac": "00:11:22:33:44:55", "interface.0.dhcp": "yes"})
    assert links == [Link(PHYSICAL, mac="00:11:22:33:44:55", where=f"{FILE} interface.0", dhcp="yes")]
    links, _ = convert({"interface.0.name": "eth0", "interface.0.dhcp": "yes"})
    assert links == [Link(PHYSICAL, name="eth0", where=f"{FILE} interface.0", dhcp="yes")]
    links, _ = convert(
        {
            "interface.0.mac": "00:11:22:33:44:55",
            "interface.0.ip.0.address": "10.0.0.100/24",
            "interface.0.route.0.gateway": "10.0.0.1",
            "interface.0.route.0.destination": "0.0.0.0/0",
        }
    )
    assert links == [
        Link(
            PHYSICAL,
            mac="00:11:22:33:44:55",
            where=f"{FILE} interface.0",
            addresses=("10.0.0.100/24",),
            routes=(ANY4,),
        )
    ]


TWO_NICS = {
    "dns.server.0": "1.2.3.4",
    "dns.server.1": "5.6.7.8",
    "dns.domain.0": "coreos.com",
    "dns.domain.1": "example.com",
    "interface.0.mac": "00:11:22:33:44:55",
    "interface.0.ip.0.address": "10.0.0.100/24",
    "interface.0.ip.1.address": "10.0.0.101/24",
    "interface.0.route.0.gateway": "10.0.0.1",
    "interface.0.route.0.destination": "0.0.0.0/0",
    "interface.1.name": "eth0",
    "interface.1.ip.0.address": "10.0.1.100/24",
    "interface.1.route.0.gateway": "10.0.1.1",
    "interface.1.route.0.destination": "0.0.0.0/0",
    "interface.2.dhcp": "yes",
    "interface.2.mac": "00:11:22:33:44:77",
}


def test_two_static_nics_and_a_dhcp_one() -> None:
    links, problems = convert(TWO_NICS)
    assert not problems
    by = {link.ident: link for link in links}
    assert sorted(by) == ["001122334455", "001122334477", "eth0"]
    first = by["001122334455"]
    assert first.addresses == ("10.0.0.100/24", "10.0.0.101/24") and first.routes == (ANY4,)
    assert first.dns == ("1.2.3.4", "5.6.7.8") and first.domains == ("coreos.com", "example.com")
    assert by["eth0"].routes == (Route("0.0.0.0/0", "10.0.1.1"),) and by["eth0"].dns == first.dns
    dhcp = by["001122334477"]
    assert dhcp.dhcp == "yes" and dhcp.dns == ()  # the lease gives them, as in the original
    text = render.network(first)
    assert text.splitlines()[1] == f"# From the platform's network configuration: {FILE} interface.0"
    assert "Domains=coreos.com example.com\nDNS=1.2.3.4\nDNS=5.6.7.8\n" in text


def test_name_and_mac_both_match() -> None:
    links, _ = convert(
        {"interface.0.name": "ens192", "interface.0.mac": "00:50:56:AA:BB:CC", "interface.0.dhcp": "yes"}
    )
    text = render.network(links[0])
    assert "[Match]\nName=ens192\nPermanentMACAddress=00:50:56:aa:bb:cc\n" in text


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        # TestProcessAddressConfig / RouteConfig / DHCPConfig's invalid rows
        ("interface.0.ip.0.address", "test address", "invalid address"),
        ("interface.0.route.0.gateway", "test gateway", "is not an IP address"),
        ("interface.0.route.0.destination", "test destination", "has no prefix length"),
        ("interface.0.dhcp", "blah", "invalid DHCP option"),
        ("interface.0.mac", "00:11:22", "is not a MAC address"),
        ("interface.0.ip.0.address", "10.0.0.100", "no prefix length"),
    ],
)
def test_a_bad_interface_costs_only_itself(key: str, value: str, said: str) -> None:
    config = {
        "interface.0.name": "eth0",
        "interface.0.route.0.gateway": "10.0.0.1",
        "interface.0.route.0.destination": "0.0.0.0/0",
        "interface.0.ip.0.address": "10.0.0.5/24",
        "interface.1.name": "eth1",
        "interface.1.dhcp": "yes",
        key: value,
    }
    links, problems = convert(config)
    assert [link.ident for link in links] == ["eth1"]
    assert next(p.format() for p in problems if p.severity == "error").startswith(
        f"{FILE} interface.0: error: "
    )
    assert said in problems[0].message


def test_route_half_given() -> None:
    # TestProcessRouteConfig: "missing destination key" / "missing gateway key"
    links, problems = convert({"interface.0.name": "a", "interface.0.route.0.gateway": "10.0.0.1"})
    assert not links and "missing destination key" in problems[0].message
    links, problems = convert({"interface.0.name": "a", "interface.0.route.0.destination": "0.0.0.0/0"})
    assert not links and "missing gateway key" in problems[0].message


def test_ipv6_addresses_and_routes() -> None:
    links, _ = convert(
        {
            "interface.0.name": "eth0",
            "interface.0.ip.0.address": "fe00::100/64",
            "interface.0.ip.1.address": "fe00::101/64",
            "interface.0.route.0.gateway": "fe00::1",
            "interface.0.route.0.destination": "::/0",
        }
    )
    assert links[0].addresses == ("fe00::100/64", "fe00::101/64") and links[0].routes == (
        Route("::/0", "fe00::1"),
    )


def test_bad_nameserver_is_dropped_not_fatal() -> None:
    # The original: `invalid nameserver: "test dns"` and no network at all.
    links, problems = convert(
        {
            "dns.server.0": "test dns",
            "dns.server.1": "9.9.9.9",
            **{k.replace(".1.", ".0."): v for k, v in TWO_NICS.items() if k.startswith("interface.1")},
        }
    )
    assert [link.dns for link in links] == [("9.9.9.9",)]
    assert problems[0].where == f"{FILE} dns.server.0" and problems[0].severity == "warning"


def test_an_interface_with_nothing_does_not_stop_the_next() -> None:
    # The original stopped at the first interface without addresses, routes or DHCP.
    links, problems = convert(
        {
            "interface.0.name": "eth0",
            "interface.0.dhcp": "no",
            "interface.1.name": "eth1",
            "interface.1.dhcp": "yes",
        }
    )
    assert [link.ident for link in links] == ["eth1"] and problems[0].severity == "note"


def test_duplicate_names() -> None:
    links, problems = convert(
        {
            "interface.0.name": "eth0",
            "interface.0.dhcp": "yes",
            "interface.1.name": "eth0",
            "interface.1.dhcp": "yes",
        }
    )
    # Which one was meant cannot be told: neither is written.
    assert links == [] and "configured twice; neither is written" in problems[0].message


def test_wanted_asks_only_what_is_there() -> None:
    asked: list[str] = []

    def get(key: str) -> str:
        asked.append(key)
        return TWO_NICS.get(key, "")

    assert vmware.wanted(get) == TWO_NICS
    assert len(asked) < 60  # a bound on tool calls: each lookup runs vmware-rpctool
