"""Tests for the cheap schema check that runs before Alembic at start-up."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from podium.storage import migrate
from podium.storage.database import Database


def test_head_revision_reads_migration_files() -> None:
    assert migrate.head_revision() == "0001"


async def test_migrated_database_is_at_head(database: Database) -> None:
    assert await migrate.current_revision(database) == migrate.head_revision()


async def test_migrated_database_skips_alembic(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(url: str) -> None:
        raise AssertionError("Alembic ran on a current database.")

    monkeypatch.setattr(migrate, "_upgrade_in_child_process", fail)

    assert await migrate.upgrade_if_behind(database) is False


async def test_empty_database_is_migrated(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        before = await migrate.current_revision(database)
        first = await migrate.upgrade_if_behind(database)
        second = await migrate.upgrade_if_behind(database)
    finally:
        await database.dispose()

    assert before is None
    assert first is True
    assert second is False


def test_importing_server_skips_alembic() -> None:
    # Loaded in a fresh interpreter, since other tests import Alembic.
    import subprocess

    code = "import sys, podium.cli.serve; print('alembic' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert output.strip() == "False"
