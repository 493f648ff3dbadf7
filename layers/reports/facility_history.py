"""The facility layers' history (``facility_changes``, migration 0730) as the bulletin reads it: the facilities
added, removed and moved in a period, and the covered share at its start and end.

The facility set at a time T is rebuilt from today's: the changes at or after
T are undone, latest first (an added facility taken away, a removed one put
back with its stored geometry, a moved one back at its old place). The
covered share is the coverage engine's (:mod:`geo.coverage_fast`, the kept
state of :mod:`layers.analysis.coverage_state`) by community at the kind's
standard service radius: only the areas the changed facilities' discs touch
are measured again.
"""

from __future__ import annotations

from datetime import datetime

from data.catalog import metric_srid
from data.params import Period
from data.vocab import FacilityKind, city_tz
from geo import coverage_fast as fast
from geo.coverage import resolve, state
from layers.analysis.coverage_state import STATE
from layers.analysis.whatif import totals

OPS = ("added", "removed", "moved")


def log_since(conn) -> dict[str, datetime]:
    """Per facility table, since when its history is complete (the migration, or its last TRUNCATE)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('facility_log') IS NOT NULL")
        if not cur.fetchone()[0]:
            return {}
        cur.execute("SELECT table_name, since FROM facility_log")
        return dict(cur.fetchall())


_ROWS = """
SELECT c.facility_id, c.op, c.at, c.name, c.address, c.street_code, s.name, s.name_en,
       ST_X(ST_PointOnSurface(c.geom)), ST_Y(ST_PointOnSurface(c.geom)),
       ST_AsBinary(ST_Transform(c.geom, %(srid)s)), ST_AsBinary(ST_Transform(c.geom_before, %(srid)s))
FROM facility_changes c
LEFT JOIN admin_areas s ON s.code = c.street_code AND s.level = 'street'
WHERE c.table_name = %(table)s AND (%(category)s::text IS NULL OR c.category = %(category)s)
  AND c.at >= %(start)s AND c.at > (SELECT since FROM facility_log l WHERE l.table_name = c.table_name)
ORDER BY c.at DESC, c.id DESC"""


def changes_since(conn, spec: FacilityKind, start: datetime, srid: int) -> list[tuple]:
    """The kind's changes at or after ``start`` (not the rows the history starts from), latest first."""
    with conn.cursor() as cur:
        cur.execute(_ROWS, {"srid": srid, "table": spec.table, "category": spec.category, "start": start})
        return cur.fetchall()


def rewind(now: dict, rows: list[tuple], t: datetime) -> dict:
    """The facilities (id → metric WKB) at time ``t``: ``now`` with the changes ``rows`` (latest first) at or after
    ``t`` undone."""
    wkb = dict(now)
    for fid, op, at, *_, geom, before in rows:
        if at < t:
            break
        if op == "added":
            wkb.pop(fid, None)
        elif op == "removed":
            wkb[fid] = bytes(geom)
        else:
            wkb[fid] = bytes(before)
    return wkb


def _listing(rows: list[tuple], period: Period, cap: int, k: int) -> dict:
    """Per operation: how many in the period, and the first ``cap`` of them (earliest first)."""
    inside = [r for r in reversed(rows) if r[2] < period.end]
    out = {}
    for op in OPS:
        mine = [r for r in inside if r[1] == op]
        out[op] = len(mine)
        out[f"{op}_list"] = [
            {"id": fid, "at": at.astimezone(city_tz()).isoformat(), "name": name, "address": address,
             "street": street, "street_name": (en if k and en else zh) if street else None,
             "lon": round(lon, 6) if lon is not None else None, "lat": round(lat, 6) if lat is not None else None}
            for fid, _op, at, name, address, street, zh, en, lon, lat, _g, _b in mine[:cap]]
    return out


def kind_changes(conn, spec: FacilityKind, period: Period, cap: int, k: int) -> dict:
    """One kind's changes in ``period`` (counts and the first ``cap`` of each) and, for a kind with a standard
    service radius, its covered share (residents where the city has population, else area) at the start and end."""
    srid = metric_srid(conn)
    rows = changes_since(conn, spec, period.start, srid)
    out = {**_listing(rows, period, cap, k), "radius_m": None, "basis": None, "share_start": None,
           "share_end": None, "share_change": None}
    if spec.rule_id is None:  # no standard radius: no covered share to speak of
        return out
    _, radius, _ = resolve(spec.key, None)
    areas, cover = state(conn, STATE, spec, "community", srid, radius, None, True)
    at_start = totals(areas, fast.with_facilities(areas, cover, rewind(cover.wkb, rows, period.start))[0])
    at_end = totals(areas, fast.with_facilities(areas, cover, rewind(cover.wkb, rows, period.end))[0])
    basis = "residents" if at_end["covered_pop_pct"] is not None else "area"
    key = "covered_pop_pct" if basis == "residents" else "covered_area_pct"
    if at_start[key] is None or at_end[key] is None:
        return out
    return {**out, "radius_m": radius, "basis": basis, "share_start": round(at_start[key], 3),
            "share_end": round(at_end[key], 3), "share_change": round(at_end[key] - at_start[key], 3)}
