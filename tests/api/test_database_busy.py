"""A write that outlasts SQLite's busy timeout gets a 503 the client retries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from podium.api import create_app
from podium.settings import Settings
from podium.storage import database as database_module


async def test_write_lock_held_elsewhere_returns_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SQLITE_BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "busy.db"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}", services_enabled=False
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://podium.test/api"
        ) as client:
            other = sqlite3.connect(str(path), isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                response = await client.post("/flows/", json={"name": "busy"})
            finally:
                other.execute("ROLLBACK")
                other.close()
            retried = await client.post("/flows/", json={"name": "busy"})

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "locked" not in response.text
    assert retried.status_code == 201
