"""What building the server app imports, checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

# Modules a server on SQLite does not need until a request or a schedule
# uses them. Each one loaded at start-up adds to the idle resident memory.
NOT_AT_START = (
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql",
    "croniter",
    "dateutil.rrule",
    "coolname",
    "alembic",
)


def test_server_app_skips_unused_modules() -> None:
    code = (
        "import sys\n"
        "import podium.cli.serve\n"
        "from podium.api.app import create_app\n"
        "create_app()\n"
        f"print(*[name for name in {NOT_AT_START!r} if name in sys.modules])"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert output.split() == []
