"""OpenStack's network_data.json (config drive and metadata service; Ironic, Rackspace).

`links` of type `phy` (and the other physical kinds Nova writes: `ethernet`, `ovs`,
`bridge`, `tap`, `vif`, ...), `bond` and `vlan`; `networks` of type `ipv4`/`ipv6`
(static, with `routes`) or `ipv4_dhcp`/`ipv6_dhcp`/`ipv6_slaac`; `services` of type
`dns`, per network or for every statically configured link.  A physical link is
matched by its MAC address: its `name` is the host's port name, not the guest's.
"""

from __future__ import annotations

from dataclasses import replace

from . import model
from .model import BOND, PHYSICAL, VLAN, Collector, Link, Route

PHYSICAL_TYPES = frozenset(
    (
        "phy",
        "ethernet",
        "bridge",
        "ovs",
        "tap",
        "vif",
        "vhostuser",
        "hw_veb",
        "hyperv",
        "dvs",
        "vrouter",
        "macvtap",
    )
)
MAX_ENTRIES = 256  # links, networks, routes, services


def _list(doc: dict[str, object], key: str, where: str, c: Collector) -> list[object]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        c.error(model.path(where, key), "is not a list; ignored")
        return []
    if len(value) > MAX_ENTRIES:
        c.error(model.path(where, key), f"more than {MAX_ENTRIES} entries; the rest are ignored")
    return value[:MAX_ENTRIES]


def _text(entry: dict[str, object], key: str) -> str:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{key} is missing or not a string")
    return str(value)


def _dns(entries: list[object], where: str, c: Collector) -> list[str]:
    out = []
    for n, s in enumerate(entries):
        if isinstance(s, dict) and s.get("type") == "dns":
            try:
                out.append(model.ip(_text(s, "address")))
            except ValueError as e:
                c.warning(model.path(where, n), f"{e}; this DNS server is not used")
    return out


def convert(doc: object, file: str) -> tuple[list[Link], list[model.Problem]]:
    c = Collector()
    root = f"{file} $"
    if not isinstance(doc, dict):
        c.error(root, "is not a JSON object; nothing is converted")
        return [], c.problems
    by_id: dict[str, Link] = {}
    order: list[str] = []
    for n, entry in enumerate(_list(doc, "links", root, c)):
        where = model.path(root, "links", n)
        link = _link(entry, where, by_id, c)
        if link is not None and isinstance(entry, dict):
            lid = str(entry.get("id", ""))
            if lid in by_id:
                c.error(where, f"link id {lid!r} is used twice", link.ident)
                continue
            by_id[lid] = link
            order.append(lid)
    global_dns = _dns(_list(doc, "services", root, c), model.path(root, "services"), c)
    static: set[str] = set()
    for n, entry in enumerate(_list(doc, "networks", root, c)):
        where = model.path(root, "networks", n)
        if not isinstance(entry, dict):
            c.error(where, "is not an object; ignored")
            continue
        lid = str(entry.get("link", ""))
        link = by_id.get(lid)
        if link is None:
            c.error(model.path(where, "link"), f"names no link that is converted ({lid[:60]!r}); ignored")
            continue
        try:
            by_id[lid], is_static = _network(link, entry, where, c)
        except ValueError as e:
            c.error(where, f"{e}; link {link.ident!r} is not written", link.ident)
            continue
        if is_static:
            static.add(lid)
    for lid in static:
        link = by_id[lid]
        by_id[lid] = replace(link, dns=tuple(dict.fromkeys((*link.dns, *global_dns)))[: model.MAX_DNS])
    return model.assemble([by_id[i] for i in order], c), c.problems


