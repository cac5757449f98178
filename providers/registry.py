"""Every provider, found by listing providers/sources/: adding one is adding a module there.

The generator reads this at boot to choose the fetch units, so it imports only
the descriptors (each module keeps its heavy imports inside its fetch).
"""

from __future__ import annotations

import os

from ccgen.read.inputs import Reader, facts

from .base import Provider

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sources")
_loaded: dict[str, Provider] | None = None


def _allowed(chosen: str) -> frozenset[str] | None:
    names = frozenset(chosen.split())
    return None if not names or "all" in names else names


def providers(reader: Reader | None = None) -> dict[str, Provider]:
    """Every provider this installation has; with a reader, what decided it is recorded
    (the plan's fingerprint: a provider added or removed forces a full compile)."""
    global _loaded
    if reader is not None:
        listing = reader.package_listing("providers/sources")
        chosen = reader.fact("providers", facts()["providers"])
    if _loaded is None:
        if reader is None:
            listing = frozenset(os.listdir(SOURCES))
            chosen = facts()["providers"]
        found: dict[str, Provider] = {}
        allowed = _allowed(chosen)
        for entry in sorted(listing):
            stem, ext = os.path.splitext(entry)
            if ext != ".py" or stem.startswith("_") or (allowed is not None and stem not in allowed):
                continue
            module = __import__(f"ccgen.providers.sources.{stem}", fromlist=["PROVIDER"])
            p: Provider = module.PROVIDER
            if p.name != stem:
                raise ImportError(f"providers/sources/{entry} declares the provider {p.name!r}")
            found[p.name] = p
        _loaded = found
    return _loaded


def by_oem_id(oem_id: str) -> list[Provider]:
    wanted = oem_id.lower()
    return sorted((p for p in providers().values() if wanted in p.oem_ids), key=lambda p: (p.order, p.name))


def choose(reader: Reader, kernel: dict[str, str], oem_id: str) -> list[Provider]:
    """Providers to run, in order: `ccgen.provider=`, else the OEM id from the kernel command
    line or the OEM config, plus any provider the command line itself asks for."""
    if reader.env("SYSTEMD_VIRTUALIZATION").startswith("container"):
        return []
    all_ = providers(reader)
    explicit = kernel.get("ccgen.provider")
    if explicit is not None:
        name = explicit.lower()
        if name == "none":
            return []
        found = [all_[name]] if name in all_ else by_oem_id(name)
        return [p.for_kernel(kernel) for p in found]
    chosen: list[Provider] = []
    for key in ("coreos.oem.id", "flatcar.oem.id"):
        if key in kernel:
            chosen = by_oem_id(kernel[key])
            break
    else:
        chosen = by_oem_id(oem_id) if oem_id else []
    for p in sorted(all_.values(), key=lambda p: (p.order, p.name)):
        if p not in chosen and p.detect is not None and p.detect(kernel):
            chosen.append(p)
    return [p.for_kernel(kernel) for p in chosen]
