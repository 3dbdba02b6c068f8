"""Server settings, read once at start-up from flags and `PODIUM_*` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Settings for the API server, its storage and its background services."""

    model_config = SettingsConfigDict(env_prefix="PODIUM_", extra="ignore")

    home: Path = Field(default=Path("~/.podium"))
    database_url: str | None = None
    database_echo: bool = False
    host: str = "127.0.0.1"
    port: int = 4200
    log_level: LogLevel = "INFO"
    # One line per HTTP request on the `podium.access` logger.
    access_log: bool = False

    # Background services run inside `podium server start` unless switched off.
    services_enabled: bool = True
    # How long shutdown waits for a service's current step before cancelling it.
    services_stop_timeout_seconds: float = 10.0
    scheduler_loop_seconds: float = 5.0
    scheduler_horizon_hours: float = 24 * 7
    scheduler_max_runs: int = 100
    scheduler_min_runs: int = 3
    late_runs_loop_seconds: float = 5.0
    late_runs_grace_seconds: float = 15.0
    worker_status_loop_seconds: float = 15.0
    worker_offline_after_seconds: float = 90.0
    lease_expiry_loop_seconds: float = 1.0
    cancellation_cleanup_loop_seconds: float = 20.0
    # A run CANCELLING for longer than this is marked CANCELLED by the cleanup service.
    cancelling_timeout_seconds: float = 300.0
    event_retention_days: int = 7

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser()

    @property
    def resolved_database_url(self) -> str:
        """Return the configured URL, or a SQLite file under the Podium home."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.resolved_home / 'podium.db'}"

    @property
    def database_url_for_display(self) -> str:
        """Return the database URL with any password replaced by `***`."""
        from sqlalchemy.engine import make_url

        return make_url(self.resolved_database_url).render_as_string(hide_password=True)
