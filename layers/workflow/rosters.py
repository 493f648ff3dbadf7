"""Loading a street's roster all or nothing, and since when a grid's first unit is in force (no HTTP here).

A city that imports last weeks' 12345 complaints and loads its first roster
today says since when its units have held their grids (``grids assign
roster.xlsx --since 2026-11-01``): the assignment history keeps when each row
was written (``changed_at``, by ``changed_by``) and, beside it, when a first
unit holds from (``effective_from``, migration 0895), which
:data:`layers.workflow.grids.HOLDERS_SQL` reads — the one account of who held
a grid when, for bulletins, scores and findings alike.
"""

from __future__ import annotations

from datetime import datetime

from data.errors import InvalidInput, InvalidParameter
from data.said import Note
from data.vocab import city_tz
from layers.workflow.grids import assign, validate_assignment


def _local(value: datetime) -> str:
    return value.astimezone(city_tz()).strftime("%Y-%m-%d %H:%M")


def since_problem(conn, code: str, since: datetime) -> Note | None:
    """Why grid ``code``'s assignment may not hold from ``since`` (English, ``.zh`` Chinese); None when it may.

    ``since`` may not lie in the future; it dates a grid's first unit only (a later change dated back would
    rewrite who held the grid in bulletins already published); and it may not precede the regrid that cut the
    grid's street into its present grids (the earlier grids, ``grid_shapes``, held the place before: a code
    reused by the cut named another place then). A street's first grids stand for its division from the start,
    as the history reads a grid loaded with its unit (:data:`~layers.workflow.grids.HOLDERS_SQL`).
    """
    with conn.cursor() as cur:
        cur.execute(
            """SELECT now(), g.responsible_unit,
                      (SELECT coalesce(a.effective_from, a.changed_at) FROM grid_assignments a
                       WHERE a.grid_code = g.code AND a.responsible_unit IS NOT NULL ORDER BY a.changed_at, a.seq
                       LIMIT 1),
                      (SELECT max(s.until) FROM grid_shapes s WHERE s.street_code = g.street_code), g.street_code
               FROM grids g WHERE g.code = %s""",
            (code,),
        )
        now, unit, held_since, cut, street = cur.fetchone()
    if since > now:
        return Note(f"{_local(since)} 晚于现在（{_local(now)}）", f"{_local(since)} is in the future (now {_local(now)})")
    if unit is not None or held_since is not None:
        held = f"{unit}，自 {_local(held_since)} 起" if held_since else unit
        held_en = f"{unit}, since {_local(held_since)}" if held_since else unit
        return Note(f"网格 {code} 已有责任单位（{held}）：只有网格的首个责任单位可以追溯生效时间，更换责任单位自更换时起算"
                    "（追溯会改写已发布的通报）",
                    f"grid {code} already has a unit ({held_en}): only a grid's first unit may be dated back; a "
                    "change of unit counts from when it is made (dating it back would rewrite bulletins already "
                    "published)")
    if cut is not None and since < cut:
        return Note(f"网格 {code} 是 {_local(cut)} 重新划分街道 {street} 时划出的，此前该处属于原来的网格："
                    f"生效时间不能早于 {_local(cut)}",
                    f"grid {code} was cut when street {street} was divided again at {_local(cut)}, before which "
                    f"its place lay in the earlier grids: the date may not be before {_local(cut)}")
    return None


def _row_problems(conn, rows: list[dict], source: str, since: datetime | None) -> list[Note]:
    """Every problem of the roster's rows, each naming its file row (unknown or repeated code, empty unit or
    manager, bad phone, a ``since`` the grid may not take)."""
    problems: list[Note] = []
    seen: dict[str, int] = {}
    codes = [r["code"] for r in rows if r.get("code")]
    with conn.cursor() as cur:
        cur.execute("SELECT code FROM grids WHERE code = ANY(%s)", (codes,))
        known = {r[0] for r in cur.fetchall()}
    for r in rows:
        where = Note(f"{source} 第 {r['line']} 行", f"{source} row {r['line']}")
        code = r.get("code")
        if not code:
            problems.append(Note(f"{where.zh}：网格编码：不能为空", f"{where}: grid code: must not be empty"))
        elif code not in known:
            problems.append(Note(f"{where.zh}：网格编码：没有编码为 {code} 的网格", f"{where}: grid code: no grid with code {code}"))
        elif code in seen:
            problems.append(Note(f"{where.zh}：网格编码：{code} 已在第 {seen[code]} 行给出",
                                 f"{where}: grid code: {code} already given in row {seen[code]}"))
        else:
            seen[code] = r["line"]
            if since is not None and (bad := since_problem(conn, code, since)) is not None:
                problems.append(Note(f"{where.zh}：--since：{bad.zh}", f"{where}: --since: {bad}"))
        problems.extend(validate_assignment(r.get("unit"), r.get("manager"), r.get("phone"), where=where))
    if not rows:
        problems.append(Note(f"{source}：没有找到网格行", f"{source}: no grid rows found"))
    return problems


def assign_many(conn, rows: list[dict], actor: str, *, source: str, since: datetime | None = None) -> dict:
    """Apply roster rows ``{"line", "code", "unit", "manager", "phone", "reason"}`` all or nothing.

    Every row is checked first (:func:`_row_problems`); any problem raises
    InvalidInput listing them all and nothing is written. ``since``: when the
    units hold from, every row's grid getting its first unit
    (:func:`since_problem`). Returns counts of changed and unchanged grids,
    findings charged to first units, and with ``since`` the complaints
    reported in the changed grids from then until now (``complaints_since``).
    """
    if since is not None:  # said once, not on every row
        with conn.cursor() as cur:
            cur.execute("SELECT now()")
            now = cur.fetchone()[0]
        if since > now:
            raise InvalidParameter("--since", f"{_local(since)} is in the future (now {_local(now)}); nothing was "
                                   "changed", f"{_local(since)} 晚于现在（{_local(now)}），未做任何修改")
    problems = _row_problems(conn, rows, source, since)
    if problems:
        _refuse_roster(problems)
    counts = {"changed": 0, "unchanged": 0, "findings_charged": 0, "complaints_since": None}
    changed = []
    for r in rows:
        result = assign(conn, r["code"], r["unit"], r["manager"], r["phone"],
                        r.get("reason") or f"名册导入 {source}", actor, since=since)
        counts["changed" if result["changed"] else "unchanged"] += 1
        counts["findings_charged"] += result["findings_charged"]
        if result["changed"]:
            changed.append(r["code"])
    if since is not None:
        # What the bulletins now charge to these units: the complaints reported in their grids since then.
        with conn.cursor() as cur:
            cur.execute("""SELECT count(*) FROM complaints WHERE coalesce(origin_grid_code, grid_code) = ANY(%s)
                             AND reported_at >= %s AND reported_at < now()""", (changed, since))
            counts["complaints_since"] = cur.fetchone()[0]
    return counts


def _refuse_roster(problems: list[Note]) -> None:
    """InvalidInput listing the first five problems of a roster (in both languages) and how many more."""
    n, more = len(problems), len(problems) - 5
    shown = "; ".join(problems[:5]) + (f"; … {more} more" if more > 0 else "")
    shown_zh = "；".join(p.zh for p in problems[:5]) + (f"；……另有 {more} 处" if more > 0 else "")
    raise InvalidInput(f"{n} problem(s), nothing was changed: {shown}", problems, f"{n} 处问题，未做任何修改：{shown_zh}")
