"""Turn errors into HTTP responses. No other module builds error bodies.

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


_JSON_TYPE_NAMES = {list: "an array", str: "a string", bool: "a boolean"}


def _is_not_an_object(body: object, errors: list[dict[str, object]]) -> bool:
    # When a body of named fields is not a JSON object, FastAPI reports every
    # field as missing, which hides the real mistake.
    if body is None or isinstance(body, dict) or not errors:
        return False
    return all(
        error.get("type") == "missing" and len(error.get("loc", ())) == 2  # type: ignore[arg-type]
        for error in errors
    )


async def _validation_error(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    errors = jsonable_encoder(exc.errors())
    detail = _describe_validation_errors(errors)
    if _is_not_an_object(exc.body, errors):
        kind = _JSON_TYPE_NAMES.get(type(exc.body), "a number")
        detail = f"Invalid request: the body must be a JSON object, not {kind}."
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={
            "detail": detail,
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


def _database_message(exc: sqlalchemy.exc.DBAPIError) -> str:
    """Return the first line of the driver's error message."""
    lines = str(exc.orig).strip().splitlines()
    return lines[0] if lines else type(exc.orig).__name__


def _is_not_null_violation(exc: sqlalchemy.exc.IntegrityError) -> bool:
    # PostgreSQL reports SQLSTATE 23502; SQLite has no SQLSTATE, only the text.
    if getattr(exc.orig, "sqlstate", None) == "23502":
        return True
    return str(exc.orig).startswith("NOT NULL constraint failed")


async def _integrity_error(
    request: Request, exc: sqlalchemy.exc.IntegrityError
) -> JSONResponse:
    # A null sent for a field that cannot be null is an invalid value, such
    # as `{"tags": null}` in a PATCH.
    if _is_not_null_violation(exc):
        return await _data_error(request, exc)
    # A unique or foreign-key constraint caught what a query module did not
    # check first; the client's data conflicts, the server is fine.
    message = _database_message(exc)
    logger.warning(
        "Integrity error on %s %s: %s", request.method, request.url.path, message
    )
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={
            "detail": "The request conflicts with existing data or refers to a "
            f"missing object: {message}."
        },
    )


async def _data_error(request: Request, exc: sqlalchemy.exc.DBAPIError) -> JSONResponse:
    message = _database_message(exc)
    logger.warning("Data error on %s %s: %s", request.method, request.url.path, message)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={
            "detail": f"A value in the request is invalid for its field: {message}."
        },
    )


# SQLSTATE codes (PostgreSQL manual, appendix "PostgreSQL Error Codes") that mean the client's values were at
# fault: class 22 is "data exception" (out of range, bad encoding, NUL in
# text), 54000 is "program limit exceeded" (such as a key too long to index).
_INVALID_VALUE_CLASSES = ("22",)
_INVALID_VALUE_CODES = ("54000",)


def _is_invalid_value(exc: sqlalchemy.exc.DBAPIError) -> bool:
    # The asyncpg adapter does not map these to sqlalchemy's DataError, so
    # they arrive as plain DBAPIError with the SQLSTATE on the driver error.
    code = getattr(exc.orig, "sqlstate", None) or ""
    if code.startswith(_INVALID_VALUE_CLASSES) or code in _INVALID_VALUE_CODES:
        return True
    # asyncpg checks arguments before sending the query and raises an error
    # caused by an OverflowError when an int does not fit its column.
    cause = exc.orig.__cause__ if exc.orig is not None else None
    for _ in range(5):  # a bounded walk, in case a chain loops back
        if cause is None:
            break
        if isinstance(cause, OverflowError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


async def _dbapi_error(
    request: Request, exc: sqlalchemy.exc.DBAPIError
) -> JSONResponse:
    if not _is_invalid_value(exc):
        raise exc
    return await _data_error(request, exc)


async def _overflow_error(request: Request, exc: OverflowError) -> JSONResponse:
    # Python ints and dates are unbounded where the database columns are not:
    # SQLite raises this when binding an int past 64 bits, and date arithmetic
    # raises it past year 9999. Both come from values a client sent.
    logger.warning(
        "Value out of range on %s %s: %s", request.method, request.url.path, exc
    )
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": f"A value in the request is out of range: {exc}."},
    )


async def _unencodable_text(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
    # JSON allows escapes such as "\ud800" that decode to half of a UTF-16
    # pair. Such text cannot be stored as UTF-8, and the driver raises this.
    logger.warning(
        "Unstorable text on %s %s: %s", request.method, request.url.path, exc
    )
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={
            "detail": "A string in the request contains an unpaired UTF-16 "
            f"surrogate ({exc.object[exc.start : exc.end]!r}), which cannot be "
            "stored. Send valid Unicode text."
        },
    )


async def _statement_error(
    request: Request, exc: sqlalchemy.exc.StatementError
) -> JSONResponse:
    # SQLAlchemy wraps errors raised while it binds a value, such as a date
    # that overflows when converted to UTC.
    if isinstance(exc.orig, OverflowError):
        return await _overflow_error(request, exc.orig)
    if isinstance(exc.orig, UnicodeEncodeError):
        return await _unencodable_text(request, exc.orig)
    raise exc


async def _database_busy(
    request: Request, exc: sqlalchemy.exc.OperationalError
) -> JSONResponse:
    if "locked" not in str(exc.orig):
        return await _dbapi_error(request, exc)
    # Another process held SQLite's write lock for the whole busy timeout.
    # Prefect clients retry a 503 after Retry-After.
    logger.warning(
        "%s %s timed out waiting for the SQLite write lock, which another "
        "process holds. Responded with 503.",
        request.method,
        request.url.path,
    )
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "Another process is writing to the database. Retry."},
        headers={"Retry-After": "1"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(PodiumError, _podium_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(sqlalchemy.exc.IntegrityError, _integrity_error)  # type: ignore[arg-type]
    app.add_exception_handler(sqlalchemy.exc.DataError, _data_error)  # type: ignore[arg-type]
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _dbapi_error)  # type: ignore[arg-type]
    app.add_exception_handler(sqlalchemy.exc.OperationalError, _database_busy)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, _overflow_error)  # type: ignore[arg-type]
    app.add_exception_handler(UnicodeEncodeError, _unencodable_text)  # type: ignore[arg-type]
    app.add_exception_handler(sqlalchemy.exc.StatementError, _statement_error)  # type: ignore[arg-type]
