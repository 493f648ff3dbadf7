"""限期整改 and 扣分明细 in the bulletin: the inspection findings still open at the period's end and those overdue, counted per
street and unit and named one by one (the campaign office asks "谁逾期未整改").

A finding is *open* at the end when it was observed before it and not closed by a passed re-check then (待整改,
or 已整改 awaiting the re-check); *overdue* when it was 待整改 past its deadline then (a failed re-check's new
deadline counts from the re-check), judged at the end or, when the end is later, at the reference time — as
complaints' 期末超期未结案 are. Findings of earlier periods count as long as they stay open: a stock, not the
period's cohort. The statement is :func:`layers.workflow.inspection_scores.unclosed_at`.
"""

from __future__ import annotations

from data import checklist
from data.clock import REFERENCE_TIME_SQL
from data.errors import InvalidParameter
from data.params import Period
from data.vocab import NO_UNIT, RECHECK_FAILED, RECHECK_PASSED, RECTIFIED
from layers.workflow.inspection_scores import unclosed_at

#: The figures each street and unit row gains (0 when it has none).
ROW_FIGURES = ("findings_open_at_end", "findings_overdue_at_end")
#: The period's 整改 figures of data/figures.csv (needs "rectification"), each street and unit row and the totals.
PERIOD_FIGURES = ("findings_due", "findings_rectified", "findings_rectified_on_time", "rectified_rate",
                  "rectified_on_time_rate", "rechecks_failed")
_COUNTS = ("findings_due", "findings_rectified", "findings_rectified_on_time", "rechecks_failed")

# The findings whose first deadline (the one given when found; a failed re-check's new one does not move it) lies
# in the period and had passed when judged (at the end, or at the reference time when the end is later); whether
# a re-check passed them before the end (整改完成), and whether the 已整改 that re-check confirmed was at or before
# that first deadline (按期). Only steps recorded before the end count: a bulletin printed again says the same.
_DUE = f"""
    SELECT f.street_code, coalesce(f.responsible_unit, ''), count(*), count(p.at),
           count(*) FILTER (WHERE r.at <= d.due)
    FROM inspection_findings f
    CROSS JOIN LATERAL (SELECT coalesce((SELECT e.due_at FROM inspection_events e
                                         WHERE e.finding_id = f.id AND e.seq = 1), f.due_at) AS due) d
    LEFT JOIN LATERAL (SELECT e.seq, e.at FROM inspection_events e WHERE e.finding_id = f.id
                       AND e.to_status = %(passed)s AND e.at < %(end)s ORDER BY e.seq LIMIT 1) p ON true
    LEFT JOIN LATERAL (SELECT e.at FROM inspection_events e WHERE e.finding_id = f.id AND e.to_status = %(rectified)s
                       AND e.seq < p.seq ORDER BY e.seq DESC LIMIT 1) r ON true
    WHERE d.due >= %(start)s AND d.due < least(%(end)s::timestamptz, {REFERENCE_TIME_SQL})
    GROUP BY 1, 2"""
# Re-checks that failed (复查未通过, 返工) in the period, charged as the finding is: its street and its unit.
_FAILED = """
    SELECT f.street_code, coalesce(f.responsible_unit, ''), 0, 0, 0, count(*)
    FROM inspection_events e JOIN inspection_findings f ON f.id = e.finding_id
    WHERE e.to_status = %(failed)s AND e.at >= %(start)s AND e.at < %(end)s
    GROUP BY 1, 2"""
#: Labels of the row figures and of the list of overdue findings (the PDF, the workbook, the page).
TEXT = {
    "zh": {"findings_open_at_end": "期末未整改问题", "findings_overdue_at_end": "逾期未整改问题",
           "title": "逾期未整改的检查问题", "done_title": "期内到期检查问题整改情况（按街道）", "sheet": "逾期未整改问题", "none": "期末没有逾期未整改的检查问题。",
           "note": ("逾期未整改：期末前发现、期末时仍为待整改且已过整改期限（复查未通过的按重新给出的期限）的检查问题，"
                    "含以前各期发现的；期末晚于数据时间时按数据时间判断。期末未整改：期末时为待整改或已整改待复查的。"),
           "head": ("编号", "街道", "责任单位", "网格", "问题", "扣分", "发现时间", "整改期限", "逾期天数", "检查轮次"),
           "unassigned": NO_UNIT["zh"], "items_title": "检查扣分明细",
           "items_note": "期内发现的问题按街道、责任单位和检查项目汇总：每处扣分为检查细则该项的分值，扣分 = 每处扣分 × 问题数；"
                         "各街道、责任单位的扣分合计即排名表中的扣分，得分 = 基础分 {base:g} − 扣分。",
           "items_head": ("街道代码", "街道", "责任单位", "检查项目代码", "检查项目", "每处扣分", "问题数", "扣分"),
           "items_none": "期内检查未发现问题，没有扣分。"},
    "en": {"findings_open_at_end": "Findings open at end", "findings_overdue_at_end": "Findings overdue",
           "title": "Inspection findings overdue for rectification",
           "done_title": "Rectification of the findings due in the period, by street", "sheet": "Overdue findings",
           "none": "No inspection finding was overdue "
           "for rectification at the end of the period.",
           "note": ("Overdue: found before the period's end, still to be rectified at the end and past the deadline "
                    "(after a failed re-check, the new one), found in this or an earlier period; judged at the data "
                    "time when the end is later. Open at end: to be rectified, or rectified and awaiting the re-check."),
           "head": ("No.", "Street", "Unit", "Grid", "Problem", "Points", "Found", "Deadline", "Days overdue",
                    "Round"),
           "unassigned": NO_UNIT["en"], "items_title": "Deductions by checklist item",
           "items_note": "The period's findings by street, unit and checklist item: each costs the item's points, lost = "
                         "points × findings; a street's or unit's sum is the deductions of the ranking, and its score "
                         "is the base {base:g} less them.",
           "items_head": ("Street code", "Street", "Unit", "Item code", "Checklist item", "Points each", "Findings",
                          "Points lost"),
           "items_none": "The period's inspections found nothing: no points lost."},
}


