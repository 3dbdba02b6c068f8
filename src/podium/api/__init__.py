"""The HTTP API: app factory, routers and error mapping."""

from podium.api.app import create_app

__all__ = ["create_app"]
