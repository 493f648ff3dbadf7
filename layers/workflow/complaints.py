"""SQL about complaint cases: routing at insert, the workflow, listing (no HTTP here).

A complaint is routed when it is inserted (FixMyStreet style), as an import
routes its rows: the grid that contains the point gives its grid, community,
street and district codes and the responsible unit; without a grid, the
finest admin area holding it. Status changes follow the CJ/T 315 workflow
受理 → 立案 → 派遣 → 处置 → 核查 → 结案 and are appended to ``complaint_events``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

import numpy as np
from psycopg2 import sql

from data.catalog import check_street
from data.clock import REFERENCE_TIME_SQL
from data.errors import Conflict, Forbidden, InvalidParameter, NotFound
from data.settings import ComplaintSettings
from data.vocab import CLOSED, NOTE_REQUIRED, RECEIVED, STATUSES, TRANSITIONS
from geo import coords
from layers.io.options import TOLERANCE_M
from layers.io.routing import AreaIndex
from layers.workflow import callers as callers_sql
from layers.workflow import deadlines
from layers.workflow.access import RowScope, User, audit
from layers.workflow.deadlines import PENDING_SQL
from layers.workflow.grids import grid_then
from layers.workflow.public_search import AWAITING_REPLY, normal_tracking, own_rows, tracking_clause
from layers.workflow.refusals import not_event_type, not_one_of

METRES_PER_DEGREE = 111_320.0
#: Coordinate systems a complaint's point may be given in: WGS84, GCJ-02 (Gaode, Tencent), BD-09 (Baidu).
POINT_CRS = ("wgs84", "gcj02", "bd09")


def categories(conn) -> dict[str, int]:
    """Event type name → time limit in hours (city configuration)."""
    with conn.cursor() as cur:
        cur.execute("SELECT name, time_limit_hours FROM event_types ORDER BY name")
        return dict(cur.fetchall())


def _place_of(routed: dict) -> tuple[str, str]:
    """Where a routed point lies, in English and Chinese: its grid in its street, or the finest area it has (no
    placeholder for a grid a street has not drawn there)."""
    grid, street, district = routed["grid_code"], routed["street_code"], routed["district_code"]
    if grid and street:
        return f"grid {grid} of street {street}", f"街道 {street} 的网格 {grid}"
    if street:
        return f"street {street}", f"街道 {street}"
    return f"district {district}", f"区 {district}"


def route(conn, lon: float, lat: float) -> dict:
    """The grid, community, street and district codes (and the grid's unit) of a WGS84 point.

    By the rule an import routes its rows by (:meth:`layers.io.routing.AreaIndex.route`): the finest unit holding
    the point — a grid, else a community, street or district, so a city of districts only takes it too — and the
    areas above it by their parents; a community without them, coded by GB/T 2260, gives them by its digits
    (6 + 3 + 3). A point in no area but within the import's default tolerance (500 m) of one is placed as the
    import places it (:meth:`~layers.io.routing.AreaIndex.nearest`: level by level, the nearest area within it);
    farther out it is outside the city (InvalidParameter naming lon/lat); a city without any
    admin area takes no point at all (Conflict naming ``city`` and the import that adds them).
    """
    found = AreaIndex.holding(conn, lon, lat).route(np.array([lon]), np.array([lat]), grids=True)
    if all(codes[0] is None for codes in found.values()):
        # Outside every area but within the import's default tolerance (a pier beyond a coarsely drawn coast):
        # placed as the import places such a row, level by level in the nearest area within reach.
        near = AreaIndex.within(conn, lon, lat, TOLERANCE_M)
        if not near.empty:
            found = {**near.nearest(np.array([lon]), np.array([lat]), TOLERANCE_M)[0], "grid_code": [None]}
    routed = {key: None if codes[0] is None else str(codes[0]) for key, codes in found.items()}
    if all(code is None for code in routed.values()):
        with conn.cursor() as cur:
            cur.execute("SELECT EXISTS (SELECT 1 FROM admin_areas)")
            if not cur.fetchone()[0]:
                raise Conflict("city: no admin areas are loaded yet, so no place can be routed; the city's "
                               "administrator imports them (hygiene-map import admin_areas FILE --level district)",
                               "city：尚未导入行政区划，无法把地点分派到网格；请城市管理员导入"
                               "（hygiene-map import admin_areas FILE --level district）")
        raise InvalidParameter("lon/lat", f"the point ({lon}, {lat}) lies outside every area of this city, more "
                               f"than {TOLERANCE_M:g} m from the nearest",
                               f"地点（{lon}, {lat}）不在本市任何区域内，距最近的区域超过 {TOLERANCE_M:g} 米")
    code = routed["community_code"]
    if code is not None and len(code) == 12 and code.isascii() and code.isdigit():
        routed["street_code"] = routed["street_code"] or code[:9]
        routed["district_code"] = routed["district_code"] or code[:6]
    routed["responsible_unit"] = responsible_unit(conn, routed["grid_code"])
    return routed


def create(conn, *, lon: float, lat: float, category: str, description: str | None, channel: str,
           reported_at: datetime, actor: str, routed: dict | None = None) -> dict:
    """Insert a complaint routed to its grid, with its first status event; return it with possible duplicates."""
    limits = categories(conn)
    if category not in limits:
        raise not_event_type(category, limits)
    routed = routed or route(conn, lon, lat)
    # Reported before a regrid, filed after it: the grid it was reported in is noted (the bulletin charges it).
    then = grid_then(conn, lon, lat, reported_at)
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO complaints (source, channel, category, description, reported_at, status, due_at,
                                       district_code, street_code, community_code, grid_code, origin_grid_code, geom)
               VALUES ('api', %(channel)s, %(category)s, %(description)s, %(reported_at)s, %(status)s,
                       %(reported_at)s + make_interval(hours => %(hours)s),
                       %(district_code)s, %(street_code)s, %(community_code)s, %(grid_code)s, %(origin)s,
                       ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
               RETURNING id""",
            {**routed, "channel": channel, "category": category, "description": description, "status": RECEIVED,
             "reported_at": reported_at, "hours": limits[category], "lon": lon, "lat": lat,
             "origin": then if then != routed["grid_code"] else None},
        )
        complaint_id = cur.fetchone()[0]
        cur.execute("UPDATE complaints SET source_id = %s WHERE id = %s", (f"api-{complaint_id}", complaint_id))
        cur.execute(
            "INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor) VALUES (%s, NULL, %s, %s, %s)",
            (complaint_id, RECEIVED, f"渠道 {channel}", actor),
        )
    complaint = get(conn, complaint_id)
    complaint["responsible_unit"] = routed["responsible_unit"]
    complaint["possible_duplicates"] = possible_duplicates(conn, complaint_id)
    audit(conn, actor, "complaint.create", f"complaint:{complaint_id}", None,
          {k: complaint[k] for k in ("category", "status", "grid_code", "street_code", "reported_at", "due_at")})
    return complaint


