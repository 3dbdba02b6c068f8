"""Log output of the `podium` commands.

Podium's own loggers print at the chosen level. Other libraries print only
warnings and errors, so a normal start shows Podium's one start-up line
and nothing from uvicorn or Alembic. At DEBUG, uvicorn's lines show too.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


def configure_logging(level: str, *, access_log: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)

    logging.getLogger("podium").setLevel(level)
    uvicorn_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    logging.getLogger("uvicorn").setLevel(uvicorn_level)
    # Podium writes its own access lines; uvicorn's are always off.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("podium.access").setLevel(
        logging.INFO if access_log else logging.CRITICAL + 1
    )
