"""A forecast-vs-actual chart as inline SVG: interval band, forecast line, actual points.

No JavaScript and no CDN, like the other charts of the supervisor pages; every label is
escaped, the returned Markup is safe to embed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 1120, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 36
MAX_LABELS = 14


@dataclass(frozen=True)
class Point:
    label: str
    actual: float | None = None
    forecast: float | None = None
    low: float | None = None
    high: float | None = None


def _poly(coords: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)


def forecast_chart(points: Sequence[Point], *, title: str) -> Markup:
    """Band low–high and forecast line where present, actual values as a dark line."""
    if not points:
        return Markup('<p class="muted">暂无数据 No data</p>')
    values = [v for p in points for v in (p.actual, p.high, p.forecast) if v is not None]
    top = max(values + [1.0]) * 1.1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return LEFT + i * step, TOP + inner_h * (1 - v / top)

    parts = [
        f'<svg class="chart" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = TOP + inner_h * (1 - frac)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{top * frac:,.0f}</text>"
        )
    band = [(i, p) for i, p in enumerate(points) if p.low is not None and p.high is not None]
    if band:
        upper = [xy(i, p.high) for i, p in band]
        lower = [xy(i, p.low) for i, p in reversed(band)]
        parts.append(
            f'<polygon points="{_poly(upper + lower)}" fill="#1f5fae" fill-opacity="0.15"/>'
        )
    fc = [xy(i, p.forecast) for i, p in enumerate(points) if p.forecast is not None]
    if fc:
        parts.append(
            f'<polyline points="{_poly(fc)}" fill="none" stroke="#1f5fae" stroke-width="2" '
            'stroke-dasharray="6 3"/>'
        )
    actual = [xy(i, p.actual) for i, p in enumerate(points) if p.actual is not None]
    if actual:
        parts.append(
            f'<polyline points="{_poly(actual)}" fill="none" stroke="#222" stroke-width="2"/>'
        )
    every = max(1, len(points) // MAX_LABELS)
    for i, p in enumerate(points):
        if i % every == 0:
            x, _ = xy(i, 0)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="11">'
                f"{escape(p.label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