def file_complaint(conn, user: User, *, lon: float, lat: float, crs: str = "wgs84", category: str,
                   description: str | None, channel: str, reported_at: datetime) -> dict:
    """File a complaint at a point given in any of :data:`POINT_CRS`, on behalf of ``user``.

    The point is converted to WGS84 (:func:`geo.coords.to_wgs84`), routed to
    its grid, checked against the user's scope (Forbidden outside it) and
    inserted with :func:`create`, in the caller's transaction.
    """
    if crs not in POINT_CRS:
        raise not_one_of("crs", POINT_CRS, crs)
    x, y = coords.to_wgs84(lon, lat, crs)
    lon, lat = float(x), float(y)
    routed = route(conn, lon, lat)
    if not user.may_write_complaint(routed["street_code"], routed["grid_code"]):
        where, where_zh = _place_of(routed)
        raise Forbidden(f"user {user.name!r} may file complaints in {user.scope_text()}, not in {where}",
                        f"用户 {user.name!r} 可登记投诉的范围为{user.scope_text('zh')}，不包括{where_zh}")
    return create(conn, lon=lon, lat=lat, category=category, description=description, channel=channel,
                  reported_at=reported_at, actor=user.name, routed=routed)


def possible_duplicates(conn, complaint_id: int, settings: ComplaintSettings | None = None) -> list[dict]:
    """Complaints of the same event type within the radius (metres) and ± days of this one.

    The GiST index on ``geom`` narrows by a degree box around the point (wide
    enough at the point's latitude); the exact test is a geography distance.
    """
    s = settings or ComplaintSettings.from_env()
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM complaints WHERE id = %s", (complaint_id,))
        lon, lat = cur.fetchone()
        dlat = s.duplicate_radius_m / METRES_PER_DEGREE * 1.01
        dlon = dlat / max(math.cos(math.radians(min(abs(lat), 89.0))), 1e-6)
        cur.execute(
            """SELECT o.id, o.status, o.reported_at, o.grid_code,
                      round(ST_Distance(o.geom::geography, c.geom::geography)::numeric, 1)::float AS distance_m
               FROM complaints c JOIN complaints o
                 ON o.geom && ST_Expand(c.geom, %(dlon)s, %(dlat)s)
                AND o.id <> c.id AND o.category = c.category
                AND o.reported_at BETWEEN c.reported_at - make_interval(days => %(days)s)
                                      AND c.reported_at + make_interval(days => %(days)s)
                AND ST_DWithin(o.geom::geography, c.geom::geography, %(radius)s)
               WHERE c.id = %(id)s
               ORDER BY distance_m, o.id LIMIT 20""",
            {"id": complaint_id, "dlon": dlon, "dlat": dlat, "days": s.duplicate_days,
             "radius": s.duplicate_radius_m},
        )
        return [{"id": r[0], "status": r[1], "reported_at": r[2].isoformat(), "grid_code": r[3], "distance_m": r[4]}
                for r in cur.fetchall()]


