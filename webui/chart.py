"""The quality score's trend as an SVG line chart, drawn on the server (pure; no script, no inline style)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

__all__ = ["ChartPoint", "trend_svg"]

_W, _H = 640, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 16, 14, 34


@dataclass(frozen=True)
class ChartPoint:
    at: datetime
    score: int


def _x(i: int, n: int) -> float:
    span = _W - _LEFT - _RIGHT
    return _LEFT + (span / 2 if n == 1 else span * i / (n - 1))


def _y(score: int) -> float:
    return _TOP + (_H - _TOP - _BOTTOM) * (100 - max(0, min(100, score))) / 100


def trend_svg(points: Sequence[ChartPoint], *, threshold: int | None = None) -> str:
    """An accessible SVG (role=img, a title naming first and last score); empty string for no points.

    Colours come from classes in the stylesheet, so the chart follows light and dark mode.
    """
    if not points:
        return ""
    n = len(points)
    first, last = points[0], points[-1]
    label = (
        f"Quality score over {n} report{'s' if n != 1 else ''}: "
        f"{first.score} on {first.at:%Y-%m-%d} to {last.score} on {last.at:%Y-%m-%d}"
    )
    out = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-labelledby="trend-title" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="trend-title">{escape(label)}</title>',
    ]
    for level in (0, 25, 50, 75, 100):
        y = _y(level)
        out.append(f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text class="axis" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{level}</text>')
    if threshold is not None:
        y = _y(threshold)
        out.append(f'<line class="threshold" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
    coords = " ".join(f"{_x(i, n):.1f},{_y(p.score):.1f}" for i, p in enumerate(points))
    out.append(f'<polyline class="line" points="{coords}"/>')
    step = max(1, n // 6)  # at most about six date labels, so they never overlap
    for i, p in enumerate(points):
        x, y = _x(i, n), _y(p.score)
        out.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="4">'
            f"<title>{p.at:%Y-%m-%d %H:%M}: {p.score}</title></circle>"
        )
        if i % step == 0 or i == n - 1:
            out.append(
                f'<text class="axis" x="{x:.1f}" y="{_H - 12}" text-anchor="middle">{p.at:%m-%d}</text>'
            )
    out.append("</svg>")
    return "".join(out)
