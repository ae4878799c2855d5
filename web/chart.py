"""The 90-day chart: developments first seen per day, stacked by category, as SVG geometry that
a template draws (no JavaScript, no chart library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

DAYS = 90
WIDTH = 900
HEIGHT = 160
# Distinct on white and for common colour blindness (Okabe-Ito), cycled past eight categories.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


@dataclass(frozen=True, slots=True)
class Bar:
    """One category's part of one day's column."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """What the template draws: bars, the legend's colours, the scale and the period."""

    bars: list[Bar]
    legend: list[tuple[str, str]]
    peak: int
    first_day: date
    last_day: date
    width: int = WIDTH
    height: int = HEIGHT


def daily_chart(counts: Sequence[tuple[date, str, int]], today: date, days: int = DAYS) -> Chart:
    """Stacked columns for the `days` days ending `today`; days outside are left out."""
    first = today - timedelta(days=days - 1)
    shown = [(day, category, n) for day, category, n in counts if first <= day <= today]
    categories = sorted({category for _, category, _ in shown})
    colours = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(categories)}
    totals: dict[date, int] = {}
    for day, _, n in shown:
        totals[day] = totals.get(day, 0) + n
    peak = max(totals.values(), default=0)
    step = WIDTH / days
    stacked: dict[date, int] = {}
    bars = []
    for day, category, n in sorted(shown, key=lambda row: (row[0], row[1])):
        below = stacked.get(day, 0)
        stacked[day] = below + n
        top = HEIGHT * (below + n) / peak
        bars.append(
            Bar(
                x=round((day - first).days * step, 1),
                y=round(HEIGHT - top, 1),
                width=round(step * 0.85, 1),
                height=round(HEIGHT * n / peak, 1),
                colour=colours[category],
                label=f"{day.isoformat()} {category}: {n}",
            )
        )
    return Chart(
        bars=bars,
        legend=[(c, colours[c]) for c in categories],
        peak=peak,
        first_day=first,
        last_day=today,
    )
