"""Small vector charts for the review packets, drawn as inline SVG (no raster blur).

:func:`line_chart` draws one series over periods (a score, or one KPI) with its
values written at the points; :func:`bar_chart` draws counts per category (the
grade distribution).  Every text that goes into the SVG is escaped; the result is
marked safe for the Jinja templates.
"""

from __future__ import annotations

from markupsafe import Markup, escape

FONT = "font-family='Noto Sans CJK SC, Noto Sans, sans-serif'"
LINE_COLOUR = "#1f5fa8"
GRID_COLOUR = "#d9dee5"
TEXT_COLOUR = "#3c4452"
THRESHOLD_COLOUR = "#b45309"


def line_chart(title: str, periods: list[str], values: list[float | None], labels: list[str],
               width: int = 250, height: int = 120, lower_is_better: bool = False, note: str = "",
               thresholds: tuple[tuple[float, str], ...] = ()) -> Markup:
    """One series over periods; missing values leave a gap.

    Better is always up: for a metric where lower is better (handling time, complaints)
    the axis runs downwards, so that a falling handling time is drawn as a rising line, and
    ``note`` (``越低越好``) is written beside the title to say so.  ``thresholds`` (value,
    label) are drawn as dashed lines labelled above their right end; the last period, the one under
    review, is written in bold.
    """
    left, right, top, bottom = 24, 24, 26, 24
    plot_width, plot_height = width - left - right, height - top - bottom
    present = [value for value in values if value is not None] + [value for value, _ in thresholds]
    low = min(present) if present else 0.0
    high = max(present) if present else 1.0
    if high == low:
        low, high = low - 1, high + 1
    span = high - low
    low -= span * 0.15
    high += span * 0.15

    def x(index: int) -> float:
        return left + (plot_width * index / (len(periods) - 1) if len(periods) > 1 else plot_width / 2)

    def y(value: float) -> float:
        share = (value - low) / (high - low)
        return top + plot_height * (share if lower_is_better else 1 - share)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' {FONT}>",
        f"<text x='{left}' y='14' font-size='10' fill='{TEXT_COLOUR}'><tspan font-weight='bold'>{escape(title)}</tspan>"
        + (f"<tspan font-size='8'> ({escape(note)})</tspan>" if note else "") + "</text>",
        f"<line x1='{left}' y1='{top + plot_height}' x2='{left + plot_width}' y2='{top + plot_height}' stroke='{GRID_COLOUR}'/>",
    ]
    for value, label in thresholds:
        parts.append(f"<line x1='{left}' y1='{y(value):.1f}' x2='{left + plot_width}' y2='{y(value):.1f}' "
                     f"stroke='{THRESHOLD_COLOUR}' stroke-width='0.8' stroke-dasharray='3,2'/>")
        parts.append(f"<text x='{left + plot_width + right - 2}' y='{y(value) - 2:.1f}' font-size='6.5' "
                     f"text-anchor='end' fill='{THRESHOLD_COLOUR}'>{escape(label)}</text>")
    segment: list[str] = []
    segments: list[list[str]] = []
    for index, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(index):.1f},{y(value):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        if len(points) > 1:
            parts.append(f"<polyline points='{' '.join(points)}' fill='none' stroke='{LINE_COLOUR}' stroke-width='1.6'/>")
    for index, (value, label) in enumerate(zip(values, labels)):
        if value is None:
            continue
        parts.append(f"<circle cx='{x(index):.1f}' cy='{y(value):.1f}' r='2.4' fill='{LINE_COLOUR}'/>")
        parts.append(f"<text x='{x(index):.1f}' y='{y(value) - 5:.1f}' font-size='8' text-anchor='middle' "
                     f"fill='{TEXT_COLOUR}'>{escape(label)}</text>")
    for index, period in enumerate(periods):
        weight = " font-weight='bold'" if index == len(periods) - 1 else ""
        parts.append(f"<text x='{x(index):.1f}' y='{height - 8}' font-size='8' text-anchor='middle'{weight} "
                     f"fill='{TEXT_COLOUR}'>{escape(period)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(title: str, categories: list[str], counts: list[int], width: int = 480, height: int = 180) -> Markup:
    """Counts per category as vertical bars, each labelled with its count."""
    left, right, top, bottom = 16, 16, 28, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    highest = max(counts) if counts and max(counts) > 0 else 1
    slot = plot_width / max(len(categories), 1)
    bar = slot * 0.6
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}' {FONT}>",
        f"<line x1='{left}' y1='{top + plot_height}' x2='{left + plot_width}' y2='{top + plot_height}' stroke='{GRID_COLOUR}'/>",
    ]
    if title:
        parts.append(f"<text x='{left}' y='16' font-size='11' font-weight='bold' fill='{TEXT_COLOUR}'>{escape(title)}</text>")
    for index, (category, count) in enumerate(zip(categories, counts)):
        bar_height = plot_height * count / highest
        x = left + slot * index + (slot - bar) / 2
        y = top + plot_height - bar_height
        parts.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar:.1f}' height='{bar_height:.1f}' fill='{LINE_COLOUR}'/>")
        parts.append(f"<text x='{x + bar / 2:.1f}' y='{y - 4:.1f}' font-size='10' text-anchor='middle' "
                     f"fill='{TEXT_COLOUR}'>{count}</text>")
        parts.append(f"<text x='{x + bar / 2:.1f}' y='{height - 10}' font-size='10' text-anchor='middle' "
                     f"fill='{TEXT_COLOUR}'>{escape(category)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
