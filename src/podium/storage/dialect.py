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
