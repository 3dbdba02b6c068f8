"""Fixtures shared by every test layer.

Storage and API tests run once on SQLite and once on PostgreSQL. The
PostgreSQL server is the real one on 127.0.0.1:5432 (`PODIUM_TEST_PG_URL`
overrides it); each test session creates its own database there and drops
it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from podium.api import create_app
from podium.settings import Settings
from podium.storage import migrate
from podium.storage.database import Database
from podium.storage.tables import metadata

PG_SERVER_URL = os.environ.get(
    "PODIUM_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "podium.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
async def postgresql_url() -> AsyncIterator[str]:
    name = f"podium_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_SERVER_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = sa.make_url(PG_SERVER_URL)
    yield base.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )
    admin = await asyncpg.connect(PG_SERVER_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated test database, once per backend."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    migrate.upgrade(url)
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A connected database, emptied after the test."""
    db = Database(database_url)
    try:
        yield db
    finally:
        async with db.transaction() as connection:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(sa.delete(table))
        await db.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, services_enabled=False)


@pytest.fixture
async def client(
    database: Database, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, with the API under `/api`."""
    app = create_app(settings, migrate_on_start=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://podium.test/api"
        ) as http:
            yield http


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
