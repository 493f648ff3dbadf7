"""Coverage plans: what-if drafts saved under a name (migration 0740), compared with today, exported.

A plan holds its kind, radius, level and edit list only; comparing it runs
the what-if (:mod:`layers.analysis.whatif`) against the facilities as they
are now, so a plan saved last month is compared with this month's toilets.
"""

from __future__ import annotations

import io
import json

from psycopg2 import sql
from psycopg2.errors import UniqueViolation

from data.errors import Conflict, InvalidParameter, NotFound
from data.params import clean_text
from geo.coverage import facility_kind, resolve
from layers.analysis.coverage import rule_line
from layers.analysis.encode import feature_collection, lon_lat_headers
from layers.analysis.scope import totals_label
from layers.analysis.whatif import check_level, parse_edits, whatif
from layers.io.cells import format_times, keep_text

#: The comparison table's columns: (key, Chinese header, English header).
COLUMNS = (
    ("code", "编码", "code"), ("name", "名称", "name"), ("population", "人口", "population"),
    ("covered_area_pct_before", "覆盖面积比例（现状，%）", "covered area % (now)"),
    ("covered_area_pct", "覆盖面积比例（规划后，%）", "covered area % (plan)"),
    ("covered_pop_pct_before", "覆盖人口比例（现状，%）", "covered population % (now)"),
    ("covered_pop_pct", "覆盖人口比例（规划后，%）", "covered population % (plan)"),
    ("covered_residents_before", "覆盖人口（现状）", "covered residents (now)"),
    ("covered_residents", "覆盖人口（规划后）", "covered residents (plan)"),
)
#: The edit list's columns (:func:`changes`), and the edits' names: (key, Chinese, English).
CHANGE_COLUMNS = (
    ("edit", "序号", "No."), ("op", "调整", "edit"), ("id", "设施编号", "facility id"), ("name", "设施名称", "facility name"),
    *((key, zh, en) for key, zh, en in zip(("lon", "lat"), *lon_lat_headers())),
    *((f"from_{key}", f"原{zh}（移动前）", f"{en} before the move") for key, zh, en in zip(("lon", "lat"), *lon_lat_headers())),
)
#: The workbook's columns: the page's and print's (:data:`COLUMNS`) and the covered km², which shows a change
#: the share of a large municipality rounds away.
XLSX_COLUMNS = (
    *COLUMNS, ("covered_area_km2_before", "覆盖面积（现状，km²）", "covered area km² (now)"),
    ("covered_area_km2", "覆盖面积（规划后，km²）", "covered area km² (plan)"),
)
#: Number formats of the workbook's figures: the cells keep every digit, shown as the page shows them.
_FORMATS = {"pct": "0.00", "km2": "#,##0.000", "residents": "#,##0"}
OPS = {"add": ("新增", "add"), "move": ("移动", "move"), "remove": ("移除", "remove")}
_PLAN = "SELECT id, name, kind, radius_m, by_level, edits, created_by, created_at FROM coverage_plans"


def _row(r) -> dict:
    return {"id": r[0], "name": r[1], "kind": r[2], "radius_m": r[3], "by": r[4], "edits": r[5],
            "created_by": r[6], "created_at": r[7].isoformat()}


