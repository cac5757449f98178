"""Debian interfaces text to links: the original's test tables (coreos-cloudinit v1.14.0,
network/debian_test.go, stanza_test.go, interface_test.go) as vectors, realistic config
drive files, the original's mistakes done right, and hostile input."""

from __future__ import annotations

import pytest

from ccgen.providers.netconf import debian, render
from ccgen.providers.netconf.model import BOND, PHYSICAL, VLAN, Link, Problem, Route

FILE = "openstack/content/0000"


def convert(text: str) -> tuple[dict[str, Link], list[Problem]]:
    links, problems = debian.convert(text, FILE)
    return {link.ident: link for link in links}, problems


def errors(problems: list[Problem]) -> list[str]:
    return [p.format() for p in problems if p.severity == "error"]


def static(*options: str, name: str = "eth", method: str = "static", family: str = "inet") -> str:
    return f"iface {name} {family} {method}\n" + "".join(f"  {o}\n" for o in options)


# debian_test.go TestFormatConfigs: comments, blank lines and "\" continuations.
@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", 0),
        ("line1\\\nis long", 1),
        ("#comment", 0),
        ("#comment\\\ncomment", 0),
        ("  #comment \\\n comment\nline 1\nline 2\\\n is long", 2),
    ],
)
def test_logical_lines(text: str, lines: int) -> None:
    from ccgen.providers.netconf.model import Collector

    assert len(debian._lines(text, FILE, Collector())) == lines


# debian_test.go TestProcessDebianNetconf: (text, fails, links).  "iface" alone failed the
# whole file in the original; here it is an error for that line and converts nothing.
@pytest.mark.parametrize(
    ("text", "fails", "n"),
    [
        ("", False, 0),
        ("iface", True, 0),
        ("auto eth1\nauto eth2", False, 0),
        ("iface eth1 inet manual", False, 1),
    ],
)
def test_process_debian_netconf(text: str, fails: bool, n: int) -> None:
    links, problems = convert(text)
    assert bool(errors(problems)) == fails and len(links) == n


# stanza_test.go TestBadParseStanzas / TestSplitStanzasNoParent / TestBadParseInterfaceStanza:
# the same inputs are errors, each positioned, and cost only themselves.
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("test", "missing stanza start"),
        ("iface", "malformed stanza start"),
        ("iface eth inet", "malformed stanza start"),
        ("iface eth inet invalid", "invalid config method"),
        (static("address 192.168.1.100"), "malformed static network config"),
        (static("netmask 255.255.255.0"), "malformed static network config"),
        (static("address invalid", "netmask 255.255.255.0"), "malformed static network config"),
        (static("address 192.168.1.100", "netmask invalid"), "malformed static network config"),
        (
            static("address 192.168.1.100", "netmask 255.255.255.0", "hwaddress ether NotAnAddress"),
            "is not a MAC address",
        ),
        (static("hwaddress ether NotAnAddress", method="dhcp"), "is not a MAC address"),
        (static(name="myvlan", method="manual") + "  vlan-raw-device eth0\n", "malformed vlan name"),
        (static(name="eth.vlan", method="manual"), "malformed vlan name"),
    ],
)
def test_bad_stanzas_are_positioned_errors(text: str, said: str) -> None:
    good = "iface eth9 inet dhcp\n"
    links, problems = convert(text + "\n" + good)
    found = errors(problems)
    assert found and said in found[0] and found[0].startswith(f"{FILE}:"), problems
    assert list(links) == ["eth9"] and links["eth9"].dhcp == "ipv4"  # the good one survives


def test_allow_and_mapping_are_notes_not_errors() -> None:
    # The original failed the whole file on "allow-hotplug" ("unknown stanza").
    text = "allow-hotplug eth0\nmapping eth*\n  script /x\n  map eth0\nsource /etc/x\niface eth0 inet dhcp\n"
    links, problems = convert(text)
    assert not errors(problems) and list(links) == ["eth0"]
    assert [p.where for p in problems] == [f"{FILE}:1", f"{FILE}:2", f"{FILE}:5"]
    assert all(p.severity == "note" for p in problems)


