"""The kinds of user-data document, named once: source.py decides the two that its first line
tells (`#cloud-config`, `#!`), formats.py the rest.  Both import these names from here, so
neither needs the other's (source.py asks formats.py only for a document it cannot place)."""

HEADER = "#cloud-config"

EMPTY = "empty"
CLOUD_CONFIG = "cloud-config"
SCRIPT = "script"
IGNITION = "ignition"
MIME = "mime"
INCLUDE = "include"
