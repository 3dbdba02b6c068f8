"""Tables for saved searches of the UI."""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON

saved_searches = sa.Table(
    "saved_searches",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, unique=True),
    sa.Column("filters", JSON, nullable=False, default=list),
)
