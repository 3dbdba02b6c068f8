"""Column types whose behaviour must match on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect


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
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return _SQLiteDateTimeText()

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
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


# JSON documents: JSONB on PostgreSQL so containment queries can use indexes.
JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