def test_auto_and_loopback() -> None:
    # stanza_test.go TestParseStanzas, interface_test.go TestBuildInterfacesLo: lo is not written.
    text = "auto lo\niface lo inet loopback\niface eth1 inet manual\niface eth2 inet manual\nauto eth1 eth3\n"
    links, problems = convert(text)
    assert sorted(links) == ["eth1", "eth2"] and not problems
    assert links["eth1"] == Link(PHYSICAL, name="eth1", where=f"{FILE}:3")


def test_static_address_gateway_dns() -> None:
    # TestParseInterfaceStanzaStaticAddress / StaticGateway / StaticDNS
    links, _ = convert(
        static(
            "address 192.168.1.100",
            "netmask 255.255.255.0",
            "gateway 192.168.1.1",
            "dns-nameservers 192.168.1.10 192.168.1.11 192.168.1.12",
        )
    )
    eth = links["eth"]
    assert eth.addresses == ("192.168.1.100/24",)
    assert eth.routes == (Route("0.0.0.0/0", "192.168.1.1"),)
    assert eth.dns == ("192.168.1.10", "192.168.1.11", "192.168.1.12")


@pytest.mark.parametrize(
    "option",
    [
        "post-up invalid",
        "post-up route add",
        "post-up route add -net",
        "post-up route add gw",
        "post-up route add netmask",
        "gateway",
        "gateway 192.168.1.1 192.168.1.2",
    ],
)
def test_bad_post_up_routes_are_not_routes(option: str) -> None:
    # TestBadParseInterfaceStanzasStaticPostUp: no route, no error, the interface kept.
    links, problems = convert(static("address 192.168.1.100", "netmask 255.255.255.0", option))
    assert links["eth"].routes == () and not errors(problems)


@pytest.mark.parametrize(
    ("option", "route"),
    [
        # TestParseInterfaceStanzaStaticPostUp
        (
            "post-up route add gw 192.168.1.1 -net 192.168.1.0 netmask 255.255.255.0",
            Route("192.168.1.0/24", "192.168.1.1"),
        ),
        (
            "post-up route add gw 192.168.1.1 -net 192.168.1.0/24 || true",
            Route("192.168.1.0/24", "192.168.1.1"),
        ),
        # Rackspace's service-net routes, and the iproute2 spelling
        (
            "up route add -net 10.208.0.0 netmask 255.240.0.0 gw 10.176.0.1 || true",
            Route("10.208.0.0/12", "10.176.0.1"),
        ),
        ("up ip route add 10.0.0.0/8 via 192.168.1.254 dev eth", Route("10.0.0.0/8", "192.168.1.254")),
        ("post-up route add -host 172.16.0.9 gw 192.168.1.1", Route("172.16.0.9/32", "192.168.1.1")),
    ],
)
def test_post_up_routes(option: str, route: Route) -> None:
    links, problems = convert(static("address 192.168.1.100", "netmask 255.255.255.0", option))
    assert links["eth"].routes == (route,) and not errors(problems)


def test_hwaddress() -> None:
    # TestParseInterfaceStanzaHwaddress: dhcp without, dhcp with, static with.
    links, _ = convert(
        static(name="a", method="dhcp") + static("hwaddress ether 00:01:02:03:04:05", name="b", method="dhcp")
    )
    assert links["a"].set_mac == "" and links["b"].set_mac == "00:01:02:03:04:05"
    links, _ = convert(
        static(
            "hwaddress ether 00:01:02:03:04:05", "address 192.168.1.100", "netmask 255.255.255.0", name="c"
        )
    )
    assert links["c"].set_mac == "00:01:02:03:04:05"
    text = render.network(links["c"])
    assert "[Link]\nMACAddress=00:01:02:03:04:05\n" in text


