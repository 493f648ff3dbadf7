"""SQL about inspections (明察暗访, issue 15): rounds, findings, their rectification, scores (no HTTP here).

A finding is a checklist item (:mod:`data.checklist`) seen at a point during
a round. It is routed when it is written, like a complaint (the grid holding
the point gives grid, community, street and district), and charged to the
unit that held the grid when it was observed (``grid_assignments``). Its
status follows 待整改 → 已整改 → 复查通过, or 复查未通过 and back to 待整改
with a new deadline (:data:`data.vocab.FINDING_TRANSITIONS`); every step is
appended to ``inspection_events``. A re-check is never made by the user who
marked the finding 已整改.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from data import checklist
from data.clock import REFERENCE_TIME_SQL
from data.errors import Conflict, Forbidden, InvalidParameter, NotFound
from data.vocab import (
    FINDING_STATUSES,
    FINDING_TRANSITIONS,
    RECHECK_FAILED,
    RECHECKS,
    RECTIFIED,
    TO_RECTIFY,
    UNANNOUNCED_KINDS,
)
from geo import coords
from layers.workflow.access import User, audit
from layers.workflow.complaints import POINT_CRS, route
from layers.workflow.finding_times import said, step_time
from layers.workflow.finding_units import unit_at
from layers.workflow.grids import grid_then
from layers.workflow.inspection_photos import finding_place, missing_after_photo
from layers.workflow.refusals import not_one_of

ROUND_COLUMNS = ("id", "name", "kind", "unannounced", "starts", "ends", "streets", "created_by", "created_at")


def round_row(r) -> dict:
    """A row of :data:`ROUND_COLUMNS` as the API gives a round (ISO times, a list of streets)."""
    out = dict(zip(ROUND_COLUMNS, r))
    for k in ("starts", "ends", "created_at"):
        out[k] = out[k].isoformat()
    out["streets"] = list(out["streets"])
    return out


def create_round(conn, *, name: str, kind: str, starts: datetime, ends: datetime, streets: list[str],
                 actor: str, unannounced: bool | None = None) -> dict:
    """A new round over ``streets`` (each checked to exist) from ``starts`` until ``ends``; ``unannounced``
    (暗访) as given, else as its kind usually is (:data:`~data.vocab.UNANNOUNCED_KINDS`)."""
    from layers.workflow.inspection_rounds import checked_round  # it reads rounds with this module's SQL

    if unannounced is None:
        unannounced = kind in UNANNOUNCED_KINDS
    streets = checked_round(conn, kind=kind, starts=starts, ends=ends, streets=streets)
    with conn.cursor() as cur:
        cur.execute(
            f"""INSERT INTO inspection_rounds (name, kind, unannounced, starts, ends, streets, created_by)
                VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {', '.join(ROUND_COLUMNS)}""",
            (name, kind, unannounced, starts, ends, streets, actor),
        )
        out = round_row(cur.fetchone())
    audit(conn, actor, "inspection.round", f"inspection_round:{out['id']}", None,
          {k: out[k] for k in ("name", "kind", "unannounced", "starts", "ends", "streets")})
    return out


#: Row locks a caller may take on a round: ``share`` while recording a finding in it, ``update`` to change it.
_LOCKS = {None: "", "share": " FOR SHARE", "update": " FOR UPDATE"}


def get_round(conn, round_id: int, lock: str | None = None) -> dict:
    """One round, or NotFound; ``lock`` (:data:`_LOCKS`) holds its row until the transaction ends."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(ROUND_COLUMNS)} FROM inspection_rounds WHERE id = %s{_LOCKS[lock]}",
                    (round_id,))
        row = cur.fetchone()
    if row is None:
        raise _no_round(round_id)
    return round_row(row)


def _no_round(round_id: int) -> NotFound:
    return NotFound(f"no inspection round with id {round_id}", f"没有编号为 {round_id} 的检查轮次")


def kept_from(user: User | None, rnd: dict) -> bool:
    """Whether ``rnd`` is an unannounced round (暗访) that has not started, which ``user`` may not know of: the
    public and the street offices it would inspect (the campaign office, planners and inspectors plan and
    carry it out). Once it starts, its findings reach the streets as any round's do."""
    return ((user is None or user.role == "street") and rnd["unannounced"]
            and datetime.fromisoformat(rnd["starts"]) > datetime.now(UTC))


