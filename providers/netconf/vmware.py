"""VMware guestinfo (or OVF environment) network keys, as the original read them.

`interface.N.name`, `.mac`, `.dhcp` (yes/no), `.ip.M.address` (CIDR),
`.route.M.gateway` with `.route.M.destination` (CIDR), and `dns.server.N`,
`dns.domain.N` for every statically configured interface; numbered from 0 without
gaps.  `interface.N.role` is the metadata's business (providers/sources/vmware.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import model
from .model import PHYSICAL, Collector, Link, Route

MAX_INDEX = 32  # interfaces, addresses and routes per interface, servers, domains


def wanted(get: Callable[[str], str]) -> dict[str, str]:
    """The network keys that are set, asked one by one (each guestinfo lookup runs a tool)."""
    out: dict[str, str] = {}

    def ask(key: str) -> str:
        value = get(key)
        if value:
            out[key] = value
        return value

    for kind in ("server", "domain"):
        for n in range(MAX_INDEX):
            if not ask(f"dns.{kind}.{n}"):
                break
    for n in range(MAX_INDEX):
        base = f"interface.{n}"
        found = [ask(f"{base}.{k}") for k in ("name", "mac", "dhcp", "role")]
        found.append(ask(f"{base}.ip.0.address"))
        found.append(ask(f"{base}.route.0.gateway") + ask(f"{base}.route.0.destination"))
        if not any(found):
            break
        for m in range(1, MAX_INDEX):
            if not ask(f"{base}.ip.{m}.address"):
                break
        for m in range(1, MAX_INDEX):
            if not (ask(f"{base}.route.{m}.gateway") + ask(f"{base}.route.{m}.destination")):
                break
    return out


def convert(config: Mapping[str, str], file: str) -> tuple[list[Link], list[model.Problem]]:
    c = Collector()

    def where(key: str) -> str:
        return f"{file} {key}"

    servers = _numbered(config, "dns.server", model.ip, where, c)
    domains = _numbered(config, "dns.domain", model.domain, where, c)
    links: list[Link] = []
    for n in range(MAX_INDEX):
        base = f"interface.{n}"
        if not any(k.startswith(base + ".") for k in config):
            break
        link = _interface(config, base, where, c)
        if link is not None:
            links.append(replace_dns(link, servers, domains))
    return model.assemble(links, c), c.problems


def _numbered(
    config: Mapping[str, str],
    prefix: str,
    check: Callable[[str], str],
    where: Callable[[str], str],
    c: Collector,
) -> list[str]:
    """PREFIX.0, PREFIX.1, ... up to the first missing one; a bad value is left out."""
    out = []
    for n in range(MAX_INDEX):
        key = f"{prefix}.{n}"
        if key not in config:
            break
        try:
            out.append(check(config[key]))
        except ValueError as e:
            c.warning(where(key), f"{e}; not used")
    return out


def replace_dns(link: Link, servers: list[str], domains: list[str]) -> Link:
    from dataclasses import replace

    if not link.addresses and not link.routes:
        return link  # DHCP: the lease says them (the original set them on static links only)
    return replace(link, dns=tuple(servers[: model.MAX_DNS]), domains=tuple(domains[: model.MAX_DNS]))


def _interface(
    config: Mapping[str, str], base: str, where: Callable[[str], str], c: Collector
) -> Link | None:
    ident = base
    try:
        name = config.get(f"{base}.name", "")
        mac = config.get(f"{base}.mac", "")
        name = model.ifname(name) if name else ""
        mac = model.mac(mac) if mac else ""
        ident = name or mac.replace(":", "") or base
        dhcp_text = config.get(f"{base}.dhcp", "no")
        if dhcp_text not in ("yes", "no"):
            raise ValueError(f"{base}.dhcp: invalid DHCP option: {dhcp_text[:60]!r}")
        addresses = []
        for m in range(MAX_INDEX):
            key = f"{base}.ip.{m}.address"
            if key not in config:
                break
            try:
                addresses.append(model.address(config[key]))
            except ValueError as e:
                raise ValueError(f"{key}: invalid address: {e}") from None
        routes = []
        for m in range(MAX_INDEX):
            gw, dest = config.get(f"{base}.route.{m}.gateway"), config.get(f"{base}.route.{m}.destination")
            if gw is None and dest is None:
                break
            if gw is None or dest is None:
                raise ValueError(
                    f"{base}.route.{m}: missing {'gateway' if gw is None else 'destination'} key"
                )
            routes.append(Route(model.network(dest), model.ip(gw)))
    except ValueError as e:
        c.error(where(base), str(e), ident)
        return None
    if not addresses and not routes and dhcp_text != "yes":
        c.note(where(base), "no addresses, routes or DHCP: nothing to configure")
        return None
    return Link(
        PHYSICAL,
        name=name,
        mac=mac,
        # Neither a name nor a MAC: the original matched every link; every Ethernet link here.
        label="" if name or mac else base.replace(".", ""),
        where=where(base),
        dhcp="yes" if dhcp_text == "yes" and not addresses and not routes else "",
        addresses=tuple(addresses),
        routes=tuple(routes),
    )
