"""Figures a report shows: findings, percentages and small bar charts (geometry and inline SVG)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass
class Finding:
    """One line of a report's summary: a sentence with its figures, and the id of the part
    of the page that gives the details."""

    text: str
    anchor: str


def rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def bar_chart(values: list[int], target: int | None = None, *, width: int = 120, height: int = 28) -> dict:
    """Geometry of a small bar chart (SVG drawn by the template), with an optional target line."""
    top = max([*values, target or 0, 1])
    step = width / max(len(values), 1)
    bars = [
        {
            "x": round(i * step + 1, 1),
            "width": round(step - 2, 1),
            "height": round(value / top * (height - 2), 1),
            "y": round(height - value / top * (height - 2), 1),
            "value": value,
        }
        for i, value in enumerate(values)
    ]
    line = round(height - (target or 0) / top * (height - 2), 1) if target else None
    return {"width": width, "height": height, "bars": bars, "target_y": line}


def bar_chart_svg(chart: dict, *, chart_id: str, title: str) -> SafeString:
    """The chart as inline SVG, the markup of _bar_chart.html written in Python: the activity
    page draws one per channel, hundreds, and a template loop per bar cost most of its time.
    Numbers are written as SVG needs them, never localised ("13.4", not "13,4")."""
    width, height, target = chart["width"], chart["height"], chart["target_y"]
    label = f"{escape(chart_id)}-title"
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{label}"><title id="{label}">{escape(title)}</title>'
    ]
    parts.extend(
        f'<rect class="bar" x="{bar["x"]}" y="{bar["y"]}" '
        f'width="{bar["width"]}" height="{bar["height"]}"></rect>'
        for bar in chart["bars"]
    )
    if target is not None:
        parts.append(f'<line class="target" x1="0" x2="{width}" y1="{target}" y2="{target}"></line>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text only
