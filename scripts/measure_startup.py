"""Measure how fast `podium server start` becomes healthy and its idle memory.

Each run starts the server on a SQLite database in a temporary PODIUM_HOME,
polls `GET /api/health` every 10 ms and reads the CPU time the server used
until then. It then waits `--idle-seconds` and reads the process's resident
memory (VmRSS) and peak (VmHWM). All three come from /proc, so the script
runs on Linux only. On a busy machine the wall time grows with the load
while the CPU time stays close to what an idle machine needs. The first run migrates an empty database; later runs
reuse it, which is the usual case. Prints one line per run and the medians.

    .venv/bin/python scripts/measure_startup.py --runs 5 --port 4231
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PODIUM = Path(sys.executable).parent / "podium"
HEALTH_TIMEOUT_SECONDS = 30.0


def wait_healthy(port: int, process: subprocess.Popen[bytes]) -> float:
    started = time.perf_counter()
    url = f"http://127.0.0.1:{port}/api/health"
    while time.perf_counter() - started < HEALTH_TIMEOUT_SECONDS:
        if process.poll() is not None:
            raise RuntimeError(f"podium exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    raise TimeoutError(f"{url} was not healthy within {HEALTH_TIMEOUT_SECONDS} s")


def cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def measure_once(
    home: str, port: int, idle_seconds: float
) -> tuple[float, float, int, int]:
    env = {**os.environ, "PODIUM_HOME": home}
    env.pop("PODIUM_DATABASE_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(PODIUM), "server", "start", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port, process)
        healthy = time.perf_counter() - started
        cpu = cpu_seconds(process.pid)
        time.sleep(idle_seconds)
        memory = memory_kib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    return healthy, cpu, memory["VmRSS"], memory["VmHWM"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="number of starts (1 to 50)"
    )
    parser.add_argument("--port", type=int, default=4231, help="TCP port to use")
    parser.add_argument(
        "--idle-seconds", type=float, default=3.0, help="wait before reading memory"
    )
    args = parser.parse_args()
    runs = max(1, min(args.runs, 50))

    with tempfile.TemporaryDirectory() as home:
        results = []
        for run in range(runs):
            healthy, cpu, rss, peak = measure_once(home, args.port, args.idle_seconds)
            label = "empty database" if run == 0 else "existing database"
            print(
                f"run {run + 1} ({label}): healthy after {healthy:.3f} s "
                f"using {cpu:.2f} s CPU, idle RSS {rss / 1024:.1f} MiB, "
                f"peak {peak / 1024:.1f} MiB"
            )
            results.append((healthy, cpu, rss, peak))
    later = results[1:] or results
    print(
        f"median over existing-database runs: healthy after "
        f"{statistics.median(r[0] for r in later):.3f} s "
        f"using {statistics.median(r[1] for r in later):.2f} s CPU, "
        f"idle RSS {statistics.median(r[2] for r in later) / 1024:.1f} MiB, "
        f"peak {statistics.median(r[3] for r in later) / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    main()