def _item_text(code: str, stored: str, lang: str) -> str:
    """The checklist item's words in ``lang`` (the stored Chinese words when the item left the checklist)."""
    if lang != "en":
        return stored
    try:
        return checklist.item(code).text_en
    except InvalidParameter:
        return stored


def _with_rates(counts: dict) -> dict:
    """The counts of :data:`_COUNTS` with 整改率 and 按期整改率 (None when nothing was due)."""
    due = counts["findings_due"]
    return {**counts, "rectified_rate": round(counts["findings_rectified"] / due, 6) if due else None,
            "rectified_on_time_rate": round(counts["findings_rectified_on_time"] / due, 6) if due else None}


def period_rectification(conn, period: Period) -> dict:
    """The period's 整改 figures (:data:`PERIOD_FIGURES`): ``{"streets": {code: figures}, "units": {unit or "":
    figures}, "totals": figures}``."""
    params = {"start": period.start, "end": period.end, "passed": RECHECK_PASSED, "rectified": RECTIFIED,
              "failed": RECHECK_FAILED}
    with conn.cursor() as cur:
        cur.execute(_DUE, params)
        rows = [(*r, 0) for r in cur.fetchall()]
        cur.execute(_FAILED, params)
        rows += cur.fetchall()
    streets: dict = {}
    units: dict = {}
    totals = dict.fromkeys(_COUNTS, 0)
    for street, unit, *values in rows:
        for counts in (streets.setdefault(street, dict.fromkeys(_COUNTS, 0)),
                       units.setdefault(unit, dict.fromkeys(_COUNTS, 0)), totals):
            for code, value in zip(_COUNTS, values, strict=True):
                counts[code] += value
    return {"streets": {k: _with_rates(v) for k, v in streets.items()},
            "units": {k: _with_rates(v) for k, v in units.items()}, "totals": _with_rates(totals)}


def rectification(conn, period: Period, lang: str = "zh") -> dict | None:
    """``{"open", "awaiting_recheck", "overdue", "streets": {code: counts}, "units": {unit or "": counts},
    "items": [the overdue findings, longest overdue first]}`` at ``period``'s end; None when no finding was
    observed before it (a city that has not inspected yet)."""
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM inspection_findings WHERE observed_at < %s)", (period.end,))
        if not cur.fetchone()[0]:
            return None
    rows = unclosed_at(conn, period.end)
    streets: dict = {}
    units: dict = {}
    for r in rows:
        for table, key in ((streets, r["street_code"]), (units, r["unit"] or "")):
            counts = table.setdefault(key, dict.fromkeys(ROW_FIGURES, 0))
            counts["findings_open_at_end"] += 1
            counts["findings_overdue_at_end"] += r["overdue"]
    overdue = sorted((r for r in rows if r["overdue"]), key=lambda r: (-r["days_overdue"], r["id"]))
    items = [{**r, "street_name": r["street_name_en"] if lang == "en" else r["street_name"],
              "item_text": _item_text(r["item_code"], r["item_text"], lang)} for r in overdue]
    for r in items:
        del r["street_name_en"]
    done = period_rectification(conn, period)
    for table, key in ((streets, "streets"), (units, "units")):
        for code, figures in done[key].items():
            table.setdefault(code, dict.fromkeys(ROW_FIGURES, 0)).update(figures)
    return {"open": len(rows), "awaiting_recheck": sum(r["status"] == RECTIFIED for r in rows),
            "overdue": len(items), "streets": streets, "units": units, "items": items, **done["totals"]}


#: A row with nothing open, overdue, due or failed in the period.
_NOTHING = {**dict.fromkeys(ROW_FIGURES, 0), **_with_rates(dict.fromkeys(_COUNTS, 0))}


def add_to_rows(rows: list[dict], counts: dict | None) -> None:
    """Give each street or unit row (keyed by ``code``; the unassigned row by None) its open and overdue counts
    and the period's 整改 figures."""
    if counts is None:
        return
    for row in rows:
        row.update({**_NOTHING, **counts.get(row["code"] or "", {})})


