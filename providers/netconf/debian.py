"""Debian's /etc/network/interfaces text, as Nova and Rackspace put it on the config drive.

`auto`, `allow-*`, `iface NAME inet|inet6 METHOD` with its options, `mapping` and
`source` are read as ifupdown reads them: `#` comments, blank lines, a `\\` at the end
of a line continuing it.  Several stanzas for one interface (Nova's dual-stack file has
an `inet` and an `inet6` one) are merged.  A stanza with an error costs that interface
only; an option ccgen does not convert is a note, not an error.
"""

from __future__ import annotations

from dataclasses import replace

from . import model
from .model import BOND, PHYSICAL, VLAN, Collector, Link, Route

MAX_TEXT = 1024 * 1024
MAX_STANZAS = 1024
MAX_OPTIONS = 256  # per stanza
MAX_LINE = 4096
METHODS = {
    "inet": ("static", "dhcp", "manual", "loopback"),
    "inet6": ("static", "dhcp", "manual", "loopback", "auto"),
}
# Options that only run commands or tune what networkd decides itself: not converted, no note.
STANZAS = frozenset(("auto", "iface", "mapping", "source", "source-directory", "rename"))
QUIET = frozenset(("pre-down", "down", "post-down", "broadcast", "network", "pre-up", "metric", "scope"))


class _Stanza:
    def __init__(self, where: str, name: str, family: str, method: str) -> None:
        self.where = where
        self.name = name
        self.family = family
        self.method = method
        self.options: list[tuple[str, str, str]] = []  # (where, key, value)


def _lines(text: str, file: str, c: Collector) -> list[tuple[int, str]]:
    """Logical lines with the number of their first physical line; comments dropped."""
    out: list[tuple[int, str]] = []
    pending, first = "", 0
    for number, raw in enumerate(text.split("\n"), 1):
        raw = raw.removesuffix("\r")
        if not pending:
            first = number
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line, pending = (pending + raw).strip(), ""
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE:
            c.error(f"{file}:{first}", f"the line is longer than {MAX_LINE} characters; it is ignored")
            continue
        if not line.replace("\t", " ").isprintable():
            c.error(f"{file}:{first}", f"control characters in {model_quote(line)}; the line is ignored")
            out.append((first, "\0" + line))  # it still starts or spoils a stanza: see _stanzas
            continue
        out.append((first, line))
    if pending.strip():
        out.append((first, pending.strip()))
    return out


def model_quote(text: str) -> str:
    from ccgen.base.diag import one_line

    return one_line(repr(text[:60]))


def _stanzas(lines: list[tuple[int, str]], file: str, c: Collector) -> list[_Stanza]:
    stanzas: list[_Stanza] = []
    current: _Stanza | None = None
    skipping = False  # inside a mapping stanza, whose lines are its own
    for number, line in lines:
        where = f"{file}:{number}"
        words = line.split()
        head = words[0]
        starts = head.lstrip("\0") in STANZAS or head.lstrip("\0").startswith(
            ("allow-", "no-auto-down", "no-scripts")
        )
        if line.startswith("\0"):  # unreadable: reported by _lines
            if starts:
                current, skipping = None, True
            elif current is not None:
                c.error(
                    current.where,
                    f"interface {current.name!r}: a line of its stanza is unreadable",
                    current.name,
                )
            continue
        if starts:
            current, skipping = None, False
            if head == "iface":
                current = _iface(words, where, c)
                if current is not None:
                    if len(stanzas) >= MAX_STANZAS:
                        c.error(where, f"more than {MAX_STANZAS} iface stanzas; the rest are ignored")
                        current = None
                    else:
                        stanzas.append(current)
                else:
                    skipping = True
            elif head == "auto":
                if len(words) < 2:
                    c.warning(where, "`auto` names no interface")
            elif head == "mapping":
                skipping = True
                c.note(where, "a mapping stanza is not needed by networkd; skipped")
            elif head.startswith("source"):
                c.note(where, f"{head} is not followed: only this file is converted")
            else:
                c.note(
                    where, f"{head} is not needed by networkd (it configures every matching link); skipped"
                )
            continue
        if skipping:
            continue
        if current is None:
            c.error(where, f"missing stanza start: {model_quote(line)} is outside any iface stanza; ignored")
            continue
        if len(current.options) >= MAX_OPTIONS:
            c.error(where, f"interface {current.name!r}: more than {MAX_OPTIONS} options", current.name)
            continue
        key, _, value = line.partition(" ")
        key, _, tabbed = key.partition("\t")
        current.options.append((where, key, (tabbed + " " + value).strip()))
    return stanzas


def _iface(words: list[str], where: str, c: Collector) -> _Stanza | None:
    if len(words) != 4:
        c.error(where, "malformed stanza start: `iface NAME inet|inet6 METHOD` has the wrong number of words")
        return None
    _, name, family, method = words
    try:
        model.ifname(name)
    except ValueError as e:
        c.error(where, str(e))
        return None
    if family not in METHODS:
        c.note(where, f"interface {name!r}: address family {family!r} is not converted; skipped")
        return None
    if method not in METHODS[family]:
        c.error(where, f"interface {name!r}: invalid config method {method!r} for {family}", name)
        return None
    return _Stanza(where, name, family, method)


