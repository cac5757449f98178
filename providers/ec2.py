"""EC2's instance metadata service, IMDSv2 first.

The status rules (docs/providers.md has the table):
- token PUT: 200 gives a token; 403 means IMDS is disabled (stop, no retry);
  404 or 405 means no token endpoint, so IMDSv1; any other 4xx is an error.
- GET: 200 is data; 404 is "absent" (for user-data: the user gave none);
  401 means the token expired, so get a new one, once.
- 5xx, 429, timeouts, resets and truncated bodies are retried with exponential
  backoff and full jitter, all inside one deadline.  A transient error never
  causes a fallback to IMDSv1: with HttpTokens=required that would turn a
  passing fault into a permanent one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from . import http
from .store import Snapshot

DEFAULT_ENDPOINT = "http://169.254.169.254"
TOKEN_TTL = "21600"
TOKEN_PATH = "/latest/api/token"


class Disabled(Exception):
    """IMDS answered 403 to the token request: it is turned off for this instance."""


class FetchError(Exception):
    pass


class Client:
    def __init__(
        self,
        endpoint: str,
        deadline: float = 60.0,
        timeout: float = 5.0,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.until = clock() + deadline
        self.token: str | None = None
        self.imdsv1 = False
        self.requests = 0

    def _send(self, method: str, path: str, headers: dict[str, str]) -> http.Response:
        """One request, retried while the answer is transient and time is left."""
        attempt = 0
        while True:
            left = self.until - self.clock()
            if left <= 0:
                raise FetchError(f"{method} {path}: no answer within the deadline")
            try:
                self.requests += 1
                resp = http.request(method, self.endpoint + path, headers, timeout=min(self.timeout, left))
                if resp.status != 429 and resp.status < 500:
                    return resp
                problem = f"{method} {path}: HTTP {resp.status}"
            except http.TransientError as e:
                problem = str(e)
            delay = min(self.max_delay, self.base_delay * 2**attempt) * self.jitter()
            attempt += 1
            if self.clock() + delay >= self.until:
                raise FetchError(f"{problem}; giving up at the deadline")
            self.sleep(delay)

    def _refresh_token(self) -> None:
        resp = self._send("PUT", TOKEN_PATH, {"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL})
        if resp.status == 200 and resp.body.strip():
            self.token = resp.body.decode("ascii", "replace").strip()
        elif resp.status == 403:
            raise Disabled("the instance metadata service is disabled (403 on the token request)")
        elif resp.status in (404, 405):
            self.imdsv1 = True
        else:
            raise FetchError(f"token request answered HTTP {resp.status}")

    def get(self, path: str) -> bytes | None:
        """The body at `path`, or None when the service says it does not exist."""
        if self.token is None and not self.imdsv1:
            self._refresh_token()
        refreshed = False
        while True:
            headers = {"X-aws-ec2-metadata-token": self.token} if self.token else {}
            resp = self._send("GET", path, headers)
            if resp.status == 200:
                return resp.body
            if resp.status == 404:
                return None
            if resp.status == 401 and not refreshed and not self.imdsv1:
                refreshed = True
                self._refresh_token()
                continue
            raise FetchError(f"GET {path}: HTTP {resp.status}")


def _first_line(data: bytes | None) -> str:
    if not data:
        return ""
    return data.decode("utf-8", "replace").splitlines()[0].strip() if data.strip() else ""


def fetch(client: Client) -> tuple[Snapshot, list[str]]:
    """Everything ccgen keeps from IMDS, and notes about what was odd."""
    notes: list[str] = []
    user_data = client.get("/latest/user-data")
    meta = {"PROVIDER": "ec2"}
    for key, path in (
        ("INSTANCE_ID", "instance-id"),
        ("HOSTNAME", "hostname"),
        ("LOCAL_IPV4", "local-ipv4"),
        ("PUBLIC_IPV4", "public-ipv4"),
    ):
        value = _first_line(client.get(f"/latest/meta-data/{path}"))
        if value:
            meta[key] = value
    keys: list[str] = []
    listing = client.get("/latest/meta-data/public-keys/") or b""
    for line in listing.decode("utf-8", "replace").splitlines():
        index, sep, _name = line.partition("=")
        if not sep or not index.strip().isdigit():
            notes.append(f"ignored a malformed public-keys line: {line[:80]!r}")
            continue
        key = _first_line(client.get(f"/latest/meta-data/public-keys/{index.strip()}/openssh-key"))
        if key:
            keys.append(key)
    snap = Snapshot.of(user_data, meta, keys)
    return snap, notes
