"""A bulletin from its figures: rows per street and unit with ranks against the previous period, the
event types and their change, and a summary written from the figures (Chinese and English)."""

from __future__ import annotations

import operator
from datetime import timedelta

from data.catalog import require_city
from data.params import Period
from data.vocab import RATINGS
from layers.reports.bulletin import Figures, names, period_figures
from layers.reports.changes import coverage_section, hotspots_section
from layers.reports.figures import available
from layers.reports.outside import outside_row, outside_section, outside_text, renamed
from layers.reports.rectification import PERIOD_FIGURES, add_to_rows, by_item, rectification, summary_text
from layers.reports.trend import trend
from layers.workflow.inspection_scores import deductions_by_item, period_scores
from layers.workflow.public_staff import satisfaction

#: How many event types the summary names.
TOP_CATEGORIES = 3
#: Streets on the red list (红榜) and the black list (黑榜): the best and the worst this many ranked (at most half);
#: the summary names the black list (排名后三位).
LIST_SIZE = 3
#: The units row of complaints charged to no unit: their grid had no unit then, or did not exist yet (cut by
#: a later regrid, so who held the place cannot be told: layers.workflow.grids.HOLDERS_SQL).
UNASSIGNED = {"zh": "（无责任单位或无法归属）", "en": "(no responsible unit, or not attributable)"}
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


def ranks(rows: dict, by_score: bool = False) -> dict:
    """Competition ranks (1, 2, 2, 4) of ``rows`` ({key: row dict}), high to low: by inspection ``score`` when
    ``by_score`` (rows not inspected are not ranked), else by closure rate then on-time rate (rows with nothing
    due are not ranked). The row without a key (complaints charged to no unit) is no unit: not ranked."""
    def key_of(r: dict) -> tuple:
        return (r["score"],) if by_score else (r["closed_rate"], r["on_time_rate"])

    ranked = sorted(((k, r) for k, r in rows.items() if k and (r["score"] is not None if by_score else r["due"])),
                    key=lambda kr: tuple(-v for v in key_of(kr[1])))
    out, previous_key, previous_rank = {}, None, 0
    for i, (k, r) in enumerate(ranked, start=1):
        key = key_of(r)
        previous_rank = previous_rank if key == previous_key else i
        out[k], previous_key = previous_rank, key
    return out