class _Iface:
    """What every stanza of one interface said, merged."""

    def __init__(self, name: str, where: str) -> None:
        self.name = name
        self.where = where
        self.loopback = False
        self.dhcp: set[str] = set()
        self.addresses: list[str] = []
        self.routes: list[Route] = []
        self.dns: list[str] = []
        self.domains: list[str] = []
        self.hwaddress = ""
        self.slaves: list[str] = []
        self.master = ""
        self.bond_options: dict[str, str] = {}
        self.raw_device = ""
        self.is_bond = False


def convert(text: str, file: str) -> tuple[list[Link], list[model.Problem]]:
    c = Collector()
    if len(text) > MAX_TEXT:
        c.error(f"{file}:1", f"the file is larger than {MAX_TEXT} bytes; nothing is converted")
        return [], c.problems
    ifaces: dict[str, _Iface] = {}
    for s in _stanzas(_lines(text, file, c), file, c):
        iface = ifaces.get(s.name)
        if iface is None:
            iface = ifaces[s.name] = _Iface(s.name, s.where)
        _merge(s, iface, c)
    links = []
    for iface in ifaces.values():
        link = _link(iface, ifaces, c)
        if link is not None:
            links.append(link)
    # bond-master on a slave's stanza: the bond's slave list (bond-slaves none).
    for iface in ifaces.values():
        if iface.master:
            bond = next(
                (i for i, link in enumerate(links) if link.name == iface.master and link.kind == BOND), None
            )
            if bond is None:
                c.error(
                    iface.where,
                    f"interface {iface.name!r}: bond-master {iface.master!r} is not a bond",
                    iface.name,
                )
            elif iface.name not in links[bond].slaves:
                links[bond] = replace(links[bond], slaves=(*links[bond].slaves, iface.name))
    return model.assemble(links, c), c.problems


def _merge(s: _Stanza, iface: _Iface, c: Collector) -> None:
    name = iface.name
    if s.method == "loopback":
        iface.loopback = True
        return
    if s.method == "dhcp":
        iface.dhcp.add("ipv4" if s.family == "inet" else "ipv6")
    netmask = None
    addresses: list[tuple[str, str]] = []
    for where, key, value in s.options:
        words = value.split()
        try:
            if key in ("address", "netmask", "gateway") and s.method != "static":
                c.note(where, f"interface {name!r}: {key} is not used with method {s.method}")
            elif key == "address" and words:
                addresses.append((where, words[0]))
            elif key == "netmask" and words:
                netmask = words[0]
            elif key == "gateway":
                if len(words) != 1:
                    c.warning(where, f"interface {name!r}: gateway needs one address; ignored")
                    continue
                any_route = "0.0.0.0/0" if s.family == "inet" else "::/0"
                iface.routes.append(Route(any_route, _gateway(words[0], s.family)))
            elif key in ("dns-nameservers", "dns-nameserver"):
                iface.dns += [model.ip(w) for w in words]
            elif key in ("dns-search", "dns-domain"):
                iface.domains += [model.domain(w) for w in words]
            elif key == "hwaddress":
                mac = (
                    words[-1]
                    if words and (len(words) == 1 or words[0] == "ether") and len(words) <= 2
                    else ""
                )
                if not mac:
                    raise ValueError("hwaddress needs `ether MAC`")
                iface.hwaddress = model.mac(mac)
            elif key in ("up", "post-up"):
                route = _route_command(words, s.family)
                if route is not None:
                    iface.routes.append(route)
                else:
                    c.note(
                        where, f"interface {name!r}: {key} {model_quote(value)} is not a route; not converted"
                    )
            elif key == "bond-slaves":
                iface.is_bond = True
                for w in words:
                    if w != "none":  # none: the slaves name their bond with bond-master
                        iface.slaves.append(model.ifname(w))
            elif key == "bond-master" and words:
                iface.master = model.ifname(words[0])
            elif key.startswith(("bond-", "bond_")) and key[5:].replace("_", "-") in model.BOND_OPTIONS:
                iface.is_bond = True
                nd_key, check = model.BOND_OPTIONS[key[5:].replace("_", "-")]
                iface.bond_options[nd_key] = check(words[0] if words else "")
            elif key in ("vlan-raw-device", "vlan_raw_device") and words:
                iface.raw_device = model.ifname(words[0])
            elif key not in QUIET:
                c.note(where, f"interface {name!r}: option {key!r} is not converted")
        except ValueError as e:
            c.error(where, f"interface {name!r}: {key}: {e}", name)
    if s.method == "static":
        if not addresses:
            c.error(s.where, f"interface {name!r}: malformed static network config: no address", name)
        for where, text in addresses:
            try:
                found = model.address(text, netmask)
                if (":" in found) != (s.family == "inet6"):
                    raise ValueError(f"{text[:60]!r} is not an {s.family} address")
                iface.addresses.append(found)
            except ValueError as e:
                c.error(where, f"interface {name!r}: malformed static network config: {e}", name)


