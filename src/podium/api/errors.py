"""Turn errors into HTTP answers; the only place that builds error bodies.

Bodies follow the Prefect API: `{"detail": ...}` for most errors, and for
invalid requests also `exception_message`, `exception_detail` (pydantic's
error list, which the Prefect client reads) and the `request_body`.
"""

from __future__ import annotations

import logging

import sqlalchemy.exc
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from podium.errors import PodiumError

logger = logging.getLogger(__name__)


def _describe_validation_errors(errors: list[dict[str, object]]) -> str:
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()))  # type: ignore[union-attr]
        parts.append(f"{location}: {error.get('msg')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "Invalid request: " + "; ".join(parts) + more


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = jsonable_encoder(exc.errors())
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={
            "detail": _describe_validation_errors(errors),
            "exception_message": "Invalid request received.",
            "exception_detail": errors,
            "request_body": jsonable_encoder(exc.body),
        },
    )


async def _podium_error(request: Request, exc: PodiumError) -> JSONResponse:
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        status_code=exc.status_code,
        content={"detail": exc.detail},
        headers=getattr(exc, "headers", None),
    )


async def _integrity_error(request: Request, exc: sqlalchemy.exc.IntegrityError) -> JSONResponse:
    # A unique or foreign-key constraint caught what a query module did not
    # check first; the client's data conflicts, the server is fine.
    logger.warning("Integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={"detail": "The request conflicts with existing data or refers to a missing object."},
    )


async def _data_error(request: Request, exc: sqlalchemy.exc.DataError) -> JSONResponse:
    logger.warning("Data error on %s %s: %s", request.method, request.url.path, exc.orig)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": "A value in the request is out of range for its field."},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(PodiumError, _podium_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(sqlalchemy.exc.IntegrityError, _integrity_error)  # type: ignore[arg-type]
    app.add_exception_handler(sqlalchemy.exc.DataError, _data_error)  # type: ignore[arg-type]
