"""Every provider, found by listing providers/sources/: adding one is adding a module there.

The generator reads this at boot to choose the fetch units, so it imports only
the descriptors (each module keeps its heavy imports inside its fetch).
"""

from __future__ import annotations

import os

from .base import Provider

SOURCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sources")
_loaded: dict[str, Provider] | None = None


def _enabled() -> frozenset[str] | None:
    """The providers this installation was built with (meson's providers option); None: all."""
    try:
        from ccgen import _build  # type: ignore[attr-defined]
    except ImportError:
        return None
    chosen = frozenset(_build.PROVIDERS)
    return None if not chosen or "all" in chosen else chosen


def providers() -> dict[str, Provider]:
    global _loaded
    if _loaded is None:
        found: dict[str, Provider] = {}
        allowed = _enabled()
        for entry in sorted(os.listdir(SOURCES)):
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


def choose(kernel: dict[str, str], oem_id: str, virtualization: str) -> list[Provider]:
    """Providers to run, in order: `ccgen.provider=`, else the OEM id from the kernel command
    line or the OEM config, plus any provider the command line itself asks for."""
    if virtualization.startswith("container"):
        return []
    all_ = providers()
    explicit = kernel.get("ccgen.provider")
    if explicit is not None:
        name = explicit.lower()
        if name == "none":
            return []
        return [all_[name]] if name in all_ else by_oem_id(name)
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
    return chosen
