"""A small HTTP/1.1 client for metadata services: one request, one answer, no surprises.

Each request has its own timeout; a body shorter than its Content-Length, a
reset connection or a timeout is an error, never data.
"""

from __future__ import annotations

import http.client
import socket
import urllib.parse
from dataclasses import dataclass

MAX_BODY = 16 * 1024 * 1024


class TransientError(Exception):
    """Worth retrying: timeouts, resets, truncated bodies."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def request(method: str, url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> Response:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"not an http:// URL: {url}")
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise TransientError(f"{url}: answer larger than {MAX_BODY} bytes")
        length = resp.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) != len(body):
            raise TransientError(f"{url}: body cut short ({len(body)} of {length} bytes)")
        return Response(resp.status, body)
    except http.client.IncompleteRead as e:
        raise TransientError(f"{url}: body cut short ({len(e.partial)} bytes)") from None
    except (TimeoutError, socket.timeout):
        raise TransientError(f"{url}: timed out after {timeout:g}s") from None
    except (ConnectionError, http.client.HTTPException, OSError) as e:
        raise TransientError(f"{url}: {type(e).__name__}: {e}") from None
    finally:
        conn.close()
