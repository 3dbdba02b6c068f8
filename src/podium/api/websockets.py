"""The opening handshake that Prefect clients perform on subscription sockets.

A Prefect 3 client asks for the `prefect` subprotocol and then sends
`{"type": "auth", "token": ...}`, to which the server replies
`{"type": "auth_success"}`. Older clients send no subprotocol and skip the
auth message. Podium has no API authentication, so any token is accepted.
"""

from __future__ import annotations

import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

logger = logging.getLogger(__name__)

# Close codes from RFC 6455, section 7.4.1.
PROTOCOL_ERROR = 1002
POLICY_VIOLATION = 1008

# A close frame's reason must fit in 123 bytes.
MAX_REASON_BYTES = 123


def close_reason(text: str) -> str:
    """Shorten `text` to fit a close frame."""
    encoded = text.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return text
    return encoded[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


def _requested_subprotocols(websocket: WebSocket) -> list[str]:
    return [
        name.strip()
        for header in websocket.headers.getlist("sec-websocket-protocol")
        for name in header.split(",")
    ]


async def accept_subscriber(websocket: WebSocket) -> bool:
    """Accept the socket and complete the auth exchange; False if the client left."""
    if "prefect" not in _requested_subprotocols(websocket):
        await websocket.accept()
        return True

    await websocket.accept(subprotocol="prefect")
    try:
        message = await websocket.receive_json()
    except WebSocketDisconnect:
        return False
    except ValueError:
        message = None
    if not isinstance(message, dict) or message.get("type") != "auth":
        await websocket.close(POLICY_VIOLATION, reason="Expected an 'auth' message.")
        return False
    await websocket.send_json({"type": "auth_success"})
    return True
