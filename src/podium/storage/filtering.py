"""Compile filter models into SQL clauses.

Each query module describes its collection once, as a mapping from filter
field names to columns, and this module turns any filter body into a WHERE
clause. A mapping value is one of:

- a column: the field's operators apply to it;
- a `JsonArray`: the column holds a JSON array, such as tags;
- a nested mapping: the field is itself a filter with an operator (such as
  a flow run's `state`, which has `type` and `name`);
- a callable: it receives the field's filter model and returns a clause, for
  fields that need a subquery or a join.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.sql.expression import ColumnElement

from podium.schemas.filtering import Operator, escape_like
from podium.storage import dialect


@dataclass(frozen=True)
class JsonArray:
    """Marks a column that stores a JSON array of strings."""

    column: ColumnElement[Any]


ColumnMap: TypeAlias = Mapping[
    str,
    "ColumnElement[Any] | JsonArray | ColumnMap | Callable[[Any], ColumnElement[bool]]",
]

Clause: TypeAlias = ColumnElement[bool]


def _column_operator(name: str, column: ColumnElement[Any], value: Any) -> Clause:
    match name:
        case "any_":
            return column.in_(value)
        case "not_any_":
            return (
                sa.or_(column.not_in(value), column.is_(None)) if value else sa.true()
            )
        case "eq_":
            return column == value
        case "ne_":
            return column != value
        case "like_":
            return column.ilike(f"%{escape_like(value)}%", escape="\\")
        case "startswith_":
            return column.ilike(f"{escape_like(value)}%", escape="\\")
        case "is_null_":
            return column.is_(None) if value else column.is_not(None)
        case "before_" | "le_":
            return column <= value
        case "after_" | "ge_":
            return column >= value
        case "lt_":
            return column < value
        case "gt_":
            return column > value
    raise ValueError(f"Filter operator {name!r} is not supported on a column.")


def _array_operator(name: str, array: JsonArray, value: Any) -> Clause:
    match name:
        case "all_":
            return dialect.json_contains_all(array.column, value)
        case "any_":
            return dialect.json_contains_any(array.column, value)
        case "not_any_":
            return sa.not_(dialect.json_contains_any(array.column, value))
        case "is_null_":
            empty = dialect.json_array_is_empty(array.column)
            return empty if value else sa.not_(empty)
    raise ValueError(f"Filter operator {name!r} is not supported on a JSON array.")


def _combine(model: BaseModel, clauses: list[Clause]) -> Clause:
    if not clauses:
        return sa.true()
    if getattr(model, "operator", Operator.and_) == Operator.or_:
        return sa.or_(*clauses)
    return sa.and_(*clauses)


def _leaf(model: BaseModel, target: ColumnElement[Any] | JsonArray) -> Clause:
    clauses = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name == "operator" or value is None:
            continue
        if isinstance(target, JsonArray):
            clauses.append(_array_operator(name, target, value))
        else:
            clauses.append(_column_operator(name, target, value))
    return _combine(model, clauses)


def compile_filter(model: BaseModel | None, columns: ColumnMap) -> Clause:
    """Return the WHERE clause for a filter model; `true` when it is empty."""
    if model is None:
        return sa.true()
    clauses = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name == "operator" or value is None:
            continue
        target = columns.get(name)
        if target is None:
            raise ValueError(f"{type(model).__name__}.{name} has no column mapping.")
        if isinstance(target, Mapping):
            clauses.append(compile_filter(value, target))
        elif isinstance(target, (ColumnElement, JsonArray)):
            clauses.append(_leaf(value, target))
        else:
            clauses.append(target(value))
    return _combine(model, clauses)
