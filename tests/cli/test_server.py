"""Start `podium server start` as a real process and check what it serves."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

PODIUM = Path(sys.executable).parent / "podium"
START_LINE = re.compile(
    r"Podium \S+ listening on (http://127\.0\.0\.1:(\d+)) \(API at /api\), "
    r"database (\S+), services: (.+)$"
)
START_TIMEOUT_SECONDS = 60


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def wait_for_line(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(
            f"no line matched {pattern.pattern!r}; output: {self.seen}"
        )

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=20)
        if self.reader is not None:
            self.reader.join(timeout=5)
        assert self.process.stderr is not None
        self.process.stderr.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


def start_server(home: Path, *args: str) -> ServerProcess:
    return start_podium(home, "server", "start", "--port", "0", *args)


def start_podium(home: Path, *args: str) -> ServerProcess:
    """Run `podium ARGS` with its own PODIUM_HOME, collecting its log lines."""
    env = {**os.environ, "PODIUM_HOME": str(home)}
    env.pop("PODIUM_DATABASE_URL", None)
    process = subprocess.Popen(
        [str(PODIUM), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = ServerProcess(process)

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            server.lines.put(line.rstrip("\n"))

    server.reader = threading.Thread(target=read, daemon=True)
    server.reader.start()
    return server


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, str, Path]]:
    home = tmp_path_factory.mktemp("podium-home")
    server = start_server(home)
    try:
        match = server.wait_for_line(START_LINE, START_TIMEOUT_SECONDS)
        yield server, match.group(1), home
    finally:
        if server.process.poll() is None:
            server.stop()


def test_start_line_names_database_and_services(
    running: tuple[ServerProcess, str, Path],
) -> None:
    server, _, home = running
    [line] = [line for line in server.seen if START_LINE.search(line)]
    match = START_LINE.search(line)

    assert match is not None
    assert match.group(3) == f"sqlite+aiosqlite:///{home}/podium.db"
    assert match.group(4)
    assert not [line for line in server.seen if "Uvicorn running" in line]


def test_health_answers_true(running: tuple[ServerProcess, str, Path]) -> None:
    _, base_url, _ = running

    response = httpx.get(f"{base_url}/api/health")

    assert response.status_code == 200
    assert response.json() is True


def test_openapi_json_at_root(running: tuple[ServerProcess, str, Path]) -> None:
    _, base_url, _ = running

    document = httpx.get(f"{base_url}/openapi.json").json()

    assert document["openapi"].startswith("3.")
    assert "/logs/filter" in document["paths"]
    assert "/logs/" in document["paths"]


def test_docs_page_loads_local_assets(running: tuple[ServerProcess, str, Path]) -> None:
    _, base_url, _ = running

    page = httpx.get(f"{base_url}/docs")
    assets = re.findall(r'(?:href|src)="([^"]+)"', page.text)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert len(assets) == 3
    for asset in assets:
        assert asset.startswith("/static/"), asset
        loaded = httpx.get(f"{base_url}{asset}")
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 500, asset
    assert "https://" not in page.text


def test_api_docs_redirects_to_docs(running: tuple[ServerProcess, str, Path]) -> None:
    _, base_url, _ = running

    response = httpx.get(f"{base_url}/api/docs")

    assert response.status_code == 307
    assert response.headers["location"] == "/docs"


def test_server_stops_on_sigterm(running: tuple[ServerProcess, str, Path]) -> None:
    server, _, _ = running

    code = server.stop()

    # uvicorn re-raises the signal after a graceful shutdown.
    assert code in (0, -signal.SIGTERM)
    assert any(line.endswith("Podium stopped.") for line in server.seen)
    assert not [line for line in server.seen if "Traceback" in line]


def test_access_log_flag_logs_requests(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--access-log", "--no-services")
    try:
        match = server.wait_for_line(START_LINE, START_TIMEOUT_SECONDS)
        httpx.get(f"{match.group(1)}/api/health")
        access = server.wait_for_line(
            re.compile(r"podium\.access: .*GET /api/health"), 10
        )
    finally:
        server.stop()

    assert '"GET /api/health HTTP/1.1" 200' in access.string
    assert match.group(4) == "none"


def test_services_start_runs_without_http(tmp_path: Path) -> None:
    services = start_podium(tmp_path, "services", "start")
    try:
        running = services.wait_for_line(
            re.compile(r"services running on database (\S+): (.+)$"),
            START_TIMEOUT_SECONDS,
        )
    finally:
        code = services.stop()

    assert running.group(1) == f"sqlite+aiosqlite:///{tmp_path}/podium.db"
    assert "scheduler" in running.group(2)
    assert code == 0
    assert any(line.endswith("Stopping the services.") for line in services.seen)
    assert not [line for line in services.seen if "Traceback" in line]