def round_for(conn, round_id: int, user: User | None) -> dict:
    """One round as ``user`` may know it: NotFound, as for no round, when it is kept from them (:func:`kept_from`)."""
    rnd = get_round(conn, round_id)
    if kept_from(user, rnd):
        raise _no_round(round_id)
    return rnd


def rounds(conn) -> list[dict]:
    """Every round, newest first, with how many findings it has, how many still wait for rectification and how
    many of those are past their deadline (``overdue``, at the reference time as a finding's own flag)."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {', '.join('r.' + c for c in ROUND_COLUMNS)}, count(f.id),
                       count(f.id) FILTER (WHERE f.status = %(to_rectify)s), count(f.id) FILTER (WHERE {_OVERDUE})
                FROM inspection_rounds r LEFT JOIN inspection_findings f ON f.round_id = r.id
                GROUP BY r.id ORDER BY r.starts DESC, r.id DESC""",
            {"to_rectify": TO_RECTIFY},
        )
        n = len(ROUND_COLUMNS)
        return [{**round_row(r[:n]), "findings": r[n], "to_rectify": r[n + 1], "overdue": r[n + 2]}
                for r in cur.fetchall()]


def rounds_for(conn, user: User) -> list[dict]:
    """The rounds ``user`` records findings in (the field page's choice): an inspector's, those over its street
    or its grids' streets (a finding kept on a phone for a round elsewhere would be refused once sent); everyone
    else's, every round they may know of."""
    every = [r for r in rounds(conn) if not kept_from(user, r)]
    if user.role != "inspector":
        return every
    streets = {user.street_code}
    if user.grid_codes:
        with conn.cursor() as cur:
            cur.execute("SELECT DISTINCT street_code FROM grids WHERE code = ANY(%s)", (list(user.grid_codes),))
            streets = {s for (s,) in cur.fetchall()}
    return [r for r in every if streets & set(r["streets"])]


# -- Findings ----------------------------------------------------------------------------------------------

_COLUMNS = ("id", "round_id", "client_id", "inspector", "item_code", "place_type", "item_text", "deduction",
            "due_days", "description", "observed_at", "status", "due_at", "rectified_by", "district_code",
            "street_code", "community_code", "grid_code", "responsible_unit", "created_at", "updated_at")
_TIMES = ("observed_at", "due_at", "created_at", "updated_at")
_OVERDUE = f"f.status = %(to_rectify)s AND f.due_at < {REFERENCE_TIME_SQL}"


def _select(where: str) -> str:
    return (f"SELECT {', '.join('f.' + c for c in _COLUMNS)}, ST_X(f.geom), ST_Y(f.geom), ({_OVERDUE}) "
            f"FROM inspection_findings f {where}")


def _row(r) -> dict:
    n = len(_COLUMNS)
    out = dict(zip(_COLUMNS, r[:n]))
    for k in _TIMES:
        out[k] = out[k].isoformat() if out[k] is not None else None
    out["deduction"] = float(out["deduction"])
    out["lon"], out["lat"], out["overdue"] = r[n], r[n + 1], bool(r[n + 2])
    # The contract's name for the unit a finding is charged to.
    out["unit"] = out["responsible_unit"]
    return out


def get_finding(conn, finding_id: int, *, lock: bool = False) -> dict:
    """One finding, or NotFound."""
    with conn.cursor() as cur:
        cur.execute(_select("WHERE f.id = %(id)s") + (" FOR UPDATE" if lock else ""),
                    {"id": finding_id, "to_rectify": TO_RECTIFY})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"no inspection finding with id {finding_id}", f"没有编号为 {finding_id} 的检查问题")
    return _row(row)


def _existing(conn, inspector: str, client_id: str) -> dict | None:
    with conn.cursor() as cur:
        cur.execute(_select("WHERE f.inspector = %(inspector)s AND f.client_id = %(client_id)s"),
                    {"inspector": inspector, "client_id": client_id, "to_rectify": TO_RECTIFY})
        row = cur.fetchone()
    return None if row is None else _row(row)


