"""A metric's history as a terminal chart: filled columns of block characters, an axis, min/max/last.

Points are first decimated to one value per column (the mean of the points that fall in it), so a
history of a million steps draws as fast as one of a hundred; the min/max/last line is computed
on every point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"  # 0/8 .. 8/8 of a cell
HEIGHT = 10  # rows of the plot area


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def columns_of(steps: Sequence[int], values: Sequence[float], width: int) -> list[float | None]:
    """One value per column: the mean of the finite values whose x falls in it.

    x is the step; when every point has the same step (metrics logged without one), it is the
    point's position in the history. Each x owns the columns up to the next one, so a short history
    draws as wide steps; a column with no point repeats the one before it (``None`` before the first).
    """
    xs = list(steps) if len(set(steps)) > 1 else list(range(len(values)))
    lo, hi = min(xs), max(xs)
    distinct = len(set(xs))
    gap = (hi - lo) / (distinct - 1) if distinct > 1 else 1  # the domain is [lo, hi + gap)
    sums = [0.0] * width
    counts = [0] * width
    for x, v in zip(xs, values):
        if not math.isfinite(v):
            continue
        col = min(width - 1, int((x - lo) / (hi - lo + gap) * width))
        sums[col] += v
        counts[col] += 1
    out: list[float | None] = []
    for s, c in zip(sums, counts):
        out.append(s / c if c else (out[-1] if out else None))
    return out


def metric_chart(steps: Sequence[int], values: Sequence[float], width: int = 80, height: int = HEIGHT) -> str:
    """The chart as lines of text, ending with ``min … max … last … points …``."""
    finite = [(s, v) for s, v in zip(steps, values) if math.isfinite(v)]
    lines: list[str] = []
    if finite:
        plot_width = max(10, width - 12)
        cols = columns_of(steps, values, plot_width)
        drawn = [v for v in cols if v is not None]
        lo, hi = min(drawn), max(drawn)  # the scale of what is drawn (means per column)
        top, bottom = _fmt(hi), _fmt(lo)
        label_width = max(len(top), len(bottom))
        # eighths of a cell filled in each column; the minimum still shows as a sliver
        span = hi - lo
        levels = [None if v is None else (height * 4 if span == 0 else max(1, round((v - lo) / span * height * 8))) for v in cols]
        for row in range(height):
            base = (height - 1 - row) * 8
            label = top if row == 0 else (bottom if row == height - 1 else "")
            bar = "".join(" " if lv is None else BLOCKS[max(0, min(8, lv - base))] for lv in levels)
            lines.append(f"{label.rjust(label_width)} │{bar}".rstrip())
        lines.append(" " * label_width + " └" + "─" * plot_width)
        first, last = f"step {min(steps)}", f"{max(steps)}"
        lines.append(" " * (label_width + 2) + first + last.rjust(max(1, plot_width - len(first))))
    else:
        lines.append("(no finite value to draw)")
    lines.append(_summary(steps, values))
    return "\n".join(lines)


def _summary(steps: Sequence[int], values: Sequence[float]) -> str:
    finite = [(v, s) for s, v in zip(steps, values) if math.isfinite(v)]
    parts = []
    if finite:
        vmin, smin = min(finite, key=lambda p: p[0])
        vmax, smax = max(finite, key=lambda p: p[0])
        parts += [f"min {_fmt(vmin)} (step {smin})", f"max {_fmt(vmax)} (step {smax})"]
    parts.append(f"last {_fmt(values[-1])} (step {steps[-1]})")
    parts.append(f"{len(values)} point{'s' if len(values) != 1 else ''}")
    skipped = len(values) - len(finite)
    if skipped:
        parts.append(f"{skipped} not finite (not drawn)")
    return "   ".join(parts)