def save_plan(conn, raw: dict, user: str) -> dict:
    """Save a draft as a named plan (checked first: kind, radius, level, edits); Conflict if the name is taken."""
    name = clean_text(raw.get("name") if isinstance(raw.get("name"), str) else None, "name")
    if not name or len(name) > 200:
        raise InvalidParameter("name", "a plan needs a name of 1 to 200 characters", "方案名称须为 1 至 200 个字符")
    spec, radius, _ = resolve(str(raw.get("kind") or "toilets"), _radius(raw.get("radius")))
    by = check_level(str(raw["by"]) if raw.get("by") else None, conn)
    edits = parse_edits(raw.get("edits"))
    if not edits:  # a plan of nothing compares as "no change" and opens as an empty draft: a mistake, not a plan
        raise InvalidParameter("edits", "a plan needs at least one edit (add, move or remove): this draft changes "
                                        "nothing", "方案至少需要一处改动（新增、移动或移除）：此草案没有任何改动")
    whatif(conn, spec.key, radius, edits, by, gaps=False)  # ids that exist, points that transform
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO coverage_plans (name, kind, radius_m, by_level, edits, created_by) "
                        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                        (name, spec.key, radius, by, json.dumps(edits), user))
            plan_id = cur.fetchone()[0]
    except UniqueViolation:
        conn.rollback()
        raise Conflict(f"a plan named {name!r} exists already: choose another name",
                       f"已有名为 {name!r} 的方案：请另取一个名称") from None
    return get_plan(conn, plan_id)


def _radius(raw) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise InvalidParameter("radius", "must be a number of metres", "须为以米计的数字")
    return float(raw)


def list_plans(conn) -> list[dict]:
    """Every plan, newest first (its edits counted, not listed)."""
    with conn.cursor() as cur:
        cur.execute(_PLAN + " ORDER BY created_at DESC, id DESC")
        rows = [_row(r) for r in cur.fetchall()]
    for row in rows:
        row["edits"] = len(row["edits"])
    return rows