def _check_place(user: User, the_round: dict, routed: dict, observed_at: datetime) -> None:
    """Forbidden unless an inspector or admin; InvalidParameter outside the round's streets (a point in no street
    too); Forbidden outside the user's scope; InvalidParameter outside the round's time."""
    street, grid = routed["street_code"], routed["grid_code"]
    where = f"grid {grid} of street {street}" if grid else f"street {street} (no grid there)"
    where_zh = f"街道 {street} 网格 {grid}" if grid else f"街道 {street}（该处没有网格）"
    if user.role not in ("admin", "inspector"):
        place, place_zh = (f", not {where}", f"，不包括{where_zh}") if street else ("", "")  # never "street None"
        raise Forbidden(f"only inspectors and admins record findings{place}", f"只有检查员和管理员能记录问题{place_zh}")
    # The round first: a point it does not cover (or in no street at all) is a wrong place, whoever sends it.
    if street not in the_round["streets"]:
        covered, covered_zh = ", ".join(the_round["streets"]), "、".join(the_round["streets"])
        district = routed["district_code"]
        if street is None:
            raise InvalidParameter("lon/lat", f"the point lies in no street of this city"
                                              f"{f' (in district {district})' if district else ''}, so round "
                                              f"{the_round['id']} does not cover it ({covered})",
                                   f"该地点不在本市任何街道内{f'（在区县 {district}）' if district else ''}，"
                                   f"不在检查轮次 {the_round['id']} 的范围内（{covered_zh}）")
        raise InvalidParameter("lon/lat", f"the point lies in street {street}, which round "
                                          f"{the_round['id']} does not cover ({covered})",
                               f"该地点在街道 {street}，不在检查轮次 {the_round['id']} 的范围内（{covered_zh}）")
    if not user.may_write_complaint(street, grid):
        raise Forbidden(f"user {user.name!r} inspects {user.scope_text()}, not {where}",
                        f"用户 {user.name!r} 的检查范围为{user.scope_text('zh')}，不包括{where_zh}")
    starts, ends = datetime.fromisoformat(the_round["starts"]), datetime.fromisoformat(the_round["ends"])
    if not starts <= observed_at < ends:
        # In the city's zone, as the round was planned, not UTC (the day before, at 16:00, in Taipei).
        span = f"{said(starts)} to {said(ends)}", f"{said(starts)} 至 {said(ends)}"
        raise InvalidParameter("observed_at", f"{said(observed_at)} lies outside round {the_round['id']} ({span[0]})",
                               f"{said(observed_at)} 不在检查轮次 {the_round['id']} 的时间内（{span[1]}）")


