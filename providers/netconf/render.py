"""Links to systemd-networkd files: a `.network` for each link, a `.netdev` for each bond
and VLAN, built with the one unit-text builder.

Every file is named `zz-ccgen-IDENT.SUFFIX`: networkd applies to a link the first
`.network` file, by name, that matches it, across /etc, /run and /usr/lib, so a
user's own files (any name that sorts before `zz-ccgen-`) win over the platform's
(docs/providers.md).  No `.link` file is written: nothing in the platforms' data
renames a device, and a MAC address is matched in the `.network` file.
"""

from __future__ import annotations

from ccgen.base.unittext import UnitText, header

from .model import BOND, VLAN, Link

DIR = "/etc/systemd/network"  # persistent: a boot whose data did not change runs no ccgen-apply
PREFIX = "zz-ccgen-"
SUFFIXES = (".network", ".netdev")


def _origin(text: UnitText, where: str) -> str:
    # The second line names the platform's data, for `ccgen status` and a reader.
    return f"{header(None)}# From the platform's network configuration: {where}\n{text.body()}"


def network(link: Link) -> str:
    t = UnitText()
    if link.name:
        t.add("Match", "Name", link.name)
    if link.mac:
        # The permanent address: a bond gives its slaves its own, and a bond or VLAN
        # device carries a slave's, which would match this file too.
        t.add("Match", "PermanentMACAddress", link.mac)
    if not link.name and not link.mac:
        t.add("Match", "Type", "ether")
    if link.set_mac and link.kind not in (BOND, VLAN):
        t.add("Link", "MACAddress", link.set_mac)
    if link.master:
        t.add("Network", "Bond", link.master)
    t.add_all("Network", "VLAN", link.vlans)
    if link.dhcp:
        t.add("Network", "DHCP", link.dhcp)
    if link.domains:
        t.add("Network", "Domains", " ".join(link.domains))
    t.add_all("Network", "DNS", link.dns)
    blocks = [_origin(t, link.where)]
    for a in link.addresses:
        blocks.append(UnitText().add("Address", "Address", a).body())
    for r in link.routes:
        route = UnitText().add("Route", "Destination", r.destination).add("Route", "Gateway", r.gateway)
        if not link.addresses:
            # A route on a DHCP or bare link: networkd takes the gateway as on-link anyway
            # (and says so); written out, the file means the same without the notice.
            route.add("Route", "GatewayOnLink", "yes")
        blocks.append(route.body())
    return "\n".join(blocks)


def netdev(link: Link) -> str | None:
    if link.kind not in (BOND, VLAN):
        return None
    t = (
        UnitText()
        .add("NetDev", "Name", link.name)
        .add("NetDev", "Kind", "bond" if link.kind == BOND else "vlan")
    )
    if link.set_mac:
        t.add("NetDev", "MACAddress", link.set_mac)
    if link.kind == BOND:
        for key, value in link.bond_options:
            t.add("Bond", key, value)
    else:
        t.add("VLAN", "Id", str(link.vlan_id))
    return _origin(t, link.where)


def render(links: list[Link]) -> dict[str, tuple[str, str]]:
    """File name -> (text, where it came from), in name order."""
    out: dict[str, tuple[str, str]] = {}
    for link in links:
        out[f"{PREFIX}{link.ident}.network"] = (network(link), link.where)
        dev = netdev(link)
        if dev is not None:
            out[f"{PREFIX}{link.ident}.netdev"] = (dev, link.where)
    return dict(sorted(out.items()))


def owned(name: str) -> bool:
    """A file in a network directory that ccgen wrote (and may replace or remove)."""
    return name.startswith(PREFIX) and name.endswith(SUFFIXES)
