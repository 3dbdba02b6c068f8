"""Apply and reset the schema through Alembic migrations."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

import podium.storage.migrations

MIGRATIONS_DIR = Path(podium.storage.migrations.__file__).parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def _in_thread_if_loop_running(target: object, *args: object) -> None:
    # Alembic's env runs its own event loop, which cannot start inside a
    # running loop, so callers already in async code get a worker thread.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        target(*args)  # type: ignore[operator]
        return
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(*args)  # type: ignore[operator]
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(database_url: str) -> None:
    """Migrate the database to the newest schema, creating it if empty."""
    _prepare_sqlite_directory(database_url)
    _in_thread_if_loop_running(command.upgrade, alembic_config(database_url), "head")


def reset(database_url: str) -> None:
    """Drop every Podium table, then migrate to the newest schema."""
    _prepare_sqlite_directory(database_url)
    config = alembic_config(database_url)
    _in_thread_if_loop_running(command.downgrade, config, "base")
    _in_thread_if_loop_running(command.upgrade, config, "head")


def _prepare_sqlite_directory(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
