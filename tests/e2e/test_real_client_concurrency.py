"""The real Prefect client against Podium's global concurrency limits."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.support import wait_for

pytestmark = pytest.mark.e2e

# The shortest lease the API grants, in seconds.
LEASE_SECONDS = 60

HOLDER_SCRIPT = """
import sys
import time

from prefect.concurrency.sync import concurrency

with concurrency(sys.argv[1], occupy=1, lease_duration={lease}):
    print("holding", flush=True)
    time.sleep(600)
"""


def _client_env(podium_api_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_API_URL=podium_api_url,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="false",
        DO_NOT_TRACK="1",
    )
    return env


def _limit(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.get(f"/v2/concurrency_limits/{name}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.timeout(180)
def test_killed_client_slot_returns_after_lease(
    api: httpx.Client, prefect_python: Path, podium_api_url: str, tmp_path: Path
) -> None:
    name = f"crash-{uuid.uuid4().hex[:8]}"
    created = api.post("/v2/concurrency_limits/", json={"name": name, "limit": 1})
    assert created.status_code == 201, created.text
    script = tmp_path / "hold_slot.py"
    script.write_text(textwrap.dedent(HOLDER_SCRIPT.format(lease=LEASE_SECONDS)))

    with (tmp_path / "holder.log").open("w") as log:
        holder = subprocess.Popen(
            [str(prefect_python), str(script), name],
            env=_client_env(podium_api_url, tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        held = wait_for(lambda: _limit(api, name)["active_slots"] == 1, timeout=60)
        holders_before = _limit(api, name)["holders"]
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        killed_at = time.monotonic()
        still_held = _limit(api, name)["active_slots"]

        wait_for(
            lambda: _limit(api, name)["active_slots"] == 0, timeout=LEASE_SECONDS + 20
        )
        freed_after = time.monotonic() - killed_at
        holders_after = _limit(api, name)["holders"]
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait(timeout=10)
    retaken = api.post(
        "/v2/concurrency_limits/increment-with-lease",
        json={"names": [name], "slots": 1, "lease_duration": LEASE_SECONDS},
    )

    assert held
    assert len(holders_before) == 1
    assert still_held == 1
    # The slot stays taken until the lease runs out, not a moment earlier.
    assert freed_after > LEASE_SECONDS - 15
    assert holders_after == []
    assert retaken.status_code == 200
