"""The bulletin's trend over the last 12 periods: 受理数 as bars and 结案率 as a line, drawn twice from the same
points — as inline SVG for the page /reports (no script, no file from elsewhere) and as vector drawing on the
PDF's page axes (matplotlib, like the rest of the 通报)."""

from __future__ import annotations

import html

from data.params import Period
from layers.reports.bulletin import trend_figures

#: How many periods the trend covers, the bulletin's own the last.
TREND_PERIODS = 12
BAR = "#4472c4"
LINE = "#d95f02"  # not the red of the title rule and the red list, so a picture tells the line apart
_TITLES = {"zh": ("受理数", "结案率"), "en": ("Received", "Closure rate")}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def last_periods(period: Period, n: int = TREND_PERIODS) -> list[Period]:
    """The ``n`` periods of ``period``'s kind ending with it, oldest first."""
    out = [period]
    while len(out) < n:
        out.append(out[-1].previous())
    return out[::-1]


def tick(period: Period, lang: str, first: bool) -> str:
    """A short axis label: 10月, W44, Q3, 2026 (Oct in English); the year under the first and each year's first."""
    start = period.start.date()
    if period.kind == "year":
        return str(start.year)
    if period.kind == "week":
        iso = start.isocalendar()
        return f"W{iso[1]}" + (f"\n{iso[0]}" if first or iso[1] == 1 else "")
    text = (f"Q{(start.month - 1) // 3 + 1}" if period.kind == "quarter"
            else _MONTHS_EN[start.month - 1] if lang == "en" else f"{start.month}月")
    return text + (f"\n{start.year}" if first or start.month == 1 else "")


def trend(conn, period: Period, lang: str = "zh") -> list[dict]:
    """The last :data:`TREND_PERIODS` periods up to ``period``: start, end, tick label, received, due, closed and
    closure rate (one SQL statement for all of them, :func:`layers.reports.bulletin.trend_figures`)."""
    periods = last_periods(period)
    out = []
    for k, (p, f) in enumerate(zip(periods, trend_figures(conn, periods), strict=True)):
        out.append({"start": p.start.isoformat(), "end": p.end.isoformat(), "label": tick(p, lang, k == 0),
                    "received": f.received, "filed": f.filed, "due": f.due, "closed": f.closed,
                    "closed_rate": None if f.closed_rate is None else round(f.closed_rate, 6)})
    return out


def _nice_max(value: float) -> float:
    """The top of an axis: 1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1)
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def trend_svg(points: list[dict], lang: str) -> str:
    """Two small charts as two inline ``<svg>`` (side by side on a wide screen, one over the other on a phone):
    received (bars, ``#trend``) and closure rate (line, 0–100 %, ``#trend-rate``)."""
    width, height, pad_l, pad_b, pad_t, pad_r = 360, 210, 40, 38, 22, 20
    panel, plot_h = width - pad_l - pad_r, height - pad_b - pad_t
    top = _nice_max(max((p["received"] for p in points), default=0))
    step = panel / max(len(points), 1)
    svgs = []
    for j, (title, scale, fmt) in enumerate(((_TITLES[lang][0], top, "{:g}"), (_TITLES[lang][1], 1.0, "{:.0%}"))):
        parts = [f'<svg id="{"trend" if j == 0 else "trend-rate"}" xmlns="http://www.w3.org/2000/svg" '
                 f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img" '
                 f'aria-label="{html.escape(title)}">', f'<text x="{pad_l}" y="14" font-size="13">{html.escape(title)}</text>']
        for frac in (0, 0.5, 1):
            y = pad_t + plot_h * (1 - frac)
            parts.append(f'<line x1="{pad_l}" x2="{pad_l + panel:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>'
                         f'<text x="{pad_l - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
                         f'{fmt.format(scale * frac)}</text>')
        for k, p in enumerate(points):
            parts.append(f'<text x="{pad_l + step * (k + 0.5):.1f}" y="{height - pad_b + 14}" font-size="10" '
                         f'text-anchor="middle">{html.escape(p["label"].split(chr(10))[0])}</text>')
        if j == 0:
            for k, p in enumerate(points):
                h = plot_h * p["received"] / scale
                parts.append(f'<rect class="bar" x="{pad_l + step * (k + 0.15):.1f}" y="{pad_t + plot_h - h:.1f}" '
                             f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="{BAR}"><title>{p["received"]}</title></rect>')
        else:
            xy = [(pad_l + step * (k + 0.5), pad_t + plot_h * (1 - p["closed_rate"]))
                  for k, p in enumerate(points) if p["closed_rate"] is not None]
            if xy:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
                parts.append(f'<polyline class="line" points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
                parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}"/>' for x, y in xy)
        svgs.append("".join(parts) + "</svg>")
    return "".join(svgs)


def draw_trend(fig, rect_mm: tuple, page_mm: tuple, points: list[dict], lang: str) -> None:
    """The same two charts drawn as vectors into ``rect_mm`` (x, y, w, h from the page's lower left) of ``fig``."""
    x, y, w, h = rect_mm
    W, H = page_mm
    gap, left, bottom, top = 14.0, 10.0, 9.0, 6.0
    panel = (w - gap - 2 * left) / 2
    positions = range(len(points))
    labels = [p["label"] for p in points]
    for j in range(2):
        ax = fig.add_axes(((x + left + j * (panel + gap + left)) / W, (y + bottom) / H, panel / W,
                           (h - bottom - top) / H))
        ax.set_title(_TITLES[lang][j], fontsize=7.5, loc="left", pad=3)
        if j == 0:
            ax.bar(positions, [p["received"] for p in points], color=BAR, width=0.7)
            ax.set_ylim(0, _nice_max(max((p["received"] for p in points), default=0)))
        else:
            xs = [k for k, p in zip(positions, points) if p["closed_rate"] is not None]
            ax.plot(xs, [100 * points[k]["closed_rate"] for k in xs], color=LINE, marker="o", markersize=2.5,
                    linewidth=1.2)
            ax.set_ylim(0, 100)
            ax.yaxis.set_major_formatter("{x:.0f}%")
        ax.set_xlim(-0.6, len(points) - 0.4)
        ax.set_xticks(list(positions), labels, fontsize=5.5)
        ax.tick_params(axis="y", labelsize=5.5, length=2)
        ax.tick_params(axis="x", length=0)
        ax.grid(axis="y", color="0.85", linewidth=0.4)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)

