"""Server-side charts as plain data for the SVG macros in ``templates/desk/_charts.html``.

No JavaScript, no images to cache, and every label passes through Jinja's escaping. Label columns
are sized from the longest full agency name so nothing is cut off; value axes get "nice" ticks.
"""

from __future__ import annotations

import math

CHAR_PX = 8.2  # width of a 13 px DejaVu Sans character, generous (digits and capitals are the widest)
WIDTH = 960


def nice_ticks(top: float, n: int = 5) -> list[float]:
    """0 and round steps up to at least ``top`` (1, 2, 2.5, 5 x 10^k)."""
    if top <= 0:
        return [0, 1]
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    count = math.ceil(top / step)
    return [round(i * step, 10) for i in range(count + 1)]


def hbar(rows: list[tuple[str, float, str]], percent: bool = False, axis_label: str = "") -> dict:
    """A horizontal bar chart: rows of (label, value, text shown at the bar's end)."""
    label_w = min(max((len(r[0]) for r in rows), default=10) * CHAR_PX + 16, 520)
    value_w = 90
    plot_w = WIDTH - label_w - value_w
    bar_h, gap, top_pad = 22, 8, 10
    ticks = [0, 25, 50, 75, 100] if percent else nice_ticks(max((r[1] for r in rows), default=0))
    top = ticks[-1] or 1
    bars = []
    for i, (label, value, text) in enumerate(rows):
        y = top_pad + i * (bar_h + gap)
        w = plot_w * (value / top)
        bars.append(
            {
                "label": label,
                "y": y,
                "ty": y + bar_h * 0.7,
                "x": label_w,
                "w": round(w, 1),
                "h": bar_h,
                "vx": round(label_w + w + 6, 1),
                "text": text,
            }
        )
    plot_bottom = top_pad + len(rows) * (bar_h + gap)
    return {
        "width": WIDTH,
        "height": plot_bottom + 44,
        "label_w": label_w,
        "plot_w": plot_w,
        "bars": bars,
        "bottom": plot_bottom,
        "axis_label": axis_label,
        "ticks": [
            {"x": round(label_w + plot_w * t / top, 1), "text": f"{t:g} %" if percent else f"{t:g}"} for t in ticks
        ],
    }


def heat_level(count: int, top: int) -> int:
    """0..5 shade for a table cell (0 = none)."""
    if count <= 0 or top <= 0:
        return 0
    return max(1, min(5, math.ceil(5 * count / top)))


def weekly(weeks: list[tuple[str, list[float]]], series: list[str], axis_label: str = "") -> dict:
    """Vertical stacked bars, one per week: ``weeks`` is (label, one value per series), stacked bottom up in the
    order of ``series`` (the legend's names; each gets a ``s0``, ``s1``, ... class for its colour)."""
    height, top_pad, left, right = 300, 16, 56, 16
    plot_h = height - top_pad
    ticks = nice_ticks(max(5, max((sum(v) for _, v in weeks), default=0)))  # counts: whole-number ticks
    top = ticks[-1] or 1
    slot = (WIDTH - left - right) / max(len(weeks), 1)
    bar_w = max(6.0, min(48.0, slot * 0.6))
    columns = []
    for i, (label, values) in enumerate(weeks):
        x = left + i * slot + (slot - bar_w) / 2
        y = top_pad + plot_h
        parts = []
        for k, value in enumerate(values):
            h = plot_h * value / top
            y -= h
            if value:
                parts.append({"x": round(x, 1), "y": round(y, 1), "w": round(bar_w, 1), "h": round(h, 1), "k": k})
        columns.append(
            {
                "label": label,
                "cx": round(x + bar_w / 2, 1),
                "parts": parts,
                "total": f"{sum(values):g}",
                "ty": round(y - 4, 1),
                "show_label": len(weeks) <= 16 or i % -(-len(weeks) // 16) == 0,
            }
        )
    return {
        "width": WIDTH,
        "height": height + 64,
        "left": left,
        "right": WIDTH - right,
        "bottom": top_pad + plot_h,
        "columns": columns,
        "series": [{"name": name, "k": k, "x": left + k * 220} for k, name in enumerate(series)],
        "axis_label": axis_label,
        "ticks": [{"y": round(top_pad + plot_h * (1 - t / top), 1), "text": f"{t:g}"} for t in ticks],
    }
