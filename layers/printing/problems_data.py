"""The SQL behind a round's 问题清单 (problem list): its findings, numbered, with places, photos and a map.

Everything the list shows is chosen here, once, for both its forms (XLSX,
:mod:`layers.printing.problems_xlsx`; PDF, :mod:`layers.printing.problems_pdf`):
findings grouped by the unit they are charged to, numbered 1…n in that order
(the number on the map is the number in the tables), their place, item,
deduction, deadline and status. The description and the photos are personal
(``layers.spec.inspection_findings``): they are read as the viewer may read
the description column on that row (:func:`layers.workflow.access.column_grant`),
else left out; who inspected is staff-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import shapely

from data import checklist
from data.catalog import check_street
from data.errors import InvalidParameter
from data.settings import InspectionSettings
from data.vocab import TO_RECTIFY
from geo.metric import metric_polygon
from layers.printing import data
from layers.spec.inspection_findings import LAYER as FINDINGS
from layers.workflow.access import OPERATOR, RowScope, User, column_grant, shown_row
from layers.workflow.inspections import get_round
from layers.workflow.photos import FORMATS, photo_path

#: A road names a finding's place only when it is this close (metres): else the coordinates do.
NEAR_ROAD_M = 150.0


@dataclass
class Photo:
    """One photo of a finding: its id, its stage (before, after) and its stored file."""

    id: int
    stage: str
    path: object  # pathlib.Path


@dataclass
class Problem:
    """One finding as the list shows it; ``number`` is its place in the list and on the map."""

    number: int
    id: int
    unit: str | None
    street_code: str | None
    street_name: str | None
    street_name_en: str | None
    community_name: str | None
    community_name_en: str | None
    grid_code: str | None
    near_road: str | None
    lon: float
    lat: float
    x: float  # metric CRS, for the map
    y: float
    item_code: str
    place_type: str
    item_text: str  # Chinese, as stored with the finding
    item_text_en: str  # the checklist's English wording (the Chinese when it has none)
    deduction: float
    observed_at: datetime
    due_at: datetime
    status: str
    overdue: bool
    description: str | None = None  # None: not readable by the viewer (or empty)
    inspector: str | None = None
    personal: bool = False  # whether the viewer may see this row's description and photos
    photos: list[Photo] = field(default_factory=list)



@dataclass
class ProblemList:
    """A round's (or one street's) problem list, loaded; drawing it needs no database."""

    city: data.City
    round: dict
    street: str | None
    problems: list[Problem]
    outlines: list[tuple[str, str | None, str | None, object]]  # street code, name, name_en, geom (metric)
    communities: list[object]
    grids: list[object]
    roads: list[tuple[str, str | None, object]]

    def units(self) -> list[tuple[str | None, list[Problem]]]:
        """The problems by unit, in list order."""
        out: dict[str | None, list[Problem]] = {}
        for p in self.problems:
            out.setdefault(p.unit, []).append(p)
        return list(out.items())


_FINDINGS_SQL = """
SELECT f.id, f.responsible_unit, f.street_code, s.name, s.name_en, c.name, c.name_en,
       CASE WHEN %(ended)s THEN coalesce(f.origin_grid_code, f.grid_code) ELSE f.grid_code END,
       (SELECT r.name FROM (SELECT r.name, r.geom FROM roads r WHERE r.name IS NOT NULL
                            ORDER BY r.geom <-> f.geom LIMIT 8) r
        WHERE ST_DWithin(r.geom::geography, f.geom::geography, %(near)s)
        ORDER BY ST_Distance(r.geom::geography, f.geom::geography) LIMIT 1),
       ST_X(f.geom), ST_Y(f.geom), ST_X(ST_Transform(f.geom, %(srid)s)), ST_Y(ST_Transform(f.geom, %(srid)s)),
       f.item_code, f.place_type, f.item_text, f.deduction, f.observed_at, f.due_at, f.status,
       (f.status = %(to_rectify)s AND f.due_at < %(as_of)s),
       f.description, f.inspector, f.rectified_by, f.community_code, f.grid_code
FROM inspection_findings f
LEFT JOIN admin_areas s ON s.level = 'street' AND s.code = f.street_code
LEFT JOIN admin_areas c ON c.level = 'community' AND c.code = f.community_code
WHERE f.round_id = %(round)s AND (%(street)s::text IS NULL OR f.street_code = %(street)s)
ORDER BY f.responsible_unit NULLS LAST, f.street_code, 8 NULLS LAST, f.observed_at, f.id
"""

_PHOTOS_SQL = """SELECT id, finding_id, stage, sha256, media_type FROM inspection_photos
                 WHERE finding_id = ANY(%s) ORDER BY finding_id, id"""


def sees_personal(viewer: User | None, row: dict) -> bool:
    """Whether ``viewer`` may read this finding's personal columns (its description, and so its photos)."""
    description = next(f for f in FINDINGS.fields if f.column == "description")
    grant = column_grant(FINDINGS, description, viewer)
    return grant is True or (isinstance(grant, RowScope) and row.get(grant.column) in grant.values)