def record_finding(conn, user: User, *, round_id: int, lon: float, lat: float, crs: str = "wgs84", item: str,
                   note: str | None, observed_at: datetime, client_id: str) -> tuple[dict, bool]:
    """Record a finding for ``user``; return it and whether it is new.

    The same ``client_id`` from the same user answers the finding already
    stored (a phone's retry never makes a second one), whatever else it sends.
    """
    found = _existing(conn, user.name, client_id)
    if found is not None:
        return found, False
    if crs not in POINT_CRS:
        raise not_one_of("crs", POINT_CRS, crs)
    x, y = coords.to_wgs84(lon, lat, crs)
    lon, lat = float(x), float(y)
    # Shared: a correction or deletion of the round (inspection_rounds) waits for this finding, and it for them.
    the_round, entry = get_round(conn, round_id, lock="share"), checklist.item(item)
    routed = route(conn, lon, lat)
    _check_place(user, the_round, routed, observed_at)
    # A finding seen before a regrid and synced after it: charged through the grid that held its place then.
    then = grid_then(conn, lon, lat, observed_at)
    unit = unit_at(conn, then or routed["grid_code"], observed_at, routed["responsible_unit"],
                   datetime.fromisoformat(the_round["ends"]))
    origin = then if then != routed["grid_code"] else None
    due_at = observed_at + timedelta(days=entry.due_days)
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO inspection_findings (round_id, client_id, inspector, item_code, place_type, item_text,
                   deduction, due_days, description, observed_at, status, due_at, district_code, street_code,
                   community_code, grid_code, origin_grid_code, responsible_unit, geom)
               VALUES (%(round_id)s, %(client_id)s, %(inspector)s, %(item)s, %(place_type)s, %(text)s,
                   %(deduction)s, %(due_days)s, %(note)s, %(observed_at)s, %(status)s, %(due_at)s,
                   %(district_code)s, %(street_code)s, %(community_code)s, %(grid_code)s, %(origin)s, %(unit)s,
                   ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
               ON CONFLICT (inspector, client_id) DO NOTHING RETURNING id""",
            {**routed, "round_id": round_id, "client_id": client_id, "inspector": user.name, "item": entry.code,
             "place_type": entry.place_type, "text": entry.text_zh, "deduction": entry.deduction,
             "due_days": entry.due_days, "note": note, "observed_at": observed_at, "status": TO_RECTIFY,
             "due_at": due_at, "unit": unit, "origin": origin, "lon": lon, "lat": lat},
        )
        row = cur.fetchone()
        if row is None:  # the same client_id committed meanwhile by a parallel retry
            return _existing(conn, user.name, client_id), False
        finding_id = row[0]
        cur.execute("UPDATE inspection_findings SET source_id = %s WHERE id = %s", (f"api-{finding_id}", finding_id))
        cur.execute("""INSERT INTO inspection_events (finding_id, from_status, to_status, note, due_at, actor)
                       VALUES (%s, NULL, %s, %s, %s, %s)""",
                    (finding_id, TO_RECTIFY, f"检查轮次 {round_id}", due_at, user.name))
    finding = get_finding(conn, finding_id)
    audit(conn, user.name, "inspection.finding", f"inspection_finding:{finding_id}", None,
          {k: finding[k] for k in ("round_id", "item_code", "status", "grid_code", "street_code", "unit", "due_at")})
    return finding, True


def _check_move(user: User, finding: dict, to_status: str) -> None:
    """Forbidden unless ``user`` may make this move on this finding.

    已整改: an admin, or a street user of the finding's street (the street rectifies).
    复查: an admin, or an inspector whose scope holds the finding; never the user who marked it 已整改.
    """
    (where, zh), name = finding_place(finding), user.name
    if to_status == RECTIFIED:
        if not (user.role == "admin" or (user.role == "street" and user.street_code == finding["street_code"])):
            raise Forbidden(f"user {name!r} may not mark {where} rectified: its street or an admin does",
                            f"用户 {name!r} 不能把{zh}标为已整改：由所在街道或管理员标记")
        return
    if to_status in RECHECKS:
        if user.role not in ("admin", "inspector") or not user.may_write_complaint(finding["street_code"],
                                                                                   finding["grid_code"]):
            raise Forbidden(f"user {name!r} may not re-check {where}: an inspector of it or an admin does",
                            f"用户 {name!r} 不能复查{zh}：由负责检查的检查员或管理员复查")
        if name == finding["rectified_by"]:
            raise Forbidden(f"user {name!r} marked {where} rectified and may not re-check it: "
                            "another user re-checks", f"用户 {name!r} 把{zh}标为已整改，不能再复查：须由其他用户复查")


def move(conn, user: User, finding_id: int, to_status: str, note: str | None, at: datetime | None = None) -> dict:
    """Move a finding one step (Conflict for an illegal move, Forbidden for the wrong user), now or ``at`` (a
    paper record entered afterwards: not before the finding's last step, :func:`finding_times.step_time`).

    A failed re-check (复查未通过) is recorded and the finding goes straight
    back to 待整改, due its item's days again from the re-check.
    """
    if to_status not in FINDING_STATUSES:
        raise InvalidParameter("status", f"{to_status!r} is not a status; use one of {', '.join(FINDING_STATUSES)}",
                               f"{to_status!r} 不是整改状态；请用 {'、'.join(FINDING_STATUSES)} 之一")
    current = get_finding(conn, finding_id, lock=True)
    frm = current["status"]
    allowed = FINDING_TRANSITIONS[frm]
    if to_status not in allowed:
        nxt = ", ".join(allowed) if allowed else "none: the re-check passed"
        raise Conflict(f"finding {finding_id}: cannot go from {frm} to {to_status}; allowed next: {nxt}",
                       f"问题 {finding_id}：不能从{frm}转到{to_status}；下一步只能是："
                       f"{'、'.join(allowed) if allowed else '无（复查已通过）'}")
    _check_move(user, current, to_status)
    missing = missing_after_photo(conn, finding_id) if to_status == RECTIFIED else None
    if missing:
        raise Conflict(f"finding {finding_id}: marking it 已整改 needs {missing[0]} "
                       f"(POST /api/inspections/findings/{finding_id}/photos with stage=after)",
                       f"问题 {finding_id}：标为已整改前须有{missing[1]}"
                       f"（POST /api/inspections/findings/{finding_id}/photos，stage=after）")
    if to_status == RECHECK_FAILED and not (note or "").strip():
        raise InvalidParameter("note", "a failed re-check needs a note saying what is still wrong",
                               "复查未通过须在备注中写明仍存在的问题")
    at = step_time(conn, current, at)
    steps = [(frm, to_status, None)]
    if to_status == RECHECK_FAILED:
        steps.append((RECHECK_FAILED, TO_RECTIFY, "coalesce(%(at)s, now()) + make_interval(days => f.due_days)"))
    with conn.cursor() as cur:
        for step_from, step_to, due in steps:
            cur.execute(
                f"""UPDATE inspection_findings f SET status = %(to)s, updated_at = now(),
                           rectified_by = CASE WHEN %(to)s = %(rectified)s THEN %(actor)s ELSE f.rectified_by END,
                           due_at = {due or 'f.due_at'}
                    WHERE f.id = %(id)s RETURNING f.due_at""",
                {"to": step_to, "rectified": RECTIFIED, "actor": user.name, "id": finding_id, "at": at},
            )
            due_at = cur.fetchone()[0]
            cur.execute("""INSERT INTO inspection_events (finding_id, from_status, to_status, note, due_at, actor, at)
                           VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()))""",
                        (finding_id, step_from, step_to, note, due_at if due else None, user.name, at))
    after = get_finding(conn, finding_id)
    audit(conn, user.name, "inspection.move", f"inspection_finding:{finding_id}",
          {"status": frm, "due_at": current["due_at"]}, {"status": after["status"], "due_at": after["due_at"]},
          {"note": note, "to": to_status, "at": at.isoformat() if at else None})
    return after


def events(conn, finding_id: int) -> list[dict]:
    """A finding's history in the order the changes happened (``step`` 1, 2, …)."""
    return events_of(conn, [finding_id]).get(finding_id, [])


