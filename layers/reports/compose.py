"""A bulletin from its figures: rows per street and unit with ranks against the previous period, the
event types and their change, and a summary written from the figures (Chinese and English)."""

from __future__ import annotations

from datetime import timedelta

from data.catalog import require_city
from data.params import Period
from layers.reports.bulletin import Figures, names, period_figures
from layers.reports.figures import available

#: How many of the worst-ranked streets the summary names (排名后三位).
BOTTOM = 3
#: How many event types the summary names.
TOP_CATEGORIES = 3
#: Streets on the red list (红榜) and the black list (黑榜): the best and the worst this many ranked.
LIST_SIZE = 3
UNASSIGNED = {"zh": "（未分配）", "en": "(unassigned)"}
_NOUN = {"zh": {"week": "本周", "month": "本月", "quarter": "本季度", "year": "本年度"},
         "en": {"week": "this week", "month": "this month", "quarter": "this quarter", "year": "this year"}}
_PREVIOUS = {"zh": {"week": "上周", "month": "上月", "quarter": "上季度", "year": "上年"},
             "en": {"week": "last week", "month": "last month", "quarter": "last quarter", "year": "last year"}}


def period_label(period: Period, lang: str = "zh") -> str:
    """'2026年10月', '2026年第3季度', '2026年第44周（10月26日—11月1日）'; 'October 2026', '2026 Q3' in English."""
    start, last = period.start.date(), (period.end - timedelta(days=1)).date()
    quarter = (start.month - 1) // 3 + 1
    if lang == "en":
        return {"week": f"week {start.isocalendar()[1]} of {start.isocalendar()[0]} ({start:%d %b} – {last:%d %b %Y})",
                "month": f"{start:%B %Y}", "quarter": f"{start.year} Q{quarter}", "year": str(start.year)}[period.kind]
    return {"week": f"{start.isocalendar()[0]}年第{start.isocalendar()[1]}周（{start.month}月{start.day}日—"
                    f"{last.month}月{last.day}日）",
            "month": f"{start.year}年{start.month}月", "quarter": f"{start.year}年第{quarter}季度",
            "year": f"{start.year}年"}[period.kind]


def file_name(period: Period, suffix: str) -> str:
    """An ASCII file name for the period's bulletin: bulletin-month-2026-10-01.xlsx."""
    return f"bulletin-{period.kind}-{period.start.date().isoformat()}.{suffix}"


def ranks(rows: dict) -> dict:
    """Competition ranks (1, 2, 2, 4) by closure rate, then on-time rate, high to low; rows with nothing due
    are not ranked."""
    ranked = sorted(((k, f) for k, f in rows.items() if f.due), key=lambda kf: (-kf[1].closed_rate, -kf[1].on_time_rate))
    out, previous_key, previous_rank = {}, None, 0
    for i, (k, f) in enumerate(ranked, start=1):
        key = (f.closed_rate, f.on_time_rate)
        previous_rank = previous_rank if key == previous_key else i
        out[k], previous_key = previous_rank, key
    return out


def list_marks(rows: list[dict]) -> dict:
    """{code: "red" | "black"}: the best and the worst :data:`LIST_SIZE` ranked rows (fewer when few are
    ranked, so that no row is on both lists)."""
    ranked = [r for r in rows if r["rank"] is not None]
    k = min(LIST_SIZE, len(ranked) // 2)
    return {**{r["code"]: "red" for r in ranked[:k]}, **{r["code"]: "black" for r in ranked[len(ranked) - k:]}}


def _rows(current: dict, previous: dict, label) -> list[dict]:
    """Rows of one table (streets or units) with rank and rank change, in rank order (unranked last)."""
    now, before = ranks(current), ranks(previous)
    rows = []
    for key, figures in current.items():
        rank, was = now.get(key), before.get(key)
        rows.append({"code": key, "name": label(key), **figures.as_dict(), "rank": rank,
                     "rank_change": None if rank is None or was is None else was - rank})
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, str(r["code"])))
    return rows


def _categories(current: dict, previous: dict, label) -> list[dict]:
    """Event types by complaints received, most first, with the change against the previous period."""
    rows = []
    for name in set(current) | set(previous):
        now, was = current.get(name, Figures()).received, previous.get(name, Figures()).received
        if now or was:
            rows.append({"code": name, "name": label(name), "received": now, "previous": was, "change": now - was,
                         "change_rate": round((now - was) / was, 6) if was else None})
    rows.sort(key=lambda r: (-r["received"], r["code"]))
    return rows


