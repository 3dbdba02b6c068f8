"""Tests for the cheap schema check that runs before Alembic at start-up."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from podium.storage import migrate
from podium.storage.database import Database
from podium.storage.tables import flow_runs, flows


def test_head_revision_reads_migration_files() -> None:
    assert migrate.head_revision() == "0002"


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


def _upgrade_to(url: str, revision: str) -> None:
    from alembic import command

    # Alembic runs its own event loop, so it goes to a thread from a test.
    migrate._in_thread_if_loop_running(
        command.upgrade, migrate.alembic_config(url), revision
    )


async def test_database_from_first_release_upgrades_in_place(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    _upgrade_to(url, "0001")
    database = Database(url)
    try:
        async with database.transaction() as connection:
            await connection.execute(sa.insert(flows).values(name="kept"))
            flow_id = (await connection.execute(sa.select(flows.c.id))).scalar_one()
            await connection.execute(
                sa.insert(flow_runs).values(flow_id=flow_id, name="old-run")
            )

        assert await migrate.upgrade_if_behind(database) is True

        assert await migrate.current_revision(database) == "0002"
        async with database.read() as connection:
            names = (await connection.execute(sa.select(flow_runs.c.name))).scalars()
            assert list(names) == ["old-run"]
            # Read from SQLite's catalogue: reflection skips expression indexes.
            indexes = await connection.exec_driver_sql(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = 'flow_runs'"
            )
            index_names = set(indexes.scalars())
        assert {
            "ix_flow_runs__coalesce_start_time_expected_start_time",
            "ix_flow_runs__state_name_next_scheduled_start_time",
        } <= index_names
    finally:
        await database.dispose()


# Reflection cannot read expression indexes back, so the comparison leaves
# them out; the upgrade test above checks that they exist.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
@pytest.mark.filterwarnings("ignore:autogenerate skipping")
@pytest.mark.filterwarnings("ignore:.*expression-based index")
async def test_migrations_build_the_tables_the_code_declares(
    database: Database,
) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from podium.storage.tables import metadata

    def differences(sync: sa.Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(sync), metadata)

    async with database.read() as connection:
        assert await connection.run_sync(differences) == []


async def test_empty_database_created_without_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(url: str) -> None:
        raise AssertionError("Alembic ran for an empty database.")

    monkeypatch.setattr(migrate, "_upgrade_in_child_process", fail)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert await migrate.upgrade_if_behind(database) is True
        assert await migrate.current_revision(database) == migrate.head_revision()
    finally:
        await database.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
@pytest.mark.filterwarnings("ignore:autogenerate skipping")
async def test_directly_created_schema_matches_declared_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from podium.storage.tables import metadata

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert await migrate._create_at_head(database, "0002") is True
        async with database.read() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync), metadata
                )
            )
    finally:
        await database.dispose()

    assert differences == []


async def test_partial_schema_left_to_alembic(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'partial.db'}")
    try:
        async with database.transaction() as connection:
            await connection.run_sync(flows.create)

        created = await migrate._create_at_head(database, "0002")

        assert created is False
        assert await migrate.current_revision(database) is None
    finally:
        await database.dispose()
