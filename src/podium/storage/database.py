"""Engines and transactions for the two supported backends.

SQLite allows one writer at a time. Podium keeps one write connection per
process, takes an in-process lock around every write transaction and opens
it with `BEGIN IMMEDIATE`, so two writers never race to upgrade a read lock
(the usual cause of "database is locked"). Reads use their own pool of
threads and, in WAL mode, do not wait for the write lock. A second process on the same file (for
example `podium services start`) waits on SQLite's busy timeout instead of
failing.

PostgreSQL gets one ordinary pool; row locks order concurrent writers there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from podium.storage.sqlite_driver import connect_sqlite
from podium.storage.sqlite_writer import (
    InlineAsyncConnection,
    begin_transactions_with,
    create_writer_engine,
)

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 60_000

# The writer does not checkpoint the WAL itself: a checkpoint copies pages
# into the database file and syncs it, which would stall the event loop the
# writer runs on. After this many write transactions a worker thread runs a
# passive checkpoint instead (SQLite's own default is about 1000 pages).
CHECKPOINT_EVERY_TRANSACTIONS = 200


# A run of 19 or more digits may be an integer past 64 bits. orjson would
# turn it into a float, so such text goes to the standard library instead.
_LONG_NUMBER = re.compile(r"\d{19}")


def load_json(text: str) -> Any:
    """Decode a stored JSON document.

    orjson decodes several times faster than the standard library, which
    shows in listings that read thousands of documents. The standard
    library reads what orjson would change or refuse: long integers, NaN
    and Infinity.
    """
    if _LONG_NUMBER.search(text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dump_json(value: Any) -> str:
    """Encode a document for a JSON column.

    orjson is several times faster than the standard library. It raises on
    what it cannot encode (integers past 64 bits, keys that are not strings),
    which the standard library then encodes as before.
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


class Database:
    """Connections to one Podium database, SQLite or PostgreSQL."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = sa.make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(
                f"Unsupported database URL {self.url.render_as_string()!r}: use "
                "sqlite+aiosqlite:///PATH or postgresql+asyncpg://HOST/NAME."
            )
        self._write_lock: asyncio.Lock | None = None
        self._transactions_since_checkpoint = 0
        self._checkpoint_task: asyncio.Task[None] | None = None
        # The engine whose connections `transaction` opens.
        self.sync_write_engine: sa.Engine
        # PostgreSQL's engine. SQLite's writer has no asyncio engine, so None.
        self.write_engine: AsyncEngine | None = None
        if self.dialect == "sqlite":
            self._prepare_sqlite_file()
            self.sync_write_engine = create_writer_engine(
                os.path.abspath(str(self.url.database)),
                SQLITE_BUSY_TIMEOUT_MS / 1000,
                partial(_configure_sqlite, writer=True),
                echo=echo,
                json_serializer=dump_json,
                json_deserializer=load_json,
            )
            self.read_engine = self._sqlite_read_engine(echo, pool_size=8)
        else:
            self.write_engine = create_async_engine(
                self.url,
                echo=echo,
                pool_size=10,
                max_overflow=20,
                pool_pre_ping=True,
                json_serializer=dump_json,
                json_deserializer=load_json,
            )
            self.read_engine = self.write_engine
            self.sync_write_engine = self.write_engine.sync_engine

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def _prepare_sqlite_file(self) -> None:
        database = self.url.database
        if not database or database == ":memory:":
            raise ValueError("Podium needs a SQLite file, not an in-memory database.")
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    def _sqlite_read_engine(self, echo: bool, pool_size: int) -> AsyncEngine:
        # Readers keep their threads, so a long read does not block the
        # writer on the event loop. Each statement makes one trip to the
        # connection's thread instead of four (see podium.storage.sqlite_driver).
        engine = create_async_engine(
            self.url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=0,
            json_serializer=dump_json,
            json_deserializer=load_json,
            async_creator=partial(
                connect_sqlite,
                os.path.abspath(str(self.url.database)),
                timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            ),
        )

        @sa.event.listens_for(engine.sync_engine, "connect")
        def configure(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control from the driver, so that the statement
            # set below decides how each transaction starts.
            dbapi_connection.isolation_level = None
            _configure_sqlite(dbapi_connection, writer=False)

        # A read transaction reads one snapshot of the database.
        begin_transactions_with(engine.sync_engine, "BEGIN")
        return engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """Open a write transaction that commits on success, rolls back on error.

        Callbacks given to `after_commit` inside it run once it has committed.
        """
        lock: contextlib.AbstractAsyncContextManager[object]
        if self.is_sqlite:
            if self._write_lock is None:
                self._write_lock = asyncio.Lock()
            lock = self._write_lock
        else:
            lock = contextlib.nullcontext()
        async with lock, self._begin() as connection:
            info = connection.sync_connection.info  # type: ignore[union-attr]
            info[_AFTER_COMMIT_KEY] = []
            try:
                yield connection
            finally:
                # Popped on error too, so a rolled-back transaction's
                # callbacks never reach the next user of the connection.
                callbacks = info.pop(_AFTER_COMMIT_KEY)
        if self.is_sqlite:
            self._after_sqlite_write()
        for callback in callbacks:
            callback()

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncConnection]:
        if self.write_engine is not None:
            async with self.write_engine.begin() as connection:
                yield connection
            return
        # SQLite: the synchronous writer commits or rolls back in place.
        with self.sync_write_engine.begin() as sync_connection:
            yield InlineAsyncConnection(sync_connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Open a transaction for reads; on SQLite it reads one consistent snapshot."""
        async with self.read_engine.begin() as connection:
            yield connection

    def _after_sqlite_write(self) -> None:
        self._transactions_since_checkpoint += 1
        if (
            self._transactions_since_checkpoint >= CHECKPOINT_EVERY_TRANSACTIONS
            and self._checkpoint_task is None
        ):
            self._transactions_since_checkpoint = 0
            self._checkpoint_task = asyncio.create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(_checkpoint_wal, str(self.url.database))
        except Exception:
            # A later write transaction schedules another. Until then the
            # WAL grows, which costs disk space but loses no data.
            logger.exception("WAL checkpoint of %s failed", self.url.database)
        finally:
            self._checkpoint_task = None

    async def dispose(self) -> None:
        if self._checkpoint_task is not None:
            await self._checkpoint_task
        if self.write_engine is None:
            self.sync_write_engine.dispose()
        else:
            await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def _configure_sqlite(dbapi_connection: Any, writer: bool) -> None:
    """Set the pragmas of a new SQLite connection, a reader's or the writer's."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # RETURNING and multi-row statements keep their rows in temporary
    # tables. On disk, each one created and deleted a file in /var/tmp.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    if writer:
        # Checkpoints run in a worker thread (see CHECKPOINT_EVERY_TRANSACTIONS).
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


_AFTER_COMMIT_KEY = "podium.after_commit"


def after_commit(connection: AsyncConnection, callback: Callable[[], object]) -> bool:
    """Run `callback` once the write transaction of `connection` commits.

    Returns False, and keeps nothing, when the connection was not opened by
    `Database.transaction`, so the caller must do the work itself.
    """
    info = connection.sync_connection.info  # type: ignore[union-attr]
    callbacks = info.get(_AFTER_COMMIT_KEY)
    if callbacks is None:
        return False
    callbacks.append(callback)
    return True


def _checkpoint_wal(path: str) -> None:
    """Copy the WAL's committed pages into the SQLite file, waiting on no one."""
    connection = sqlite3.connect(
        os.path.abspath(path), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
    )
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()
