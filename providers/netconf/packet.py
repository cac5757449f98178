"""Packet (Equinix Metal) metadata's `network` object: bonded interfaces and netblocks.

Every interface is a slave of its `bond` (bond0 when it names none), in the bonding
mode `network.bonding.mode` gives (802.3ad, as the original always wrote, when it gives
none); the bond carries every address: a public one with a default route through its
gateway, a private one with the route to 10.0.0.0/8 through its gateway.  DNS servers
are `network.dns`, else Google's two, as in the original.
"""

from __future__ import annotations

from . import model
from .model import BOND, PHYSICAL, Collector, Link, Route

DEFAULT_DNS = ("8.8.8.8", "8.8.4.4")
PRIVATE = "10.0.0.0/8"
MAX_ENTRIES = 64


def convert(doc: object, file: str) -> tuple[list[Link], list[model.Problem]]:
    c = Collector()
    root = f"{file} $.network"
    if not isinstance(doc, dict):
        c.error(root, "is not a JSON object; nothing is converted")
        return [], c.problems
    mode = "802.3ad"
    bonding = doc.get("bonding")
    if isinstance(bonding, dict) and bonding.get("mode") is not None:
        try:
            mode = model.bond_mode(bonding["mode"])
        except ValueError as e:
            c.error(model.path(root, "bonding", "mode"), f"{e}; no bond is written")
            return [], c.problems
    options = [("Mode", mode), ("MIIMonitorSec", "200ms"), ("UpDelaySec", "200ms"), ("DownDelaySec", "200ms")]
    if mode == "802.3ad":
        options.append(("LACPTransmitRate", "fast"))
    dns = _dns(doc, root, c)
    links: list[Link] = []
    bonds: dict[str, list[str]] = {}
    bond_mac: dict[str, str] = {}
    interfaces = doc.get("interfaces")
    for key in ("interfaces", "addresses"):
        listed = doc.get(key)
        if isinstance(listed, list) and len(listed) > MAX_ENTRIES:
            c.error(model.path(root, key), f"more than {MAX_ENTRIES} entries; the rest are ignored")
    for n, entry in enumerate(interfaces[:MAX_ENTRIES] if isinstance(interfaces, list) else []):
        where = model.path(root, "interfaces", n)
        try:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ValueError("has no name")
            name = model.ifname(entry["name"])
            bond = (
                model.ifname(entry["bond"])
                if isinstance(entry.get("bond"), str) and entry["bond"]
                else "bond0"
            )
            mac = model.mac(entry["mac"]) if isinstance(entry.get("mac"), str) and entry["mac"] else ""
        except ValueError as e:
            c.error(where, str(e))
            continue
        links.append(Link(PHYSICAL, name=name, where=where))
        bonds.setdefault(bond, []).append(name)
        if mac:
            bond_mac.setdefault(bond, mac)  # the bond takes its first slave's address, as in the original
    if not isinstance(interfaces, list) or not interfaces:
        c.error(model.path(root, "interfaces"), "no interfaces; nothing is converted")
        return [], c.problems
    addresses, routes = _netblocks(doc, root, c)
    for bond, slaves in sorted(bonds.items()):
        first = bond == "bond0" or len(bonds) == 1
        links.append(
            Link(
                BOND,
                name=bond,
                where=model.path(root, "interfaces"),
                slaves=tuple(slaves),
                bond_options=tuple(sorted(options)),
                set_mac=bond_mac.get(bond, ""),
                # The addresses belong to the first bond (Packet's layouts have one).
                addresses=tuple(addresses) if first else (),
                routes=tuple(routes) if first else (),
                dns=dns if first else (),
            )
        )
    return model.assemble(links, c), c.problems


def _dns(doc: dict[str, object], root: str, c: Collector) -> tuple[str, ...]:
    listed = doc.get("dns")
    if not isinstance(listed, list) or not listed:
        return DEFAULT_DNS
    out = []
    for n, server in enumerate(listed[: model.MAX_DNS]):
        try:
            out.append(model.ip(str(server)))
        except ValueError as e:
            c.warning(model.path(root, "dns", n), f"{e}; not used")
    return tuple(out) or DEFAULT_DNS


def _netblocks(doc: dict[str, object], root: str, c: Collector) -> tuple[list[str], list[Route]]:
    addresses: list[str] = []
    routes: list[Route] = []
    listed = doc.get("addresses")
    for n, block in enumerate(listed[:MAX_ENTRIES] if isinstance(listed, list) else []):
        where = model.path(root, "addresses", n)
        try:
            if not isinstance(block, dict) or not isinstance(block.get("address"), str):
                raise ValueError("has no address")
            cidr = block.get("cidr")
            mask = str(cidr) if isinstance(cidr, int) and not isinstance(cidr, bool) else block.get("netmask")
            if not isinstance(mask, str):
                raise ValueError("has neither cidr nor netmask")
            found = model.address(block["address"], mask)
            family = 6 if ":" in found else 4
            if block.get("address_family") not in (None, family):
                raise ValueError(f"address_family is not {family}")
            gateway = block.get("gateway")
            gw = model.ip(gateway) if isinstance(gateway, str) and gateway else ""
        except ValueError as e:
            c.warning(where, f"{e}; this address is not configured")
            continue
        addresses.append(found)
        if not gw:
            c.note(where, "has no gateway: no route through it")  # never a Gateway=<nil>
        elif block.get("public") is False:
            routes.append(Route(PRIVATE, gw))
        else:
            routes.append(Route("0.0.0.0/0" if family == 4 else "::/0", gw))
    return addresses, routes
