"""One log line per HTTP request, on the `podium.access` logger.

The middleware is only installed when `Settings.access_log` is true, so it
costs nothing otherwise. Lines carry the client address, method, path,
status and duration, never headers or bodies.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("podium.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            client = scope.get("client")
            address = f"{client[0]}:{client[1]}" if client else "-"
            logger.info(
                '%s "%s %s HTTP/%s" %d %.1f ms',
                address,
                scope["method"],
                scope["path"],
                scope.get("http_version", "1.1"),
                status,
                (time.perf_counter() - started) * 1000,
            )
