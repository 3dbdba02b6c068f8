"""Wire models for logs sent by flow and task runs."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field

from podium.schemas.base import ActionModel, ObjectModel
from podium.schemas.filtering import FilterModel, OperatorFilter

# The logs table stores levels in a SMALLINT, so both backends accept the
# same range. Python's standard levels run from 0 (NOTSET) to 50 (CRITICAL).
MAX_LEVEL = 32767


def _assume_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


# A timestamp without an offset is read as UTC, as the storage layer does.
UtcDatetime = Annotated[dt.datetime, AfterValidator(_assume_utc)]


class Log(ObjectModel):
    name: str
    level: int
    message: str
    timestamp: dt.datetime
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


class LogCreate(ActionModel):
    name: str
    level: int = Field(ge=0, le=MAX_LEVEL)
    message: str
    timestamp: UtcDatetime
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


class LogSort(StrEnum):
    TIMESTAMP_ASC = "TIMESTAMP_ASC"
    TIMESTAMP_DESC = "TIMESTAMP_DESC"


class LogFilterLevel(FilterModel):
    ge_: int | None = None
    le_: int | None = None


class LogFilterTimestamp(FilterModel):
    before_: UtcDatetime | None = None
    after_: UtcDatetime | None = None


class LogFilterFlowRunId(FilterModel):
    any_: list[UUID] | None = None


class LogFilterTaskRunId(FilterModel):
    any_: list[UUID] | None = None
    is_null_: bool | None = None


@dataclass
class TextQuery:
    """A parsed text search: which terms must, may and must not appear.

    A log matches when it contains at least one `include` term (if there are
    any), every `required` term and no `exclude` term.
    """

    include: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


# One term: an optional prefix (`+` required, `-` or `!` excluded) glued to a
# quoted phrase, in which `\"` and `\\` are escapes, or to a bare word. The
# first alternative consumes a prefix followed by whitespace, so it is ignored.
_TERM = re.compile(r'[+!-](?=\s|$)|([+!-]?)(?:"((?:\\.|[^"\\])*)"?|([^\s"]+))')
_ESCAPE = re.compile(r"\\(.)")


def parse_text_query(query: str) -> TextQuery:
    """Split a search string such as `error -debug "timed out"` into terms.

    A prefix followed by a space is ignored, and an unclosed quote runs to
    the end of the string.
    """
    parsed = TextQuery()
    for match in _TERM.finditer(query):
        prefix, phrase, word = match.groups()
        term = _ESCAPE.sub(r"\1", phrase) if phrase is not None else word
        if term is None or not term.strip():
            continue
        if prefix == "+":
            parsed.required.append(term)
        elif prefix in ("-", "!"):
            parsed.exclude.append(term)
        else:
            parsed.include.append(term)
    return parsed


class LogFilterTextSearch(FilterModel):
    query: str = Field(max_length=200, description="Text search query string")

    def terms(self) -> TextQuery:
        return parse_text_query(self.query)


class LogFilter(OperatorFilter):
    level: LogFilterLevel | None = None
    timestamp: LogFilterTimestamp | None = None
    flow_run_id: LogFilterFlowRunId | None = None
    task_run_id: LogFilterTaskRunId | None = None
    text: LogFilterTextSearch | None = None
