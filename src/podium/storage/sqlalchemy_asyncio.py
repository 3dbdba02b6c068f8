"""Load SQLAlchemy's asyncio extension without its async ORM session.

Podium runs Core statements on `AsyncEngine` and `AsyncConnection`, which
`sqlalchemy.ext.asyncio.engine` defines. The package's `__init__` also
imports its session modules, and they import all of `sqlalchemy.orm`: about
50 modules and 6 MB of resident memory in a server that never maps a
class. `load_engine_only` registers the package with the engine and result
modules alone. The first lookup of any other name in the package runs the
package's own `__init__`, so code that does want the async session gets
the package exactly as SQLAlchemy builds it.

NOTE: that `__init__` also imports greenlet, which then happens on the first
async statement instead, so a missing greenlet fails there.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from typing import Any

PACKAGE = "sqlalchemy.ext.asyncio"

# The names set on the package up front, by the submodule that defines them.
_ENGINE_NAMES = {
    "engine": (
        "AsyncConnection",
        "AsyncEngine",
        "AsyncTransaction",
        "async_engine_from_config",
        "create_async_engine",
        "create_async_pool_from_url",
    ),
    "result": (
        "AsyncMappingResult",
        "AsyncResult",
        "AsyncScalarResult",
        "AsyncTupleResult",
    ),
}


def load_engine_only() -> None:
    """Register `sqlalchemy.ext.asyncio` without importing `sqlalchemy.orm`.

    Does nothing when the package is already imported. If SQLAlchemy's layout
    differs from the one above, it leaves the package to the normal import.
    """
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None:
        return
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    try:
        for submodule, names in _ENGINE_NAMES.items():
            module = importlib.import_module(f"{PACKAGE}.{submodule}")
            for name in names:
                setattr(package, name, getattr(module, name))
    except (ImportError, AttributeError):
        del sys.modules[PACKAGE]
        return

    lock = threading.Lock()

    def __getattr__(name: str) -> Any:
        # A name that was not set up front: run the real `__init__` once. It
        # defines every public name, including the ones set above. The lock
        # makes a second thread wait until the package is complete.
        with lock:
            if "__getattr__" in vars(package):
                del package.__getattr__
                loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    setattr(sys.modules["sqlalchemy.ext"], "asyncio", package)  # noqa: B010
