"""Tests of `Database.transaction` and its after-commit callbacks."""

from __future__ import annotations

import pytest

from podium.storage.database import Database, after_commit


async def test_after_commit_runs_once_committed(database: Database) -> None:
    calls: list[str] = []
    async with database.transaction() as connection:
        assert after_commit(connection, lambda: calls.append("committed"))
        assert calls == []

    assert calls == ["committed"]


async def test_after_commit_skipped_on_rollback(database: Database) -> None:
    calls: list[str] = []
    with pytest.raises(RuntimeError):
        async with database.transaction() as connection:
            after_commit(connection, lambda: calls.append("rolled back"))
            raise RuntimeError("fail the transaction")

    async with database.transaction():
        pass

    assert calls == []


async def test_after_commit_refused_outside_transaction(database: Database) -> None:
    async with database.read() as connection:
        assert after_commit(connection, lambda: None) is False