_COLUMNS = ("id", "source_id", "category", "description", "address", "channel", "status", "reported_at", "due_at",
            "closed_at", "district_code", "street_code", "community_code", "grid_code")


# Still open past its due time (at the one reference time, data.clock); the queries pass the closed
# status as %(closed)s.
_OVERDUE = f"c.status <> %(closed)s AND c.due_at < {REFERENCE_TIME_SQL}"


def _select(where: str = "") -> str:
    """The complaint columns, lon/lat, overdue and closed late, with named parameters (incl. ``closed``)."""
    return (
        f"SELECT {', '.join('c.' + c for c in _COLUMNS)}, ST_X(c.geom), ST_Y(c.geom), "
        f"({_OVERDUE}) AS overdue, coalesce(c.closed_at > c.due_at, false) AS closed_late "
        f"FROM complaints c {where}"
    )


def _row(r) -> dict:
    out = dict(zip(_COLUMNS, r[: len(_COLUMNS)]))
    for k in ("reported_at", "due_at", "closed_at"):
        out[k] = out[k].isoformat() if out[k] is not None else None
    n = len(_COLUMNS)
    out["lon"], out["lat"], out["overdue"], out["closed_late"] = r[n], r[n + 1], bool(r[n + 2]), bool(r[n + 3])
    return out


def get(conn, complaint_id: int, *, lock: bool = False) -> dict:
    """One complaint, or NotFound. ``overdue``: still open past its due time; ``closed_late``: closed after it."""
    with conn.cursor() as cur:
        cur.execute(_select("WHERE c.id = %(id)s") + (" FOR UPDATE" if lock else ""),
                    {"id": complaint_id, "closed": CLOSED})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"no complaint with id {complaint_id}", f"没有编号为 {complaint_id} 的投诉")
    return _row(row)


def responsible_unit(conn, grid_code: str | None) -> str | None:
    """The unit responsible for ``grid_code`` now (public, as on the grid layer), or None."""
    if grid_code is None:
        return None
    with conn.cursor() as cur:
        cur.execute("SELECT responsible_unit FROM grids WHERE code = %s", (grid_code,))
        row = cur.fetchone()
    return row[0] if row else None


def area_names(conn, complaint: dict) -> dict:
    """The names of the district, street and community a complaint is routed to: ``{"district": {"zh": …,
    "en": …}, "street": …, "community": …}`` (the English the Chinese where none is given), None where it has none."""
    codes = {level: complaint.get(f"{level}_code") for level in ("district", "street", "community")}
    with conn.cursor() as cur:
        cur.execute("SELECT code, name, name_en FROM admin_areas WHERE code = ANY(%s)",
                    ([c for c in codes.values() if c],))
        names = {code: {"zh": name, "en": name_en or name} for code, name, name_en in cur.fetchall()}
    return {level: names.get(code) for level, code in codes.items()}


