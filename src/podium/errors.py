"""Domain errors raised below the API layer.

`podium.api.errors` turns each into an HTTP response. No other module
builds error responses.
"""

from __future__ import annotations


class PodiumError(Exception):
    """Base class for errors that a client's request caused."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ObjectNotFound(PodiumError):
    """The requested object does not exist (HTTP 404)."""

    status_code = 404


class ObjectAlreadyExists(PodiumError):
    """An object with the same unique key already exists (HTTP 409)."""

    status_code = 409


class InvalidRequest(PodiumError):
    """A well-formed request that breaks a rule of the API (HTTP 422)."""

    status_code = 422


class Conflict(PodiumError):
    """The request conflicts with the current state of an object (HTTP 409)."""

    status_code = 409


class Forbidden(PodiumError):
    """The request is well formed but not allowed, such as a reserved name (HTTP 403)."""

    status_code = 403
