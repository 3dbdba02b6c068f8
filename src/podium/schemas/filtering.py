"""Building blocks of the filter grammar used by every `/filter` endpoint.

A collection filter (such as `FlowFilter`) has one optional field per
attribute, each a small model whose fields are operators: `any_`,
`not_any_`, `all_`, `eq_`, `like_`, `is_null_`, `before_`, `after_` and so
on. Set operators are combined with the filter's `operator`, `and_` unless
the body says `or_`. `podium.storage.filtering` compiles them to SQL.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Operator(StrEnum):
    and_ = "and_"
    or_ = "or_"


class FilterModel(BaseModel):
    """Base for filter models: unknown operators are a client error."""

    model_config = ConfigDict(extra="forbid")


class OperatorFilter(FilterModel):
    """A filter whose criteria are combined with `operator`."""

    operator: Operator = Field(default=Operator.and_)


def escape_like(value: str) -> str:
    """Escape SQL LIKE wildcards so `like_` matches `%` and `_` literally."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
