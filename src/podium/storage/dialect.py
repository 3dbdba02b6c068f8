"""SQL that differs between SQLite and PostgreSQL, behind one set of functions.

Query modules call these instead of checking the dialect themselves. Each
function returns a clause that compiles on both backends: JSON membership
uses JSONB containment on PostgreSQL and `json_each` on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class _JsonArrayHas(FunctionElement[bool]):
    """True when a JSON array column contains one given scalar value."""

    inherit_cache = True
    type = sa.Boolean()
    name = "json_array_has"


class _JsonArrayLength(FunctionElement[int]):
    inherit_cache = True
    type = sa.Integer()
    name = "json_array_length"


@compiles(_JsonArrayHas, "postgresql")
def _pg_array_has(element: _JsonArrayHas, compiler: Any, **kw: Any) -> str:
    column, value = element.clauses
    column_sql = compiler.process(column, **kw)
    value_sql = compiler.process(value, **kw)
    return f"({column_sql} @> jsonb_build_array(CAST({value_sql} AS TEXT)))"


@compiles(_JsonArrayHas, "sqlite")
def _sqlite_array_has(element: _JsonArrayHas, compiler: Any, **kw: Any) -> str:
    column, value = element.clauses
    column_sql = compiler.process(column, **kw)
    value_sql = compiler.process(value, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({column_sql}) WHERE value = {value_sql})"


@compiles(_JsonArrayLength)
def _array_length(element: _JsonArrayLength, compiler: Any, **kw: Any) -> str:
    return f"json_array_length({compiler.process(element.clauses, **kw)})"


@compiles(_JsonArrayLength, "postgresql")
def _pg_array_length(element: _JsonArrayLength, compiler: Any, **kw: Any) -> str:
    return f"jsonb_array_length({compiler.process(element.clauses, **kw)})"


def json_array_has(column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
    """Match rows whose JSON array of strings contains `value`."""
    return _JsonArrayHas(column, sa.literal(value, sa.Text()))


def json_contains_all(
    column: ColumnElement[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """Match rows whose JSON array contains every value (all rows for none)."""
    return sa.and_(sa.true(), *(json_array_has(column, v) for v in values))


def json_contains_any(
    column: ColumnElement[Any], values: Sequence[str]
) -> ColumnElement[bool]:
    """Match rows whose JSON array contains at least one value (none for none)."""
    return sa.or_(sa.false(), *(json_array_has(column, v) for v in values))


def json_array_is_empty(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """Match rows whose JSON array is NULL or has no elements."""
    return sa.or_(column.is_(None), _JsonArrayLength(column) == 0)


def insert(connection: Any, table: sa.Table) -> Any:
    """Return an INSERT for the connection's backend, with `on_conflict_*` support."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


class _EpochSeconds(FunctionElement[float]):
    """Seconds since 1970-01-01 UTC of a `Timestamp` column, with fractions."""

    inherit_cache = True
    type = sa.Float()
    name = "epoch_seconds"


@compiles(_EpochSeconds, "postgresql")
def _pg_epoch_seconds(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(_EpochSeconds, "sqlite")
def _sqlite_epoch_seconds(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    # Timestamps are naive UTC text on SQLite. Whole seconds come from `%s`
    # exactly and the fraction from `%f` (SS.SSS), because julianday()
    # arithmetic can land a value on an exact boundary just below it.
    c = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(strftime('%s', {c}) AS INTEGER) + "
        f"(strftime('%f', {c}) - CAST(strftime('%S', {c}) AS INTEGER)))"
    )


def epoch_seconds(column: ColumnElement[Any]) -> ColumnElement[float]:
    """Return a `Timestamp` column as seconds since the Unix epoch."""
    return _EpochSeconds(column)


class _GlobMatch(FunctionElement[bool]):
    """True when a text value matches a case-sensitive `*`/`?` glob pattern."""

    inherit_cache = True
    type = sa.Boolean()
    name = "glob_match"


_GLOB_TO_LIKE = str.maketrans(
    {"\\": "\\\\", "%": "\\%", "_": "\\_", "*": "%", "?": "_"}
)


@compiles(_GlobMatch, "postgresql")
def _pg_glob_match(element: _GlobMatch, compiler: Any, **kw: Any) -> str:
    column, pattern = element.clauses
    like = sa.literal(pattern.value.translate(_GLOB_TO_LIKE), sa.Text())
    return f"({compiler.process(column, **kw)} LIKE {compiler.process(like, **kw)} ESCAPE '\\')"


@compiles(_GlobMatch, "sqlite")
def _sqlite_glob_match(element: _GlobMatch, compiler: Any, **kw: Any) -> str:
    # SQLite's LIKE ignores case, so use GLOB, where only `[` needs escaping.
    column, pattern = element.clauses
    glob = sa.literal(pattern.value.replace("[", "[[]"), sa.Text())
    return f"({compiler.process(column, **kw)} GLOB {compiler.process(glob, **kw)})"


def glob_match(column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    """Match `column` against a glob where `*` is any text and `?` one character."""
    return _GlobMatch(column, sa.literal(pattern, sa.Text()))


def starts_with(column: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    """Match values that begin with `prefix`, case-sensitively on both backends."""
    return sa.func.substr(column, 1, len(prefix)) == prefix
