"""The typed list of links every converter produces and the renderer reads.

A converter builds `Link`s and `Problem`s; `assemble()` then does what every format
needs alike: links a bond's slaves and a VLAN's parent, adds the bare physical links
they name but do not configure (as the original did), refuses a bond cycle or a
duplicate name, and drops every link that had an error together with the links that
depend on it.  Values are checked here once: `address()`, `mac()`, `ifname()`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

# Bounds (docs/limits.md): the platform's data is not trusted to be small.
MAX_LINKS = 256
MAX_ADDRESSES = 64  # per link
MAX_ROUTES = 256  # per link
MAX_DNS = 16  # servers, and search domains, per link
MAX_DOMAIN = 253

PHYSICAL, BOND, VLAN = "physical", "bond", "vlan"


@dataclass(frozen=True)
class Route:
    destination: str  # a network in CIDR form: 0.0.0.0/0, 10.0.0.0/8, ::/0
    gateway: str


@dataclass(frozen=True)
class Problem:
    """One positioned message: `where` is FILE:LINE for text, FILE KEY for guestinfo,
    FILE $.json.path for JSON."""

    where: str
    severity: str  # "error" (the link is not written), "warning" (a value dropped), "note"
    message: str

    def format(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Link:
    kind: str  # PHYSICAL, BOND or VLAN
    name: str = ""  # "" for a physical link matched by its MAC address alone
    label: str = ""  # the file name's part for a link matched neither by name nor by MAC
    mac: str = ""  # match a physical link by its permanent MAC address
    where: str = ""  # where the platform's data said it, for the units' comment and status
    dhcp: str = ""  # "", "ipv4", "ipv6" or "yes"
    addresses: tuple[str, ...] = ()  # interface form: 192.0.2.5/24, 2001:db8::5/64
    routes: tuple[Route, ...] = ()
    dns: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    set_mac: str = ""  # the MAC address the link (or the bond or VLAN device) is given
    slaves: tuple[str, ...] = ()  # a bond's slaves, by name
    bond_options: tuple[tuple[str, str], ...] = ()  # networkd's [Bond] keys and values
    vlan_id: int = -1
    parent: str = ""  # a VLAN's raw device, by name
    # Filled by assemble():
    master: str = ""  # the bond this link is a slave of
    vlans: tuple[str, ...] = field(default=())  # the VLANs this link carries

    @property
    def ident(self) -> str:
        return self.name or self.mac.replace(":", "") or self.label


def address(text: str, prefix: str | None = None) -> str:
    """An address with its prefix length ("" when not one): `text` may be CIDR, else
    `prefix` is a length or a dotted (or IPv6) netmask.  Raises ValueError with why."""
    text = text.strip()
    if prefix is not None and "/" not in text:
        prefix = prefix.strip()
        if not prefix.isdigit():
            try:
                prefix = str(ipaddress.ip_network(f"0.0.0.0/{prefix}").prefixlen)
            except ValueError:
                try:  # an IPv6 netmask: ffff:ffff:ffff:ffff::
                    mask = int(ipaddress.IPv6Address(prefix))
                except ValueError:
                    raise ValueError(f"netmask {prefix[:60]!r} is not a netmask") from None
                bits = bin(mask)[2:].zfill(128)
                if "01" in bits:
                    raise ValueError(f"netmask {prefix[:60]!r} is not contiguous") from None
                prefix = str(bits.count("1"))
        text = f"{text}/{prefix}"
    if "/" not in text:
        raise ValueError(f"{text[:60]!r} has no prefix length or netmask")
    try:
        return str(ipaddress.ip_interface(text))
    except ValueError:
        raise ValueError(f"{text[:60]!r} is not an address with a prefix length") from None


def ip(text: str) -> str:
    """An address alone, in its short form; ValueError when not one."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise ValueError(f"{text[:60]!r} is not an IP address") from None


def network(text: str, mask: str | None = None) -> str:
    """A destination network, host bits allowed and cleared as `route` does."""
    found = address(text, mask)
    return str(ipaddress.ip_interface(found).network)


