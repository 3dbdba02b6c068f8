"""Tables for variables."""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON

variables = sa.Table(
    "variables",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, unique=True),
    sa.Column("value", JSON, nullable=True),
    sa.Column("tags", JSON, nullable=False, default=list),
)
