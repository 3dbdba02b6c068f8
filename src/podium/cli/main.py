"""`podium` commands: start the server or the services, manage the database.

Every command reads `Settings` once (flags first, then `PODIUM_*`
variables) and imports the server, the services or Alembic only when it
runs, so `podium --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from podium import __version__
from podium.cli.logging_config import configure_logging
from podium.settings import Settings

app = typer.Typer(
    no_args_is_help=True, help="Podium: a Prefect 3 compatible orchestration server."
)
server = typer.Typer(no_args_is_help=True, help="Run the API server.")
services = typer.Typer(
    no_args_is_help=True, help="Run or list the background services."
)
database = typer.Typer(no_args_is_help=True, help="Manage the database schema.")
app.add_typer(server, name="server")
app.add_typer(services, name="services")
app.add_typer(database, name="database")

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the database (default: PODIUM_DATABASE_URL, "
        "else the SQLite file podium.db under PODIUM_HOME, which defaults to ~/.podium).",
        show_default=False,
    ),
]
LogLevelOption = Annotated[
    str | None,
    typer.Option(
        "--log-level",
        help="Lowest level of Podium's log lines: DEBUG, INFO, WARNING, ERROR or "
        "CRITICAL (default: PODIUM_LOG_LEVEL, else INFO).",
        show_default=False,
    ),
]


def _settings(**overrides: object) -> Settings:
    """Build settings from the flags that were given and the environment."""
    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"Podium {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Podium: a Prefect 3 compatible orchestration server."""


@server.command("start")
def start_server(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="TCP port to listen on (default: 4200).")
    ] = None,
    database_url: DatabaseUrlOption = None,
    run_services: Annotated[
        bool | None,
        typer.Option(
            "--services/--no-services",
            help="Run the background services in this process (default: on).",
            show_default=False,
        ),
    ] = None,
    log_level: LogLevelOption = None,
    access_log: Annotated[
        bool | None,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log one line per HTTP request on the podium.access logger (default: off).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Migrate the database if needed, then serve the API and the background services."""
    settings = _settings(
        host=host,
        port=port,
        database_url=database_url,
        services_enabled=run_services,
        log_level=log_level,
        access_log=access_log,
    )
    configure_logging(settings.log_level, access_log=settings.access_log)

    from podium.cli.serve import serve

    serve(settings)


@services.command("start")
def start_services(
    database_url: DatabaseUrlOption = None, log_level: LogLevelOption = None
) -> None:
    """Run every registered background service without the HTTP API, until interrupted."""
    settings = _settings(database_url=database_url, log_level=log_level)
    configure_logging(settings.log_level)

    import asyncio

    from podium.cli.serve import run_services_until_stopped

    asyncio.run(run_services_until_stopped(settings))


@services.command("ls")
def list_services() -> None:
    """List the registered background services."""
    from podium.services.registry import SERVICES

    if not SERVICES:
        typer.echo("No background services are registered.")
        return
    width = max(len(entry.name) for entry in SERVICES)
    for entry in SERVICES:
        typer.echo(f"{entry.name:<{width}}  {entry.description}")


@contextmanager
def _reporting_database_errors(settings: Settings) -> Iterator[None]:
    """Turn a failed connection into one error line without the password."""
    import sqlalchemy.exc

    try:
        yield
    except (OSError, sqlalchemy.exc.DBAPIError) as exc:
        reason = getattr(exc, "orig", None) or exc
        typer.echo(
            f"Error: could not use the database {settings.database_url_for_display}: {reason}",
            err=True,
        )
        raise typer.Exit(1) from None


@database.command("upgrade")
def upgrade_database(database_url: DatabaseUrlOption = None) -> None:
    """Apply all migrations, creating the schema on an empty database."""
    from podium.storage import migrate

    settings = _settings(database_url=database_url)
    with _reporting_database_errors(settings):
        migrate.upgrade(settings.resolved_database_url)
    typer.echo(f"The schema of {settings.database_url_for_display} is up to date.")


@database.command("reset")
def reset_database(
    database_url: DatabaseUrlOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
    ] = False,
) -> None:
    """Drop all Podium data and recreate the schema."""
    from podium.storage import migrate

    settings = _settings(database_url=database_url)
    if not yes:
        typer.confirm(
            f"Delete all data in {settings.database_url_for_display}?", abort=True
        )
    with _reporting_database_errors(settings):
        migrate.reset(settings.resolved_database_url)
    typer.echo(f"{settings.database_url_for_display} was reset.")