def mac(text: str) -> str:
    """A 6-octet MAC address, lower case with colons; ValueError when not one."""
    t = text.strip().lower().replace("-", ":")
    parts = t.split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts):
        raise ValueError(f"{text[:60]!r} is not a MAC address")
    return t


def ifname(text: str) -> str:
    """A kernel interface name (dev_valid_name): 1-15 bytes, no '/', ':' or whitespace."""
    if (
        not 0 < len(text) < 16
        or text in (".", "..")
        or not text.isascii()
        or not text.isprintable()
        or any(c in text for c in "/: \t")
    ):
        raise ValueError(f"{text[:60]!r} is not an interface name")
    return text


def domain(text: str) -> str:
    t = text.strip().rstrip(".")
    labels = t.split(".")
    if (
        not t
        or len(t) > MAX_DOMAIN
        or not all(
            0 < len(lb) < 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in lb) for lb in labels
        )
    ):
        raise ValueError(f"{text[:60]!r} is not a domain name")
    return t


class Collector:
    """Problems, and which links (by ident) an error costs."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.bad: set[str] = set()

    def error(self, where: str, message: str, link: str = "") -> None:
        self.problems.append(Problem(where, "error", message))
        if link:
            self.bad.add(link)

    def warning(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, "warning", message))

    def note(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, "note", message))


def assemble(found: list[Link], c: Collector) -> list[Link]:
    """The final links, sorted by ident: relations filled in, the bad ones left out.

    A link with an error is dropped, and so is every link that needs it (a VLAN on a
    dropped parent, a bond whose slave was dropped); a bond cycle drops the bonds in it.
    """
    links: dict[str, Link] = {}
    for link in found:
        if link.ident in links:
            c.error(link.where, f"{link.ident!r} is configured twice; neither is written", link.ident)
            continue
        if len(links) >= MAX_LINKS:
            c.error(link.where, f"more than {MAX_LINKS} links; the rest are not written", link.ident)
            continue
        links[link.ident] = link
    # The bare physical links a bond or VLAN names without configuring them.
    for link in list(links.values()):
        for other in (*link.slaves, link.parent):
            if other and other not in links and len(links) < MAX_LINKS:
                links[other] = Link(PHYSICAL, name=other, where=link.where)
    masters: dict[str, str] = {}
    carried: dict[str, list[str]] = {}
    for link in links.values():
        for s in link.slaves:
            if s in masters and masters[s] != link.ident:
                c.error(link.where, f"{s!r} is a slave of both {masters[s]!r} and {link.ident!r}", link.ident)
            masters.setdefault(s, link.ident)
        if link.kind == VLAN and link.parent:
            carried.setdefault(link.parent, []).append(link.ident)
    _cycles(links, masters, c)
    # Dropping spreads: to a VLAN from its parent, to a bond from a slave, and to a slave
    # from its bond (the slave would only be enslaved to nothing).  Iterate to a fixed point.
    bad = set(c.bad) & set(links)
    while True:
        more = {
            n
            for n, link in links.items()
            if n not in bad
            and (
                (link.parent and link.parent in bad)
                or any(s in bad for s in link.slaves)
                or masters.get(n) in bad
            )
        }
        if not more:
            break
        bad |= more
    for n in sorted(bad - set(c.bad)):
        c.note(links[n].where, f"{n!r} is not written either: it depends on a link with an error")
    out = []
    for n in sorted(links):
        if n in bad:
            continue
        link = links[n]
        if n in masters and (link.addresses or link.routes or link.dhcp or link.dns or link.domains):
            # networkd ignores them on a bond's slave (and says so): dropped here, in words.
            c.warning(
                link.where,
                f"{n!r} is a slave of {masters[n]!r}: its addresses, routes, DHCP and DNS are not used",
            )
            link = replace(link, addresses=(), routes=(), dhcp="", dns=(), domains=())
        link = _without_repeats(link, c)
        out.append(
            replace(
                link,
                master=masters.get(n, ""),
                vlans=tuple(sorted(v for v in carried.get(n, ()) if v not in bad)),
            )
        )
    return out


def _without_repeats(link: Link, c: Collector) -> Link:
    """One address per IP and one copy of each route: networkd keeps the last of two
    addresses with the same IP (whatever their prefixes) and complains; the first is kept
    here, as the platform listed it first, and the others are named."""
    seen: dict[str, str] = {}
    kept = []
    for a in link.addresses:
        ip = a.split("/", 1)[0]
        if ip in seen:
            c.warning(
                link.where,
                f"{link.name or link.mac!r}: address {a} repeats {seen[ip]}; only the first is used",
            )
            continue
        seen[ip] = a
        kept.append(a)
    routes = tuple(dict.fromkeys(link.routes))
    if len(kept) == len(link.addresses) and len(routes) == len(link.routes):
        return link
    return replace(link, addresses=tuple(kept), routes=routes)


def _cycles(links: dict[str, Link], masters: dict[str, str], c: Collector) -> None:
    """Bonds enslaved in a ring (bond0 in bond1 in bond0), and VLAN parents in a ring."""
    for start in sorted(links):
        seen = [start]
        n = start
        while True:
            link = links.get(n)
            up = masters.get(n) or (link.parent if link is not None and link.kind == VLAN else "")
            if not up:
                break
            if up in seen:
                ring = seen[seen.index(up) :]
                if start == min(ring):
                    for member in ring:
                        c.error(
                            links[member].where,
                            f"{member!r} is in a cycle: {' -> '.join([*ring, up])}",
                            member,
                        )
                break
            seen.append(up)
            n = up
            if len(seen) > len(links):
                break


# The kernel's bonding modes by number and name, as networkd's Mode= spells them.
BOND_MODES = (
    "balance-rr",
    "active-backup",
    "balance-xor",
    "broadcast",
    "802.3ad",
    "balance-tlb",
    "balance-alb",
)
HASH_POLICIES = ("layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac")


def bond_mode(value: object) -> str:
    """A bonding mode as a number (0-6, also as text) or a name; ValueError when not one."""
    text = str(value).strip().lower() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if text.isdigit() and int(text) < len(BOND_MODES):
        return BOND_MODES[int(text)]
    if text in BOND_MODES:
        return text
    raise ValueError(f"{str(value)[:60]!r} is not a bonding mode")


def milliseconds(value: object) -> str:
    """A time in milliseconds (bond-miimon 100) as networkd's time span: 100ms."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 9:
        raise ValueError(f"{str(value)[:60]!r} is not a number of milliseconds")
    return f"{int(text)}ms"


