"""What-if coverage: draft edits to one facility kind, measured against the kept state, nothing written.

A planner adds, moves or removes facilities on /map/coverage; each edit
list is applied to a copy of the kept coverage state
(:mod:`layers.analysis.coverage_state`), and only the areas the edited
facilities' old or new discs touch are measured again. The answer gives,
for those areas, the covered area share, covered population share and
covered residents before and after, and their new gap polygons; and the
city's totals before and after.
"""

from __future__ import annotations

import math

import numpy as np

from data.catalog import area_level, areas_summary, metric_srid, require_level
from data.errors import InvalidParameter
from data.vocab import FACILITY_KINDS
from geo import coverage_fast as fast
from geo.coverage import resolve, state
from geo.residents import covered_share
from layers.analysis.coverage_state import STATE
from layers.analysis.scope import scope

#: Edit operations and what each needs.
OPS = {"add": ("lon", "lat"), "move": ("id", "lon", "lat"), "remove": ("id",)}
#: The area levels a what-if answers by (those whose population is their own).
WHATIF_LEVELS = ("community", "urban_village", "grid")
#: Most edits one draft may hold.
MAX_EDITS = 500
#: The first placed point (1-based among them) farther than the radius from every admin area. The box test lets
#: the index pick the areas near the point (its half-sides in degrees are over the radius: 1° of latitude is
#: over 110 km, of longitude over 110 km × cos(latitude + 1°) within it); the geography test is exact.
_OUTSIDE_SQL = """
SELECT n FROM unnest(%(x)s::float8[], %(y)s::float8[]) WITH ORDINALITY u(x, y, n),
     LATERAL (SELECT ST_SetSRID(ST_MakePoint(x, y), 4326) AS p) q
WHERE NOT EXISTS (
    SELECT 1 FROM admin_areas a
    WHERE a.geom && ST_Expand(q.p, %(r)s / 110000.0 / cos(radians(least(abs(y) + 1, 89))), %(r)s / 110000.0)
      AND ST_DWithin(a.geom::geography, q.p::geography, %(r)s))
ORDER BY n LIMIT 1"""


def parse_edits(raw) -> list[dict]:
    """The edit list, each ``{op, id?, lon?, lat?}`` checked; InvalidParameter naming ``edits[i].field``."""
    if not isinstance(raw, list):
        raise InvalidParameter("edits", "must be a list of {op, id, lon, lat}", "须为 {op, id, lon, lat} 的列表")
    if len(raw) > MAX_EDITS:
        raise InvalidParameter("edits", f"at most {MAX_EDITS} edits, not {len(raw)}",
                               f"最多 {MAX_EDITS} 处改动，而这里有 {len(raw)} 处")
    edits = []
    for i, edit in enumerate(raw):
        where = f"edits[{i}]"
        if not isinstance(edit, dict) or edit.get("op") not in OPS:
            raise InvalidParameter(f"{where}.op", f"must be one of {', '.join(OPS)}", f"须为 {'、'.join(OPS)} 之一")
        out = {"op": edit["op"]}
        for key in OPS[edit["op"]]:
            value = edit.get(key)
            if value is None:
                raise InvalidParameter(f"{where}.{key}", f"missing: a {edit['op']} needs {', '.join(OPS[edit['op']])}",
                                       f"缺少：{edit['op']} 需要 {', '.join(OPS[edit['op']])}")
            if key == "id":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise InvalidParameter(f"{where}.id", "must be the id of an existing facility (an integer)",
                                           "须为现有设施的编号（整数）")
            else:
                limit = 180 if key == "lon" else 90
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                        or abs(value) > limit:
                    raise InvalidParameter(f"{where}.{key}", f"must be a number between -{limit} and {limit}",
                                           f"须为 -{limit} 至 {limit} 之间的数字")
                value = float(value)
            out[key] = value
        edits.append(out)
    return edits


def check_level(by: str | None, conn) -> str:
    """``by`` when a what-if can answer by it: :data:`WHATIF_LEVELS`, or the city's finest admin level when that
    is coarser (a city of districts only, such as Hong Kong's 18: their population is their own). Without ``by``:
    communities, else the city's finest level, as coverage answers without it."""
    by = by or area_level(conn, "community")
    if by in WHATIF_LEVELS or (by in ("district", "street") and area_level(conn, "community") == by):
        return require_level(conn, by)
    raise InvalidParameter("by", f"a what-if answers by {', '.join(WHATIF_LEVELS)} or the city's finest level "
                           f"of admin areas, not {by!r}",
                           f"草案只能按 {'、'.join(WHATIF_LEVELS)} 或本市最细一级的行政区划统计，不能按 {by!r}")


