"""The shared metadata and the columns every Podium table starts with."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from podium.storage.types import Timestamp

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s__%(column_0_N_name)s",
        "uq": "uq_%(table_name)s__%(column_0_N_name)s",
        "ck": "ck_%(table_name)s__%(constraint_name)s",
        "fk": "fk_%(table_name)s__%(column_0_name)s__%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def object_columns() -> list[sa.Column[object]]:
    """Return fresh `id`, `created` and `updated` columns for a new table."""
    return [
        sa.Column("id", sa.Uuid(), primary_key=True, default=uuid.uuid4),
        sa.Column("created", Timestamp(), nullable=False, default=utcnow),
        sa.Column(
            "updated",
            Timestamp(),
            nullable=False,
            default=utcnow,
            onupdate=utcnow,
            index=True,
        ),
    ]
