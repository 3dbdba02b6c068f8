"""Routes for `/logs` and the log download of a flow run."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Body, FastAPI, Request, WebSocket, status
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.api.log_stream import LogStream
from podium.api.websockets import PROTOCOL_ERROR, accept_subscriber, close_reason
from podium.schemas.logs import Log, LogCreate, LogFilter, LogSort
from podium.storage import logs as storage
from podium.storage.database import Database

router = APIRouter(prefix="/logs", tags=["Logs"])
flow_run_logs = APIRouter(prefix="/flow_runs", tags=["Flow Runs"])

CSV_COLUMNS = ["timestamp", "level", "flow_run_id", "task_run_id", "message"]


def log_stream(app: FastAPI) -> LogStream:
    """Return the app's log stream, creating it on first use."""
    stream: LogStream | None = getattr(app.state, "log_stream", None)
    if stream is None:
        stream = app.state.log_stream = LogStream()
    return stream


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_logs(logs: list[LogCreate], request: Request, db: DatabaseDep) -> None:
    async with db.transaction() as connection:
        created = await storage.create_logs(connection, logs)
    log_stream(request.app).publish(created)


@router.post("/filter")
async def read_logs(
    db: DatabaseDep,
    logs: Annotated[LogFilter | None, Body(embed=True)] = None,
    sort: Annotated[LogSort | None, Body()] = LogSort.TIMESTAMP_ASC,
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
) -> list[Log]:
    async with db.read() as connection:
        return await storage.read_logs(
            connection,
            storage.logs_where(logs),
            sort or LogSort.TIMESTAMP_ASC,
            limit,
            offset,
        )


@router.websocket("/out")
async def stream_logs_out(websocket: WebSocket) -> None:
    """Send each new log that matches the client's filter, until it disconnects."""
    if not await accept_subscriber(websocket):
        return
    log_filter = await _receive_filter(websocket)
    if log_filter is None:
        return

    stream = log_stream(websocket.app)
    queue = stream.subscribe(log_filter)
    try:
        await _send_until_disconnect(websocket, queue)
    finally:
        stream.unsubscribe(queue)


async def _receive_filter(websocket: WebSocket) -> LogFilter | None:
    try:
        message = await websocket.receive_json()
    except WebSocketDisconnect:
        return None
    except ValueError:
        message = None
    if not isinstance(message, dict) or message.get("type") != "filter":
        await websocket.close(PROTOCOL_ERROR, reason="Expected a 'filter' message.")
        return None
    try:
        return LogFilter.model_validate(message.get("filter") or {})
    except ValidationError as exc:
        reason = close_reason(f"Invalid filter: {exc.errors()[0]['msg']}")
        await websocket.close(PROTOCOL_ERROR, reason=reason)
        return None


async def _send_until_disconnect(
    websocket: WebSocket, queue: asyncio.Queue[Log]
) -> None:
    # A pending receive completes when the client disconnects, which ends the
    # loop even while no logs come. Messages the client sends are ignored.
    received = asyncio.ensure_future(websocket.receive())
    try:
        while True:
            next_log = asyncio.ensure_future(queue.get())
            await asyncio.wait(
                {next_log, received}, return_when=asyncio.FIRST_COMPLETED
            )
            if received.done():
                if _is_disconnect(received):
                    next_log.cancel()
                    return
                received = asyncio.ensure_future(websocket.receive())
            if not next_log.done():
                next_log.cancel()
                continue
            log = next_log.result()
            try:
                await websocket.send_json(
                    {"type": "log", "log": log.model_dump(mode="json")}
                )
            except (WebSocketDisconnect, RuntimeError, OSError):
                return
    finally:
        received.cancel()


def _is_disconnect(received: asyncio.Future[Message]) -> bool:
    if received.exception() is not None:
        return True
    return bool(received.result()["type"] == "websocket.disconnect")


@flow_run_logs.get("/{id}/logs/download")
async def download_logs(id: UUID, db: DatabaseDep) -> StreamingResponse:  # noqa: A002
    """Return every log of a flow run as CSV, oldest first."""
    async with db.read() as connection:
        name = await storage.read_flow_run_name(connection, id)
    filename = quote(f"{name}-logs.csv", safe="")
    return StreamingResponse(
        _csv_rows(db, id),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"flow-run-logs.csv\"; filename*=UTF-8''{filename}"
            )
        },
    )


async def _csv_rows(db: Database, flow_run_id: UUID) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    async with db.read() as connection:
        async for page in storage.iterate_flow_run_logs(connection, flow_run_id):
            for log in page:
                writer.writerow(
                    [
                        log.timestamp.isoformat(),
                        log.level,
                        log.flow_run_id,
                        log.task_run_id,
                        log.message,
                    ]
                )
            yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
