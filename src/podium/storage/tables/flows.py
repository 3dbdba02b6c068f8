"""Tables for flows."""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON

flows = sa.Table(
    "flows",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, unique=True),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("labels", JSON, nullable=True),
)
