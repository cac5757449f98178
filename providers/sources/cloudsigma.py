"""CloudSigma's server context, read over the second serial port (/dev/ttyS1).

The request is `<\\n\\n>` (the whole context); the answer is one line of JSON,
a newline and EOT (0x04).  The port is put in raw mode without echo first, so
the answer is not echoed back into it, and anything an earlier reader left
is flushed.  The wait is bounded (60 s at most, and the fetch's deadline): a
port that never answers means this is not CloudSigma (the cache is kept, exit
0); a part of an answer is an error.  `--source PATH` reads another port (the
tests use a pty).

user-data: meta["cloudinit-user-data"], base64 when its name is in
meta["base64_fields"] (invalid base64 is an error, not empty user-data as in
the original).  Metadata: uuid, name (else uuid) as the hostname,
meta["ssh_public_key"], and the public addresses, which the context gives as
the uuid of each NIC's IP resource.  Private addresses are not in the context.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, Unavailable, clean_keys

DEVICE = "/dev/ttyS1"
REQUEST = b"<\n\n>"
EOT = b"\x04"
MAX_WAIT = 60.0
MAX_ANSWER = 4 * 1024 * 1024


def _complete(buf: bytes) -> bool:
    """The answer is whole: EOT came, or a line that is a whole JSON document (a port in a
    mode that swallows the EOT)."""
    from ccgen.read.nesting import loads

    if EOT in buf:
        return True
    if not buf.endswith(b"\n"):
        return False
    try:
        loads(buf)
    except ValueError:
        return False
    return True


def ask(path: str, wait: float) -> bytes:
    """The server context's raw answer, EOT and the newline removed."""
    import os
    import select
    import termios
    import time
    import tty

    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Unavailable(f"{path} does not exist: no CloudSigma server context") from None
    except OSError as e:
        raise FetchError(f"cannot open {path}: {e.strerror or e}") from None
    until = time.monotonic() + wait
    buf = b""
    try:
        if os.isatty(fd):
            tty.setraw(fd)
            termios.tcflush(fd, termios.TCIOFLUSH)
        os.write(fd, REQUEST)
        while not _complete(buf):
            left = until - time.monotonic()
            if left <= 0 or len(buf) > MAX_ANSWER:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    break
                buf += chunk
    except OSError as e:
        raise FetchError(f"{path}: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if not buf:
        raise Unavailable(f"no answer on {path} within {wait:g}s: no CloudSigma server context")
    if len(buf) > MAX_ANSWER:
        raise FetchError(f"the server context on {path} is larger than {MAX_ANSWER} bytes")
    if not _complete(buf):
        raise FetchError(f"the server context on {path} was cut short ({len(buf)} bytes, no end)")
    return buf.split(EOT, 1)[0].strip()


def _user_data(meta: dict[str, object]) -> bytes | None:
    from .. import values

    value = meta.get("cloudinit-user-data")
    if not isinstance(value, str):
        return None
    listed = meta.get("base64_fields")
    encoded = isinstance(listed, str) and "cloudinit-user-data" in [f.strip() for f in listed.split(",")]
    return values.base64_bytes(value, "cloudinit-user-data") if encoded else value.encode()


def fetch(req: Request) -> Result:
    from ccgen.base.cache import Metadata

    from .. import values

    path = req.source or DEVICE
    doc = values.json_object(ask(path, min(MAX_WAIT, req.deadline)), "the server context")
    meta = doc.get("meta")
    if not isinstance(meta, dict):
        meta = {}
    uuid = values.text(doc.get("uuid"))
    found = {"instance_id": uuid, "hostname": values.text(doc.get("name")) or uuid}
    nics = doc.get("nics")
    for nic in nics if isinstance(nics, list) else []:
        # The IP resource's uuid is the address itself.
        v4 = values.ipv4(values.dig(nic, "ip_v4_conf", "ip", "uuid"))
        v6 = values.ipv6(values.dig(nic, "ip_v6_conf", "ip", "uuid"))
        if v4 and "public_ipv4" not in found:
            found["public_ipv4"] = v4
        if v6 and "public_ipv6" not in found:
            found["public_ipv6"] = v6
    key = meta.get("ssh_public_key")
    keys = clean_keys([key]) if isinstance(key, str) else []
    return Result(_user_data(meta), Metadata(**found), keys)


PROVIDER = Provider(
    "cloudsigma",
    "the CloudSigma server context on the serial port",
    fetch,
    oem_ids=("cloudsigma",),
    network=False,
    order=20,
)