def bulletin(conn, period: Period, lang: str = "zh") -> dict:
    """The bulletin of ``period`` as the JSON of ``GET /api/reports/bulletin``."""
    city = require_city(conn)
    now, before = period_figures(conn, period), period_figures(conn, period.previous())
    known = names(conn)
    i = 1 if lang == "en" else 0
    streets = {code: now["streets"].get(code, Figures()) for code in known["streets"]}
    prev_streets = {code: before["streets"].get(code, Figures()) for code in known["streets"]}
    result = {
        "city": (city.get("name_en") or city.get("name")) if lang == "en" else city.get("name"),
        "demo": bool(city.get("is_demo")),
        "period": {"kind": period.kind, "label": period_label(period, lang), "start": period.start.isoformat(), "end": period.end.isoformat(),
                   "previous_start": period.previous().start.isoformat()},
        "totals": now["city"][None].as_dict(),
        "previous_totals": before["city"][None].as_dict(),
        "streets": _rows(streets, prev_streets, lambda c: known["streets"][c][i]),
        "units": _rows(now["units"], before["units"], lambda u: u or UNASSIGNED[lang]),
        "categories": _categories(now["categories"], before["categories"],
                                  lambda n: known["categories"].get(n, (n, n))[i]),
        "definitions": [f.as_dict(lang) for f in available()],
    }
    for row in result["units"]:
        row["code"] = row["code"] or None  # the unassigned row has no unit to name
    result["summary_zh"] = summary(result, period, "zh")
    result["summary_en"] = summary(result, period, "en")
    return result


def _change_zh(change: int, previous: str) -> str:
    if change == 0:
        return f"与{previous}持平"
    return f"较{previous}{'增加' if change > 0 else '减少'}{abs(change)}件"


def percent(value: float | None) -> str:
    """A rate as printed in the bulletin: 81.9%, or — when there is none."""
    return "—" if value is None else f"{100 * value:.1f}%"


def rank_change_text(value: int | None) -> str:
    """A rank change as printed in the bulletin: ↑2 (up two places), ↓1, or nothing."""
    return "" if value is None or value == 0 else (f"↑{value}" if value > 0 else f"↓{-value}")


def summary(b: dict, period: Period, lang: str) -> str:
    """The summary paragraph, written from the figures: totals, rates, the bottom streets, the top problems."""
    t, noun, prev = b["totals"], _NOUN[lang][period.kind], _PREVIOUS[lang][period.kind]
    bottom = [r for r in b["streets"] if r["rank"] is not None][-BOTTOM:][::-1]
    top = b["categories"][:TOP_CATEGORIES]
    if lang == "en":
        text = (f"{noun.capitalize()} {t['received']} complaints were received and {t['filed']} filed; of {t['due']} "
                f"due, {t['closed']} were closed (closure rate {percent(t['closed_rate'])}, on time "
                f"{percent(t['on_time_rate'])}). {t['open_at_end']} remained open at the end, {t['overdue_at_end']} "
                f"of them overdue.")
        if bottom:
            text += " Lowest-ranked streets: " + ", ".join(f"{r['name']} ({percent(r['closed_rate'])})" for r in bottom) + "."
        if top:
            text += " Most reported: " + ", ".join(
                f"{r['name']} ({r['received']}, {r['change']:+d} on {prev})" for r in top) + "."
        return text
    text = (f"{noun}共受理投诉{t['received']}件，立案{t['filed']}件，应结案{t['due']}件，结案{t['closed']}件，"
            f"结案率{percent(t['closed_rate'])}，按期结案率{percent(t['on_time_rate'])}；期末未结案{t['open_at_end']}件，"
            f"其中超期{t['overdue_at_end']}件。")
    if bottom:
        text += f"结案率排名后{len(bottom)}位的街道是" + "、".join(
            f"{r['name']}（{percent(r['closed_rate'])}）" for r in bottom) + "。"
    if top:
        text += "反映最多的问题是" + "、".join(
            f"{r['name']}（{r['received']}件，{_change_zh(r['change'], prev)}）"
            for r in top) + "。"
    return text
