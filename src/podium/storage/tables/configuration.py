"""A key-value table for server-wide settings changed through the API."""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, utcnow
from podium.storage.types import JSON, Timestamp

configuration = sa.Table(
    "configuration",
    metadata,
    sa.Column("key", sa.String(), primary_key=True),
    sa.Column("value", JSON, nullable=False),
    sa.Column("updated", Timestamp(), nullable=False, default=utcnow, onupdate=utcnow),
)
