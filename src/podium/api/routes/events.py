"""Routes for `/events`: ingestion (HTTP and websocket), queries and the live stream."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import json
import logging
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from podium.api.dependencies import DatabaseDep
from podium.api.websockets import PROTOCOL_ERROR, accept_subscriber, close_reason
from podium.errors import PodiumError
from podium.events import EventsRuntime
from podium.events.stream import Subscription
from podium.schemas.events import (
    Countable,
    Event,
    EventCount,
    EventFilter,
    EventOrder,
    EventPage,
    ReceivedEvent,
    TimeUnit,
)
from podium.storage import events as storage
from podium.storage.database import Database

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/events", tags=["Events"])

# Page sizes of the Prefect 3.9.1 API: `/events/filter` pages and the
# replay of stored events to a new `/events/out` subscriber.
MAX_PAGE_SIZE = 50
BACKFILL_PAGE_SIZE = 250
# How far back a new subscriber's replay reaches, at most.
MAX_BACKFILL = dt.timedelta(minutes=15)
# Submitted but unstored events one `/events/in` socket may have before it
# waits for the writer; bounds memory when a client sends faster than disk.
MAX_PENDING_SUBMISSIONS = 5000


class InvalidPageToken(PodiumError):
    status_code = 403


def events_runtime(app: Any) -> EventsRuntime:
    """Return the app's event pipeline and stream, made on first use."""
    runtime: EventsRuntime | None = getattr(app.state, "events", None)
    if runtime is None:
        runtime = app.state.events = EventsRuntime(app.state.database)
    return runtime


def _runtime(request: Request) -> EventsRuntime:
    return events_runtime(request.app)


RuntimeDep = Annotated[EventsRuntime, Depends(_runtime)]