def _gateway(text: str, family: str) -> str:
    found = model.ip(text)
    if (":" in found) != (family == "inet6"):
        raise ValueError(f"gateway {text[:60]!r} is not an {family} address")
    return found


def _route_command(words: list[str], family: str) -> Route | None:
    """`route add [-net|-host] DEST [netmask MASK] gw GW ...` or `ip route add DEST via GW ...`
    (what Nova and Rackspace write); None for any other command."""
    try:
        if words[:2] == ["route", "add"] or words[:4] in (
            ["route", "-A", "inet6", "add"],
            ["route", "-6", "add"],
        ):
            rest = words[words.index("add") + 1 :]
            dest = mask = gw = ""
            host = False
            i = 0
            while i < len(rest):
                w = rest[i]
                nxt = rest[i + 1] if i + 1 < len(rest) else ""
                if w in ("-net", "-host"):
                    host, dest, i = w == "-host", nxt, i + 2
                elif w == "netmask":
                    mask, i = nxt, i + 2
                elif w == "gw":
                    gw, i = nxt, i + 2
                elif w in ("||", ";", "&&"):
                    break
                elif w in ("metric", "dev", "mss", "window", "irtt"):
                    i += 2
                elif not dest and w != "default":
                    dest, i = w, i + 1
                elif w == "default":
                    dest, i = "default", i + 1
                else:
                    i += 1
            if not dest or not gw:
                return None
            if dest == "default":
                return Route("::/0" if ":" in gw else "0.0.0.0/0", model.ip(gw))
            if "/" not in dest and not mask:
                if not host:
                    return None  # a classful -net without a netmask: say so rather than guess
                mask = "128" if ":" in dest else "32"
            return Route(model.network(dest, mask or None), model.ip(gw))
        if words[:1] == ["ip"]:
            rest = [w for w in words[1:] if w not in ("-4", "-6")]
            if rest[:2] not in (["route", "add"], ["r", "add"], ["route", "replace"]):
                return None
            dest = rest[2] if len(rest) > 2 else ""
            if "via" not in rest[3:]:
                return None
            gw = rest[rest.index("via", 3) + 1] if rest.index("via", 3) + 1 < len(rest) else ""
            if dest == "default":
                return Route("::/0" if ":" in gw else "0.0.0.0/0", model.ip(gw))
            if "/" not in dest:
                dest += "/128" if ":" in dest else "/32"
            return Route(model.network(dest), model.ip(gw))
    except ValueError:
        return None
    return None


def _link(iface: _Iface, ifaces: dict[str, _Iface], c: Collector) -> Link | None:
    name = iface.name
    if iface.loopback and not (iface.addresses or iface.dhcp):
        return None  # lo is the kernel's; networkd needs nothing for it
    dhcp = "yes" if len(iface.dhcp) == 2 else next(iter(iface.dhcp), "")
    base = Link(
        PHYSICAL,
        name=name,
        where=iface.where,
        dhcp=dhcp,
        addresses=tuple(iface.addresses[: model.MAX_ADDRESSES]),
        routes=tuple(iface.routes[: model.MAX_ROUTES]),
        dns=tuple(dict.fromkeys(iface.dns))[: model.MAX_DNS],
        domains=tuple(dict.fromkeys(iface.domains))[: model.MAX_DNS],
        set_mac=iface.hwaddress,
    )
    if len(iface.addresses) > model.MAX_ADDRESSES or len(iface.routes) > model.MAX_ROUTES:
        c.error(
            iface.where,
            f"interface {name!r}: more than {model.MAX_ADDRESSES} addresses or {model.MAX_ROUTES} routes",
            name,
        )
    if iface.raw_device or "." in name or (name.startswith("vlan") and name[4:].isdigit()):
        vid, parent = "", iface.raw_device
        if "." in name:
            prefix, _, vid = name.rpartition(".")
            parent = parent or prefix
        elif name.startswith("vlan"):
            vid = name[4:]
        if not vid.isdigit() or int(vid) > 4094:
            c.error(iface.where, f"malformed vlan name {name!r}: no VLAN id (0-4094) in it", name)
            return None
        if not parent:
            c.error(iface.where, f"VLAN {name!r}: no vlan-raw-device", name)
            return None
        if parent not in ifaces:
            c.note(
                iface.where, f"VLAN {name!r}: its raw device {parent!r} has no stanza; it is brought up bare"
            )
        return replace(base, kind=VLAN, vlan_id=int(vid), parent=parent)
    if iface.is_bond or any(i.master == name for i in ifaces.values()):
        return replace(
            base,
            kind=BOND,
            slaves=tuple(iface.slaves),
            bond_options=tuple(sorted(iface.bond_options.items())),
        )
    return base