def events_of(conn, finding_ids: list[int]) -> dict[int, list[dict]]:
    """The histories of some findings (a page of a list, in one query), each in the order its changes happened;
    a finding without any is left out."""
    out: dict[int, list[dict]] = {}
    with conn.cursor() as cur:
        cur.execute("""SELECT finding_id, seq, from_status, to_status, note, due_at, actor, at FROM inspection_events
                       WHERE finding_id = ANY(%s) ORDER BY finding_id, seq""", (list(finding_ids),))
        for r in cur.fetchall():
            out.setdefault(r[0], []).append({"step": r[1], "from": r[2], "to": r[3], "note": r[4],
                                             "due_at": r[5].isoformat() if r[5] else None, "actor": r[6],
                                             "at": r[7].isoformat()})
    return out


def search(conn, *, round_id: int | None = None, street: str | None = None, status: str | None = None,
           overdue: bool | None = None, limit: int = 100, offset: int = 0) -> dict:
    """A page of findings, newest observed first; ``next_offset`` or None. ``overdue``: only those waiting for
    rectification past their deadline (True), or only the others (False)."""
    filters = {"round_id": (round_id, "f.round_id = %(round_id)s"), "street": (street, "f.street_code = %(street)s"),
               "status": (status, "f.status = %(status)s"),
               "overdue": (overdue, f"({_OVERDUE}) IS {'TRUE' if overdue else 'NOT TRUE'}")}
    clauses = [clause for value, clause in filters.values() if value is not None]
    params = {name: value for name, (value, _) in filters.items() if value is not None}
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    params.update(limit=limit + 1, offset=offset, to_rectify=TO_RECTIFY)
    with conn.cursor() as cur:
        cur.execute(_select(where) + " ORDER BY f.observed_at DESC, f.id DESC LIMIT %(limit)s OFFSET %(offset)s",
                    params)
        rows = [_row(r) for r in cur.fetchall()]
    return {"items": rows[:limit], "limit": limit, "offset": offset,
            "next_offset": offset + limit if len(rows) > limit else None}
