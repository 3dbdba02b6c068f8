"""Tests for the `podium` commands, run in-process with typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from podium.cli.main import app
from podium.services import registry
from podium.services.registry import ServiceEntry

runner = CliRunner()


def table_names(database_file: Path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{database_file}")
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def podium_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PODIUM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PODIUM_DATABASE_URL", raising=False)
    return tmp_path / "home"


def test_version_prints_package_version() -> None:
    result = runner.invoke(app, ["--version"])

    assert result.exit_code == 0
    assert result.output.strip() == "Podium 0.1.0"


def test_database_upgrade_uses_podium_home(podium_home: Path) -> None:
    result = runner.invoke(app, ["database", "upgrade"])

    assert result.exit_code == 0, result.output
    assert str(podium_home / "podium.db") in result.output
    assert "logs" in table_names(podium_home / "podium.db")


def test_database_upgrade_uses_environment_url(
    podium_home: Path, tmp_path: Path
) -> None:
    database_file = tmp_path / "from-env.db"
    url = f"sqlite+aiosqlite:///{database_file}"

    result = runner.invoke(
        app, ["database", "upgrade"], env={"PODIUM_DATABASE_URL": url}
    )

    assert result.exit_code == 0, result.output
    assert "logs" in table_names(database_file)
    assert not (podium_home / "podium.db").exists()


def test_database_url_flag_beats_environment(podium_home: Path, tmp_path: Path) -> None:
    flag_file, env_file = tmp_path / "flag.db", tmp_path / "env.db"

    result = runner.invoke(
        app,
        ["database", "upgrade", "--database-url", f"sqlite+aiosqlite:///{flag_file}"],
        env={"PODIUM_DATABASE_URL": f"sqlite+aiosqlite:///{env_file}"},
    )

    assert result.exit_code == 0, result.output
    assert flag_file.exists()
    assert not env_file.exists()


def test_database_reset_empties_tables(podium_home: Path) -> None:
    runner.invoke(app, ["database", "upgrade"])
    engine = sa.create_engine(f"sqlite:///{podium_home / 'podium.db'}")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO logs (id, created, updated, name, level, message, timestamp) "
                "VALUES ('00000000000000000000000000000001', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00', 'n', 20, 'm', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()

    result = runner.invoke(app, ["database", "reset", "--yes"])

    engine = sa.create_engine(f"sqlite:///{podium_home / 'podium.db'}")
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM logs")).scalar_one()
    engine.dispose()
    assert result.exit_code == 0, result.output
    assert count == 0


def test_database_reset_asks_first(podium_home: Path) -> None:
    result = runner.invoke(app, ["database", "reset"], input="n\n")

    assert result.exit_code == 1
    assert "Delete all data" in result.output
    assert not (podium_home / "podium.db").exists()


def test_database_upgrade_hides_password(podium_home: Path) -> None:
    url = "postgresql+asyncpg://podium:secret-password@127.0.0.1:1/none"

    result = runner.invoke(app, ["database", "upgrade", "--database-url", url])

    assert result.exit_code == 1
    assert "could not use the database" in result.output
    assert "podium:***@127.0.0.1:1" in result.output
    assert "secret-password" not in result.output


def test_server_start_rejects_bad_log_level(podium_home: Path) -> None:
    result = runner.invoke(app, ["server", "start", "--log-level", "LOUD"])

    assert result.exit_code == 2
    assert "log_level" in result.output


def test_services_ls_lists_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [
        ServiceEntry("alpha", "Does the first thing.", lambda db, s: None),  # type: ignore[arg-type,return-value]
        ServiceEntry("beta_long", "Does another thing.", lambda db, s: None),  # type: ignore[arg-type,return-value]
    ]
    monkeypatch.setattr(registry, "SERVICES", entries)

    result = runner.invoke(app, ["services", "ls"])

    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "alpha      Does the first thing.",
        "beta_long  Does another thing.",
    ]


def test_services_ls_without_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "SERVICES", [])

    result = runner.invoke(app, ["services", "ls"])

    assert result.exit_code == 0
    assert "No background services" in result.output