def lacp_rate(value: object) -> str:
    text = str(value).strip().lower() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    found = {"0": "slow", "slow": "slow", "1": "fast", "fast": "fast"}.get(text)
    if found is None:
        raise ValueError(f"{str(value)[:60]!r} is not a LACP rate (slow, fast, 0 or 1)")
    return found


def hash_policy(value: object) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if text not in HASH_POLICIES:
        raise ValueError(f"{str(value)[:60]!r} is not a transmit hash policy")
    return text


# Bond settings by their common name (Debian's bond-NAME, OpenStack's bond_NAME):
# networkd's key and the check that gives its value.
BOND_OPTIONS = {
    "mode": ("Mode", bond_mode),
    "miimon": ("MIIMonitorSec", milliseconds),
    "lacp-rate": ("LACPTransmitRate", lacp_rate),
    "xmit-hash-policy": ("TransmitHashPolicy", hash_policy),
    "updelay": ("UpDelaySec", milliseconds),
    "downdelay": ("DownDelaySec", milliseconds),
}


MAX_JSON = 1024 * 1024
MAX_DEPTH = 32


def json_doc(raw: bytes | str, limit: int = MAX_JSON) -> object:
    """JSON, bounded before it is parsed: Python's parser recurses, so a deeply nested
    document is refused by counting brackets first.  ValueError with why."""
    import json

    if len(raw) > limit:
        raise ValueError(f"larger than {limit} bytes")
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        elif ch in "]}":
            depth -= 1
    return json.loads(text)


def path(base: str, *steps: str | int) -> str:
    """A JSON path for a problem's position: $.links[2].ethernet_mac_address."""
    return base + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)