def transition(conn, complaint_id: int, to_status: str, note: str | None, actor: str) -> dict:
    """Move a complaint to the next workflow state; Conflict (409) for an illegal move."""
    if to_status not in STATUSES:
        raise InvalidParameter("status", f"{to_status!r} is not a status; use one of {', '.join(STATUSES)}",
                               f"{to_status!r} 不是办理状态；请用 {'、'.join(STATUSES)} 之一")
    current = get(conn, complaint_id, lock=True)
    frm = current["status"]
    allowed = TRANSITIONS[frm]
    if to_status not in allowed:
        nxt = ", ".join(allowed) if allowed else "none: the case is closed"
        raise Conflict(f"complaint {complaint_id}: cannot go from {frm} to {to_status}; allowed next: {nxt}",
                       f"投诉 {complaint_id}：不能从{frm}转到{to_status}；下一步只能是："
                       f"{'、'.join(allowed) if allowed else '无（案件已结案）'}")
    if (frm, to_status) in NOTE_REQUIRED and not (note or "").strip():
        raise InvalidParameter("note", f"going from {frm} to {to_status} needs a note saying why",
                               f"从{frm}转到{to_status}须在备注中写明原因")
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE complaints SET status = %s, updated_at = now(),
                      closed_at = CASE WHEN %s = %s THEN now() ELSE NULL END
               WHERE id = %s""",
            (to_status, to_status, CLOSED, complaint_id),
        )
        cur.execute(
            "INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor) VALUES (%s, %s, %s, %s, %s)",
            (complaint_id, frm, to_status, note, actor),
        )
    if to_status == CLOSED:
        deadlines.lapse(conn, current, actor)
    after = get(conn, complaint_id)
    audit(conn, actor, "complaint.transition", f"complaint:{complaint_id}",
          {"status": frm, "closed_at": current["closed_at"]},
          {"status": to_status, "closed_at": after["closed_at"]}, {"note": note})
    return after


def events(conn, complaint_id: int) -> list[dict]:
    """The status history of a complaint in the order the changes happened (``step`` 1, 2, …).

    Steps are numbered at write time under the complaint's row lock
    (migration 0620), so each step's ``from`` is the previous step's ``to``;
    ``at`` is when its transaction began, which overlapping changes do not keep in order.
    """
    with conn.cursor() as cur:
        cur.execute(
            "SELECT seq, from_status, to_status, note, actor, at FROM complaint_events WHERE complaint_id = %s "
            "ORDER BY seq",
            (complaint_id,),
        )
        return [{"step": r[0], "from": r[1], "to": r[2], "note": r[3], "actor": r[4], "at": r[5].isoformat()}
                for r in cur.fetchall()]


# The sources complaints came from (a few: 'api', each imported file's), read off the (source, source_id) index one
# at a time, so that a hotline number is found through that index without a second index on complaints (issue 18).
_SOURCES = ("WITH RECURSIVE sources(source) AS (SELECT min(source) FROM complaints UNION ALL "
            "SELECT (SELECT min(x.source) FROM complaints x WHERE x.source > s.source) FROM sources s "
            "WHERE s.source IS NOT NULL) ")
#: The ids a searched text names exactly: the complaint's number, or its hotline number (``source_id``).
_EXACT = ("SELECT %(number)s", "SELECT x.id FROM sources s JOIN complaints x "
          "ON x.source = s.source AND x.source_id = %(text)s")
_NUMBER = re.compile(r"[0-9]{1,18}")


def like_pattern(text: str) -> str:
    """A LIKE pattern finding ``text`` anywhere, its wildcards (``%``, ``_``) and ``\\`` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text_clause(conn, described: bool | RowScope) -> str:
    """Where the words are looked for: the address; the description too, on the rows whose description the
    user may read (``described``: every row, none, or the user's street or grids, from ``column_grant``)."""
    address = "c.address ILIKE %(like)s"
    if described is True:
        return f"({address} OR c.description ILIKE %(like)s)"
    if isinstance(described, RowScope):
        own = sql.SQL("c.{} = ANY(%(described)s)").format(sql.Identifier(described.column)).as_string(conn)
        return f"({address} OR ({own} AND c.description ILIKE %(like)s))"
    return address


def _found_exactly(conn, clauses: list[str], params: dict, callers: bool | RowScope, described: bool | RowScope,
                   offset: int) -> list[dict]:
    """A page (from ``offset``) of the complaints whose id or hotline number (``source_id``) is the text searched
    for, or whose caller's number or name holds it where the user may read them (:mod:`layers.workflow.callers`),
    or that a resident's tracking number (查询码) belongs to where the user handles the case (``described``),
    passing the filters."""
    caller = callers_sql.clause(conn, callers, params["callers"], clauses)
    tracking = tracking_clause(conn, described) if params["tracking"] else None
    found = [*_EXACT, *([caller] if caller else []), *([tracking] if tracking else [])]
    exact = "c.id IN (" + " UNION ALL ".join(found) + ")"
    where = "WHERE " + " AND ".join([exact, *clauses])
    with conn.cursor() as cur:
        cur.execute(_SOURCES + _select(where) + " ORDER BY c.reported_at DESC, c.id DESC LIMIT %(limit)s OFFSET %(off)s",
                    {**params, "off": offset})
        return [_row(r) for r in cur.fetchall()]


