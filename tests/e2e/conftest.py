"""Fixtures that run a real Podium server and the real Prefect client.

The client is `prefect==3.9.1` in its own virtualenv (never in Podium's), made
once under `~/.cache/podium/` (or `PODIUM_E2E_VENV`) and reused. Each test
session starts Podium as a subprocess, once on SQLite and once on PostgreSQL,
and flow scripts run in the client virtualenv with `PREFECT_API_URL` pointing
at it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

PREFECT_REQUIREMENT = "prefect==3.9.1"
CLIENT_VENV = Path(
    os.environ.get(
        "PODIUM_E2E_VENV", Path.home() / ".cache" / "podium" / "prefect-3.9.1"
    )
)

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def prefect_python() -> Path:
    """The interpreter of a virtualenv with the real Prefect client installed."""
    python = CLIENT_VENV / "bin" / "python"
    marker = CLIENT_VENV / ".podium-e2e-requirement"
    if (
        python.exists()
        and marker.exists()
        and marker.read_text() == PREFECT_REQUIREMENT
    ):
        return python
    subprocess.run([sys.executable, "-m", "venv", str(CLIENT_VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            PREFECT_REQUIREMENT,
        ],
        check=True,
        timeout=600,
    )
    marker.write_text(PREFECT_REQUIREMENT)
    return python


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def podium_api_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The API URL of a freshly started Podium server."""
    home = tmp_path_factory.mktemp(f"podium-home-{request.param}")
    env = {**os.environ, "PODIUM_HOME": str(home)}
    if request.param == "postgresql":
        env["PODIUM_DATABASE_URL"] = request.getfixturevalue("postgresql_url")
    else:
        env.pop("PODIUM_DATABASE_URL", None)
    port = _free_port()
    log_path = home / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "podium"),
                "server",
                "start",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(api_url, server, log_path)
        yield api_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def _wait_healthy(
    api_url: str, server: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"Podium exited early:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{api_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"Podium did not become healthy:\n{log_path.read_text()[-3000:]}"
    )


@pytest.fixture
def api(podium_api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=podium_api_url, timeout=30) as http:
        yield http


@pytest.fixture
def run_flow_script(prefect_python: Path, podium_api_url: str, tmp_path: Path) -> Any:
    """Run a Python script with the real Prefect client; return its JSON output.

    The script prints one JSON document as its last line of output.
    """

    def run(source: str, timeout: float = 120) -> Any:
        script = tmp_path / f"flow_{uuid.uuid4().hex[:8]}.py"
        script.write_text(textwrap.dedent(source))
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("PREFECT_")
        }
        env.update(
            PREFECT_API_URL=podium_api_url,
            PREFECT_HOME=str(tmp_path / "prefect-home"),
            PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="false",
            PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "storage"),
            DO_NOT_TRACK="1",
        )
        result = subprocess.run(
            [str(prefect_python), str(script)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, (
            f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    return run
