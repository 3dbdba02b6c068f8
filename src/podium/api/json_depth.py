"""Reject JSON request bodies nested too deeply to store and send back.

Python's parser accepts about 1000 levels, but orjson and pydantic stop
serialising at about 255, so a deeper value could be stored and then fail
every response that includes it. This middleware returns 422 before any
handler runs, so nothing is written.
"""

from __future__ import annotations

import logging

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# orjson (3.x) raises when it serialises a value nested past 254 levels.
ORJSON_MAX_DEPTH = 254
# Leaves room below that limit for the objects and lists that a response
# wraps around a stored value.
MAX_JSON_DEPTH = 200

_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))


def _too_deep(body: bytes) -> bool:
    # A body with fewer brackets than the limit cannot nest past it, and
    # counting bytes costs far less than parsing, so most bodies stop here.
    if body.count(b"{") + body.count(b"[") <= MAX_JSON_DEPTH:
        return False
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False  # FastAPI reports the parse error itself
    # Wrapping the value in lists moves orjson's own depth check down to
    # MAX_JSON_DEPTH, which measures the depth in C instead of in a Python
    # walk. A parsed value contains nothing else that orjson cannot serialise.
    for _ in range(ORJSON_MAX_DEPTH - MAX_JSON_DEPTH):
        value = [value]
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return True
    return False


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return b"json" in value
    return True  # FastAPI parses a body without a content type as JSON


class JsonDepthLimitMiddleware:
    """ASGI middleware that rejects JSON bodies nested past `MAX_JSON_DEPTH`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _BODY_METHODS
            or not _is_json(scope)
        ):
            await self.app(scope, receive, send)
            return

        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break

        if _too_deep(b"".join(chunks)):
            logger.warning(
                "Rejected %s %s: the JSON body nests more than %d levels.",
                scope["method"],
                scope["path"],
                MAX_JSON_DEPTH,
            )
            await _send_rejection(send)
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)


async def _send_rejection(send: Send) -> None:
    message = (
        f"Invalid request: the JSON body nests more than {MAX_JSON_DEPTH} "
        "objects or arrays deep, so flatten the data."
    )
    body = orjson.dumps(
        {
            "detail": message,
            "exception_message": "Invalid request received.",
            "exception_detail": [
                {"type": "json_too_deep", "loc": ["body"], "msg": message}
            ],
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