def _link(entry: object, where: str, by_id: dict[str, Link], c: Collector) -> Link | None:
    if not isinstance(entry, dict):
        c.error(where, "is not an object; ignored")
        return None
    kind = entry.get("type") if isinstance(entry.get("type"), str) else ""
    try:
        lid = _text(entry, "id")
        if kind in PHYSICAL_TYPES:
            mac = entry.get("ethernet_mac_address")
            if isinstance(mac, str) and mac:
                return Link(PHYSICAL, mac=model.mac(mac), where=where)
            return Link(PHYSICAL, name=model.ifname(_text(entry, "name")), where=where)
        if kind == "bond":
            slaves = entry.get("bond_links")
            if not isinstance(slaves, list) or not slaves:
                raise ValueError("bond_links is missing or empty")
            idents = []
            for s in slaves:
                if not isinstance(s, str) or s not in by_id:
                    raise ValueError(f"bond_links: {str(s)[:60]!r} is no link before this one")
                idents.append(by_id[s].ident)
            options = []
            for key, (nd_key, check) in model.BOND_OPTIONS.items():
                value = entry.get("bond_" + key.replace("-", "_"))
                if value is not None:
                    options.append((nd_key, check(value)))
            mac = entry.get("ethernet_mac_address")
            return Link(
                BOND,
                name=model.ifname(_name(entry, lid)),
                where=where,
                slaves=tuple(idents),
                bond_options=tuple(sorted(options)),
                set_mac=model.mac(mac) if isinstance(mac, str) and mac else "",
            )
        if kind == "vlan":
            parent_id = _text(entry, "vlan_link")
            parent = by_id.get(parent_id)
            if parent is None:
                raise ValueError(f"vlan_link {parent_id[:60]!r} is no link before this one")
            vid = entry.get("vlan_id")
            if isinstance(vid, str) and vid.isdigit():
                vid = int(vid)
            if not isinstance(vid, int) or isinstance(vid, bool) or not 0 <= vid <= 4094:
                raise ValueError("vlan_id is not a number from 0 to 4094")
            mac = entry.get("vlan_mac_address")
            name = entry.get("name") if isinstance(entry.get("name"), str) else ""
            fallback = f"{parent.name}.{vid}" if parent.name and len(parent.name) < 10 else f"vlan{vid}"
            return Link(
                VLAN,
                name=model.ifname(name or fallback),
                where=where,
                vlan_id=vid,
                parent=parent.ident,
                set_mac=model.mac(mac) if isinstance(mac, str) and mac else "",
            )
    except ValueError as e:
        c.error(where, str(e))
        return None
    c.note(where, f"link type {str(kind)[:40]!r} is not converted; skipped")
    return None


def _name(entry: dict[str, object], lid: str) -> str:
    name = entry.get("name")
    return name if isinstance(name, str) and name else lid


def _network(link: Link, entry: dict[str, object], where: str, c: Collector) -> tuple[Link, bool]:
    kind = entry.get("type")
    if kind in ("ipv4_dhcp", "ipv6_dhcp", "ipv6_dhcpv6-stateful"):
        family = "ipv4" if kind == "ipv4_dhcp" else "ipv6"
        dhcp = family if link.dhcp in ("", family) else "yes"
        return replace(link, dhcp=dhcp), False
    if kind in ("ipv6_slaac", "ipv6_dhcpv6-stateless"):
        # networkd accepts router advertisements on every link it configures.
        return link, False
    if kind not in ("ipv4", "ipv6"):
        raise ValueError(f"network type {str(kind)[:40]!r} is not one ccgen converts")
    text = _text(entry, "ip_address")
    mask = entry.get("netmask")
    if mask is not None and not isinstance(mask, (str, int)):
        raise ValueError("netmask is not a string")
    found = model.address(text, None if mask is None or "/" in text else str(mask))
    if (":" in found) != (kind == "ipv6"):
        raise ValueError(f"ip_address {text[:60]!r} is not an {kind} address")
    routes = list(link.routes)
    for n, r in enumerate(_list(entry, "routes", where, c)):
        if not isinstance(r, dict):
            raise ValueError(f"routes[{n}] is not an object")
        net, gw = _text(r, "network"), r.get("gateway")
        if not isinstance(gw, str) or not gw:
            c.warning(model.path(where, "routes", n), "has no gateway; not converted")
            continue
        rmask = r.get("netmask")
        routes.append(Route(model.network(net, None if "/" in net else str(rmask)), model.ip(gw)))
    dns = [*link.dns, *_dns(_list(entry, "services", where, c), model.path(where, "services"), c)]
    listed = entry.get("dns_nameservers", [])
    for n, server in enumerate(listed if isinstance(listed, list) else []):
        try:
            dns.append(model.ip(str(server)))
        except ValueError as e:
            c.warning(model.path(where, "dns_nameservers", n), f"{e}; not used")
    if len(link.addresses) >= model.MAX_ADDRESSES or len(routes) > model.MAX_ROUTES:
        raise ValueError("too many addresses or routes for one link")
    return (
        replace(
            link,
            addresses=(*link.addresses, found),
            routes=tuple(routes),
            dns=tuple(dict.fromkeys(dns))[: model.MAX_DNS],
        ),
        True,
    )
