"""`podium` commands: start the server, manage the database."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
import uvicorn

from podium.settings import Settings
from podium.storage import migrate

app = typer.Typer(no_args_is_help=True, help="Podium: a Prefect 3 compatible orchestration server.")
server = typer.Typer(no_args_is_help=True, help="Run the API server.")
database = typer.Typer(no_args_is_help=True, help="Manage the database schema.")
app.add_typer(server, name="server")
app.add_typer(database, name="database")

logger = logging.getLogger("podium")

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the database (default: PODIUM_DATABASE_URL, "
        "else a SQLite file under PODIUM_HOME).",
        show_default=False,
    ),
]


def _settings(**overrides: object) -> Settings:
    values = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**values)  # type: ignore[arg-type]


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@server.command("start")
def start_server(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port to listen on.")] = None,
    database_url: DatabaseUrlOption = None,
    services: Annotated[
        bool | None,
        typer.Option("--services/--no-services", help="Run the background services in this process."),
    ] = None,
) -> None:
    """Migrate the database, then serve the API and the background services."""
    from podium.api import create_app

    settings = _settings(
        host=host, port=port, database_url=database_url, services_enabled=services
    )
    _configure_logging(settings.log_level)
    application = create_app(settings)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        ws_ping_interval=None,
    )


@database.command("upgrade")
def upgrade_database(database_url: DatabaseUrlOption = None) -> None:
    """Apply all migrations, creating the schema on an empty database."""
    settings = _settings(database_url=database_url)
    migrate.upgrade(settings.resolved_database_url)
    typer.echo("The database schema is up to date.")


@database.command("reset")
def reset_database(
    database_url: DatabaseUrlOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop all Podium data and recreate the schema."""
    settings = _settings(database_url=database_url)
    if not yes:
        typer.confirm("Delete all data in the Podium database?", abort=True)
    migrate.reset(settings.resolved_database_url)
    typer.echo("The database was reset.")
