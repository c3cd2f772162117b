"""Limits checked before anything else of a request: its client address's budgets (every request, and requests
without a valid token) and its body's size. Both are plain ASGI middleware, outside the routing: a refused request
is answered before authentication, before any endpoint runs and before its body is read (a body is counted as it
streams in and cut off at the limit, never buffered whole). The answers are the API's error envelope."""

from __future__ import annotations

import threading
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from robots.api.errors import envelope

#: POST paths whose body may be as large as the upload limit (the others: the body limit)
UPLOAD_PATHS = frozenset({"/uploads"})


class Budget:
    """A sliding window per key (a client address), like robots.api.tokens.RateLimiter: at most `limit` requests in
    `window` seconds. Keys with no request in the window are dropped as the table grows, so a flood of addresses
    cannot grow it without bound."""

    def __init__(self, limit: int, window: float, whom: str) -> None:
        self.limit = limit
        self.window = window
        self.whom = whom
        self._hits: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._prune_at = 4096

    def wait(self, key: str, *, count: bool = True) -> int | None:
        """None when `key` has room (and, with `count`, the request is counted); else the seconds until it has."""
        t = time.monotonic()
        with self._lock:
            hits = [h for h in self._hits.get(key, []) if h > t - self.window]
            if len(hits) >= self.limit:
                self._hits[key] = hits
                return max(1, int(hits[-self.limit] + self.window - t + 0.999))
            if count:
                hits.append(t)
            self._hits[key] = hits
            if len(self._hits) > self._prune_at:
                self._prune(t)
            return None

    def _prune(self, t: float) -> None:
        self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > t - self.window}
        self._prune_at = max(4096, 2 * len(self._hits))

    def refusal(self, scope: Scope, retry: int) -> Any:
        return envelope(Request(scope), 429, f"rate limit of {self.limit} requests per {self.window:g} s reached for "
                        f"{self.whom}; retry after {retry} s", headers={"Retry-After": str(retry)},
                        details={"limit": self.limit, "window_s": self.window, "retry_after_s": retry})


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class ClientLimits:
    """Budgets per client address (the socket's peer; behind a proxy, the proxy's): every request counts against
    `every`; a request without an Authorization header, or one answered 401, counts against `anonymous` too. Once
    `anonymous` is spent, such requests are 429 (a request with a token still reaches authentication, and only a
    401 it gets is turned into the 429): a caller with a valid token is not held up by a flood of anonymous ones."""

    def __init__(self, app: ASGIApp, *, every: Budget, anonymous: Budget) -> None:
        self.app = app
        self.every = every
        self.anonymous = anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = _address(scope)
        retry = self.every.wait(address)
        if retry is not None:
            await self.every.refusal(scope, retry)(scope, receive, send)
            return
        if not any(name == b"authorization" for name, _ in scope.get("headers", [])):
            retry = self.anonymous.wait(address)
            if retry is not None:
                await self.anonymous.refusal(scope, retry)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        refused = False

        async def watched(message: Message) -> None:
            nonlocal refused
            if refused:
                return  # the rest of the 401 this replaced
            if message["type"] == "http.response.start" and message["status"] == 401:
                retry = self.anonymous.wait(address)
                if retry is not None:
                    refused = True
                    await self.anonymous.refusal(scope, retry)(scope, receive, send)
                    return
            await send(message)

        await self.app(scope, receive, watched)


class BodyLimit:
    """A request body over `limit` bytes (`upload_limit` for a POST to an upload path) is 413: at once when its
    Content-Length says so, else as soon as the bytes read so far pass the limit (a chunked body without a length);
    whatever the app was answering then is dropped for the 413."""

    def __init__(self, app: ASGIApp, *, limit: int, upload_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["method"] == "POST" and scope["path"] in UPLOAD_PATHS else self.limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send, limit)
            return
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise HTTPException(413)  # ends the reading; this middleware answers
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a body it could not read: the 413 goes instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _too_large(scope, receive, send, limit)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = envelope(Request(scope), 413, f"the request body is over this endpoint's limit of {limit} bytes",
                        type="payload_too_large", details={"limit_bytes": limit})
    await response(scope, receive, send)
