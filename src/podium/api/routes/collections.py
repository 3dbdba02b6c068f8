"""Routes for `/collections`: the integration registry views.

Prefect's server downloads these views from its collection registry.
Podium never calls out, so it serves the copies shipped in `podium/api/data`.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from fastapi import APIRouter

from podium.errors import ObjectNotFound

router = APIRouter(prefix="/collections", tags=["Collections"])

# The views that Prefect 3.9.1 defines. Only the worker view is shipped, so the others
# are served empty: a client that lists their entries finds none.
SHIPPED_VIEWS = frozenset({"aggregate-worker-metadata"})
EMPTY_VIEWS = frozenset(
    {"aggregate-block-metadata", "aggregate-flow-metadata", "demo-flows"}
)


@functools.cache
def _load_view(view: str) -> dict[str, Any]:
    text = resources.files("podium.api").joinpath("data", f"{view}.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@router.get("/views/{view}")
async def read_view_content(view: str) -> dict[str, Any]:
    if view in SHIPPED_VIEWS:
        return _load_view(view)
    if view in EMPTY_VIEWS:
        return {}
    raise ObjectNotFound(f"View {view!r} not found in the collection registry.")