def first_outside(conn, edits: list[dict], radius: float) -> int | None:
    """The index of the first added or moved point farther than ``radius`` from every admin area, or None: its
    disc would cover nothing of the city, so the draft (or plan) would change nothing, silently (a point typed
    at 0, 0, or with its digits slipped)."""
    placed = [i for i, e in enumerate(edits) if "lon" in e]
    if not placed:
        return None
    with conn.cursor() as cur:
        cur.execute(_OUTSIDE_SQL, {"x": [edits[i]["lon"] for i in placed], "y": [edits[i]["lat"] for i in placed],
                                   "r": radius})
        row = cur.fetchone()
    return None if row is None else placed[row[0] - 1]


def first_missing(edits: list[dict], ids) -> int | None:
    """The index of the first move or remove naming a facility not among ``ids`` (or removed by an earlier edit)."""
    standing = set(ids)
    for i, edit in enumerate(edits):
        if "id" in edit:
            if edit["id"] not in standing:
                return i
            if edit["op"] == "remove":
                standing.discard(edit["id"])
    return None


def check_inside(conn, edits: list[dict], radius: float, before: int | None = None) -> None:
    """InvalidParameter naming the first point outside the city (:func:`first_outside`), unless ``before`` (the
    index of another bad edit) comes first: a planner fixing a draft is told its bad edits in order."""
    i = first_outside(conn, edits, radius)
    if i is not None and (before is None or i < before):
        west, south, east, north = areas_summary(conn)["extent"]
        raise InvalidParameter(f"edits[{i}]", f"({edits[i]['lon']:g}, {edits[i]['lat']:g}) is outside the city: more "
                                              f"than {radius:g} m from every admin area (the city spans lon "
                                              f"{west:g} to {east:g}, lat {south:g} to {north:g})",
                               f"({edits[i]['lon']:g}, {edits[i]['lat']:g}) 在城市范围之外：距所有行政区划都超过 {radius:g} 米"
                               f"（本市经度 {west:g} 至 {east:g}，纬度 {south:g} 至 {north:g}）")


def _points(conn, srid: int, edits: list[dict]) -> list[bytes]:
    """The metric WKB of each edit's new position (None for removals)."""
    placed = [e for e in edits if "lon" in e]
    if not placed:
        return [None] * len(edits)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_AsBinary(ST_Transform(ST_SetSRID(ST_MakePoint(x, y), 4326), %s)) "
                    "FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY u(x, y, n) ORDER BY n",
                    (srid, [e["lon"] for e in placed], [e["lat"] for e in placed]))
        wkbs = iter(bytes(r[0]) for r in cur.fetchall())
    return [next(wkbs) if "lon" in e else None for e in edits]


def apply_edits(conn, srid: int, base: dict, edits: list[dict], kind: str) -> dict:
    """The facilities (id → metric WKB) after ``edits``; an added facility gets id −1, −2, …"""
    wkb = dict(base)
    added = 0
    for i, (edit, point) in enumerate(zip(edits, _points(conn, srid, edits))):
        if edit["op"] == "add":
            added += 1
            wkb[-added] = point
            continue
        if edit["id"] not in wkb:
            raise InvalidParameter(f"edits[{i}].id", f"no {kind} with id {edit['id']} (or removed by an earlier edit)",
                                   f"没有编号为 {edit['id']} 的{FACILITY_KINDS[kind].name_zh}（或已被前面的改动移除）")
        if edit["op"] == "move":
            wkb[edit["id"]] = point
        else:
            del wkb[edit["id"]]
    return wkb


def _share(areas: fast.Areas, cov: np.ndarray, res_cov: np.ndarray, i: int) -> tuple[float, float | None]:
    """(covered area %, covered population % or None) of area ``i``."""
    area = 100.0 * cov[i] / areas.m2[i] if areas.m2[i] else 0.0
    pop = areas.pops[i]
    if not pop or pop <= 0:
        return area, None
    return area, 100.0 * covered_share(areas.m2[i], cov[i], areas.res_m2[i], res_cov[i])  # as coverage's


