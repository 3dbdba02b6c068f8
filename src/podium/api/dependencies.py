"""Request dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Request

from podium.settings import Settings
from podium.storage.database import Database

# The largest page any `/filter` endpoint returns, as in the Prefect API.
MAX_LIMIT = 200
# The largest offset a database can bind (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1


# These are coroutines because FastAPI runs a plain-function dependency in a
# worker thread, which would cost a thread hand-off on every request.
async def get_database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def _limit(
    limit: int | None = Body(
        None, embed=True, ge=0, le=MAX_LIMIT, description="The page size."
    ),
) -> int:
    # The Prefect client sends `"limit": null` to mean the default page size.
    return MAX_LIMIT if limit is None else limit


async def _offset(
    offset: int | None = Body(
        None,
        embed=True,
        ge=0,
        le=MAX_OFFSET,
        description="The number of items to skip.",
    ),
) -> int:
    return 0 if offset is None else offset


def LimitBody() -> Any:  # noqa: N802 - named like FastAPI's own Body()
    """Declare a `limit` body field: the page size, at most `MAX_LIMIT` (null: the maximum)."""
    return Depends(_limit)


def OffsetBody() -> Any:  # noqa: N802
    """Declare an `offset` body field: the number of items to skip (null: 0)."""
    return Depends(_offset)