def _problem(number: int, r: tuple, viewer: User | None, items: dict) -> Problem:
    # Shown: the grid it was found in (r[7]); who may read it: by today's grid (r[25]), as the finding's own route.
    stored = {"street_code": r[2], "grid_code": r[25], "community_code": r[24], "description": r[21],
              "inspector": r[22], "rectified_by": r[23]}
    shown = shown_row(FINDINGS, viewer, stored)
    text_en = getattr(items.get(r[13]), "text_en", "") or r[15]
    return Problem(number, *r[:16], text_en, float(r[16]), r[17], r[18], r[19], bool(r[20]),
                   description=shown.get("description"), inspector=shown.get("inspector"),
                   personal=sees_personal(viewer, stored))


def _photos(conn, problems: list[Problem], settings: InspectionSettings) -> None:
    """Attach the photos of the problems whose personal columns the viewer reads."""
    by_id = {p.id: p for p in problems if p.personal}
    if not by_id:
        return
    ext = {media_type: e for media_type, e in FORMATS.values()}
    with conn.cursor() as cur:
        cur.execute(_PHOTOS_SQL, (list(by_id),))
        for photo_id, finding_id, stage, digest, media_type in cur.fetchall():
            path = photo_path(digest, ext[media_type], settings)
            if path.exists():  # a file lost from the photo folder is left out, not a failed list
                by_id[finding_id].photos.append(Photo(photo_id, stage, path))


# The streets' grids as they stood at a time: a street cut again since keeps its grids of then in grid_shapes
# (each regrid's rows share its ``until``; the first regrid after the time holds them), else today's grids.
_GRIDS_THEN = f"""
    WITH later AS (SELECT street_code, min(until) AS until FROM grid_shapes
                   WHERE street_code = ANY(%(streets)s) AND until > %(at)s GROUP BY street_code)
    SELECT ST_AsBinary({metric_polygon('g.geom')}) FROM grids g
    WHERE g.street_code = ANY(%(streets)s) AND g.street_code NOT IN (SELECT street_code FROM later)
    UNION ALL
    SELECT ST_AsBinary({metric_polygon('s.geom')}) FROM grid_shapes s
    JOIN later l ON l.street_code = s.street_code AND l.until = s.until"""


def _outlines(conn, streets: list[str], srid: int, at) -> tuple[list, list, list]:
    """The streets' outlines (code, name, name_en, geom), their communities' and their grids' as they stood at
    ``at`` (metric CRS): the findings are drawn over the grids they were found in."""
    params = {"streets": streets, "srid": srid, "at": at}
    with conn.cursor() as cur:
        cur.execute(f"SELECT code, name, name_en, ST_AsBinary({metric_polygon('geom')}) FROM admin_areas "
                    "WHERE level = 'street' AND code = ANY(%(streets)s) AND geom IS NOT NULL ORDER BY code", params)
        outlines = [(c, n, e, shapely.from_wkb(bytes(g))) for c, n, e, g in cur.fetchall()]
        cur.execute(f"SELECT ST_AsBinary({metric_polygon('geom')}) FROM admin_areas WHERE level = 'community' "
                    "AND parent_code = ANY(%(streets)s) AND geom IS NOT NULL", params)
        communities = [shapely.from_wkb(bytes(g)) for (g,) in cur.fetchall()]
        cur.execute(_GRIDS_THEN, params)
        grids = [shapely.from_wkb(bytes(g)) for (g,) in cur.fetchall()]
    return outlines, communities, grids


def _check_street(conn, the_round: dict, street: str | None, parameter: str) -> None:
    if street is None:
        return
    check_street(conn, street, parameter)
    if street not in the_round["streets"]:
        raise InvalidParameter(parameter, f"round {the_round['id']} does not cover street {street} "
                                          f"(it covers {', '.join(the_round['streets'])})",
                               f"检查轮次 {the_round['id']} 不包括街道 {street}（它包括 {'、'.join(the_round['streets'])}）")


def load_problems(conn, round_id: int, street: str | None = None, viewer: User | None = OPERATOR,
                  settings: InspectionSettings | None = None, *, parameter: str = "street") -> ProblemList:
    """A round's problem list (one street's with ``street``), as ``viewer`` may read it.

    NotFound for a round or street that does not exist; InvalidParameter
    naming ``parameter`` (the street's, as the caller calls it: ``street``,
    ``--street``) for a street the round does not cover.
    """
    settings = settings or InspectionSettings.from_env()
    the_round = get_round(conn, round_id)
    _check_street(conn, the_round, street, parameter)
    city = data.load_city(conn)
    params = {"round": round_id, "street": street, "srid": city.metric_srid, "near": NEAR_ROAD_M,
              "to_rectify": TO_RECTIFY, "as_of": city.as_of,
              # An ended round's list stands as published: the grid each finding was found in; one under way
              # names today's grid, where the street finds the place to rectify.
              "ended": datetime.fromisoformat(the_round["ends"]) <= datetime.now(UTC)}
    with conn.cursor() as cur:
        cur.execute(_FINDINGS_SQL, params)
        items = checklist.load(settings)
        problems = [_problem(n, r, viewer, items) for n, r in enumerate(cur.fetchall(), start=1)]
    _photos(conn, problems, settings)
    streets = [street] if street else list(the_round["streets"])
    # The round's grids: as they stood when it ended (a round under way: today's).
    outlines, communities, grids = _outlines(conn, streets, city.metric_srid, the_round["ends"])
    points = [shapely.Point(p.x, p.y) for p in problems]
    shapes = [g for *_, g in outlines] + points
    roads = data.load_main_roads(conn, shapely.union_all(shapes).bounds, city.metric_srid) if shapes else []
    return ProblemList(city, the_round, street, problems, outlines, communities, grids, roads)
