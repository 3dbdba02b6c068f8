"""Tests of the one-trip aiosqlite connection behind Podium's SQLite engines."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.storage.sqlite_items import items, items_database

from podium.storage.database import Database
from podium.storage.sqlite_driver import OneTripConnection, connect_sqlite


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with items_database(tmp_path / "driver.db") as db:
        yield db


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every call that a reader connection sends to its thread."""
    calls: list[object] = []
    send = OneTripConnection._execute

    async def counted(
        self: OneTripConnection, fn: object, *args: object, **kwargs: object
    ) -> object:
        calls.append(fn)
        return await send(self, fn, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(OneTripConnection, "_execute", counted)
    return calls


async def test_driver_returns_rows(database: Database) -> None:
    async with database.transaction() as connection:
        await connection.execute(sa.insert(items), [{"name": "a"}, {"name": "b"}])
    async with database.read() as connection:
        rows = (await connection.execute(sa.select(items.c.name))).scalars().all()

    assert sorted(rows) == ["a", "b"]


async def test_driver_reports_rowcount(database: Database) -> None:
    async with database.transaction() as connection:
        await connection.execute(sa.insert(items), [{"name": "a"}, {"name": "a"}])
        result = await connection.execute(
            sa.update(items).where(items.c.name == "a").values(name="b")
        )

    assert result.rowcount == 2


async def test_driver_returning_rows(database: Database) -> None:
    async with database.transaction() as connection:
        result = await connection.execute(
            sa.insert(items).returning(items.c.name), [{"name": "x"}, {"name": "y"}]
        )
        names = sorted(result.scalars().all())

    assert names == ["x", "y"]


async def test_driver_one_trip_per_statement(
    database: Database, trips: list[object]
) -> None:
    async with database.read():
        pass  # opens the reader connection
    trips.clear()
    async with database.read() as connection:
        await connection.execute(sa.select(items))
        await connection.execute(sa.select(items.c.id))

    # BEGIN travels with the first statement; the commit is the third trip,
    # and the pool's rollback after it makes none.
    assert len(trips) == 3


async def test_driver_rolls_back_failed_transaction(database: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        async with database.transaction() as connection:
            await connection.execute(sa.insert(items).values(id=1, name="a"))
            await connection.execute(sa.insert(items).values(id=1, name="b"))
    async with database.read() as connection:
        count = (
            await connection.execute(sa.select(sa.func.count()).select_from(items))
        ).scalar_one()

    assert count == 0


async def test_driver_empty_transaction_sends_nothing(
    database: Database, trips: list[object]
) -> None:
    async with database.read():
        pass  # opens the reader connection
    trips.clear()
    async with database.read():
        pass

    assert trips == []


async def test_driver_begin_immediate_takes_write_lock(tmp_path: Path) -> None:
    path = str(tmp_path / "lock.db")
    first = await connect_sqlite(path, timeout=0.05, isolation_level=None)
    second = await connect_sqlite(path, timeout=0.05, isolation_level=None)
    try:
        await (first.cursor()).execute("CREATE TABLE t (x)")
        holder = first.cursor()
        await holder.execute("BEGIN IMMEDIATE")
        await holder.execute("INSERT INTO t VALUES (1)")
        waiter = second.cursor()
        await waiter.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await waiter.execute("SELECT 1")
    finally:
        await first.close()
        await second.close()


async def test_driver_fetches_in_parts(tmp_path: Path) -> None:
    connection = await connect_sqlite(str(tmp_path / "parts.db"))
    try:
        cursor = connection.cursor()
        await cursor.execute("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3")
        first = await cursor.fetchone()
        middle = await cursor.fetchmany(1)
        rest = await cursor.fetchall()
    finally:
        await connection.close()

    assert (first, middle, rest) == ((1,), [(2,)], [(3,)])


async def test_writer_leaves_wal_checkpoints_to_a_thread(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.storage import database as database_module

    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY_TRANSACTIONS", 20)
    main_file = tmp_path / "driver.db"
    async with database.transaction() as connection:
        autocheckpoint = await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")
        assert autocheckpoint.scalar() == 0

    size_before = main_file.stat().st_size
    for index in range(20):
        async with database.transaction() as connection:
            await connection.execute(
                sa.insert(items).values(name=f"{index}-" + "x" * 20_000)
            )
    assert database._checkpoint_task is not None
    await database._checkpoint_task

    # The rows reached the main file, which only a checkpoint writes.
    assert main_file.stat().st_size > size_before + 10 * 20_000
