"""Requests to a metadata service, retried within one deadline for the whole fetch.

5xx, 429, timeouts, resets and truncated bodies are retried with exponential
backoff and full jitter; every other answer is returned to the provider, which
knows what its statuses mean.  While no endpoint has answered yet, each attempt
tries the next one (EC2's IPv4 and IPv6 addresses).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from . import http
from .base import FetchError


class NoAnswer(FetchError):
    """No endpoint gave any HTTP answer before the deadline."""


class Client:
    def __init__(
        self,
        endpoints: list[str],
        deadline: float = 90.0,
        timeout: float = 5.0,
        headers: dict[str, str] | None = None,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        retry: frozenset[int] = frozenset(),
    ) -> None:
        if not endpoints:
            raise FetchError("no endpoint to ask")
        if not math.isfinite(deadline) or deadline <= 0:
            raise FetchError(f"the deadline must be a positive number of seconds, not {deadline}")
        self.endpoints = [e.rstrip("/") for e in endpoints]
        for e in self.endpoints:
            http.check_url(e + "/")
        self.answered: str | None = None  # the endpoint that answered first
        self.timeout = timeout
        self.headers = headers or {}
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.until = clock() + deadline
        self.requests = 0
        self.retry = retry  # statuses besides 5xx and 429 that this service means as "try again"

    def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        no_answer_hint: str = "",
        body: bytes | None = None,
    ) -> http.Response:
        """One request, retried while the answer is transient and time is left."""
        attempt = 0
        answered_once = False
        while True:
            endpoint = self.answered or self.endpoints[attempt % len(self.endpoints)]
            left = self.until - self.clock()
            if left <= 0:
                raise self._give_up(
                    method, path, "no answer within the deadline", answered_once, no_answer_hint
                )
            try:
                self.requests += 1
                resp = http.request(
                    method,
                    endpoint + path,
                    {**self.headers, **(headers or {})},
                    timeout=min(self.timeout, left),
                    body=body,
                )
                self.answered = endpoint
                answered_once = True
                if resp.status != 429 and resp.status < 500 and resp.status not in self.retry:
                    return resp
                problem = f"{method} {path}: HTTP {resp.status}"
            except http.TransientError as e:
                problem = str(e)
            delay = min(self.max_delay, self.base_delay * 2**attempt) * self.jitter()
            attempt += 1
            if self.clock() + delay >= self.until:
                raise self._give_up(
                    method, path, f"{problem}; giving up at the deadline", answered_once, no_answer_hint
                )
            self.sleep(delay)

    def _give_up(self, method: str, path: str, problem: str, answered: bool, hint: str) -> FetchError:
        if answered or self.answered:
            return FetchError(problem)
        return NoAnswer(f"{problem}" + (f" ({hint})" if hint else ""))

    def get(self, path: str, headers: dict[str, str] | None = None) -> bytes | None:
        """The body at `path`, or None when the service says it does not exist (404)."""
        return body_of(self.send("GET", path, headers), path)


def body_of(resp: http.Response, path: str) -> bytes | None:
    """200: the body; 404: None; anything else: FetchError quoting the start of the answer."""
    if resp.status == 200:
        return resp.body
    if resp.status == 404:
        return None
    said = resp.body.decode("utf-8", "replace").strip()[:200]
    raise FetchError(f"GET {path}: HTTP {resp.status}" + (f": {said}" if said else ""))


def split_url(url: str) -> tuple[str, str]:
    """A URL as the Client's endpoint (scheme://host:port) and the path with its query."""
    parts = http.check_url(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{parts.netloc}", path
