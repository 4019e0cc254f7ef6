"""Server-side SVG charts: titled, with axes and legends. Every label is escaped; the result
is safe to put in a template."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12")


@dataclass
class Series:
    name: str
    values: Sequence[float | None]
    css: str = ""


@dataclass
class _Frame:
    width: int
    height: int
    left: int = 48
    right: int = 16
    top: int = 40
    bottom: int = 56

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom


def nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        bound = step * 10**exponent
        if bound >= value:
            return float(bound)
    return float(10 ** (exponent + 1))  # pragma: no cover


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:,.1f}"


def _open(frame: _Frame, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<text class="chart-title" x="{frame.left}" y="20">{escape(title)}</text>',
    ]


def _y_axis(frame: _Frame, low: float, high: float, label: str, ticks: int = 4) -> list[str]:
    if ((high - low) / ticks) % 1:  # 50 / 4 = 12.5: five ticks of 10 read better
        ticks = 5
    parts = []
    for n in range(ticks + 1):
        value = low + (high - low) * n / ticks
        y = frame.top + frame.plot_h - frame.plot_h * n / ticks
        parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.left + frame.plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(value))}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{frame.top + frame.plot_h}"/>'
        f'<line class="axis" x1="{frame.left}" x2="{frame.left + frame.plot_w}" '
        f'y1="{frame.top + frame.plot_h}" y2="{frame.top + frame.plot_h}"/>'
        f'<text class="axis-label" transform="translate(12 {frame.top + frame.plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{escape(label)}</text>'
    )
    return parts


def _x_labels(frame: _Frame, labels: Sequence[str], centers: Sequence[float], x_label: str) -> list[str]:
    parts = []
    step = max(1, math.ceil(len(labels) / max(1, frame.plot_w // 56)))
    base = frame.top + frame.plot_h
    for index, (label, x) in enumerate(zip(labels, centers, strict=False)):
        if index % step == 0 or index == len(labels) - 1:
            parts.append(f'<text class="tick" x="{x:.1f}" y="{base + 16}" text-anchor="middle">{escape(label)}</text>')
    if x_label:
        parts.append(
            f'<text class="axis-label" x="{frame.left + frame.plot_w / 2:.0f}" y="{base + 34}" '
            f'text-anchor="middle">{escape(x_label)}</text>'
        )
    return parts


LEGEND_ROW = 15


def _legend_layout(width: int, left: int, series: Sequence[Series]) -> list[tuple[float, int]]:
    """(x, row) of each legend entry, wrapping onto a new row at the right edge."""
    positions = []
    x, row = float(left), 0
    for s in series:
        step = 24 + 7 * len(s.name)
        if x + step > width - 8 and x > left:
            x, row = float(left), row + 1
        positions.append((x, row))
        x += step
    return positions


def _frame(width: int, height: int, series: Sequence[Series]) -> _Frame:
    rows = 1 + max((row for _, row in _legend_layout(width, 48, series)), default=0)
    return _Frame(width, height + LEGEND_ROW * (rows - 1), bottom=56 + LEGEND_ROW * (rows - 1))


def _legend(frame: _Frame, series: Sequence[Series]) -> list[str]:
    parts = []
    layout = _legend_layout(frame.width, frame.left, series)
    rows = 1 + max((row for _, row in layout), default=0)
    for index, (s, (x, row)) in enumerate(zip(series, layout, strict=True)):
        css = s.css or PALETTE[index % len(PALETTE)]
        y = frame.height - 10 - LEGEND_ROW * (rows - 1 - row)
        parts.append(
            f'<rect class="{css}" x="{x:.0f}" y="{y - 9}" width="10" height="10" rx="2"/>'
            f'<text class="legend" x="{x + 14:.0f}" y="{y}">{escape(s.name)}</text>'
        )
    return parts


def _empty(frame: _Frame, parts: list[str], message: str) -> SafeString:
    parts.append(
        f'<text class="empty" x="{frame.width / 2:.0f}" y="{frame.height / 2:.0f}" '
        f'text-anchor="middle">{escape(message)}</text></svg>'
    )
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str = "",
    x_label: str = "",
    stacked: bool = False,
    width: int = 640,
    height: int = 260,
    empty: str = "No data yet",
) -> SafeString:
    """Grouped (or stacked) vertical bars, one group per label."""
    frame = _frame(width, height, series)
    parts = _open(frame, title, f"{', '.join(s.name for s in series)} by {x_label or 'category'}")
    if not labels or not any(v for s in series for v in s.values):
        return _empty(frame, parts, empty)
    if stacked:
        top = max(sum(s.values[i] or 0 for s in series) for i in range(len(labels)))
    else:
        top = max((v or 0) for s in series for v in s.values)
    high = nice_max(top)
    parts += _y_axis(frame, 0, high, y_label)
    group_w = frame.plot_w / len(labels)
    bar_w = group_w * 0.7 / (1 if stacked else len(series))
    centers = []
    for i, label in enumerate(labels):
        x0 = frame.left + group_w * i + group_w * 0.15
        centers.append(frame.left + group_w * (i + 0.5))
        base = 0.0
        for j, s in enumerate(series):
            value = s.values[i] or 0
            h = frame.plot_h * value / high
            css = s.css or PALETTE[j % len(PALETTE)]
            x = x0 if stacked else x0 + bar_w * j
            y = frame.top + frame.plot_h - h - (frame.plot_h * base / high if stacked else 0)
            parts.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}">'
                f"<title>{escape(label)} · {escape(s.name)}: {escape(_fmt(value))}</title></rect>"
            )
            if stacked:
                base += value
    parts += _x_labels(frame, labels, centers, x_label)
    if len(series) > 1 or series[0].name:
        parts += _legend(frame, series)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str = "",
    x_label: str = "",
    y_min: float | None = 0,
    y_max: float | None = None,
    width: int = 640,
    height: int = 260,
    empty: str = "No data yet",
) -> SafeString:
    """Lines with dots over shared x labels; None leaves a gap."""
    frame = _frame(width, height, series)
    parts = _open(frame, title, f"{', '.join(s.name for s in series)} over {x_label or 'time'}")
    values = [v for s in series for v in s.values if v is not None]
    if not labels or not values:
        return _empty(frame, parts, empty)
    low = min(values) if y_min is None else y_min
    if y_min is None and low > 0:
        low = 0.0
    if y_min is None and low < 0:
        low = -nice_max(-low)
    high = y_max if y_max is not None else nice_max(max(values))
    if high <= low:
        high = low + 1
    parts += _y_axis(frame, low, high, y_label)
    n = len(labels)
    step = frame.plot_w / max(n - 1, 1)
    centers = [frame.left + step * i if n > 1 else frame.left + frame.plot_w / 2 for i in range(n)]

    def y_of(value: float) -> float:
        return frame.top + frame.plot_h - frame.plot_h * (value - low) / (high - low)

    if low < 0 < high:
        parts.append(
            f'<line class="zero" x1="{frame.left}" x2="{frame.left + frame.plot_w}" '
            f'y1="{y_of(0):.1f}" y2="{y_of(0):.1f}"/>'
        )
    for j, s in enumerate(series):
        css = s.css or PALETTE[j % len(PALETTE)]
        segments: list[list[str]] = [[]]
        for i, value in enumerate(s.values[:n]):
            if value is None:
                segments.append([])
                continue
            segments[-1].append(f"{centers[i]:.1f},{y_of(value):.1f}")
            parts.append(
                f'<circle class="{css} dot" cx="{centers[i]:.1f}" cy="{y_of(value):.1f}" r="3">'
                f"<title>{escape(labels[i])} · {escape(s.name)}: {escape(_fmt(value))}</title></circle>"
            )
        for points in segments:
            if len(points) > 1:
                parts.append(f'<polyline class="{css} line" points="{" ".join(points)}"/>')
    parts += _x_labels(frame, labels, centers, x_label)
    parts += _legend(frame, series)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def histogram(
    title: str, values: Sequence[float], *, bins: Sequence[float], x_label: str = "", y_label: str = "count"
) -> SafeString:
    """Counts of `values` per bin [bins[i], bins[i+1]); the last bin is open-ended."""
    counts = [0] * len(bins)
    for value in values:
        index = 0
        for i, edge in enumerate(bins):
            if value >= edge:
                index = i
        counts[index] += 1
    labels = [
        f"{_fmt(bins[i])}–{_fmt(bins[i + 1])}" if i + 1 < len(bins) else f"{_fmt(bins[i])}+" for i in range(len(bins))
    ]
    return bar_chart(title, labels, [Series("", counts, "c1")], x_label=x_label, y_label=y_label)


def mix_chart(title: str, rows: Sequence[dict]) -> SafeString:
    """Actual vs target share per segment (rows of services.metrics.mix_vs_target)."""
    return bar_chart(
        title,
        [r["label"] for r in rows],
        [Series("Actual %", [r["actual"] for r in rows], "c1"), Series("Target %", [r["target"] for r in rows], "c6")],
        y_label="% of points",
        width=560,
        height=210,
        empty="No points planned yet",
    )


def burndown_chart(data: dict, *, title: str = "Burndown", width: int = 640, height: int = 260) -> SafeString:
    days = data.get("ideal_days") or data.get("days") or []
    remaining = list(data.get("remaining", [])) + [None] * (len(days) - len(data.get("remaining", [])))
    return line_chart(
        title,
        [d[5:] for d in days],
        [Series("Remaining", remaining, "c1"), Series("Ideal", list(data.get("ideal", [])), "ideal")],
        y_label="points",
        x_label="day",
        width=width,
        height=height,
        empty="The burndown starts when the sprint does",
    )


def velocity_chart(rows: Sequence[dict], *, title: str = "Velocity") -> SafeString:
    return bar_chart(
        title,
        [r["name"] for r in rows],
        [
            Series("Committed", [r["committed"] for r in rows], "c6"),
            Series("Completed", [r["completed"] for r in rows], "c1"),
        ],
        y_label="points",
        x_label="sprint",
        empty="No closed sprints yet",
    )