def search(conn, *, street: str | None = None, grid: str | None = None, status: str | None = None,
           overdue: bool | None = None, is_open: bool | None = None, since: datetime | None = None, until: datetime | None = None,
           pending_extension: bool | None = None, awaiting_reply: bool | None = None, text: str | None = None,
           described: bool | RowScope = False, callers: bool | RowScope = False, awaiting_scope: RowScope | None = None,
           limit: int = 100, offset: int = 0) -> dict:
    """A page of complaints, newest first. No total count (a city has a million rows): ``next_offset`` or None.

    ``pending_extension``: True, only those with an extension request awaiting a decision
    (:mod:`layers.workflow.deadlines`); False, only those without. ``awaiting_reply``: True, only those a
    resident reported through the public channel (or rated 不满意) and the unit has not answered since
    (:data:`~layers.workflow.public_search.AWAITING_REPLY`), within ``awaiting_scope`` when given (a street user's
    own cases); False, only the rest. ``text``: the complaints whose id or hotline
    number (``source_id``) it is, or that a resident's tracking number (查询码, as typed) belongs to where
    ``described`` lets the user handle the case, or whose caller's number or name as the import kept it holds it (4 digits or more
    of a number, a surname: :mod:`layers.workflow.callers`), on the rows whose
    ``attributes`` ``callers`` lets the user read, found through indexes and paged; when there are none, those whose address holds it, or
    whose description does where ``described`` lets the caller read descriptions (see :func:`_text_clause`), its
    wildcards literal — a scan, narrowed by the street index within a street, newest first until the page is
    full city-wide. A street the city does not have is
    NotFound, not an empty page that reads as "no complaints".
    """
    if street is not None:
        check_street(conn, street)
    filters = {"street": (street, "c.street_code = %(street)s"), "grid": (grid, "c.grid_code = %(grid)s"),
               "status": (status, "c.status = %(status)s"), "since": (since, "c.reported_at >= %(since)s"),
               "until": (until, "c.reported_at < %(until)s")}
    clauses = [clause for value, clause in filters.values() if value]
    params = {name: value for name, (value, _) in filters.items() if value}
    if overdue is not None:
        clauses.append(_OVERDUE if overdue else f"NOT ({_OVERDUE})")
    if is_open is not None:
        clauses.append("c.status <> %(closed)s" if is_open else "c.status = %(closed)s")
    if pending_extension is not None:
        clauses.append(("" if pending_extension else "NOT ") + f"c.id IN (SELECT p.complaint_id FROM ({PENDING_SQL}) p)")
    if awaiting_reply is not None:
        clauses.append(("" if awaiting_reply else "NOT ") + AWAITING_REPLY)
        if awaiting_reply and awaiting_scope:  # a unit's inbox of answers owed: its own street's or grids' cases
            clauses.append(own_rows(conn, awaiting_scope))
            params["own_rows"] = list(awaiting_scope.values)
    params.update(limit=limit + 1, offset=offset, closed=CLOSED)
    if text:
        params.update(text=text, like=like_pattern(text), number=int(text) if _NUMBER.fullmatch(text) else None,
                      described=list(described.values) if isinstance(described, RowScope) else None,
                      tracking=normal_tracking(text), **callers_sql.params(text, callers))
        exact = _found_exactly(conn, clauses, params, callers, described, offset)
        # The number a caller gives, or part of it (a surname finds many): those complaints, paged, without
        # scanning addresses for the digits. Past their last page, an empty page, not the addresses'.
        if exact or (offset and _found_exactly(conn, clauses, params, callers, described, 0)):
            more = len(exact) > limit
            return {"items": exact[:limit], "limit": limit, "offset": offset,
                    "next_offset": offset + limit if more else None}
        clauses.append(_text_clause(conn, described))
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    with conn.cursor() as cur:
        cur.execute(_select(where) + " ORDER BY c.reported_at DESC, c.id DESC LIMIT %(limit)s OFFSET %(offset)s",
                    params)
        rows = [_row(r) for r in cur.fetchall()]
    more = len(rows) > limit
    return {"items": rows[:limit], "limit": limit, "offset": offset,
            "next_offset": offset + limit if more else None}
