"""A generic fake metadata service on 127.0.0.1: a table of answers, header rules, faults.

One server stands in for DigitalOcean, GCE, Packet, Azure (IMDS and the wire
server), NoCloud seeds and plain URLs; each test gives it the answers its
platform would give.  Nothing here knows any real metadata address.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Rule:
    """Requests under `prefix` must carry `header: value`, else they get `reply`."""

    prefix: str
    header: str
    value: str
    reply: Reply


@dataclass
class Behaviour:
    # "METHOD /path?query", "/path?query" or "/path" -> the answer (bytes: 200 with that body)
    routes: dict[str, Reply | bytes] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer
    fail_first: int = 0  # the first N requests answer fail_status
    fail_status: int = 500
    fail_always: bool = False
    truncate: set[str] = field(default_factory=set)  # paths (without query) whose body is cut short
    truncate_times: int = 10**9
    reset: set[str] = field(default_factory=set)  # paths whose connection is dropped
    slow: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeMeta:
    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.b = behaviour or Behaviour()
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.handle(self, "GET")

            def do_PUT(self) -> None:
                server.handle(self, "PUT")

            def do_POST(self) -> None:
                server.handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeMeta:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply, *, cut: bool = False) -> None:
        h.send_response(reply.status)
        for k, v in {"Content-Type": "text/plain", **self.b.headers, **reply.headers}.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(reply.body)))
        h.end_headers()
        h.wfile.write(reply.body[: len(reply.body) // 2] if cut else reply.body)
        h.wfile.flush()
        if cut:
            h.close_connection = True

    def _route(self, method: str, path: str) -> Reply:
        bare = path.split("?", 1)[0]
        for key in (f"{method} {path}", path, f"{method} {bare}", bare):
            if key in self.b.routes:
                found = self.b.routes[key]
                return found if isinstance(found, Reply) else Reply(200, found)
        return Reply(404, b"not found")

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        b = self.b
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = h.path
        bare = path.split("?", 1)[0]
        with self.lock:
            self.requests.append(Seen(method, path, {k.lower(): v for k, v in h.headers.items()}, body))
            n = len(self.requests)
            times = sum(1 for r in self.requests if r.path.split("?", 1)[0] == bare)
        if b.slow:
            time.sleep(b.slow)
        if bare in b.reset:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            h.connection.close()
            h.close_connection = True
            return
        if b.fail_always or n <= b.fail_first:
            return self._send(h, Reply(b.fail_status, b"error"))
        for rule in b.rules:
            if path.startswith(rule.prefix) and h.headers.get(rule.header) != rule.value:
                return self._send(h, rule.reply)
        cut = bare in b.truncate and times <= b.truncate_times
        self._send(h, self._route(method, path), cut=cut)