def test_bond_and_vlan_kinds() -> None:
    # TestParseInterfaceStanzaBond / VLANName / VLANOption
    links, _ = convert("iface mybond inet manual\n  bond-slaves eth\n")
    assert links["mybond"].kind == BOND and links["eth"].master == "mybond"
    links, _ = convert("iface eth0.1 inet manual\n")
    assert links["eth0.1"].kind == VLAN and links["eth0.1"].vlan_id == 1
    # The original left a NAME.ID VLAN without a parent: eth0 never carried it.
    assert links["eth0"].vlans == ("eth0.1",)
    links, _ = convert("iface vlan1 inet manual\n  vlan_raw_device eth\n")
    assert links["vlan1"].kind == VLAN and links["eth"].vlans == ("vlan1",)


def test_build_interfaces_the_original_table() -> None:
    # interface_test.go TestBuildInterfaces: eth0 <- bond0 <- bond1, vlan0 on eth0, vlan1 on bond0.
    text = """
iface eth0 inet manual
iface bond0 inet manual
  bond-slaves eth0
  bond-mode 4
  bond-miimon 100
iface bond1 inet manual
  bond-slaves bond0
iface vlan0 inet manual
  vlan_raw_device eth0
iface vlan1 inet manual
  vlan_raw_device bond0
"""
    links, problems = convert(text)
    assert not problems
    assert sorted(links) == ["bond0", "bond1", "eth0", "vlan0", "vlan1"]
    assert links["eth0"].master == "bond0" and links["eth0"].vlans == ("vlan0",)
    assert links["bond0"].master == "bond1" and links["bond0"].vlans == ("vlan1",)
    # The spelling networkd reads (the original wrote mode=4, miimon=100 under [Bond]).
    assert links["bond0"].bond_options == (("MIIMonitorSec", "100ms"), ("Mode", "802.3ad"))
    assert (links["vlan0"].vlan_id, links["vlan1"].vlan_id) == (0, 1)


def test_blind_bond_and_vlan() -> None:
    # TestBuildInterfacesBlindBond / BlindVLAN: the named device is brought up bare.
    links, _ = convert("iface bond0 inet manual\n  bond-slaves eth0\n")
    assert links["eth0"] == Link(PHYSICAL, name="eth0", where=f"{FILE}:1", master="bond0")
    links, _ = convert("iface vlan0 inet manual\n  vlan_raw_device eth0\n")
    assert links["eth0"].vlans == ("vlan0",) and links["eth0"].kind == PHYSICAL


RACKSPACE = """\
# Automatically generated, do not edit

auto lo
iface lo inet loopback

auto eth0
iface eth0 inet static
    address 162.209.44.10
    netmask 255.255.255.0
    gateway 162.209.44.1
    dns-nameservers 72.3.128.240 72.3.128.241

iface eth0 inet6 static
    address 2001:4802:7800:1:be76:4eff:fe20:1b3b
    netmask 64
    gateway fe80::def
    dns-nameservers 2001:4860:4860::8888

auto eth1
iface eth1 inet static
    address 10.176.4.85
    netmask 255.255.224.0
    up route add -net 10.208.0.0 netmask 255.240.0.0 gw 10.176.0.1 || true
    down route del -net 10.208.0.0 netmask 255.240.0.0 gw 10.176.0.1 || true
    up route add -net 10.176.0.0 netmask 255.240.0.0 gw 10.176.0.1 || true
    down route del -net 10.176.0.0 netmask 255.240.0.0 gw 10.176.0.1 || true
"""


def test_rackspace_nova_dual_stack() -> None:
    # The original refused this whole file ("netmask 64" is no dotted mask): no network at all.
    links, problems = convert(RACKSPACE)
    assert not problems, problems
    eth0, eth1 = links["eth0"], links["eth1"]
    assert eth0.addresses == ("162.209.44.10/24", "2001:4802:7800:1:be76:4eff:fe20:1b3b/64")
    assert eth0.routes == (Route("0.0.0.0/0", "162.209.44.1"), Route("::/0", "fe80::def"))
    assert eth0.dns == ("72.3.128.240", "72.3.128.241", "2001:4860:4860::8888")
    assert eth1.routes == (Route("10.208.0.0/12", "10.176.0.1"), Route("10.176.0.0/12", "10.176.0.1"))
    files = render.render(list(links.values()))
    assert sorted(files) == ["zz-ccgen-eth0.network", "zz-ccgen-eth1.network"]
    text, where = files["zz-ccgen-eth1.network"]
    assert where == f"{FILE}:20"
    assert "Gateway=<nil>" not in text and "[Route]\nDestination=10.208.0.0/12\nGateway=10.176.0.1\n" in text