@router.post("", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def create_events(events: list[Event], runtime: RuntimeDep) -> None:
    """Store a batch of events and respond once they are committed."""
    await runtime.pipeline.start()
    await runtime.pipeline.submit(events)


@router.websocket("/in")
async def stream_events_in(websocket: WebSocket) -> None:
    """Receive one event per text message until the client disconnects."""
    if not await accept_subscriber(websocket):
        return
    pipeline = events_runtime(websocket.app).pipeline
    await pipeline.start()
    pending: set[asyncio.Future[None]] = set()

    def settle(future: asyncio.Future[None]) -> None:
        pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.error(
                "An event from /events/in was not stored: %s", future.exception()
            )

    try:
        async for text in websocket.iter_text():
            try:
                event = Event.model_validate_json(text)
            except pydantic.ValidationError as error:
                logger.warning("Dropped an invalid event from /events/in: %s", error)
                continue
            future = pipeline.submit([event])
            pending.add(future)
            future.add_done_callback(settle)
            if len(pending) >= MAX_PENDING_SUBMISSIONS:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    except WebSocketDisconnect:
        pass
    finally:
        # The client has sent these; they must be stored before the handler ends.
        if pending:
            await asyncio.wait(set(pending))


@router.post("/filter")
async def read_events(
    request: Request,
    db: DatabaseDep,
    filter: Annotated[EventFilter | None, Body()] = None,  # noqa: A002 - contract name
    limit: Annotated[int, Body(ge=0, le=MAX_PAGE_SIZE, embed=True)] = MAX_PAGE_SIZE,
) -> EventPage:
    """Return the first page of matching events and a link to the next one."""
    return await _read_page(request, db, filter or EventFilter(), limit, 0, None)


@router.get("/filter/next")
async def read_account_events_page(
    request: Request,
    db: DatabaseDep,
    page_token: Annotated[str, Query(alias="page-token")],
) -> EventPage:
    """Return the page of events that a `next_page` link points to."""
    event_filter, total, limit, offset = _decode_page_token(page_token)
    return await _read_page(request, db, event_filter, limit, offset, total)


async def _read_page(
    request: Request,
    db: Database,
    event_filter: EventFilter,
    limit: int,
    offset: int,
    total: int | None,
) -> EventPage:
    async with db.read() as connection:
        if total is None:
            total = await storage.count_events(connection, event_filter)
        events = await storage.read_events(connection, event_filter, limit, offset)
    next_page = None
    if offset + limit < total and limit > 0:
        token = _encode_page_token(event_filter, total, limit, offset + limit)
        next_page = f"{request.base_url}api/events/filter/next?page-token={token}"
    return EventPage(events=events, total=total, next_page=next_page)


def _encode_page_token(
    event_filter: EventFilter, total: int, limit: int, offset: int
) -> str:
    state = {
        "filter": event_filter.model_dump(mode="json"),
        "count": total,
        "page_size": limit,
        "offset": offset,
    }
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _decode_page_token(token: str) -> tuple[EventFilter, int, int, int]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (
            EventFilter.model_validate(state["filter"]),
            int(state["count"]),
            min(int(state["page_size"]), MAX_PAGE_SIZE),
            max(int(state["offset"]), 0),
        )
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise InvalidPageToken(
            "Invalid page token: use the next_page link of an /events/filter response."
        ) from error


@router.post("/count-by/{countable}")
async def count_account_events(
    db: DatabaseDep,
    countable: Annotated[Countable, Path()],
    filter: Annotated[EventFilter, Body()],  # noqa: A002 - contract name
    time_unit: Annotated[TimeUnit, Body()] = TimeUnit.day,
    time_interval: Annotated[float, Body(ge=0.01)] = 1.0,
) -> list[EventCount]:
    """Count matching events per time bucket, event name or resource."""
    async with db.read() as connection:
        return await storage.count_events_by(
            connection, filter, countable, time_unit, time_interval
        )


@router.websocket("/out")
async def stream_workspace_events_out(websocket: WebSocket) -> None:
    """Replay recent matching events, then send new ones as they are stored."""
    if not await accept_subscriber(websocket):
        return
    message = await _receive_filter_message(websocket)
    if message is None:
        return
    event_filter, backfill = message

    # Replay is oldest first and reaches back at most MAX_BACKFILL.
    earliest = dt.datetime.now(dt.UTC) - MAX_BACKFILL
    event_filter.occurred.since = max(event_filter.occurred.since, earliest)
    event_filter.order = EventOrder.ASC

    runtime = events_runtime(websocket.app)
    # Subscribe before replaying so that no event falls between the two.
    async with runtime.stream.subscribe(event_filter) as subscription:
        try:
            sent = (
                await _backfill(websocket, websocket.app.state.database, event_filter)
                if backfill
                else set()
            )
            await _send_live(websocket, subscription, sent)
        except WebSocketDisconnect:
            pass


async def _receive_filter_message(
    websocket: WebSocket,
) -> tuple[EventFilter, bool] | None:
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
        event_filter = EventFilter.model_validate(message.get("filter") or {})
    except pydantic.ValidationError as error:
        await websocket.close(
            PROTOCOL_ERROR, reason=close_reason(f"Invalid filter: {error}")
        )
        return None
    return event_filter, bool(message.get("backfill", True))


async def _backfill(
    websocket: WebSocket, db: Database, event_filter: EventFilter
) -> set[Any]:
    sent = set()
    offset = 0
    while True:
        async with db.read() as connection:
            page = await storage.read_events(
                connection, event_filter, BACKFILL_PAGE_SIZE, offset
            )
        for event in page:
            sent.add(event.id)
            await _send_event(websocket, event)
        if len(page) < BACKFILL_PAGE_SIZE:
            return sent
        offset += len(page)


async def _send_live(
    websocket: WebSocket, subscription: Subscription, replayed: set[Any]
) -> None:
    # The client never sends after the filter, so a finished receive means it left.
    disconnected = asyncio.ensure_future(websocket.receive())
    try:
        while not subscription.overflowed:
            next_event = asyncio.ensure_future(subscription.get())
            await asyncio.wait(
                {next_event, disconnected}, return_when=asyncio.FIRST_COMPLETED
            )
            if not next_event.done():
                next_event.cancel()
                return
            event = next_event.result()
            if event.id in replayed:
                replayed.discard(event.id)
                continue
            await _send_event(websocket, event)
        await websocket.close(
            PROTOCOL_ERROR, reason="The subscriber fell too far behind."
        )
    finally:
        disconnected.cancel()


async def _send_event(websocket: WebSocket, event: ReceivedEvent) -> None:
    if websocket.client_state != WebSocketState.CONNECTED:
        raise WebSocketDisconnect()
    await websocket.send_text(
        json.dumps({"type": "event", "event": event.model_dump(mode="json")})
    )
