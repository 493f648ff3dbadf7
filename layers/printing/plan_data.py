"""The SQL behind a plan's printed map: the plan against today (layers.analysis.plans), its areas and facilities.

Everything comes out in the city's metric CRS, ready to draw at a true scale (:mod:`layers.printing.plan_pdf`
draws it and queries nothing): the areas the plan changes and the others of their level in the map's frame, the
facilities of the plan's kind standing today in or near it, and each edit where it goes and stands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from psycopg2 import sql

from geo.coverage import LEVELS, facility_kind, kind_filter
from geo.metric import metric_polygon
from layers.analysis.plans import compare_plan
from layers.printing.data import FRAME_SEGMENT_M, City, frame_around, load_city, wkb
from layers.workflow.access import User, named_for

# The map's frame in EPSG:4326 for the GiST indexes: densified first, so that it still holds the metric frame.
_FRAME_4326 = ("ST_Transform(ST_Segmentize(ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, %(srid)s), %(seg)s), "
               "4326)")


@dataclass
class Edit:
    """One edit of the plan on the map: its number in the edit list, what it does, the facility (move, remove),
    where it goes (add, move) or stands (remove) and, for a move, where it stands now (metric CRS)."""

    number: int
    op: str  # add, move, remove
    id: int | None
    name: str | None
    x: float
    y: float
    from_x: float | None = None
    from_y: float | None = None


@dataclass
class PlanMap:
    """What a plan's print shows: ``result`` is :func:`~layers.analysis.plans.compare_plan`'s answer (the plan's
    saver as the viewer may read it), the rest the map's, in metres."""

    city: City
    result: dict
    frame: tuple[float, float, float, float]
    changed: list[tuple[str, str | None, str | None, object]]  # code, name, name_en, outline of each changed area
    others: list[object]  # outlines of the level's other areas in the frame
    facilities: list[object]  # today's facilities of the kind in or near the frame (their reach reaches into it)
    edits: list[Edit]
    # Where the areas and the facilities came from: (layer, [its sources, the largest first]) (:func:`sources`).
    sources: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def radius(self) -> float:
        return float(self.result["radius_m"])


def _edits(conn, changes: list[dict], srid: int) -> list[Edit]:
    """The edit list (compare_plan's ``changes``, lon/lat) in the metric CRS."""
    points = [(c["lon"], c["lat"]) for c in changes] + [(c["from_lon"], c["from_lat"]) for c in changes
                                                         if c["from_lon"] is not None]
    if not points:
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY u(x, y, n), "
                    "LATERAL (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(x, y), 4326), %s) AS p) q ORDER BY n",
                    ([p[0] for p in points], [p[1] for p in points], srid))
        metric = iter(cur.fetchall())
    placed = [next(metric) for _ in changes]
    edits = []
    for c, (x, y) in zip(changes, placed, strict=True):
        fx, fy = next(metric) if c["from_lon"] is not None else (None, None)
        edits.append(Edit(c["edit"], c["op"], c["id"], c["name"], x, y, fx, fy))
    return edits


def _areas(conn, by: str, srid: int, where: str, params: dict) -> list[tuple]:
    """(code, name, name_en, metric outline) of the areas of level ``by`` that ``where`` keeps."""
    query = (f"SELECT code, name, name_en, ST_AsBinary({metric_polygon('geom')}) "
             f"FROM ({LEVELS[by]}) a(code, name, name_en, population, geom) WHERE {where} ORDER BY code")
    with conn.cursor() as cur:
        cur.execute(query, {"srid": srid, **params})
        return [(code, name, name_en, wkb(g)) for code, name, name_en, g in cur.fetchall()]


def plan_frame(changed: list, edits: list[Edit], radius: float, aspect: float) -> tuple[float, float, float, float]:
    """The map's frame (metres, the axes' width/height ``aspect``): the changed areas and every edit's reach, both
    where it goes and where it stood, with a margin."""
    shapes = [g for *_, g in changed]
    for e in edits:
        shapes.append(shapely.Point(e.x, e.y).buffer(radius))
        if e.from_x is not None:
            shapes.append(shapely.Point(e.from_x, e.from_y).buffer(radius))
    return frame_around(shapely.union_all(shapes), aspect, margin=0.05, min_margin_m=max(60.0, 0.3 * radius))


def _facilities(conn, kind: str, frame: tuple, radius: float, srid: int) -> list[object]:
    """Today's facilities of ``kind`` in service (as the what-if counts them) within ``radius`` of the frame."""
    spec = facility_kind(kind)
    x0, y0, x1, y1 = frame
    query = sql.SQL("SELECT ST_AsBinary(ST_Transform(geom, %(srid)s)) FROM {table} WHERE {where} AND geom && "
                    + _FRAME_4326).format(table=sql.Identifier(spec.table), where=kind_filter(spec))
    with conn.cursor() as cur:
        cur.execute(query, {"x0": x0 - radius, "y0": y0 - radius, "x1": x1 + radius, "y1": y1 + radius,
                            "srid": srid, "seg": FRAME_SEGMENT_M})
        return [wkb(g) for (g,) in cur.fetchall()]


#: Most sources named per layer (the largest ones): a print's source line must fit its strip.
MAX_SOURCES = 3


def sources(conn, kind: str) -> list[tuple[str, list[str]]]:
    """The ``source`` of the admin areas and of the plan's facilities (the file each was imported from, or
    manual / api), the largest first: a print says where its map and figures come from."""
    said = []
    for layer, table in (("admin_areas", "admin_areas"), (kind, facility_kind(kind).table)):
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT source FROM {} GROUP BY source ORDER BY count(*) DESC, source LIMIT %s").format(
                sql.Identifier(table)), (MAX_SOURCES + 1,))
            said.append((layer, [r[0] for r in cur.fetchall()]))
    return said


def load_plan_map(conn, plan_id: int, viewer: User | None, aspect: float) -> PlanMap:
    """Plan ``plan_id`` against today's facilities and its map (NotFound for no such plan; Conflict for a plan
    that no longer fits today's facilities, as its comparison says); the saver's name as ``viewer`` may read it."""
    result = compare_plan(conn, plan_id)
    result["plan"] = named_for(viewer, result["plan"])
    city = load_city(conn)
    srid, by = city.metric_srid, result["by"]
    edits = _edits(conn, result["changes"], srid)
    codes = [row["code"] for row in result["areas"]]
    changed = _areas(conn, by, srid, "code = ANY(%(codes)s)", {"codes": codes}) if codes else []
    frame = plan_frame(changed, edits, float(result["radius_m"]), aspect)
    box = dict(zip(("x0", "y0", "x1", "y1"), frame, strict=True))
    others = [g for *_, g in _areas(conn, by, srid, f"geom && {_FRAME_4326} AND NOT code = ANY(%(codes)s)",
                                    {**box, "seg": FRAME_SEGMENT_M, "codes": codes})]
    facilities = _facilities(conn, result["kind"], frame, float(result["radius_m"]), srid)
    return PlanMap(city, result, frame, changed, others, facilities, edits, sources(conn, result["kind"]))