def get_plan(conn, plan_id: int) -> dict:
    """One plan with its edits; NotFound if there is none."""
    with conn.cursor() as cur:
        cur.execute(_PLAN + " WHERE id = %s", (plan_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"no coverage plan {plan_id}", f"没有编号为 {plan_id} 的覆盖方案")
    return _row(row)


def check_fits(plan: dict, kind: str | None = None, radius: float | None = None, by: str | None = None) -> None:
    """InvalidParameter naming the first of ``kind``, ``radius``, ``by`` given that is not the plan's own.

    A plan's edits name facilities by the ids of its kind's table, and ids repeat across tables: applied to
    another kind they would move or remove other facilities (a toilets plan's "remove 1055" removing litter
    basket 1055); at another radius or level its figures are not the plan's. Refused, never mixed."""
    said = f"plan #{plan['id']} {plan['name']!r}"
    said_zh = f"方案 #{plan['id']} {plan['name']!r}"
    if kind is not None and kind != plan["kind"]:
        mine, other = facility_kind(plan["kind"]), facility_kind(kind)
        raise InvalidParameter("kind", f"{said} edits {mine.name('en')} ({mine.key}), not {other.name('en')}: its "
                                       f"edits name {mine.key} ids; use kind={mine.key}",
                               f"{said_zh} 调整的是{mine.name_zh}（{mine.key}），不是{other.name_zh}：其改动中的编号"
                               f"是{mine.name_zh}的编号；请用 kind={mine.key}")
    if radius is not None and not abs(radius - plan["radius_m"]) <= 1e-9:  # NaN too
        raise InvalidParameter("radius", f"{said} was made at {plan['radius_m']:g} m, not {radius:g} m; use "
                                         f"radius={plan['radius_m']:g}",
                               f"{said_zh} 按服务半径 {plan['radius_m']:g} 米制定，不是 {radius:g} 米；"
                               f"请用 radius={plan['radius_m']:g}")
    if by is not None and by != plan["by"]:
        raise InvalidParameter("by", f"{said} is counted by {plan['by']}, not {by}; use by={plan['by']}",
                               f"{said_zh} 按 {plan['by']} 统计，不是 {by}；请用 by={plan['by']}")


def for_map(conn, plan_id: int, query: dict, given: dict) -> tuple[dict, dict]:
    """The coverage page's parameters to open plan ``plan_id`` with, and the plan.

    The plan's kind, radius and level replace the URL's (``given``: its raw values) and the method is the
    straight line a what-if measures by; the plan gets ``overridden``, ``[name, the URL's value, the plan's]``
    for each value the URL gave otherwise, which the page says."""
    plan = get_plan(conn, plan_id)
    own = {"kind": plan["kind"], "radius": f"{plan['radius_m']:g}", "by": plan["by"],
           "method": "straight"}
    overridden = [[k, given[k], v] for k, v in own.items()
                  if given.get(k) not in (None, "") and not _same(k, given[k], v)]
    return {**query, **own, "plan": plan_id}, {**plan, "overridden": overridden}


def _same(name: str, given: str, own: str) -> bool:
    if name == "radius":  # 300, 300.0 and 3e2 are one radius
        return abs(float(given) - float(own)) < 1e-9
    return str(given) == str(own)


def compare_plan(conn, plan_id: int, **given) -> dict:
    """The plan against the facilities as they are now: per changed area before/after, and the city's totals;
    ``given`` (kind, radius, by) the caller's values, refused unless the plan's own (:func:`check_fits`)."""
    plan = get_plan(conn, plan_id)
    check_fits(plan, **given)
    try:
        result = whatif(conn, plan["kind"], plan["radius_m"], parse_edits(plan["edits"]), plan["by"], gaps=False)
    except InvalidParameter as exc:  # e.g. a facility it moves was removed since
        raise Conflict(f"plan {plan['name']!r} no longer fits today's facilities: {exc}",
                       f"方案 {plan['name']!r} 已不适用于现有设施：{exc.zh or exc}") from None
    rule = resolve(plan["kind"], plan["radius_m"])[2]
    return {"plan": plan, **result, "rule": rule.id if rule else None, "changes": changes(conn, plan)}


def plan_rule(result: dict, lang: str) -> str:
    """The standard ``compare_plan``'s answer is measured against, in ``lang`` (its page, print and workbook)."""
    from data.standards import load

    return rule_line(load()[result["rule"]] if result["rule"] else None, result["radius_m"], lang)


def changes(conn, plan: dict) -> list[dict]:
    """Each edit of ``plan`` where it is on the ground: ``edit`` (from 1), ``op``, the facility's ``id`` and
    ``name`` (move, remove), ``lon``/``lat`` where it goes (add, move) or stands (remove), ``from_lon``/``from_lat``
    where a moved one stands. A facility stands at its point, or a point on it for a trail (a line)."""
    ids = [e["id"] for e in plan["edits"] if "id" in e]
    standing = {}
    if ids:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT id, name, ST_X(p), ST_Y(p) FROM (SELECT id, name, ST_PointOnSurface(geom) p "
                                "FROM {} WHERE id = ANY(%s)) f").format(
                sql.Identifier(facility_kind(plan["kind"]).table)), (ids,))
            standing = {r[0]: r[1:] for r in cur.fetchall()}
    rows = []
    for k, edit in enumerate(plan["edits"]):
        name, x, y = standing.get(edit.get("id"), (None, None, None))
        moved = "lon" in edit
        rows.append({"edit": k + 1, "op": edit["op"], "id": edit.get("id"), "name": name,
                     "lon": edit["lon"] if moved else x, "lat": edit["lat"] if moved else y,
                     "from_lon": x if edit["op"] == "move" else None, "from_lat": y if edit["op"] == "move" else None})
    return rows


