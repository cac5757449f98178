"""A fake CloudSigma serial port: a pty whose far end answers the server-context request."""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Port:
    def __init__(self, path: str) -> None:
        self.path = path
        self.requests: list[bytes] = []


@contextmanager
def serial_port(answer: bytes | None) -> Iterator[Port]:
    """A pty for `--source`; each request (`<...>`) gets `answer` (None: silence)."""
    master, slave = os.openpty()
    port = Port(os.ttyname(slave))
    stop = threading.Event()

    def serve() -> None:
        buf = b""
        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                buf += os.read(master, 4096)
            except OSError:
                time.sleep(0.05)  # EIO while nobody has the port open
                continue
            while b">" in buf:
                request, _, buf = buf.partition(b">")
                port.requests.append(request[request.find(b"<") :] + b">")
                if answer is not None:
                    os.write(master, answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)
