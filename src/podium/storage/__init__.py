"""Storage: tables, queries and migrations, the same code on SQLite and PostgreSQL."""

from podium.storage.sqlalchemy_asyncio import load_engine_only

# Before any storage module imports `sqlalchemy.ext.asyncio`, so that the
# server does not load the ORM (see podium.storage.sqlalchemy_asyncio).
load_engine_only()
