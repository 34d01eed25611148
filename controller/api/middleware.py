"""Every HTTP request gets an id and a place on the latency histogram.

The id is the caller's ``X-Request-ID`` when it is a sane token (a proxy or a client
that already has one keeps its id end to end), else a fresh one; it is echoed in the
response's ``X-Request-ID`` and labels every log record made while the request is
served (``controller.logs.log_context``), in the route's threadpool too.

A plain ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``: that one runs
the app in another task, where a ``ContextVar`` set here would not be seen reliably,
and it buffers streamed answers. Latency is labelled by the matched route's template
(``/api/v1/wards/{code}``), known only after routing, so read from the scope at the end.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.logs import log_context
from controller.metrics.registry import UNMATCHED_ROUTE, observe_http

HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:@-]{1,64}")

access_log = logging.getLogger("controller.api.access")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's id if it is a short plain token, else a new random one."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            given = value.decode("latin-1").strip()
            if _SANE_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def route_template(scope: MutableMapping[str, Any]) -> str:
    """The template of the route that answered, or a fixed word for no route at all."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Request id in, request id out, latency observed, one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request inside its log context."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((HEADER.lower().encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = route_template(scope)
                observe_http(scope["method"], route, status, seconds)
                level = (
                    logging.WARNING
                    if status >= 500
                    else logging.INFO
                    if status >= 400
                    else logging.DEBUG
                )
                access_log.log(
                    level,
                    "%s %s -> %d in %.0f ms",
                    scope["method"],
                    route,
                    status,
                    seconds * 1000,
                    extra={"status": status, "duration_ms": round(seconds * 1000, 1)},
                )
