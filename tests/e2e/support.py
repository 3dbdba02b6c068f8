"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import time
from typing import Any


def wait_for(probe: Any, timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Call `probe` until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s; last value {value!r}")
