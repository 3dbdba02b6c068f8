"""Tests of SQLite's synchronous writer behind `Database.transaction`."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext import asyncio as sa_asyncio
from tests.storage.sqlite_items import items, items_database

from podium.storage.database import Database
from podium.storage.sqlite_writer import InlineAsyncConnection


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with items_database(tmp_path / "writer.db") as db:
        yield db


async def count_items(database: Database) -> int:
    async with database.read() as connection:
        result = await connection.execute(sa.select(sa.func.count()).select_from(items))
        return int(result.scalar_one())


async def test_writer_runs_statements_without_greenlets(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_greenlets(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the writer started a greenlet")

    monkeypatch.setattr(sa_asyncio.engine, "greenlet_spawn", no_greenlets)
    async with database.transaction() as connection:
        assert isinstance(connection, InlineAsyncConnection)
        await connection.execute(sa.insert(items), [{"name": "a"}, {"name": "b"}])
        first = await connection.scalar(sa.select(items.c.name).order_by(items.c.id))
        names = (await connection.scalars(sa.select(items.c.name))).all()
        raw = await connection.exec_driver_sql("SELECT count(*) FROM items")
        counted = await connection.run_sync(
            lambda sync: sync.execute(sa.select(sa.func.count()).select_from(items))
        )

    monkeypatch.undo()  # readers do use greenlets
    assert first == "a"
    assert sorted(names) == ["a", "b"]
    assert raw.scalar() == 2
    assert counted.scalar() == 2
    assert await count_items(database) == 2


async def test_writer_takes_write_lock_at_begin(
    database: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(str(tmp_path / "writer.db"), timeout=0.05)
    other.isolation_level = None
    try:
        async with database.transaction():
            # No statement has run yet, and the lock is already held.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_writer_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        async with database.transaction() as connection:
            await connection.execute(sa.insert(items).values(id=1, name="a"))
            await connection.execute(sa.insert(items).values(id=1, name="b"))

    assert await count_items(database) == 0
    async with database.transaction() as connection:
        await connection.execute(sa.insert(items).values(id=1, name="c"))
    assert await count_items(database) == 1


async def test_writer_savepoint_rolls_back_alone(database: Database) -> None:
    # begin_nested is AsyncConnection's own method, run in a greenlet.
    async with database.transaction() as connection:
        await connection.execute(sa.insert(items).values(name="kept"))
        savepoint = await connection.begin_nested()
        await connection.execute(sa.insert(items).values(name="dropped"))
        await savepoint.rollback()

    async with database.read() as connection:
        names = (await connection.execute(sa.select(items.c.name))).scalars().all()
    assert names == ["kept"]
