"""Bodies shared by the `/paginate` endpoints."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    results: list[T]
    count: int
    limit: int
    pages: int
    page: int
