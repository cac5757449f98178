"""Amazon EC2's instance metadata service (IMDS), IMDSv2 first.

The status rules (docs/providers.md has the table):
- token PUT: 200 gives a token; 403 means IMDS is disabled (stop, no retry);
  404 or 405 means no token endpoint, so IMDSv1; any other 4xx is an error.
- GET: 200 is data; 404 is "absent" (for user-data: the user gave none);
  401 means the token expired, so get a new one, once.
- 5xx, 429, timeouts, resets and truncated bodies are retried (providers/client.py).
  A transient error never causes a fallback to IMDSv1: with HttpTokens=required
  that would turn a passing fault into a permanent one.
Without an endpoint override, both the IPv4 address and the IPv6 one
(fd00:ec2::254, Nitro instances with HttpProtocolIpv6) are tried until one answers.
"""

from __future__ import annotations

from ..base import FetchError, Provider, Request, Result, Unavailable, clean_keys, first_line

ENDPOINTS = ("http://169.254.169.254", "http://[fd00:ec2::254]")
TOKEN_TTL = "21600"
TOKEN_PATH = "/latest/api/token"
HOP_LIMIT_HINT = (
    "the token request got no answer: the metadata service may be off, or the instance's "
    "metadata hop limit (HttpPutResponseHopLimit) too low for this network path"
)


class _Session:
    def __init__(self, req: Request) -> None:
        from ..client import Client

        self.client = Client(list((req.endpoint,) if req.endpoint else ENDPOINTS), req.deadline, req.timeout)
        self.token: str | None = None
        self.imdsv1 = False

    def refresh_token(self) -> None:
        resp = self.client.send(
            "PUT", TOKEN_PATH, {"X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL}, HOP_LIMIT_HINT
        )
        token = resp.body.decode("ascii", "replace").strip()
        if resp.status == 200 and token:
            if not token.isprintable() or not token.isascii() or len(token) > 4096:
                raise FetchError("the token the service gave is not a valid header value")
            self.token = token
        elif resp.status == 403:
            raise Unavailable("the instance metadata service is disabled (403 on the token request)")
        elif resp.status in (404, 405):
            self.imdsv1 = True
        else:
            raise FetchError(f"token request answered HTTP {resp.status}")

    def get(self, path: str) -> bytes | None:
        """The body at `path`, or None when the service says it does not exist."""
        if self.token is None and not self.imdsv1:
            self.refresh_token()
        refreshed = False
        while True:
            headers = {"X-aws-ec2-metadata-token": self.token} if self.token else {}
            resp = self.client.send("GET", path, headers)
            if resp.status == 200:
                return resp.body
            if resp.status == 404:
                return None
            if resp.status == 401 and not refreshed and not self.imdsv1:
                refreshed = True
                self.refresh_token()
                continue
            raise FetchError(f"GET {path}: HTTP {resp.status}")


def fetch(req: Request) -> Result:
    from ccgen.base.cache import Metadata

    from .. import values as checked

    s = _Session(req)
    notes: list[str] = []
    user_data = s.get("/latest/user-data")
    values = {}
    for attr, path in (
        ("instance_id", "instance-id"),
        ("hostname", "hostname"),
        ("local_ipv4", "local-ipv4"),
        ("public_ipv4", "public-ipv4"),
        ("instance_type", "instance-type"),
        ("zone", "placement/availability-zone"),
        ("region", "placement/region"),
    ):
        raw = first_line(s.get(f"/latest/meta-data/{path}"))
        value = checked.ipv4(raw) if attr.endswith("ipv4") else checked.text(raw)
        if value:
            values[attr] = value
    keys: list[str] = []
    listing = s.get("/latest/meta-data/public-keys/") or b""
    for line in listing.decode("utf-8", "replace").splitlines():
        index, sep, _name = line.partition("=")
        index = index.strip()
        if not sep or not index.isascii() or not index.isdigit():
            notes.append(f"ignored a malformed public-keys line: {line[:80]!r}")
            continue
        key = first_line(s.get(f"/latest/meta-data/public-keys/{index}/openssh-key"))
        if key:
            keys.append(key)
    if s.client.answered and s.client.answered != s.client.endpoints[0]:
        notes.append(f"the metadata service answered at {s.client.answered}")
    return Result(user_data, Metadata(**values), clean_keys(keys), notes)


PROVIDER = Provider(
    "ec2",
    "the EC2 instance metadata service",
    fetch,
    oem_ids=("ec2", "ami", "aws", "ec2-compat"),
    network=True,
    default_endpoint=ENDPOINTS[0],
    order=20,
)
