"""Start, watch and stop the two servers under test: Podium and Prefect 3.9.1.

Each server gets a fresh temporary home (and, with PostgreSQL, a fresh
database), writes its output to a log file there, and is stopped by the PIDs
of its own process tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
PODIUM_COMMAND = REPO_ROOT / ".venv" / "bin" / "podium"
PREFECT_VENV = Path.home() / ".cache" / "podium-compat" / "venv"
PREFECT_COMMAND = PREFECT_VENV / "bin" / "prefect"
PREFECT_PYTHON = PREFECT_VENV / "bin" / "python"

POSTGRES_ADMIN_URL = os.environ.get(
    "PODIUM_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

HEALTH_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
LOCKED_TEXT = "database is locked"


@dataclass
class ServerSpec:
    """How to start one kind of server on one port and backend."""

    kind: str  # "podium" or "prefect"
    port: int
    postgres: bool = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


@dataclass
class RunningServer:
    """A started server: its process, home, log and database."""

    spec: ServerSpec
    process: subprocess.Popen[bytes]
    home: Path
    log_path: Path
    started_at: float
    database_name: str | None = None
    healthy_after: float | None = None
    extra_pids: list[int] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.spec.api_url

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def locked_in_log(self) -> int:
        return self.log_text().count(LOCKED_TEXT)

    def rss_bytes(self) -> int:
        """Sum the resident memory of the server process and all its descendants."""
        return sum(_rss_bytes(pid) for pid in [self.pid, *descendants(self.pid)])

    def cpu_seconds(self) -> float:
        """Sum the user and system CPU time of the server process tree so far."""
        return sum(_cpu_seconds(pid) for pid in [self.pid, *descendants(self.pid)])


def _postgres_url(database: str, driver: str) -> str:
    base = httpx.URL(POSTGRES_ADMIN_URL.replace("postgresql://", "http://", 1))
    user = base.username or "postgres"
    password = f":{base.password}" if base.password else ""
    return f"{driver}://{user}{password}@{base.host}:{base.port or 5432}/{database}"


async def _admin_execute(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database(kind: str) -> str:
    name = f"bench_{kind}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    return name


def drop_database(name: str) -> None:
    asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _environment(spec: ServerSpec, home: Path, database: str | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PODIUM_", "PREFECT_"))
    }
    if spec.kind == "podium":
        env["PODIUM_HOME"] = str(home)
        if database:
            env["PODIUM_DATABASE_URL"] = _postgres_url(database, "postgresql+asyncpg")
        return env
    env.update(
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_HOME=str(home),
    )
    if database:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = _postgres_url(
            database, "postgresql+asyncpg"
        )
    return env


def _command(spec: ServerSpec) -> list[str]:
    if spec.kind == "podium":
        return [str(PODIUM_COMMAND), "server", "start", "--port", str(spec.port)]
    return [
        str(PREFECT_COMMAND),
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(spec.port),
    ]


def start(spec: ServerSpec) -> RunningServer:
    """Start a server with a fresh home (and database); do not wait for it."""
    if _port_in_use(spec.port):
        raise RuntimeError(
            f"Port {spec.port} is already in use; stop whatever listens there "
            "or pick other ports with --podium-port/--prefect-port."
        )
    home = Path(tempfile.mkdtemp(prefix=f"bench-{spec.kind}-"))
    database = create_database(spec.kind) if spec.postgres else None
    log_path = home / "server.log"
    with log_path.open("wb") as log:
        started_at = time.perf_counter()
        process = subprocess.Popen(
            _command(spec),
            env=_environment(spec, home, database),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=home,
            start_new_session=True,
        )
    return RunningServer(spec, process, home, log_path, started_at, database)


def wait_healthy(
    server: RunningServer, timeout: float = HEALTH_TIMEOUT_SECONDS
) -> float:
    """Poll `/api/health` until it returns 200; return seconds since the start."""
    deadline = server.started_at + timeout
    url = f"{server.api_url}/health"
    with httpx.Client(timeout=1.0) as client:
        while time.perf_counter() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"{server.spec.kind} exited with code {server.process.returncode} "
                    f"before it was healthy; log tail:\n{server.log_text()[-3000:]}"
                )
            try:
                if client.get(url).status_code == 200:
                    server.healthy_after = time.perf_counter() - server.started_at
                    return server.healthy_after
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(
        f"{server.spec.kind} was not healthy within {timeout:.0f} s; "
        f"log tail:\n{server.log_text()[-3000:]}"
    )


def start_healthy(spec: ServerSpec) -> RunningServer:
    server = start(spec)
    try:
        wait_healthy(server)
    except BaseException:
        stop(server)
        raise
    return server


def stop(server: RunningServer, keep_home: bool = False) -> None:
    """Stop the server's process tree by PID, then remove its home and database."""
    pids = [*descendants(server.pid), *server.extra_pids]
    _signal(server.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        _signal(server.pid, signal.SIGKILL)
        server.process.wait(timeout=5)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    if server.database_name:
        drop_database(server.database_name)
    if not keep_home:
        shutil.rmtree(server.home, ignore_errors=True)


def descendants(pid: int) -> list[int]:
    """List the PIDs of every live descendant of `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; fields after it
        # are state, then the parent PID.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found: list[int] = []
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(children.get(child, []))
    return found


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15, the 12th and 13th after the name.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _port_in_use(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