ONMETAL = """\
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet manual
    bond-master bond0

auto eth1
iface eth1 inet manual
    bond-master bond0

auto bond0
iface bond0 inet manual
    hwaddress ether a0:36:9f:2c:e8:70
    bond-slaves none
    bond-mode 802.3ad
    bond-miimon 100
    bond-lacp-rate 1
    bond-xmit_hash_policy layer3+4
    bond-downdelay 200
    bond-updelay 200

auto bond0.101
iface bond0.101 inet static
    address 23.253.157.41
    netmask 255.255.255.0
    gateway 23.253.157.1
    dns-nameservers 69.20.0.164 69.20.0.196
    vlan-raw-device bond0

auto bond0.401
iface bond0.401 inet static
    address 10.184.7.204
    netmask 255.255.240.0
    vlan-raw-device bond0
    post-up route add -net 10.176.0.0 netmask 255.240.0.0 gw 10.184.0.1 || true
"""


def test_onmetal_bond_and_vlans() -> None:
    links, problems = convert(ONMETAL)
    assert not errors(problems), problems
    # No slave named "none" (the original invented one).
    assert sorted(links) == ["bond0", "bond0.101", "bond0.401", "eth0", "eth1"]
    bond = links["bond0"]
    assert bond.slaves == ("eth0", "eth1") and bond.set_mac == "a0:36:9f:2c:e8:70"
    assert dict(bond.bond_options) == {
        "Mode": "802.3ad",
        "MIIMonitorSec": "100ms",
        "LACPTransmitRate": "fast",
        "TransmitHashPolicy": "layer3+4",
        "DownDelaySec": "200ms",
        "UpDelaySec": "200ms",
    }
    assert bond.vlans == ("bond0.101", "bond0.401")
    assert links["eth0"].master == links["eth1"].master == "bond0"
    files = render.render(list(links.values()))
    netdev = files["zz-ccgen-bond0.netdev"][0]
    assert "[NetDev]\nName=bond0\nKind=bond\nMACAddress=a0:36:9f:2c:e8:70\n" in netdev
    assert "\n[Bond]\n" in netdev and "Mode=802.3ad\n" in netdev and "mode=" not in netdev
    assert "[VLAN]\nId=401\n" in files["zz-ccgen-bond0.401.netdev"][0]


def test_inet_and_inet6_dhcp_merge() -> None:
    links, _ = convert("iface eth0 inet dhcp\niface eth0 inet6 dhcp\niface eth1 inet6 dhcp\n")
    assert links["eth0"].dhcp == "yes" and links["eth1"].dhcp == "ipv6"


def test_cidr_addresses_and_dns_search() -> None:
    links, problems = convert(
        static("address 10.1.2.3/16", "dns-search example.com corp.example.com", name="e")
    )
    assert links["e"].addresses == ("10.1.2.3/16",) and links["e"].domains == (
        "example.com",
        "corp.example.com",
    )
    assert not problems


# Hostile input: each is handled without a crash, the bad part refused, the rest kept.


def test_bond_cycle_is_refused_not_recursed() -> None:
    text = (
        "iface bond0 inet manual\n  bond-slaves bond1\n"
        "iface bond1 inet manual\n  bond-slaves bond0\n"
        "iface eth5 inet dhcp\n"
    )
    links, problems = convert(text)
    assert list(links) == ["eth5"]
    assert any("cycle" in e for e in errors(problems))


def test_a_bond_enslaving_itself() -> None:
    links, problems = convert("iface bond0 inet manual\n  bond-slaves bond0\n")
    assert not links and any("cycle" in e for e in errors(problems))


