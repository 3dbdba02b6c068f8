"""Tables for block types, block schemas, block documents and their references."""

import sqlalchemy as sa

from podium.storage.tables.base import metadata, object_columns
from podium.storage.types import JSON

block_types = sa.Table(
    "block_types",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, index=True),
    sa.Column("slug", sa.String(), nullable=False, unique=True),
    sa.Column("logo_url", sa.String(), nullable=True),
    sa.Column("documentation_url", sa.String(), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("code_example", sa.Text(), nullable=True),
    sa.Column("is_protected", sa.Boolean(), nullable=False, default=False),
)

block_schemas = sa.Table(
    "block_schemas",
    metadata,
    *object_columns(),
    sa.Column("checksum", sa.String(), nullable=False, index=True),
    sa.Column("version", sa.String(), nullable=False, default="non-versioned"),
    sa.Column("fields", JSON, nullable=False, default=dict),
    sa.Column("capabilities", JSON, nullable=False, default=list),
    sa.Column(
        "block_type_id",
        sa.Uuid(),
        sa.ForeignKey("block_types.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.UniqueConstraint("checksum", "version"),
)

block_documents = sa.Table(
    "block_documents",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False, index=True),
    # Values at the schema's secret paths are stored as sent; reads mask them.
    sa.Column("data", JSON, nullable=False, default=dict),
    sa.Column("is_anonymous", sa.Boolean(), nullable=False, default=False, index=True),
    sa.Column(
        "block_type_id",
        sa.Uuid(),
        sa.ForeignKey("block_types.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "block_schema_id",
        sa.Uuid(),
        sa.ForeignKey("block_schemas.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.UniqueConstraint("block_type_id", "name"),
)

# A parent document's field (`name`) that holds another block document.
block_document_references = sa.Table(
    "block_document_references",
    metadata,
    *object_columns(),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column(
        "parent_block_document_id",
        sa.Uuid(),
        sa.ForeignKey("block_documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "reference_block_document_id",
        sa.Uuid(),
        sa.ForeignKey("block_documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.UniqueConstraint("parent_block_document_id", "name"),
)
