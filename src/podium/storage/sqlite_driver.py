"""An aiosqlite connection that runs each statement in one trip to its thread.

aiosqlite runs every call on the connection's own thread and hands the
result back to the event loop. SQLAlchemy's aiosqlite adapter makes four
such trips per statement: create a cursor, execute, fetch all rows and
close the cursor. Each trip costs a thread switch and an event-loop turn,
and inside a write transaction every turn also lets other requests run
while the single SQLite writer waits. `connect_sqlite` returns a connection
whose cursors execute, fetch every row and close in a single trip, so a
statement costs one trip. The rows are buffered, which is what the adapter
does anyway for cursors that are not server-side. A BEGIN is sent with
the statement that follows it, and a commit or rollback with no open
transaction is skipped, which saves two more trips per transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite


class _Outcome:
    """The rows and cursor attributes that one statement produced."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, fetch: bool) -> None:
        self.description = cursor.description
        self.rows: list[Any] = cursor.fetchall() if fetch and self.description else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


# Statements that only open a transaction. They are sent with the next one.
_BEGIN_STATEMENTS = frozenset(("BEGIN", "BEGIN IMMEDIATE", "BEGIN DEFERRED"))


def _run(
    connection: sqlite3.Connection,
    call: Callable[[sqlite3.Cursor], object],
    begin: str | None,
) -> _Outcome:
    # Runs on the connection's thread. It sends a pending BEGIN first, then
    # executes, reads every row and closes the cursor.
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        call(cursor)
        return _Outcome(cursor, fetch=True)
    finally:
        cursor.close()


class BufferedCursor:
    """A cursor whose statements run, fetch and close in one thread call.

    Rows are kept in memory until fetched, so this suits the short results
    of an application server and not streaming very large ones.
    """

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._outcome: _Outcome | None = None
        self._position = 0

    async def __aenter__(self) -> BufferedCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(
        self, sql: str, parameters: Sequence[Any] | None = None
    ) -> BufferedCursor:
        if sql in _BEGIN_STATEMENTS and not parameters:
            # Nothing can run between BEGIN and the next statement, so they
            # share one trip. A failed BEGIN is raised by that statement.
            self._connection.pending_begin = sql
            self._outcome = None
            return self
        arguments = [] if parameters is None else parameters
        return await self._call(lambda cursor: cursor.execute(sql, arguments))

    async def executemany(
        self, sql: str, parameters: Iterable[Sequence[Any]]
    ) -> BufferedCursor:
        return await self._call(lambda cursor: cursor.executemany(sql, parameters))

    async def _call(self, call: Callable[[sqlite3.Cursor], object]) -> BufferedCursor:
        connection = self._connection
        begin, connection.pending_begin = connection.pending_begin, None
        self._outcome = await connection._execute(_run, connection._conn, call, begin)
        self._position = 0
        return self

    def _remaining(self) -> list[Any]:
        return self._outcome.rows if self._outcome is not None else []

    async def fetchone(self) -> Any:
        rows = self._remaining()
        if self._position >= len(rows):
            return None
        self._position += 1
        return rows[self._position - 1]

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._remaining()
        end = self._position + (size or self.arraysize)
        chunk = rows[self._position : end]
        self._position += len(chunk)
        return chunk

    async def fetchall(self) -> list[Any]:
        rows = self._remaining()
        chunk = rows[self._position :]
        self._position = len(rows)
        return chunk

    async def close(self) -> None:
        # The SQLite cursor was closed on the connection's thread already.
        return None

    @property
    def description(self) -> Any:
        return self._outcome.description if self._outcome is not None else None

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount if self._outcome is not None else -1

    @property
    def lastrowid(self) -> int | None:
        return self._outcome.lastrowid if self._outcome is not None else None


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors are `BufferedCursor`s.

    A BEGIN waits in `pending_begin` and runs with the next statement. A
    commit or rollback that comes first drops it, and one with no open
    transaction makes no trip, because SQLite would have nothing to end.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending_begin: str | None = None

    def cursor(self) -> BufferedCursor:  # type: ignore[override]
        # No thread call here: the SQLite cursor is made when a statement runs.
        return BufferedCursor(self)

    async def commit(self) -> None:
        if self._nothing_to_end():
            return
        await super().commit()

    async def rollback(self) -> None:
        if self._nothing_to_end():
            return
        await super().rollback()

    def _nothing_to_end(self) -> bool:
        # SQLAlchemy's pool also rolls back each connection it takes back,
        # after the commit, so skipping a trip here saves one per transaction.
        if self.pending_begin is not None:
            self.pending_begin = None
            return True
        raw = self._connection
        return raw is not None and not raw.in_transaction


async def connect_sqlite(path: str, **connect_args: Any) -> OneTripConnection:
    """Open a `OneTripConnection` to a SQLite file; `connect_args` go to sqlite3."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(path, **connect_args)

    connection = OneTripConnection(connector, iter_chunk_size=64)
    # aiosqlite.connect (0.22) marks the thread as a daemon too, so that a
    # connection left open does not keep the interpreter from exiting.
    connection._thread.daemon = True
    return await connection
