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
from data.errors import InvalidParameter
from data.params import Period
from data.vocab import NO_UNIT, RECTIFIED
from layers.workflow.inspection_scores import unclosed_at

#: The figures each street and unit row gains (0 when it has none).
ROW_FIGURES = ("findings_open_at_end", "findings_overdue_at_end")
#: Labels of the row figures and of the list of overdue findings (the PDF, the workbook, the page).
TEXT = {
    "zh": {"findings_open_at_end": "期末未整改问题", "findings_overdue_at_end": "逾期未整改问题",
           "title": "逾期未整改的检查问题", "sheet": "逾期未整改问题", "none": "期末没有逾期未整改的检查问题。",
           "note": ("逾期未整改：期末前发现、期末时仍为待整改且已过整改期限（复查未通过的按重新给出的期限）的检查问题，"
                    "含以前各期发现的；期末晚于数据时间时按数据时间判断。期末未整改：期末时为待整改或已整改待复查的。"),
           "head": ("编号", "街道", "责任单位", "网格", "问题", "扣分", "发现时间", "整改期限", "逾期天数", "检查轮次"),
           "unassigned": NO_UNIT["zh"], "items_title": "检查扣分明细",
           "items_note": "期内发现的问题按街道、责任单位和检查项目汇总：每处扣分为检查细则该项的分值，扣分 = 每处扣分 × 问题数；"
                         "各街道、责任单位的扣分合计即排名表中的扣分，得分 = 基础分 {base:g} − 扣分。",
           "items_head": ("街道代码", "街道", "责任单位", "检查项目代码", "检查项目", "每处扣分", "问题数", "扣分"),
           "items_none": "期内检查未发现问题，没有扣分。"},
    "en": {"findings_open_at_end": "Findings open at end", "findings_overdue_at_end": "Findings overdue",
           "title": "Inspection findings overdue for rectification", "sheet": "Overdue findings",
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
    return {"open": len(rows), "awaiting_recheck": sum(r["status"] == RECTIFIED for r in rows),
            "overdue": len(items), "streets": streets, "units": units, "items": items}


def add_to_rows(rows: list[dict], counts: dict | None) -> None:
    """Give each street or unit row (keyed by ``code``; the unassigned row by None) its open and overdue counts."""
    if counts is None:
        return
    for row in rows:
        row.update(counts.get(row["code"] or "", dict.fromkeys(ROW_FIGURES, 0)))


def summary_text(rect: dict | None, lang: str, limit: int = 3) -> str:
    """The summary's sentence on rectification: how many findings are overdue at the end, and the streets with
    most of them; empty when nothing was ever found."""
    if rect is None:
        return ""
    by_street: dict = {}
    for r in rect["items"]:
        by_street[r["street_name"] or r["street_code"]] = by_street.get(r["street_name"] or r["street_code"], 0) + 1
    worst = sorted(by_street.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    if lang == "en":
        text = (f" At the end {rect['open']} inspection findings were still open, {rect['overdue']} of them overdue "
                "for rectification")
        return text + (": " + ", ".join(f"{n} ({k})" for n, k in worst) + "." if worst else ".")
    text = f"期末检查问题未整改{rect['open']}处，其中逾期未整改{rect['overdue']}处"
    return text + ("，" + "、".join(f"{n}{k}处" for n, k in worst) if worst else "") + "。"


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
