"""SQLite's write connection, run synchronously on the event loop's thread.

Podium serialises its SQLite writes behind one lock, and each statement of
a write transaction takes tens of microseconds, so the writer runs its
statements in place instead of on a driver thread. It also skips
SQLAlchemy's asyncio layer: `AsyncConnection.execute` starts a new greenlet
for every statement, and on the writer that cost more than the statement.
`InlineAsyncConnection` offers the `AsyncConnection` interface that the
storage modules use, over a synchronous connection of the standard sqlite3
driver.

NOTE: a statement blocks the loop while it runs. That includes waiting on
SQLite's busy timeout when a second process, such as `podium services
start`, holds the database lock. Such a wait lasts as long as that
process's write transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


def create_writer_engine(
    path: str,
    timeout_seconds: float,
    configure: Callable[[sqlite3.Connection], None],
    **engine_options: Any,
) -> sa.Engine:
    """Return a one-connection synchronous engine for the SQLite file at `path`.

    `configure` runs on each new sqlite3 connection. Every transaction of the
    engine starts with BEGIN IMMEDIATE.
    """

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(
            path, timeout=timeout_seconds, check_same_thread=False
        )
        # Transactions are started by do_begin below, not by the driver.
        connection.isolation_level = None
        configure(connection)
        return connection

    engine = sa.create_engine(
        "sqlite:///" + path,
        creator=connect,
        poolclass=sa.QueuePool,
        pool_size=1,
        max_overflow=0,
        **engine_options,
    )

    begin_transactions_with(engine, "BEGIN IMMEDIATE")
    return engine


def begin_transactions_with(engine: sa.Engine, begin_sql: str) -> None:
    """Make every transaction of `engine` start with `begin_sql`.

    It sets the dialect's `do_begin` hook rather than a "begin" event
    listener, because any event listener on an engine makes SQLAlchemy
    dispatch events around every statement it runs.
    """

    def do_begin(dbapi_connection: Any) -> None:
        dbapi_connection.cursor().execute(begin_sql)

    engine.dialect.do_begin = do_begin  # type: ignore[method-assign]


class InlineAsyncConnection(AsyncConnection):
    """An `AsyncConnection` whose statements run at once on a synchronous connection.

    `execute`, `exec_driver_sql` and `run_sync` run the statement directly,
    and `scalar` and `scalars` go through `execute`. Every other method is
    `AsyncConnection`'s own, which runs the synchronous call in a greenlet.
    That works with this driver too, as the writer tests check with
    `begin_nested`.
    """

    def __init__(self, sync_connection: sa.Connection) -> None:
        # AsyncConnection's constructor needs an AsyncEngine, which refuses a
        # synchronous driver, so the attributes it would set are set here.
        self.engine = None  # type: ignore[assignment]
        self.sync_engine = sync_connection.engine
        self.sync_connection = self._assign_proxied(sync_connection)

    async def execute(  # type: ignore[override]
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> Any:
        return self.sync_connection.execute(  # type: ignore[union-attr]
            statement, parameters, execution_options=execution_options
        )

    async def exec_driver_sql(  # type: ignore[override]
        self,
        statement: str,
        parameters: Any = None,
        execution_options: Any = None,
    ) -> Any:
        return self.sync_connection.exec_driver_sql(  # type: ignore[union-attr]
            statement, parameters, execution_options
        )

    async def run_sync(  # type: ignore[override]
        self, fn: Callable[..., Any], *arg: Any, **kw: Any
    ) -> Any:
        return fn(self.sync_connection, *arg, **kw)
