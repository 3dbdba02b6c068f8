"""What every workload declares: its name, its figures and the endpoints it needs."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.http import Tally
from bench.report import Figure
from bench.servers import RunningServer


@dataclass(frozen=True)
class FigureSpec:
    name: str
    unit: str
    better: str  # "higher" or "lower"


RunFunction = Callable[[RunningServer, argparse.Namespace], Awaitable[list[Figure]]]


@dataclass(frozen=True)
class Workload:
    """A load run against one freshly started server."""

    name: str
    summary: str
    figures: tuple[FigureSpec, ...]
    # None for workloads that start and measure server processes themselves.
    run: RunFunction | None = None

    def figure(self, name: str, value: float | None, note: str = "") -> Figure:
        spec = next(spec for spec in self.figures if spec.name == name)
        return Figure(self.name, spec.name, spec.unit, value, spec.better, note)

    def unavailable(self, reason: str) -> list[Figure]:
        """Return every figure as "n/a", the first carrying the reason."""
        return [
            Figure(
                self.name,
                spec.name,
                spec.unit,
                None,
                spec.better,
                reason if i == 0 else "",
            )
            for i, spec in enumerate(self.figures)
        ]


ERROR_FIGURES = (
    FigureSpec("503 responses", "count", "lower"),
    FigureSpec('"database is locked"', "count", "lower"),
)


def error_figures(
    workload: Workload, tally: Tally, server: RunningServer
) -> list[Figure]:
    """Return the 503 count and the "database is locked" count (bodies plus log)."""
    return [
        workload.figure("503 responses", tally.unavailable),
        workload.figure('"database is locked"', tally.locked + server.locked_in_log()),
    ]
