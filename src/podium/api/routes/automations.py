"""Routes for `/automations` and for checking notification templates."""

from __future__ import annotations

import datetime as dt
import re
from uuid import UUID

from fastapi import APIRouter, Body, Response, status
from fastapi.responses import JSONResponse

from podium.api.dependencies import DatabaseDep, LimitBody, OffsetBody
from podium.schemas.automations import (
    Automation,
    AutomationCreate,
    AutomationFilter,
    AutomationPartialUpdate,
    AutomationSort,
    AutomationUpdate,
)
from podium.storage import automations as storage

router = APIRouter(prefix="/automations", tags=["Automations"])
templates = APIRouter(tags=["Automations"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_automation(
    automation: AutomationCreate, db: DatabaseDep
) -> Automation:
    # TODO: check run-deployment job_variables against the work pool's job
    # template, as Prefect does, once work pools expose a validator for it.
    async with db.transaction() as connection:
        return await storage.create_automation(connection, automation)


@router.put("/{id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def update_automation(
    id: UUID,  # noqa: A002 - contract name
    automation: AutomationUpdate,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await storage.update_automation(connection, id, automation)


@router.patch("/{id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def patch_automation(
    id: UUID,  # noqa: A002
    automation: AutomationPartialUpdate,
    db: DatabaseDep,
) -> None:
    async with db.transaction() as connection:
        await storage.set_automation_enabled(connection, id, automation)


@router.delete("/{id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_automation(id: UUID, db: DatabaseDep) -> None:  # noqa: A002
    async with db.transaction() as connection:
        await storage.delete_automation(connection, id)


@router.post("/filter")
async def read_automations(
    db: DatabaseDep,
    sort: AutomationSort | None = Body(AutomationSort.NAME_ASC),
    limit: int = LimitBody(),
    offset: int = OffsetBody(),
    automations: AutomationFilter | None = Body(None, embed=True),
) -> list[Automation]:
    # The CLI sends `"sort": null`, which means the default order.
    async with db.read() as connection:
        return await storage.read_automations(
            connection, automations, sort or AutomationSort.NAME_ASC, limit, offset
        )


@router.post("/count")
async def count_automations(
    db: DatabaseDep, automations: AutomationFilter | None = Body(None, embed=True)
) -> int:
    async with db.read() as connection:
        return await storage.count_automations(connection, automations)


@router.get("/{id:uuid}")
async def read_automation(id: UUID, db: DatabaseDep) -> Automation:  # noqa: A002
    async with db.read() as connection:
        return await storage.read_automation(connection, id)


@router.get("/related-to/{resource_id}")
async def read_automations_related_to_resource(
    resource_id: str, db: DatabaseDep
) -> list[Automation]:
    async with db.read() as connection:
        return await storage.read_automations_related_to_resource(
            connection, resource_id
        )


@router.delete("/owned-by/{resource_id}", status_code=status.HTTP_202_ACCEPTED)
async def delete_automations_owned_by_resource(
    resource_id: str, db: DatabaseDep
) -> None:
    """Delete the automations owned by a resource; the body is `null`, as in Prefect."""
    now = dt.datetime.now(dt.UTC)
    async with db.transaction() as connection:
        await storage.delete_automations_owned_by_resource(connection, resource_id, now)


_DELIMITERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_TOKEN = re.compile(r"\{\{|\{%|\{#|\}\}|%\}|#\}")


def template_problem(template: str) -> tuple[int, str] | None:
    """Return the line and message of the first unbalanced delimiter, or None."""
    # TODO: parse templates with Jinja2 once it is a dependency; this only
    # checks that `{{ }}`, `{% %}` and `{# #}` open and close in order.
    expected_close: str | None = None
    opened_line = 1
    for match in _TOKEN.finditer(template):
        token = match.group()
        line = template.count("\n", 0, match.start()) + 1
        if token in _DELIMITERS:
            if expected_close is not None:
                return line, f"unexpected {token!r} before {expected_close!r}"
            expected_close, opened_line = _DELIMITERS[token], line
        elif token == expected_close:
            expected_close = None
        elif expected_close is not None:
            return line, f"unexpected {token!r} before {expected_close!r}"
    if expected_close is not None:
        return opened_line, f"unexpected end of template, expected {expected_close!r}"
    return None


@templates.post("/automations/templates/validate", response_class=Response)
@templates.post("/templates/validate", response_class=Response)
def validate_template(template: str = Body(default="")) -> Response:
    """Return 204 for a well-formed template, else 422 naming the line of the problem."""
    problem = template_problem(template)
    if problem is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    line, message = problem
    return JSONResponse(
        status_code=422,
        content={"error": {"line": line, "message": message, "source": template}},
    )