def totals(areas: fast.Areas, cover: fast.Cover) -> dict:
    """The city's covered area %, its population, covered residents and covered population %; the last three None
    when no area has a population (unknown, not nobody: as coverage's summary says)."""
    m2 = float(areas.m2.sum())
    people = covered = 0.0
    for i in range(len(areas.codes)):
        _, pop_pct = _share(areas, cover.cov, cover.res_cov, i)
        if pop_pct is not None:
            people += areas.pops[i]
            covered += areas.pops[i] * pop_pct / 100.0
    # km² as well as %: in a municipality of 14,000 km² one toilet moves the share by 0.002 points, which a
    # two-decimal % cannot show; its 0.28 km² can.
    return {"covered_area_pct": 100.0 * float(cover.cov.sum()) / m2 if m2 else None,
            "covered_area_km2": float(cover.cov.sum()) / 1e6,
            "population": int(people) if people else None, "covered_residents": round(covered) if people else None,
            "covered_pop_pct": 100.0 * covered / people if people else None}


def compare(areas: fast.Areas, before: fast.Cover, after: fast.Cover, idx: np.ndarray) -> list[dict]:
    """Per area at ``idx``: its code, names, population and its figures before and after."""
    rows = []
    for i in idx:
        a0, p0 = _share(areas, before.cov, before.res_cov, i)
        a1, p1 = _share(areas, after.cov, after.res_cov, i)
        pop = areas.pops[i]
        rows.append({"code": areas.codes[i], "name": areas.names[i], "name_en": areas.names_en[i], "population": pop,
                     "covered_area_pct_before": a0, "covered_area_pct": a1,
                     "covered_area_km2_before": float(before.cov[i]) / 1e6, "covered_area_km2": float(after.cov[i]) / 1e6,
                     "covered_pop_pct_before": p0, "covered_pop_pct": p1,
                     "covered_residents_before": round(pop * p0 / 100) if p0 is not None else None,
                     "covered_residents": round(pop * p1 / 100) if p1 is not None else None})
    return rows


#: Covered m² that count as a change: a disc's union measured again differs from the old by far less where
#: nothing changed (an area wholly covered before and after), by far more where something did.
CHANGE_M2 = 0.01


def changed(before: fast.Cover, after: fast.Cover, touched: np.ndarray) -> np.ndarray:
    """The areas among ``touched`` (those an edited disc touches) whose covered area or residential land changed:
    an area already wholly covered stays 100 % → 100 %, and is not one the draft changes."""
    keep = [i for i in touched if abs(after.cov[i] - before.cov[i]) > CHANGE_M2
            or abs(np.nan_to_num(after.res_cov[i]) - np.nan_to_num(before.res_cov[i])) > CHANGE_M2]
    return np.array(keep, dtype=np.int64)


def whatif(conn, kind: str, radius_m: float | None, edits: list[dict], by: str | None = None, *,
           gaps: bool = True, store=STATE) -> dict:
    """The areas a draft's edits change, before and after, and the city's totals; nothing is written.

    Parameters
    ----------
    conn : psycopg2 connection
    kind, radius_m : the facility kind and its service radius (default: its standard), as for coverage.
    edits : list of dict
        Parsed by :func:`parse_edits`: ``add`` (lon, lat), ``move`` (id, lon, lat), ``remove`` (id).
    by : str, optional
        community (default: else the city's finest admin level), urban_village or grid.
    gaps : bool
        Also each changed area's gap polygon after the edits (GeoJSON).

    Returns
    -------
    dict
        ``kind``, ``radius_m``, ``by``, ``areas`` (one row per changed area, see :func:`compare`, with
        ``gaps``), ``before`` and ``after`` (:func:`totals`) and ``scope``, what they add up
        (:func:`layers.analysis.scope.scope`: the whole city, or only the areas drawn at ``by``).
    """
    by = check_level(by, conn)
    spec, radius, _ = resolve(kind, radius_m)
    srid = metric_srid(conn)
    areas, base = state(conn, store, spec, by, srid, radius, None, by != "grid")
    # Whichever bad edit comes first is named: an unknown id after a point outside, or before it.
    check_inside(conn, edits, radius, before=first_missing(edits, base.wkb))
    draft, touched = fast.with_facilities(areas, base, apply_edits(conn, srid, base.wkb, edits, spec.key))
    idx = changed(base, draft, touched)
    rows = compare(areas, base, draft, idx)
    if gaps:
        for row, gap in zip(rows, fast.gaps(conn, srid, areas, draft, idx)):
            row["gaps"] = gap
    return {"kind": spec.key, "radius_m": radius, "by": by, "edits": len(edits), "areas": rows,
            "before": totals(areas, base), "after": totals(areas, draft),
            "scope": scope(conn, by, len(areas.codes), float(areas.m2.sum()))}