def comparison_xlsx(result: dict, lang: str) -> bytes:
    """The comparison as a workbook: the areas' table (Chinese headers first) and the city's totals; the edits
    on a second sheet (where each new or moved facility goes, which ones go)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    zh = lang != "en"
    book = Workbook()
    sheet = book.active
    sheet.title = "规划对比" if zh else "comparison"
    kind = facility_kind(result["kind"])
    sheet.append([f"{'方案：' if zh else 'plan: '}{result['plan']['name']}",
                  f"{kind.name(lang)} {result['radius_m']:g} m", plan_rule(result, lang)])
    sheet.append([zh_h if zh else en_h for _, zh_h, en_h in XLSX_COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in result["areas"]:
        sheet.append([row[key] for key, _, _ in XLSX_COLUMNS])
    sheet.append([])
    # The city's totals under the same columns: each figure now, then with the plan.
    now, plan = result["before"], result["after"]
    sheet.append([totals_label(result.get("scope"), lang, ("全市合计", "city")), "", now["population"],
                  *(t[key] for key in ("covered_area_pct", "covered_pop_pct", "covered_residents", "covered_area_km2")
                    for t in (now, plan))])
    _number_formats(sheet)
    edits = book.create_sheet("调整清单" if zh else "edits")
    edits.append([zh_h if zh else en_h for _, zh_h, en_h in CHANGE_COLUMNS])
    for cell in edits[1]:
        cell.font = Font(bold=True)
    for row in result["changes"]:
        edits.append([OPS[row["op"]][0 if zh else 1] if key == "op" else row[key] for key, _, _ in CHANGE_COLUMNS])
    keep_text(book)  # plan, area and facility names are words, never formulas
    format_times(book)  # any time a date cell as in every workbook (layers.io.cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


#: The city totals table of a plan (its page and its print): the column heads, then its rows (key, zh, en).
TOTALS_HEAD = (("指标", "现状", "规划后", "变化"), ("Measure", "Now", "With plan", "Change"))
TOTALS_ROWS = (("population", "人口", "population"), ("covered_area_km2", "覆盖面积（km²）", "covered area (km²)"),
               ("covered_area_pct", "覆盖面积比例（%）", "covered area (%)"),
               ("covered_pop_pct", "覆盖人口比例（%）", "covered population (%)"),
               ("covered_residents", "覆盖人口", "covered residents"))


def totals(result: dict, lang: str) -> list[tuple[str, str, str, str, int]]:
    """The city's figures now, with the plan and the change (signed), as a plan's page and print show them:
    (label, now, after, change, the change's sign: 1, -1 or 0). The people counts are None (—) in a city
    without population."""
    rows = []
    for key, zh, en in TOTALS_ROWS:
        now, after = result["before"][key], result["after"][key]
        change = None if now is None or after is None else after - now
        sign = 0 if not change else 1 if change > 0 else -1
        rows.append((en if lang == "en" else zh, figure(key, now), figure(key, after),
                     ("+" if sign > 0 else "") + figure(key, change), sign))
    return rows


def figure(key: str, value) -> str:
    """One figure of the comparison as its page and print show it: a share (a ``pct`` key) to two decimals, an
    area in km² to three (1,000 m²: one toilet's reach shows), a count with thousands separators, — where unknown
    (no population)."""
    if value is None:
        return "—"
    if "km2" in key:
        return f"{value:,.3f}"
    return f"{value:.2f}" if "pct" in key else f"{value:,}"


def _number_formats(sheet) -> None:
    """Each figure of the comparison sheet (row 3 on) shown as the page shows it, its cell keeping every digit."""
    for j, (key, _, _) in enumerate(XLSX_COLUMNS, start=1):
        fmt = _FORMATS["pct" if "pct" in key else "km2" if "km2" in key else "residents"]
        for (cell,) in sheet.iter_rows(min_row=3, min_col=j, max_col=j):
            if j > 2 and isinstance(cell.value, (int, float)):
                cell.number_format = fmt


def plan_geojson(conn, plan_id: int, **given) -> bytes:
    """The plan's facilities as GeoJSON points: each edit's new position (remove: where the facility stands);
    ``given`` as for :func:`compare_plan` (the coverage page sends its own, so a plan never lands on another layer)."""
    plan = get_plan(conn, plan_id)
    check_fits(plan, **given)
    features = []
    for row in changes(conn, plan):
        point = json.dumps({"type": "Point", "coordinates": [row["lon"], row["lat"]]}) if row["lon"] is not None \
            else None
        features.append((point, {"edit": row["edit"], "op": row["op"], "id": row["id"], "kind": plan["kind"]}))
    return feature_collection(features, plan={k: plan[k] for k in ("id", "name", "kind", "radius_m", "by")})