def test_a_bad_slave_costs_its_bond_and_its_vlans_only() -> None:
    text = (
        "iface eth0 inet static\n  address nonsense\n  netmask 255.0.0.0\n"
        "iface bond0 inet manual\n  bond-slaves eth0 eth1\n"
        "iface bond0.5 inet dhcp\n"
        "iface eth7 inet dhcp\n"
    )
    links, problems = convert(text)
    assert list(links) == ["eth7"]
    assert [p.where for p in problems if p.severity == "error"] == [f"{FILE}:2"]


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r\n\r\n"])
def test_line_endings(ending: str) -> None:
    links, problems = convert(RACKSPACE.replace("\n", ending))
    assert not problems and sorted(links) == ["eth0", "eth1"]


def test_nul_and_control_characters() -> None:
    text = (
        "iface eth0 inet dhcp\n  hwaddress ether 00:01:02:03:04:05\0\n"
        "iface eth1 inet dhcp\n"
        "iface e\x1bth2 inet dhcp\n"
    )
    links, problems = convert(text)
    assert list(links) == ["eth1"]
    assert sorted(p.where for p in problems if p.severity == "error") == [
        f"{FILE}:1",
        f"{FILE}:2",
        f"{FILE}:4",
    ]


def test_huge_inputs_are_bounded() -> None:
    _, problems = convert("#" * (debian.MAX_TEXT + 1))
    assert errors(problems) == [
        f"{FILE}:1: error: the file is larger than {debian.MAX_TEXT} bytes; nothing is converted"
    ]
    many = "".join(f"iface e{i} inet dhcp\n" for i in range(debian.MAX_STANZAS + 10))
    links, problems = convert(many)
    assert len(links) == 256 and errors(problems)
    long_line = "iface eth0 inet static\n  address 10.0.0.1/8\n  up " + "x" * 5000 + "\n"
    links, problems = convert(long_line)
    assert "eth0" in links and errors(problems)
    continued = "iface eth0 inet dhcp\\\n" * 3000
    links, problems = convert(continued)
    assert not links and errors(problems)


def test_duplicate_and_bad_names() -> None:
    text = (
        "iface eth0 inet dhcp\niface eth0:1 inet dhcp\n"
        "iface waytoolonginterfacename inet dhcp\niface ../x inet dhcp\n"
    )
    links, problems = convert(text)
    assert list(links) == ["eth0"] and len(errors(problems)) == 3


def test_bad_addresses_cost_their_interface() -> None:
    text = (
        static("address 10.0.0.1", "netmask 255.0.255.0", name="a")
        + static("address 10.0.0.1", "netmask 64", name="b")
        + static("address 2001:db8::1", "netmask 64", family="inet", name="c")
        + static("address 10.0.0.1/24", "gateway 2001:db8::1", name="d")
        + static("address 10.0.0.1/24", "dns-nameservers 1.2.3", name="e")
        + static("address 10.0.0.1/33", name="f")
        + static("address 10.0.0.9/24", "gateway 10.0.0.1", name="ok")
    )
    links, problems = convert(text)
    assert list(links) == ["ok"] and len(errors(problems)) == 6


def test_a_repeated_address_or_route_is_written_once() -> None:
    """networkd keeps one address per IP (and complains): the first the platform listed is
    kept, the repeat named (the whole-file networkd run found it in a generated record)."""
    text = (
        "auto eth0\niface eth0 inet static\n    address 10.202.87.9/24\n    gateway 10.202.87.1\n"
        "iface eth0 inet static\n    address 10.202.87.9/16\n    gateway 10.202.87.1\n"
    )
    links, problems = convert(text)
    assert links["eth0"].addresses == ("10.202.87.9/24",)
    assert links["eth0"].routes == (Route("0.0.0.0/0", "10.202.87.1"),)
    assert [p.format() for p in problems if "repeats" in p.message] == [
        f"{FILE}:2: warning: 'eth0': address 10.202.87.9/16 repeats 10.202.87.9/24; only the first is used"
    ]
