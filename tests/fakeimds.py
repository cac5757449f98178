"""A fake EC2 instance metadata service on 127.0.0.1, with fault injection.

Tests only ever talk to this server (or to VMs they boot with restricted
networking); nothing here knows the real metadata address.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    user_data: bytes | None = b"#cloud-config\nhostname: from-imds\n"
    meta: dict[str, str] = field(
        default_factory=lambda: {
            "instance-id": "i-0123456789abcdef0",
            "hostname": "ip-10-0-0-5.ec2.internal",
            "local-ipv4": "10.0.0.5",
            "public-ipv4": "203.0.113.5",
        }
    )
    keys: list[tuple[str, str]] = field(default_factory=lambda: [("mykey", "ssh-ed25519 AAAAimds user@imds")])
    token: str = "required"  # required | optional | missing404 | missing405 | forbidden | broken
    token_uses: int | None = None  # a token answers 401 after this many GETs
    fail_first: int = 0  # the first N requests answer fail_status
    fail_status: int = 500
    fail_always: bool = False
    truncate: set[str] = field(default_factory=set)  # paths whose body is cut short
    truncate_times: int = 10**9
    reset: set[str] = field(default_factory=set)  # paths whose connection is dropped
    reset_times: int = 10**9
    slow: float = 0.0
    raw_keys_listing: bytes | None = None
    trickle: float = 0.0  # seconds between the bytes of every body: a server that never quite answers


class FakeIMDS:
    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.b = behaviour or Behaviour()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.tokens: dict[str, int] = {}
        self.issued = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_PUT(self) -> None:
                server.handle(self, "PUT")

            def do_GET(self) -> None:
                server.handle(self, "GET")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FakeIMDS:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return sum(
            1 for m, p, _ in self.requests if (method is None or m == method) and (path is None or p == path)
        )

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes = b"", *, cut: bool = False) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if self.b.trickle:
            for i in range(len(body)):
                h.wfile.write(body[i : i + 1])
                h.wfile.flush()
                time.sleep(self.b.trickle)
            return
        h.wfile.write(body[: len(body) // 2] if cut else body)
        h.wfile.flush()
        if cut:
            h.close_connection = True

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        b = self.b
        path = h.path
        with self.lock:
            self.requests.append((method, path, {k.lower(): v for k, v in h.headers.items()}))
            n = len(self.requests)
            resets = sum(1 for _, p, _ in self.requests if p == path)
        if b.slow:
            time.sleep(b.slow)
        if path in b.reset and resets <= b.reset_times:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            h.connection.close()
            h.close_connection = True
            return
        if b.fail_always or n <= b.fail_first:
            return self._send(h, b.fail_status, b"error")
        if method == "PUT":
            return self._token(h, path)
        token = h.headers.get("X-aws-ec2-metadata-token")
        if b.token == "required" or (token and b.token == "optional"):
            with self.lock:
                uses = self.tokens.get(token or "")
                if uses is None or (b.token_uses is not None and uses >= b.token_uses):
                    return self._send(h, 401, b"unauthorized")
                self.tokens[token or ""] = uses + 1
        body = self._body(path)
        if body is None:
            return self._send(h, 404, b"not found")
        cut = path in b.truncate and resets <= b.truncate_times
        self._send(h, 200, body, cut=cut)

    def _token(self, h: BaseHTTPRequestHandler, path: str) -> None:
        b = self.b
        if path != "/latest/api/token":
            return self._send(h, 405)
        if b.token == "missing404":
            return self._send(h, 404)
        if b.token == "missing405":
            return self._send(h, 405)
        if b.token == "forbidden":
            return self._send(h, 403)
        if b.token == "broken":
            return self._send(h, 500)
        if not h.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self._send(h, 400)
        with self.lock:
            self.issued += 1
            token = f"token-{self.issued}"
            self.tokens[token] = 0
        self._send(h, 200, token.encode())

    def _body(self, path: str) -> bytes | None:
        b = self.b
        if path == "/latest/user-data":
            return b.user_data
        if path == "/latest/meta-data/public-keys/":
            if b.raw_keys_listing is not None:
                return b.raw_keys_listing
            return "".join(f"{i}={name}\n" for i, (name, _) in enumerate(b.keys)).encode() or None
        prefix = "/latest/meta-data/public-keys/"
        if path.startswith(prefix) and path.endswith("/openssh-key"):
            index = path[len(prefix) : -len("/openssh-key")]
            if index.isdigit() and int(index) < len(b.keys):
                return (b.keys[int(index)][1] + "\n").encode()
            return None
        if path.startswith("/latest/meta-data/"):
            value = b.meta.get(path[len("/latest/meta-data/") :])
            return value.encode() if value is not None else None
        return None
