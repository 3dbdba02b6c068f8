"""A one-table SQLite database for the driver and writer tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa

from podium.storage.database import Database

items = sa.Table(
    "items",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
)


@asynccontextmanager
async def items_database(path: Path) -> AsyncIterator[Database]:
    """Open a Podium `Database` on a new SQLite file that has the items table."""
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.transaction() as connection:
        await connection.run_sync(items.metadata.create_all)
    try:
        yield db
    finally:
        await db.dispose()
