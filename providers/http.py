"""A small HTTP/1.1 client for metadata services: one request, one answer, no surprises.

Each request is bounded as a whole (connect, headers and body), not per socket
read, so a server that trickles one byte a second cannot hold a fetch past its
deadline.  A body shorter than its Content-Length, a reset connection or a
timeout is a transient error, never data; an answer over the size cap is a
permanent one.  Redirects are not followed.  https:// checks the server's
certificate against the system's CA store.
"""

from __future__ import annotations

import http.client
import signal
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass

from .base import FetchError

MAX_BODY = 16 * 1024 * 1024


class TransientError(FetchError):
    """Worth retrying: timeouts, resets, truncated bodies."""


class _Expired(Exception):
    pass


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def check_url(url: str) -> urllib.parse.SplitResult:
    """The URL's parts, or FetchError saying what is wrong with it."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FetchError(f"{url!r} is not a valid URL: {e}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url!r} is not an http:// or https:// URL")
    if port == 0:
        raise FetchError(f"{url!r} has no valid port")
    return parts


def _check_headers(headers: dict[str, str]) -> None:
    for k, v in headers.items():
        if not v.isascii() or not v.isprintable() or not k.isascii() or not k.isprintable():
            raise FetchError(f"the {k} header would not be a valid HTTP header value")


class _Deadline:
    """SIGALRM at the deadline, so that nothing inside http.client can outlast it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> None:
        if self.armed:

            def expire(signum: int, frame: object) -> None:
                raise _Expired

            self.old = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, max(self.seconds, 0.001))

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)


def request(
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
    body: bytes | None = None,
    max_body: int = MAX_BODY,
) -> Response:
    parts = check_url(url)
    _check_headers(headers or {})
    host = parts.hostname or ""
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, parts.port or 443, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, parts.port or 80, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    start = time.monotonic()
    try:
        with _Deadline(timeout):
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read(max_body + 1)
            got = {k.lower(): v for k, v in resp.getheaders()}
        if len(data) > max_body:
            raise FetchError(f"{url}: answer larger than {max_body} bytes")
        length = got.get("content-length")
        if length is not None and length.isdigit() and int(length) != len(data):
            raise TransientError(f"{url}: body cut short ({len(data)} of {length} bytes)")
        return Response(resp.status, data, got)
    except _Expired:
        raise TransientError(f"{url}: no whole answer within {timeout:g}s") from None
    except http.client.IncompleteRead as e:
        raise TransientError(f"{url}: body cut short ({len(e.partial)} bytes)") from None
    except (TimeoutError, socket.timeout):
        raise TransientError(f"{url}: timed out after {time.monotonic() - start:.3g}s") from None
    except ssl.SSLCertVerificationError as e:
        raise FetchError(f"{url}: the server's certificate is not trusted ({e.verify_message})") from None
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        raise TransientError(f"{url}: {type(e).__name__}: {e}") from None
    finally:
        conn.close()
