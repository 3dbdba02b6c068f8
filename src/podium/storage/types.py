"""Column types whose behaviour must match on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect

# sqlalchemy.dialects.postgresql is imported only inside the methods that a
# PostgreSQL database calls: importing it loads every PostgreSQL driver
# module, 2 MB of resident memory that a server on SQLite never uses.


class _SQLiteDateTimeText(sqlite.DATETIME):
    """SQLite's DATETIME text, handed to `Timestamp` unparsed when read.

    SQLAlchemy parses each value with a regular expression. The C parser of
    `datetime.fromisoformat` reads the same fixed format several times faster,
    which matters when a listing reads thousands of timestamps.
    """

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        # The same text as SQLAlchemy's format, written by the C isoformat.
        def process(value: dt.datetime | None) -> str | None:
            if value is None:
                return None
            return value.isoformat(" ", "microseconds")

        return process


def as_stored(value: dt.datetime) -> dt.datetime:
    """Return the instant a `Timestamp` column stores and reads back: UTC.

    A naive value is taken to be UTC already.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class Timestamp(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp.

    PostgreSQL stores `timestamp with time zone`. SQLite has no such type, so
    values are stored as naive UTC text in one fixed format, which keeps
    lexical order equal to time order for comparisons and sorting.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import TIMESTAMP

            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return _SQLiteDateTimeText()

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        value = as_stored(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self, value: dt.datetime | str | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class JSONDocument(sa.TypeDecorator[Any]):
    """A JSON document column: JSONB on PostgreSQL, JSON text elsewhere.

    JSONB lets containment queries use indexes. Python None is stored as
    SQL NULL. Expressions get the operators of `sa.JSON`, such as
    `column["key"].as_string()`, on every backend.
    """

    impl = sa.JSON(none_as_null=True)
    cache_ok = True
    # Copied from sa.JSON, whose dict and list values cannot be hashed.
    # SQLAlchemy reads the flag when it removes duplicate result rows.
    hashable = False

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(self.impl_instance)


JSON = JSONDocument()
