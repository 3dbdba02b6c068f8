"""Figures measured per server, and the side-by-side table with ratios."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Figure:
    """One measured value of one workload on one server."""

    workload: str
    name: str
    unit: str
    value: float | None
    # "higher" or "lower": which way is better, for reading the ratio.
    better: str
    note: str = ""


@dataclass
class Row:
    workload: str
    name: str
    unit: str
    better: str
    podium: Figure | None
    prefect: Figure | None

    @property
    def ratio(self) -> float | None:
        if self.podium is None or self.prefect is None:
            return None
        if self.podium.value is None or self.prefect.value is None:
            return None
        if self.prefect.value == 0:
            return None
        return self.podium.value / self.prefect.value


def pair(podium: list[Figure], prefect: list[Figure]) -> list[Row]:
    """Match figures by workload and name, keeping first-seen order."""
    rows: dict[tuple[str, str], Row] = {}
    for side, figures in (("podium", podium), ("prefect", prefect)):
        for figure in figures:
            key = (figure.workload, figure.name)
            row = rows.setdefault(
                key,
                Row(
                    figure.workload, figure.name, figure.unit, figure.better, None, None
                ),
            )
            setattr(row, side, figure)
    return list(rows.values())


def format_value(figure: Figure | None) -> str:
    if figure is None or figure.value is None:
        return "n/a"
    value = figure.value
    if value == int(value) and abs(value) >= 1:
        return f"{int(value)}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def format_ratio(row: Row) -> str:
    ratio = row.ratio
    if ratio is None:
        return "n/a"
    return f"{ratio:.2f}"


def markdown_table(rows: list[Row]) -> str:
    """Render the rows as a Markdown table (it also reads well in a terminal)."""
    lines = [
        "| workload | figure | unit | better | Podium | Prefect | Podium/Prefect |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.workload} | {row.name} | {row.unit} | {row.better} | "
            f"{format_value(row.podium)} | {format_value(row.prefect)} | "
            f"{format_ratio(row)} |"
        )
    notes = [
        f"- {row.workload} / {row.name} ({side}): {figure.note}"
        for row in rows
        for side, figure in (("Podium", row.podium), ("Prefect", row.prefect))
        if figure is not None and figure.note
    ]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines)


def as_json(rows: list[Row]) -> list[dict[str, object]]:
    return [
        {
            "workload": row.workload,
            "name": row.name,
            "unit": row.unit,
            "better": row.better,
            "podium": asdict(row.podium) if row.podium else None,
            "prefect": asdict(row.prefect) if row.prefect else None,
            "ratio": row.ratio,
        }
        for row in rows
    ]
