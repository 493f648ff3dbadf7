"""SQL about grids and their assignments (no HTTP here).

The current assignment lives on the ``grids`` row; every change is appended
to ``grid_assignments`` (who, when, before, after, why) and to the audit log,
in the caller's transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

import shapely

from data.catalog import check_street
from data.clock import REFERENCE_TIME_SQL
from data.errors import InvalidParameter
from data.said import Note
from data.vocab import CLOSED
from geo.zones import Zoning, balance_zones
from layers.workflow.access import audit
from layers.workflow.phones import normal_phone, phone_problem
from layers.workflow.refusals import no_grid

UNIT_MAX = 200
MANAGER_MAX = 100

#: Who held each grid when: rows (grid_code, unit, since, until), [since, until) intervals from the assignment
#: history, an assignment holding from its changed_at until the next one's (time order; the step breaks ties) —
#: a grid's first unit from its ``effective_from`` when its roster gave one (migration 0895: ``--since``).
#: Before a grid's earliest recorded change its holder is that change's "before"; when there is none, the first
#: holder for a grid loaded with it (as the demo and a first roster are), and nobody (NULL) for a grid cut by a
#: regrid (``inherited_from``, migration 0840): it did not exist then, and the unit of the old grid it took its
#: assignment from held only part of its place. A grid without history is held by its current unit throughout,
#: a retired one without history by its last unit. The bulletin credits complaints by it
#: (layers.reports.bulletin), the period scores list units by it (layers.workflow.inspection_scores).
HOLDERS_SQL = """
    SELECT grid_code, responsible_unit AS unit, coalesce(effective_from, changed_at) AS since,
           coalesce(lead(coalesce(effective_from, changed_at)) OVER (PARTITION BY grid_code ORDER BY changed_at, seq),
                    'infinity') AS until
    FROM grid_assignments
    UNION ALL
    SELECT * FROM (SELECT DISTINCT ON (grid_code) grid_code,
                          CASE WHEN before IS NOT NULL THEN before->>'unit'
                               WHEN inherited_from IS NULL THEN responsible_unit END,
                          '-infinity'::timestamptz, coalesce(effective_from, changed_at)
                   FROM grid_assignments ORDER BY grid_code, changed_at, seq) first_holder
    UNION ALL
    SELECT code, responsible_unit, '-infinity', 'infinity' FROM grids g
    WHERE NOT EXISTS (SELECT 1 FROM grid_assignments a WHERE a.grid_code = g.code)
    UNION ALL
    SELECT * FROM (SELECT DISTINCT ON (code) code, last_row->>'responsible_unit', '-infinity'::timestamptz,
                          'infinity'::timestamptz
                   FROM grid_archive r
                   WHERE NOT EXISTS (SELECT 1 FROM grid_assignments a WHERE a.grid_code = r.code)
                     AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = r.code)
                   ORDER BY code, retired_at DESC) retired"""

#: The grid a place lay in at a time, when a regrid has replaced the street's grids since: of the shapes grids had
#: until a regrid (``grid_shapes``, migration 0850), the first replaced after the time that holds the place (one
#: grid held a place at a time; a shape replaced later was cut later). NULL when no regrid came since (the
#: place's current grid held it). Formatted with SQL for {geom} and {at}.
GRID_THEN_SQL = """(SELECT s.code FROM grid_shapes s WHERE ST_Intersects(s.geom, {geom}) AND s.until > {at}
                    ORDER BY s.until, s.code LIMIT 1)"""


def grid_then(conn, lon: float, lat: float, at) -> str | None:
    """The grid a WGS84 point lay in at ``at`` when a regrid has replaced it since (:data:`GRID_THEN_SQL`), else
    None (the point's current grid held it)."""
    with conn.cursor() as cur:
        cur.execute("SELECT " + GRID_THEN_SQL.format(geom="ST_SetSRID(ST_MakePoint(%s, %s), 4326)", at="%s"),
                    (lon, lat, at))
        return cur.fetchone()[0]


def shape_when_printed(conn, street: str, code: str, printed) -> dict | None:
    """The grid ``code`` of ``street`` as a sheet printed at ``printed`` showed it, when a regrid has redrawn the
    street since: ``{"until": the first such regrid, "geometry": its outline then (GeoJSON)}``; else None (the
    grid of that code today is the one printed)."""
    with conn.cursor() as cur:
        cur.execute("""SELECT until, ST_AsGeoJSON(geom, 6)::json FROM grid_shapes
                       WHERE street_code = %s AND code = %s AND until > %s ORDER BY until LIMIT 1""",
                    (street, code, printed))
        row = cur.fetchone()
    return row and {"until": row[0].isoformat(), "geometry": row[1]}


def charge_late_reports(cur) -> int:
    """Give complaints reported before a regrid, and loaded after it, the grid they were reported in.

    A regrid notes that grid (``origin_grid_code``) on the complaints it
    moves; a complaint loaded later is routed to today's grid, which may not
    have existed when it was reported. The bulletin charges it to whoever held
    the grid it was reported in (:data:`HOLDERS_SQL`), so that grid is noted
    here too (when it is not the current one: the column says the case moved).
    The complaints looked at are those written in this transaction (their
    ``updated_at`` is its start). Returns how many were given a grid.
    """
    cur.execute("SELECT max(until) FROM grid_shapes")
    last = cur.fetchone()[0]
    if last is None:  # no regrid yet: nothing to look at
        return 0
    cur.execute(f"""UPDATE complaints c SET origin_grid_code = t.code
                    FROM (SELECT id, {GRID_THEN_SQL.format(geom="x.geom", at="x.reported_at")} AS code
                          FROM complaints x
                          WHERE x.updated_at = now() AND x.origin_grid_code IS NULL AND x.reported_at < %s) t
                    WHERE c.id = t.id AND t.code IS NOT NULL AND t.code IS DISTINCT FROM c.grid_code""", (last,))
    return cur.rowcount


# Facilities a grid answers for (roster column, workload): toilets, garbage points, markets inside it.
# A CTE over the grids CTE ``g``; gives (code, n).
_FACILITIES = """SELECT g.code, count(*) AS n FROM g
                 JOIN (SELECT geom FROM toilets UNION ALL SELECT geom FROM garbage_stations
                       UNION ALL SELECT geom FROM markets) x ON ST_Intersects(g.geom, x.geom)
                 GROUP BY g.code"""
# Open complaints, in queries that pass the closed status as %(closed)s.
_OPEN = "status <> %(closed)s"


def grids_geojson(conn, street_code: str | None = None) -> str:
    """A GeoJSON FeatureCollection of grids (one street, or all) with assignment and complaint counts.

    PostGIS encodes the geometry; open and overdue counts come from one
    aggregate over the street's open complaints. A street the city does not
    have is NotFound, not an empty collection that reads as "no grids".
    """
    if street_code is not None:
        check_street(conn, street_code)
    with conn.cursor() as cur:
        cur.execute(
            f"""WITH g AS (SELECT * FROM grids WHERE %(street)s::text IS NULL OR street_code = %(street)s),
                    c AS (SELECT grid_code, count(*) AS open,
                                 count(*) FILTER (WHERE due_at < {REFERENCE_TIME_SQL}) AS overdue
                          FROM complaints
                          WHERE {_OPEN} AND (%(street)s::text IS NULL OR street_code = %(street)s)
                          GROUP BY grid_code)
               SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
                   json_build_object('type', 'Feature', 'id', g.code,
                       'geometry', ST_AsGeoJSON(g.geom, 7)::json,
                       'properties', json_build_object(
                           'code', g.code, 'name', g.name, 'district_code', g.district_code,
                           'street_code', g.street_code, 'community_code', g.community_code,
                           'responsible_unit', g.responsible_unit, 'grid_manager', g.grid_manager,
                           'phone', g.phone, 'open_complaints', coalesce(c.open, 0),
                           'overdue_complaints', coalesce(c.overdue, 0)))
                   ORDER BY g.code), '[]'::json))::text
               FROM g LEFT JOIN c ON c.grid_code = g.code""",
            {"street": street_code, "closed": CLOSED},
        )
        return cur.fetchone()[0]


def get_grid(conn, code: str, *, lock: bool = False) -> dict:
    """The grid row (without geometry), or NotFound."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT code, name, district_code, street_code, community_code, responsible_unit, grid_manager, phone "
            "FROM grids WHERE code = %s" + (" FOR UPDATE" if lock else ""),
            (code,),
        )
        row = cur.fetchone()
    if row is None:
        raise no_grid(code)
    keys = ["code", "name", "district_code", "street_code", "community_code", "unit", "manager", "phone"]
    return dict(zip(keys, row))


def validate_assignment(unit, manager, phone, reason=None, *, where: Note | str = "") -> list[Note]:
    """Problems with an assignment's values, each naming its field (empty when fine); each is its English
    text, with ``.zh`` the same in Chinese."""
    problems = []
    prefix, prefix_zh = (f"{where}: ", f"{getattr(where, 'zh', where)}：") if where else ("", "")
    for field, zh, value, limit in (("unit", "责任单位", unit, UNIT_MAX), ("manager", "网格长", manager, MANAGER_MAX)):
        if not isinstance(value, str) or not value.strip():
            problems.append(Note(f"{prefix_zh}{zh}：不能为空", f"{prefix}{field}: must not be empty"))
        elif len(value) > limit:
            problems.append(Note(f"{prefix_zh}{zh}：超过 {limit} 个字符", f"{prefix}{field}: longer than {limit} characters"))
    if (bad := phone_problem(phone)) is not None:
        problems.append(Note(f"{prefix_zh}联系电话：{bad[1]}", f"{prefix}phone: {bad[0]}"))
    return problems


def assign(conn, code: str, unit: str, manager: str, phone: str, reason: str, actor: str, *,
           since: datetime | None = None) -> dict:
    """Set a grid's assignment, appending the change to its history and the audit log.

    Returns ``{"code", "changed", "before", "after", "history_id", "findings_charged", "since"}``; an
    assignment equal to the current one changes nothing and records nothing. A grid's first unit also
    takes the findings of rounds under way observed in it before
    (:func:`~layers.workflow.finding_units.charge_first_unit`). ``since``: when a grid's first unit holds from,
    earlier than now (:func:`~layers.workflow.rosters.since_problem` says when it may not: InvalidParameter).
    """
    from layers.workflow.finding_units import charge_first_unit  # it reads this module's history SQL
    from layers.workflow.rosters import since_problem  # it loads rosters through this function

    grid = get_grid(conn, code, lock=True)
    if since is not None and (problem := since_problem(conn, code, since)) is not None:
        raise InvalidParameter("since", problem, problem.zh)
    before = {"unit": grid["unit"], "manager": grid["manager"], "phone": grid["phone"]}
    after = {"unit": unit.strip(), "manager": manager.strip(), "phone": normal_phone(phone)}
    if before == after:
        return {"code": code, "changed": False, "before": before, "after": after, "history_id": None,
                "findings_charged": 0, "since": None}
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE grids SET responsible_unit = %s, grid_manager = %s, phone = %s, updated_at = now() WHERE code = %s",
            (after["unit"], after["manager"], after["phone"], code),
        )
        history_id = _append_history(cur, code, before, after, reason, actor, since)
    charged = charge_first_unit(conn, code, after["unit"], since) if before["unit"] is None else 0
    since_text = since and since.isoformat()
    audit(conn, actor, "grid.assign", f"grid:{code}", before, after,
          {"reason": reason, "findings_charged": charged, **({"since": since_text} if since else {})})
    return {"code": code, "changed": True, "before": before, "after": after, "history_id": history_id,
            "findings_charged": charged, "since": since_text}


def _append_history(cur, code: str, before: dict | None, after: dict, reason: str, actor: str,
                    since: datetime | None = None) -> int:
    # changed_at stays when the row was written; a first unit's earlier start is kept beside it (migration 0895).
    cur.execute(
        """INSERT INTO grid_assignments (grid_code, responsible_unit, grid_manager, phone, before, reason, changed_by,
                                         effective_from)
           VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s) RETURNING id""",
        (code, after["unit"], after["manager"], after["phone"],
         None if before is None else json.dumps(before, ensure_ascii=False), reason, actor, since),
    )
    return cur.fetchone()[0]


def history(conn, code: str) -> dict:
    """Every assignment of a grid in the order the changes happened (``step``): when, who, before, after, why,
    and ``effective_from``, when a first unit holds from an earlier time than its ``changed_at`` (else None).

    Steps are numbered at write time under the grid's row lock (migration
    0620). Works for retired grids too (their history is never deleted).
    """
    with conn.cursor() as cur:
        cur.execute(
            """SELECT 'current', NULL::timestamptz FROM grids WHERE code = %(c)s
               UNION ALL
               SELECT 'retired', max(retired_at) FROM grid_archive WHERE code = %(c)s HAVING count(*) > 0""",
            {"c": code},
        )
        states = cur.fetchall()
        if not states:
            raise no_grid(code)
        cur.execute(
            """SELECT id, seq, changed_at, changed_by, before, responsible_unit, grid_manager, phone, reason,
                      effective_from
               FROM grid_assignments WHERE grid_code = %s ORDER BY seq""",
            (code,),
        )
        rows = cur.fetchall()
    entries = [
        {"id": r[0], "step": r[1], "changed_at": r[2].isoformat(), "changed_by": r[3], "before": r[4],
         "after": {"unit": r[5], "manager": r[6], "phone": r[7]}, "reason": r[8],
         "effective_from": r[9] and r[9].isoformat()}
        for r in rows
    ]
    current = any(s[0] == "current" for s in states)
    retired = [s[1].isoformat() for s in states if s[0] == "retired"]
    return {"code": code, "current": current, "retired_at": retired[0] if retired and not current else None,
            "history": entries}


def roster(conn, street_code: str) -> list[dict]:
    """One row per grid of a street: code, community, assignment, facilities, open and overdue complaints."""
    check_street(conn, street_code)
    with conn.cursor() as cur:
        cur.execute(
            f"""WITH g AS (SELECT code, community_code, responsible_unit, grid_manager, phone, geom
                           FROM grids WHERE street_code = %(s)s),
                    f AS ({_FACILITIES}),
                    c AS (SELECT grid_code, count(*) AS open,
                                 count(*) FILTER (WHERE due_at < {REFERENCE_TIME_SQL}) AS overdue
                          FROM complaints WHERE street_code = %(s)s AND {_OPEN} GROUP BY grid_code)
               SELECT g.code, g.community_code, a.name, g.responsible_unit, g.grid_manager, g.phone,
                      coalesce(f.n, 0), coalesce(c.open, 0), coalesce(c.overdue, 0)
               FROM g LEFT JOIN f ON f.code = g.code LEFT JOIN c ON c.grid_code = g.code
               LEFT JOIN admin_areas a ON a.code = g.community_code
               ORDER BY g.code""",
            {"s": street_code, "closed": CLOSED},
        )
        keys = ["code", "community_code", "community", "unit", "manager", "phone", "facilities", "open", "overdue"]
        return [dict(zip(keys, r)) for r in cur.fetchall()]


def workloads(conn, street_code: str, days: int) -> list[dict]:
    """Per grid of a street: metric geometry (shapely), complaints of the last ``days`` days, facilities.

    "The last days" end at the reference time (:mod:`data.clock`): a frozen extract counts its own last
    year, not the year before today, which would hold none of its complaints.
    """
    check_street(conn, street_code, "--street")
    with conn.cursor() as cur:
        cur.execute(
            f"""WITH g AS (SELECT code, geom FROM grids WHERE street_code = %(s)s),
                    f AS ({_FACILITIES}),
                    c AS (SELECT grid_code, count(*) AS n FROM complaints
                          WHERE street_code = %(s)s
                            AND reported_at >= {REFERENCE_TIME_SQL} - make_interval(days => %(d)s)
                          GROUP BY grid_code)
               SELECT g.code, ST_AsBinary(ST_Transform(g.geom, (SELECT metric_srid FROM city_settings))),
                      coalesce(c.n, 0), coalesce(f.n, 0)
               FROM g LEFT JOIN c ON c.grid_code = g.code LEFT JOIN f ON f.code = g.code ORDER BY g.code""",
            {"s": street_code, "d": days},
        )
        return [{"code": r[0], "geom": shapely.from_wkb(bytes(r[1])), "complaints": r[2], "facilities": r[3]}
                for r in cur.fetchall()]


def balance(conn, street_code: str, n_zones: int, days: int) -> tuple[list[dict], Zoning]:
    """Split a street's grids into ``n_zones`` contiguous zones of about equal workload.

    Workload is a grid's complaints of the last ``days`` days plus its
    facilities (:func:`workloads`); the zoning is :func:`geo.zones.balance_zones`.
    Returns the grids (as :func:`workloads` gives them) and their zoning.
    """
    if days < 1:
        raise InvalidParameter("--days", "must be at least 1", "至少为 1")
    items = workloads(conn, street_code, days)
    if not 1 <= n_zones <= len(items):
        raise InvalidParameter("--zones", f"must be between 1 and the street's {len(items)} grids, not {n_zones}",
                               f"须在 1 到该街道的网格数 {len(items)} 之间，而不是 {n_zones}")
    zoning = balance_zones([i["geom"] for i in items], [i["complaints"] + i["facilities"] for i in items], n_zones)
    return items, zoning


def unit_table(conn, street_code: str) -> list[dict]:
    """Per responsible unit of a street: grids, open and overdue complaints, share closed within the limit.

    ``closed_in_time`` is closed-by-due-time ÷ closed (None when none closed).
    """
    check_street(conn, street_code)
    with conn.cursor() as cur:
        cur.execute(
            f"""WITH g AS (SELECT code, coalesce(responsible_unit, '') AS unit FROM grids WHERE street_code = %(s)s),
                    c AS (SELECT grid_code,
                                 count(*) FILTER (WHERE status <> %(closed)s) AS open,
                                 count(*) FILTER (WHERE status <> %(closed)s AND due_at < {REFERENCE_TIME_SQL}) AS overdue,
                                 count(*) FILTER (WHERE status = %(closed)s) AS closed,
                                 count(*) FILTER (WHERE status = %(closed)s AND closed_at <= due_at) AS in_time
                          FROM complaints WHERE street_code = %(s)s GROUP BY grid_code)
               SELECT g.unit, count(*), coalesce(sum(c.open), 0), coalesce(sum(c.overdue), 0),
                      coalesce(sum(c.closed), 0), coalesce(sum(c.in_time), 0)
               FROM g LEFT JOIN c ON c.grid_code = g.code GROUP BY g.unit ORDER BY g.unit""",
            {"s": street_code, "closed": CLOSED},
        )
        rows = cur.fetchall()
    return [{"unit": r[0] or None, "grids": r[1], "open": int(r[2]), "overdue": int(r[3]), "closed": int(r[4]),
             "closed_in_time": (float(r[5]) / float(r[4])) if r[4] else None} for r in rows]
