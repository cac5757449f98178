"""The platform's network data as the cache keeps it, and the one way to convert it.

The cache's `network` file (in the snapshot beside the user-data) is a JSON object:
`format` (debian, openstack, vmware or packet), `source` (the file or key prefix it came
from, for positions) and `data`: the platform's own data as it was read (the interfaces
text, the JSON object, the guestinfo keys).  The raw data is kept rather than the units,
so that a ccgen with a better converter converts the same data better, and both the fetch
(to report problems) and `ccgen apply` (to install) convert it the same way.
"""

from __future__ import annotations

import json

from . import model

FORMATS = ("debian", "openstack", "vmware", "packet")
MAX_RECORD = 8 * model.MAX_JSON  # the data at its bound, escaped as JSON text


def record(fmt: str, source: str, data: object) -> bytes:
    assert fmt in FORMATS
    body = {"format": fmt, "source": source, "data": data}
    return (json.dumps(body, sort_keys=True, ensure_ascii=True, indent=1) + "\n").encode()


def convert(raw: bytes, where: str = "network") -> tuple[str, list[model.Link], list[model.Problem]]:
    """(source, links, problems) for a stored record; a damaged record converts to nothing."""
    try:
        body = model.json_doc(raw, MAX_RECORD)
    except (ValueError, UnicodeDecodeError) as e:
        return where, [], [model.Problem(where, "error", f"the stored network data is damaged: {e}")]
    if (
        not isinstance(body, dict)
        or body.get("format") not in FORMATS
        or not isinstance(body.get("source"), str)
    ):
        return (
            where,
            [],
            [model.Problem(where, "error", "the stored network data is damaged: no format or source")],
        )
    fmt, source, data = body["format"], body["source"], body.get("data")
    links, problems = convert_data(fmt, source, data)
    return source, links, problems


def convert_data(fmt: str, source: str, data: object) -> tuple[list[model.Link], list[model.Problem]]:
    if fmt == "debian":
        from . import debian

        if not isinstance(data, str):
            return [], [model.Problem(source, "error", "is not text")]
        return debian.convert(data, source)
    if fmt == "openstack":
        from . import openstack

        return openstack.convert(data, source)
    if fmt == "vmware":
        from . import vmware

        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return [], [model.Problem(source, "error", "is not a table of keys")]
        return vmware.convert(data, source)
    from . import packet

    return packet.convert(data, source)