def black_list_size(ranked: int) -> int:
    """How many rows the red list and the black list hold each: :data:`LIST_SIZE`, but at most half the ranked
    rows, so that no row is on both lists and a list names few of many (4 streets: 2 each)."""
    return min(LIST_SIZE, ranked // 2)


def _lists(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(red list, black list) of ranked ``rows`` in rank order: the best and the worst :func:`black_list_size`,
    with every row tied with the last of them (并列: equal figures, equal standing). Were the rows tied there to
    make a list longer than half the ranked rows, none of them is on it (a row ranked first with every other is
    on no black list, and when all tie there is neither list); so no row is on both."""
    ranked = [r for r in rows if r["rank"] is not None]
    k = black_list_size(len(ranked))
    if not k:
        return [], []
    return _end(ranked, k, best=True), _end(ranked, k, best=False)


def _end(ranked: list[dict], k: int, *, best: bool) -> list[dict]:
    """The rows at one end of ``ranked`` (rank order) down to the ``k``-th and those tied with it (see _lists)."""
    cut = ranked[k - 1]["rank"] if best else ranked[len(ranked) - k]["rank"]
    beyond = operator.lt if best else operator.gt
    rows = [r for r in ranked if beyond(r["rank"], cut) or r["rank"] == cut]
    return rows if len(rows) <= len(ranked) // 2 else [r for r in ranked if beyond(r["rank"], cut)]


def list_marks(rows: list[dict]) -> dict:
    """{code: "red" | "black"}: the rows of the red and the black list (:func:`_lists`)."""
    red, black = _lists(rows)
    return {**{r["code"]: "red" for r in red}, **{r["code"]: "black" for r in black}}


#: Figures a table shows only when the period has their data: field inspections (issue 15), ratings (issue 17).
INSPECTION_FIGURES = ("findings", "deductions", "score")
SATISFACTION_FIGURES = ("satisfaction", "rated")


def extra_figures(b: dict, table: str) -> tuple[str, ...]:
    """The inspection and satisfaction figure codes the ``table`` ("streets" or "units") of ``b`` has data for."""
    shown = INSPECTION_FIGURES if b["inspections"] else ()
    return shown + (SATISFACTION_FIGURES if table == "streets" and b["totals"]["rated"] else ())


#: Inspection figures of a row not inspected in the period.
NOT_INSPECTED = {"findings": None, "deductions": None, "score": None}


def _table(figures_of: dict, inspected: dict, keys, label) -> dict:
    """{key: row} of one table: the complaint figures and the inspection figures of each key."""
    return {k: {"code": k, "name": label(k), **figures_of.get(k, Figures()).as_dict(), **inspected.get(k, NOT_INSPECTED)}
            for k in keys}


def _ranked(now: dict, before: dict, by_score: tuple[bool, bool]) -> list[dict]:
    """The rows of ``now`` with rank and rank change (each period ranked on its own basis), in rank order."""
    rank_now, rank_before = ranks(now, by_score[0]), ranks(before, by_score[1])
    rows = []
    for key, row in now.items():
        rank, was = rank_now.get(key), rank_before.get(key)
        rows.append({**row, "rank": rank, "rank_change": None if rank is None or was is None else was - rank})
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


def _inspections(conn, period: Period) -> dict:
    """The period's field inspection scores (:func:`layers.workflow.inspection_scores.period_scores`) keyed as the
    bulletin's tables: ``{"streets": {code: figures}, "units": {unit or "": figures}, "findings": n, "scored": bool}``."""
    scores = period_scores(conn, period.start, period.end)

    def figures_of(r: dict) -> dict:
        return {"findings": r["findings"], "deductions": r["deductions"], "score": r["score"]}

    return {"by_item": deductions_by_item(conn, period.start, period.end),
            "streets": {r["street_code"]: figures_of(r) for r in scores["streets"]},
            "units": {r["unit"] or "": figures_of(r) for r in scores["units"]}, "base": scores["base"],
            "findings": sum(r["findings"] for r in scores["units"]), "scored": bool(scores["streets"])}


def _satisfaction(conn, period: Period) -> tuple[dict, dict]:
    """The reporters' ratings given in the period (:func:`layers.workflow.public_staff.satisfaction`): per street
    ``{code: {"satisfaction", "rated"}}``, and the city's."""
    rows = satisfaction(conn, since=period.start, until=period.end)
    streets = {r["street_code"]: {"satisfaction": r["satisfied_share"], "rated": r["rated"]} for r in rows}
    rated = sum(r["rated"] for r in rows)
    satisfied = sum(r[RATINGS[0]] + r[RATINGS[1]] for r in rows)
    return streets, {"satisfaction": round(satisfied / rated, 4) if rated else None, "rated": rated}


def bulletin(conn, period: Period, lang: str = "zh") -> dict:
    """The bulletin of ``period`` as the JSON of ``GET /api/reports/bulletin``."""
    city = require_city(conn)
    now, before = period_figures(conn, period), period_figures(conn, period.previous())
    ins_now, ins_before = _inspections(conn, period), _inspections(conn, period.previous())
    rated, city_rated = _satisfaction(conn, period)
    known = names(conn)
    i = 1 if lang == "en" else 0
    by_score = (ins_now["findings"] > 0, ins_before["findings"] > 0)
    street_label = lambda c: known["streets"][c][i]  # noqa: E731
    streets = _ranked(_table(now["streets"], ins_now["streets"], known["streets"], street_label),
                      _table(before["streets"], ins_before["streets"], known["streets"], street_label), by_score)
    outside = outside_row(now["streets"].get(None), lang)  # the complaints in no street: after the ranked ones
    streets += [outside] if outside else []
    for row in streets:
        row.update(rated.get(row["code"], {"satisfaction": None, "rated": 0}))
    unit_label = lambda u: u or UNASSIGNED[lang]  # noqa: E731
    units = _ranked(_table(now["units"], ins_now["units"], set(now["units"]) | set(ins_now["units"]), unit_label),
                    _table(before["units"], ins_before["units"], set(before["units"]) | set(ins_before["units"]),
                           unit_label), by_score)
    for row in units:
        row["code"] = row["code"] or None  # the unassigned row has no unit to name
    rect = rectification(conn, period, lang)
    add_to_rows(streets, rect and rect["streets"])
    add_to_rows(units, rect and rect["units"])
    have = frozenset({"inspections"} if ins_now["scored"] else set()) | frozenset(
        {"public_channel"} if city_rated["rated"] else set()) | frozenset(
        {"rectification"} if rect and (rect["findings_due"] or rect["rechecks_failed"]) else set())
    result = {
        "city": (city.get("name_en") or city.get("name")) if lang == "en" else city.get("name"),
        "demo": bool(city.get("is_demo")),
        "period": {"kind": period.kind, "label": period_label(period, lang), "start": period.start.isoformat(),
                   "end": period.end.isoformat(), "previous_start": period.previous().start.isoformat()},
        "ranked_by": "score" if by_score[0] else "closed_rate",
        "totals": {**now["city"][None].as_dict(), **city_rated},
        "previous_totals": before["city"][None].as_dict(),
        "inspections": {"base": ins_now["base"], "findings": ins_now["findings"],
                        "deductions": sum(r["deductions"] for r in ins_now["units"].values()),
                        # None: no round ran in the previous period (not "found nothing")
                        "previous_findings": ins_before["findings"] if ins_before["scored"] else None,
                        "previous_deductions": sum(r["deductions"] for r in ins_before["units"].values())
                        if ins_before["scored"] else None,
                        "streets_scored": len(ins_now["streets"]),
                        "by_item": by_item(ins_now["by_item"], lang)} if ins_now["scored"] else None,
        "streets": streets,
        "outside_streets": outside_section(outside, now["districts"], known["districts"], lang),
        "units": units,
        "rectification": rect and {k: rect[k] for k in ("open", "awaiting_recheck", "overdue", *PERIOD_FIGURES,
                                                        "items")},
        "categories": _categories(now["categories"], before["categories"],
                                  lambda n: known["categories"].get(n, (n, n))[i]),
        "trend": trend(conn, period, lang),
        "hotspots": hotspots_section(conn, period, known["streets"], lang),
        "coverage": coverage_section(conn, period, lang),
        "definitions": [f.as_dict(lang) for f in available(have)],
    }
    result["summary_zh"] = summary(_named(result, known, "zh"), period, "zh")
    result["summary_en"] = summary(_named(result, known, "en"), period, "en")
    return result


def _named(b: dict, known: dict, lang: str) -> dict:
    """The bulletin with its streets and categories named in ``lang``: the summary in each language names them in
    its own, whatever language the rest of the bulletin is in."""
    i = 1 if lang == "en" else 0
    street = lambda code, name: known["streets"].get(code, (name, name))[i]  # noqa: E731
    rect = b["rectification"] and {**b["rectification"], "items": [
        {**r, "street_name": street(r["street_code"], r["street_name"])} for r in b["rectification"]["items"]]}
    return {**b, "streets": [{**r, "name": street(r["code"], r["name"])} for r in b["streets"]],
            "outside_streets": renamed(b["outside_streets"], known["districts"], lang),
            "categories": [{**r, "name": known["categories"].get(r["code"], (r["name"], r["name"]))[i]}
                           for r in b["categories"]], "rectification": rect}


def _change_zh(change: int, previous: str) -> str:
    if change == 0:
        return f"与{previous}持平"
    return f"较{previous}{'增加' if change > 0 else '减少'}{abs(change)}件"


def percent(value: float | None) -> str:
    """A rate as printed in the bulletin: 81.9%, or — when there is none."""
    return "—" if value is None else f"{100 * value:.1f}%"


def _bottom(b: dict) -> list[dict]:
    """The streets the summary names, worst first: the black list (:func:`black_list_size`, so none of 1, 1 of 2
    or 3, 2 of 4 or 5, 3 of 6 or more ranked, and those tied with the last of them; none tied with the best)."""
    return _lists(b["streets"])[1][::-1]


def _list_size(b: dict) -> int:
    """How many streets the black list names before ties (:func:`black_list_size` of the ranked streets)."""
    return black_list_size(sum(r["rank"] is not None for r in b["streets"]))


def _ranked_value(r: dict, by_score: bool, lang: str) -> str:
    return (f"{r['score']:g}" + ("" if lang == "en" else "分")) if by_score else percent(r["closed_rate"])


def _points(now: float | None, was: float | None, lang: str) -> str | None:
    """The change of a rate in percentage points (上升1.3个百分点, up 1.3 points); None when either is unknown."""
    if now is None or was is None:
        return None
    change = round(100 * (now - was), 1)
    if lang == "en":
        return "unchanged" if change == 0 else f"{'up' if change > 0 else 'down'} {abs(change):.1f} points"
    return "持平" if change == 0 else f"{'上升' if change > 0 else '下降'}{abs(change):.1f}个百分点"


def _versus(b: dict, prev: str, lang: str) -> str:
    """The sentence comparing the totals with the previous period's (环比): received, and the closure and on-time
    rates where both periods had cases due; empty when neither period received any."""
    t, p = b["totals"], b["previous_totals"]
    if not (t["received"] or p["received"]):
        return ""
    rates = [(name, _points(t[code], p[code], lang)) for code, name in (
        ("closed_rate", "结案率" if lang == "zh" else "closure rate"),
        ("on_time_rate", "按期结案率" if lang == "zh" else "on-time rate"))]
    if lang == "en":
        parts = [f"received {t['received'] - p['received']:+d}"] + [f"{n} {c}" for n, c in rates if c]
        return f" Against {prev}: " + ", ".join(parts) + "."
    d = t["received"] - p["received"]
    parts = [f"受理数{'持平' if d == 0 else ('增加' if d > 0 else '减少') + f'{abs(d)}件'}"]
    return f"与{prev}相比，" + "，".join(parts + [f"{n}{c}" for n, c in rates if c]) + "。"


#: How many streets not inspected the summary names before "and N more".
NAMED_UNINSPECTED = 5


def _not_inspected(b: dict, noun: str, lang: str) -> str:
    """When streets are ranked by inspection score: the streets no round covered in the period, named (at most
    :data:`NAMED_UNINSPECTED`), so that a street left out of the ranking is not read as one without fault."""
    if b["ranked_by"] != "score":
        return ""
    left = [r["name"] or r["code"] for r in b["streets"] if r["score"] is None and r["code"]]
    if not left:
        return ""
    named, more = left[:NAMED_UNINSPECTED], len(left) - NAMED_UNINSPECTED
    if lang == "en":
        return (f" Not inspected {noun}, so not ranked by score: {len(left)} street{'s' if len(left) > 1 else ''} ("
                + ", ".join(named) + (f" and {more} more" if more > 0 else "") + ").")
    return f"{noun}未经检查、不参加检查得分排名的街道{len(left)}个：" + "、".join(named) + ("等" if more > 0 else "") + "。"


#: Said when the city has no street level (a city of districts only: Hong Kong, Yantai): the street table is empty.
_NO_STREETS = {"zh": "本市尚未导入街道一级区划，街道排名为空（hygiene-map import admin_areas 文件 --level street）。",
               "en": " The city has no streets yet, so no street is ranked (hygiene-map import admin_areas FILE "
                     "--level street)."}


def _some_streets(b: dict) -> bool:
    """Whether the city has streets (the street table has more than the line of complaints in no street)."""
    return any(r["code"] for r in b["streets"])


def summary(b: dict, period: Period, lang: str) -> str:
    """The summary paragraph, written from the figures: totals, rates, inspections, satisfaction, the bottom
    streets (by what they are ranked on), the top problems."""
    t, noun, prev = b["totals"], _NOUN[lang][period.kind], _PREVIOUS[lang][period.kind]
    bottom, ins = _bottom(b), b["inspections"]
    by_score = b["ranked_by"] == "score"
    if lang == "en":
        text = (f"{noun.capitalize()} {t['received']} complaints were received and {t['filed']} filed; of {t['due']} "
                f"due, {t['closed']} were closed (closure rate {percent(t['closed_rate'])}, on time "
                f"{percent(t['on_time_rate'])}). {t['open_at_end']} remained open at the end, {t['overdue_at_end']} "
                f"of them overdue.")
        text += _versus(b, prev, lang) + outside_text(b["outside_streets"], noun, lang, _some_streets(b))
        if ins:
            text += f" Field inspections found {ins['findings']} problems ({ins['deductions']:g} points deducted; " + (
                f"{prev} {ins['previous_findings']} problems, {ins['previous_deductions']:g} points)."
                if ins["previous_findings"] is not None else f"no field inspection {prev}).")
        text += summary_text(b["rectification"], lang)
        if t["rated"]:
            text += f" Satisfaction {percent(t['satisfaction'])} of {t['rated']} ratings."
        if bottom:
            ties = f"; {len(bottom)} with ties" if len(bottom) > _list_size(b) else ""
            text += (f" Lowest-ranked streets ({'inspection score' if by_score else 'closure rate'}{ties}): "
                     + ", ".join(f"{r['name']} ({_ranked_value(r, by_score, lang)})" for r in bottom) + ".")
        return text + _not_inspected(b, noun, lang) + _NO_STREETS[lang] * (not _some_streets(b)) \
            + _most_reported(b, noun, prev, lang)
    text = (f"{noun}共受理投诉{t['received']}件，立案{t['filed']}件，应结案{t['due']}件，结案{t['closed']}件，"
            f"结案率{percent(t['closed_rate'])}，按期结案率{percent(t['on_time_rate'])}；期末未结案{t['open_at_end']}件，"
            f"其中超期{t['overdue_at_end']}件。")
    text += _versus(b, prev, lang) + outside_text(b["outside_streets"], noun, lang, _some_streets(b))
    if ins:
        text += f"实地检查发现问题{ins['findings']}处，扣{ins['deductions']:g}分；" + (
            f"{prev}发现{ins['previous_findings']}处，扣{ins['previous_deductions']:g}分。"
            if ins["previous_findings"] is not None else f"{prev}没有实地检查。")
    text += summary_text(b["rectification"], lang)
    if t["rated"]:
        text += f"群众回访评价{t['rated']}件，满意率{percent(t['satisfaction'])}。"
    if bottom:
        k = _list_size(b)
        ties = f"（含并列，共{len(bottom)}个）" if len(bottom) > k else ""
        text += f"{'检查得分' if by_score else '结案率'}排名后{min(k, len(bottom))}位{ties}的街道是" + "、".join(
            f"{r['name']}（{_ranked_value(r, by_score, lang)}）" for r in bottom) + "。"
    return text + _not_inspected(b, noun, lang) + _NO_STREETS[lang] * (not _some_streets(b)) \
        + _most_reported(b, noun, prev, lang)


def _most_reported(b: dict, noun: str, prev: str, lang: str) -> str:
    """The sentence naming the event types most reported in the period (at most :data:`TOP_CATEGORIES`); a type
    listed only for its cases of the previous period is not among them. Empty when neither period had any."""
    if not b["categories"]:
        return ""
    top = [r for r in b["categories"] if r["received"]][:TOP_CATEGORIES]
    if lang == "en":
        if not top:
            return f" No problem was reported {noun}."
        return " Most reported: " + ", ".join(
            f"{r['name']} ({r['received']}, {r['change']:+d} on {prev})" for r in top) + "."
    if not top:
        return f"{noun}各类问题均无投诉。"
    return "反映最多的问题是" + "、".join(
        f"{r['name']}（{r['received']}件，{_change_zh(r['change'], prev)}）" for r in top) + "。"
