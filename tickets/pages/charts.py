"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, printable.

Every label goes through markupsafe.escape; the returned Markup is safe to
embed with `{{ chart }}`.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = (
    "#1f5fae",
    "#b3261e",
    "#1e7d45",
    "#a86400",
    "#6b3fa0",
    "#0f7c8a",
    "#7a7f86",
    "#c2185b",
    "#5d7b1f",
    "#3949ab",
)
WIDTH = 560  # horizontal bars (half-width cards)
WIDE = 1120  # columns over time (full-width card)
ROW_HEIGHT = 24
LABEL_WIDTH = 150
MAX_COLUMN_LABELS = 12


def _open(width: int, height: int, title: str) -> str:
    # Explicit width/height: drawn at its natural size, only shrunk (CSS max-width) to fit,
    # so the text never grows larger than the page's.
    return (
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}">'
    )


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def hbars(
    rows: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    title: str = "",
    percent_of: float | None = None,
) -> Markup:
    """Horizontal bars, one per (label, value); with percent_of, values show as shares."""
    if not rows:
        return Markup('<p class="muted">暂无数据 No data</p>')
    top = max(v for _, v in rows) or 1
    bar_space = WIDTH - LABEL_WIDTH - 90
    height = ROW_HEIGHT * len(rows) + 8
    parts = [_open(WIDTH, height, title)]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * ROW_HEIGHT
        w = max(1.0, bar_space * value / top) if value else 0
        shown = _fmt(value) + unit
        if percent_of:
            shown += f" ({100 * value / percent_of:.1f}%)"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 3}" width="{w:.1f}" height="{ROW_HEIGHT - 8}"'
            f' fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{LABEL_WIDTH + w + 6:.1f}" y="{y + 15}">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(points: Sequence[tuple[str, float]], *, title: str = "", height: int = 220) -> Markup:
    """Vertical columns over time (volume per day); labels thinned to stay readable."""
    if not points:
        return Markup('<p class="muted">暂无数据 No data</p>')
    left, bottom, top_pad = 44, 28, 12
    plot_w, plot_h = WIDE - left - 10, height - bottom - top_pad
    peak = max(v for _, v in points) or 1
    step = plot_w / len(points)
    every = max(1, -(-len(points) // MAX_COLUMN_LABELS))
    parts = [_open(WIDE, height, title)]
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{WIDE - 10}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(peak * frac)}</text>'
        )
    for i, (label, value) in enumerate(points):
        h = plot_h * value / peak
        x = left + i * step
        parts.append(
            f'<rect class="bar" x="{x + step * 0.12:.1f}" y="{top_pad + plot_h - h:.1f}" '
            f'width="{max(1.0, step * 0.76):.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {_fmt(value)}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{WIDE - 10}" y1="{top_pad + plot_h}" '
        f'y2="{top_pad + plot_h}"/></svg>'
    )
    return Markup("".join(parts))


def share_bar(
    rows: Sequence[tuple[str, float]], *, title: str = "", show_values: bool = True
) -> Markup:
    """One stacked bar of shares (channels, demand types) with a legend below.

    Rows may be counts or percentages; show_values=False leaves the raw values out.
    """
    total = sum(v for _, v in rows)
    if not total:
        return Markup('<p class="muted">暂无数据 No data</p>')
    parts = [
        f'<svg class="chart stretch" viewBox="0 0 {WIDTH} 36" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    x = 0.0
    legend = []
    for i, (label, value) in enumerate(rows):
        w = WIDTH * value / total
        color = PALETTE[i % len(PALETTE)]
        share = f"{100 * value / total:.1f}%"
        parts.append(
            f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="28" fill="{color}">'
            f"<title>{escape(label)}: {_fmt(value)} ({share})</title></rect>"
        )
        x += w
        shown = f' <span class="muted">({_fmt(value)})</span>' if show_values else ""
        legend.append(
            f'<span><i style="background:{color}"></i>{escape(label)} <b>{share}</b>{shown}</span>'
        )
    parts.append("</svg>")
    return Markup("".join(parts) + '<div class="legend">' + "".join(legend) + "</div>")