def period_figures_shown(b: dict) -> tuple[str, ...]:
    """The 整改 figure codes a bulletin's tables show: when some finding was due or a re-check failed in it."""
    rect = b.get("rectification")
    return PERIOD_FIGURES if rect and (rect.get("findings_due") or rect.get("rechecks_failed")) else ()


def _worst(rect: dict, limit: int) -> tuple[list[tuple[str, int]], bool]:
    """The streets with most overdue findings: the first ``limit`` and every street tied with the last of them (as
    the black list treats ties), and whether other streets with overdue findings are left unnamed."""
    by_street: dict = {}
    for r in rect["items"]:
        by_street[r["street_name"] or r["street_code"]] = by_street.get(r["street_name"] or r["street_code"], 0) + 1
    ordered = sorted(by_street.items(), key=lambda kv: (-kv[1], kv[0]))
    named = [kv for kv in ordered if ordered[:limit] and kv[1] >= ordered[:limit][-1][1]]
    return named, len(named) < len(ordered)


def _done_text(rect: dict, lang: str) -> str:
    """The sentence on the period's 整改: findings due, rectified (passed re-check), on time; failed re-checks."""
    due, failed = rect.get("findings_due", 0), rect.get("rechecks_failed", 0)
    if not (due or failed):
        return ""
    rate = "—" if rect["rectified_on_time_rate"] is None else f"{100 * rect['rectified_on_time_rate']:.1f}%"
    if lang == "en":
        return (f" {due} findings fell due in the period: {rect['findings_rectified']} rectified (re-check passed), "
                f"{rect['findings_rectified_on_time']} on time (on-time rate {rate}); {failed} re-checks failed.")
    return (f"期内到期应整改问题{due}处，整改完成（复查通过）{rect['findings_rectified']}处，按期整改"
            f"{rect['findings_rectified_on_time']}处，按期整改率{rate}；复查未通过{failed}次。")


def summary_text(rect: dict | None, lang: str, limit: int = 3) -> str:
    """The summary's sentence on rectification: how many findings are overdue at the end, and the streets with
    most of them (those tied with the last named too, "等" when more are left out); then the period's 整改.
    Empty when nothing was ever found."""
    if rect is None:
        return ""
    worst, more = _worst(rect, limit)
    if lang == "en":
        text = (f" At the end {rect['open']} inspection findings were still open, {rect['overdue']} of them overdue "
                "for rectification")
        named = ", ".join(f"{n} ({k})" for n, k in worst) + (", among others" if more else "")
        return text + (": " + named + "." if worst else ".") + _done_text(rect, lang)
    text = f"期末检查问题未整改{rect['open']}处，其中逾期未整改{rect['overdue']}处"
    named = "、".join(f"{n}{k}处" for n, k in worst) + ("等" if more else "")
    return text + ("，" + named if worst else "") + "。" + _done_text(rect, lang)


def item_line(number: int, r: dict, lang: str) -> str:
    """One overdue finding of ``rectification()["items"]`` as a line of the printed list."""
    t = TEXT[lang]
    street, unit, grid = r["street_name"] or r["street_code"], r["unit"] or t["unassigned"], r["grid_code"] or "—"
    due = r["due_at"][:16].replace("T", " ")
    if lang == "en":
        return (f"{number}. #{r['id']} {street}, {unit}, grid {grid}: {r['item_text']} ({r['deduction']:g} points); "
                f"found {r['observed_at'][:10]}, due {due}, {r['days_overdue']:.1f} days overdue ({r['round']}).")
    return (f"{number}. 编号{r['id']} {street}，{unit}，网格{grid}：{r['item_text']}（扣{r['deduction']:g}分），"
            f"{r['observed_at'][:10]}发现，限{due}前整改，已逾期{r['days_overdue']:.1f}天（{r['round']}）。")


def by_item(rows: list[dict], lang: str) -> list[dict]:
    """The period's deductions per street, unit and checklist item
    (:func:`layers.workflow.inspection_scores.deductions_by_item`) in ``lang``: how each street's and unit's lost
    points are made."""
    return [{"street_code": r["street_code"], "street_name": r["street_name_en" if lang == "en" else "street_name"],
             "unit": r["unit"], "item_code": r["item_code"], "item_text": _item_text(r["item_code"], r["item_text"], lang),
             "deduction": r["deduction"], "findings": r["findings"], "points": r["points"]} for r in rows]


def deduction_line(r: dict, lang: str) -> str:
    """One row of :func:`by_item` as a line of the printed 扣分明细."""
    unit = r["unit"] or TEXT[lang]["unassigned"]
    if lang == "en":
        return (f"{r['street_name'] or r['street_code']} · {unit} · {r['item_code']} {r['item_text']}: "
                f"{r['deduction']:g} points × {r['findings']} = {r['points']:g} points")
    return (f"{r['street_name'] or r['street_code']} · {unit} · {r['item_code']} {r['item_text']}："
            f"每处扣{r['deduction']:g}分 × {r['findings']}处 = {r['points']:g}分")
