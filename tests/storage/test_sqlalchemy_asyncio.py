"""`podium.storage` registers SQLAlchemy's asyncio package without the ORM.

Each check runs in a fresh interpreter, since the test process itself may
already have imported the whole package.
"""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> list[str]:
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return output.split()


def test_engine_names_load_without_the_orm() -> None:
    code = (
        "import sys, podium.storage\n"
        "from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine\n"
        "from sqlalchemy.ext.asyncio import engine\n"
        "print(AsyncConnection is engine.AsyncConnection,\n"
        "      create_async_engine is engine.create_async_engine,\n"
        "      'sqlalchemy.orm' in sys.modules)"
    )

    assert _run(code) == ["True", "True", "False"]


def test_other_names_run_the_package_init() -> None:
    code = (
        "import sys, podium.storage\n"
        "import sqlalchemy.ext.asyncio as package\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from sqlalchemy.ext.asyncio.session import AsyncSession as defined\n"
        "print(AsyncSession is defined, 'sqlalchemy.orm' in sys.modules,\n"
        "      hasattr(package, 'async_sessionmaker'),\n"
        "      hasattr(package, 'async_scoped_session'),\n"
        "      hasattr(package, 'no_such_name'))"
    )

    assert _run(code) == ["True", "True", "True", "True", "False"]


def test_package_imported_first_is_left_alone() -> None:
    code = (
        "import sys, sqlalchemy.ext.asyncio as package\n"
        "from podium.storage.sqlalchemy_asyncio import load_engine_only\n"
        "load_engine_only()\n"
        "print(sys.modules['sqlalchemy.ext.asyncio'] is package,\n"
        "      'sqlalchemy.orm' in sys.modules)"
    )

    assert _run(code) == ["True", "True"]
