"""The SQL behind a printed page: one grid, what is around it, and its street.

Geometries come out of PostGIS already projected to the city's metric CRS
(``city_settings.metric_srid``), as WKB, because they are drawn, not
serialized: a page plotted in metres has a true scale bar. Everything a page
shows is chosen here and in :mod:`layers.printing.page_data` (a grid sheet's map);
the drawing modules (``page``, ``grid_map``, ``sheets``, …) draw what they are
given and query nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import shapely
from psycopg2 import sql

from data.catalog import check_street, metric_srid, require_city
from data.clock import reference_time
from data.errors import NotFound
from data.said import grid_name
from data.vocab import CLOSED
from geo.metric import metric_polygon
from layers.printing.style import MAIN_ROADS
from layers.spec.grids import LAYER as GRIDS
from layers.store.columns import shown_columns
from layers.workflow.access import OPERATOR, User

# Envelopes are densified before they are transformed to EPSG:4326, so the
# bounding box used with the GiST index still contains the metric frame.
FRAME_SEGMENT_M = 50.0



@dataclass
class City:
    """The city settings a page needs: names, metric CRS, demo flag, data time, attribution, and
    ``as_of``, the reference time "overdue" is judged at (data.clock), read once per document."""

    code: str
    name: str
    name_en: str | None
    metric_srid: int
    is_demo: bool
    data_time: datetime | None
    attribution: str | None
    as_of: datetime

    def label(self, lang: str) -> str:
        return (self.name_en or self.name) if lang == "en" else self.name


@dataclass
class Grid:
    """A grid with its assignment and the names of the areas it lies in."""

    code: str
    name: str | None
    district_code: str
    street_code: str
    community_code: str
    responsible_unit: str | None
    grid_manager: str | None
    phone: str | None
    district_name: str | None
    district_name_en: str | None
    street_name: str | None
    street_name_en: str | None
    community_name: str | None
    community_name_en: str | None
    geom: object  # shapely (Multi)Polygon in the metric CRS
    withheld: frozenset[str] = frozenset()  # contact columns the viewer may not read (the sheet says 不公开, not —)

    def contact(self, column: str, withheld: str) -> str:
        """A contact (``grid_manager``, ``phone``) as a sheet shows it: itself, ``withheld`` where the viewer may
        not read it, else a dash (none given)."""
        return getattr(self, column) or (withheld if column in self.withheld else "—")

    def said_name(self, lang: str) -> str:
        """The grid's name as a page in ``lang`` prints it (its code when it has none): a generated name in English
        with its community's English name where there is one ("Lanting grid 2"), else as written."""
        return grid_name(self.name, lang, self.community_name, self.community_name_en) or self.code


@dataclass
class Feature:
    """One thing to check on a page: a facility, an area or an open complaint.

    ``x, y`` is where its number is drawn (metric CRS); ``in_grid`` says
    whether it belongs to the page's checklist (features of neighbouring
    grids are drawn for orientation, without numbers); ``in_service`` is
    False for a facility closed or under construction (是否在用: 否).
    """

    layer: str  # markets, toilets, garbage_stations, complaints, urban_villages, health_trails
    id: int
    kind: str | None
    name: str | None
    address: str | None
    detail: str | None  # grade, kind, renovation status … (what to check against); complaints: category in English
    status: str | None  # complaint workflow state
    due_at: datetime | None
    reported_at: datetime | None
    overdue: bool
    in_grid: bool
    near_road: str | None
    x: float
    y: float
    in_service: bool = True


@dataclass
class PageData:
    """Everything one grid page shows."""

    grid: Grid
    frame: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in metres
    neighbours: list[tuple[str, str, str, object]] = field(default_factory=list)  # code, community, street, geom
    roads: list[tuple[str, str | None, object, bool]] = field(default_factory=list)  # class, name, geom, in grid
    villages: list[tuple[str, str, object]] = field(default_factory=list)  # name, kind, geom
    trails: list[tuple[str, str, object, bool]] = field(default_factory=list)  # name, kind, geom, in service
    points: list[Feature] = field(default_factory=list)  # facilities and open complaints in the frame
    areas: list[Feature] = field(default_factory=list)  # villages and trails touching the grid (checklist)

    @property
    def checklist(self) -> list[Feature]:
        """The features in the grid, in checklist order: complaints (overdue first), then facilities, then areas."""
        order = {"complaints": 0, "markets": 1, "toilets": 2, "garbage_stations": 3, "urban_villages": 4,
                 "health_trails": 5}
        inside = [f for f in self.points if f.in_grid] + self.areas
        # Within a type, north→south then west→east, so neighbouring numbers are neighbours on the map.
        return sorted(inside, key=lambda f: (order[f.layer], not f.overdue, -round(f.y / 40.0), f.x, f.id))


@dataclass
class Street:
    """A street (街道) with its communities and grids, for overview maps."""

    code: str
    name: str
    name_en: str | None
    district_name: str | None
    district_name_en: str | None
    geom: object
    communities: list[tuple[str, str, object]]  # code, name, geom
    grids: list[Grid]


def wkb(value) -> object:
    return shapely.from_wkb(bytes(value))


def load_city(conn) -> City:
    """The city settings row, or NotFound saying how to set a city up (or choose its metric CRS)."""
    # A page is drawn in metres: a city set up without areas has no metric CRS yet, and is told how to get one.
    # The reference time is read here once, then passed as a value: written inline into each page's
    # statement, its probe of the complaints ran once per page (a seq scan of a million rows on the city demo).
    return City(**{**require_city(conn), "metric_srid": metric_srid(conn), "as_of": reference_time(conn)})


def _grid_select(viewer: User | None) -> sql.Composable:
    """The grids' SELECT, the contacts as ``viewer`` may read them (NULL where not: the sheet shows —)."""
    shown = dict(shown_columns(GRIDS, viewer, table="g"))
    contacts = sql.SQL(", ").join(shown.get(c, sql.SQL("NULL")) for c in ("grid_manager", "phone"))
    withheld = sql.Literal(",".join(c for c in ("grid_manager", "phone") if c not in shown))
    # Outlines valid in the metric CRS: the pages cut them (the mask around a grid) and label them.
    return sql.SQL("""
SELECT g.code, g.name, g.district_code, g.street_code, g.community_code,
       g.responsible_unit, {contacts},
       d.name, d.name_en, s.name, s.name_en, c.name, c.name_en,
       ST_AsBinary({outline}), {withheld}
FROM grids g
LEFT JOIN admin_areas d ON d.code = g.district_code
LEFT JOIN admin_areas s ON s.code = g.street_code
LEFT JOIN admin_areas c ON c.code = g.community_code
""").format(contacts=contacts, outline=sql.SQL(metric_polygon("g.geom")), withheld=withheld)


def _grid_from_row(row) -> Grid:
    return Grid(*row[:14], geom=wkb(row[14]), withheld=frozenset(filter(None, row[15].split(","))))


def load_grid(conn, code: str, srid: int, viewer: User | None = OPERATOR) -> Grid:
    """One grid by code (its contacts as ``viewer`` may read them), or NotFound."""
    with conn.cursor() as cur:
        cur.execute(_grid_select(viewer) + sql.SQL(" WHERE g.code = %(code)s"), {"srid": srid, "code": code})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"grid {code!r} does not exist", f"网格 {code!r} 不存在")
    return _grid_from_row(row)


def load_street(conn, code: str, srid: int, viewer: User | None = OPERATOR) -> Street:
    """A street with its communities and its grids (ordered by code; their contacts as ``viewer``
    may read them), or NotFound."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT s.code, s.name, s.name_en, d.name, d.name_en, ST_AsBinary({metric_polygon('s.geom')}) "
            "FROM admin_areas s LEFT JOIN admin_areas d ON d.code = s.parent_code AND d.level = 'district' "
            "WHERE s.level = 'street' AND s.code = %(code)s",
            {"srid": srid, "code": code},
        )
        row = cur.fetchone()
        if row is None:
            check_street(conn, code)  # says what the code is instead
        cur.execute(
            f"SELECT code, name, ST_AsBinary({metric_polygon('geom')}) FROM admin_areas "
            "WHERE level = 'community' AND parent_code = %(code)s ORDER BY code",
            {"srid": srid, "code": code},
        )
        communities = [(c, n, wkb(g)) for c, n, g in cur.fetchall()]
        cur.execute(_grid_select(viewer) + sql.SQL(" WHERE g.street_code = %(code)s ORDER BY g.code"), {"srid": srid, "code": code})
        grids = [_grid_from_row(r) for r in cur.fetchall()]
    return Street(row[0], row[1], row[2], row[3], row[4], wkb(row[5]), communities, grids)


def grid_count(conn, street_code: str) -> int:
    """How many grids a street has."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM grids WHERE street_code = %s", (street_code,))
        return cur.fetchone()[0]


def open_complaints_by_grid(conn, street_code: str, as_of: datetime) -> dict[str, tuple[int, int]]:
    """Open and overdue complaint counts of every grid of a street: {grid code: (open, overdue)}.

    A complaint counts for a grid when it lies inside it (the same rule the
    pages use), so the numbers on an index match the checklists; overdue at ``as_of`` (City.as_of).
    """
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT g.code,
                   count(c.id),
                   count(c.id) FILTER (WHERE c.due_at < %(as_of)s)
            FROM grids g
            LEFT JOIN complaints c ON ST_Intersects(c.geom, g.geom) AND c.status <> %(closed)s
            WHERE g.street_code = %(street)s
            GROUP BY g.code
            """,
            {"street": street_code, "closed": CLOSED, "as_of": as_of},
        )
        return {code: (int(n_open), int(n_overdue)) for code, n_open, n_overdue in cur.fetchall()}


def rank_grids_for_route(conn, street_code: str, top: int, as_of: datetime) -> list[tuple[str, float, int, int]]:
    """The ``top`` grids of a street to inspect first: [(code, score, open, overdue)], best first.

    Interim score, named for what it is — ``open + 2 × overdue`` complaints
    per grid (overdue weighted double because 举报必查 deadlines have
    passed) — until the priority analysis (issue 5) can take its place here.
    Grids without open complaints are never chosen.
    """
    counts = open_complaints_by_grid(conn, street_code, as_of)
    scored = [(code, float(n_open + 2 * n_overdue), n_open, n_overdue)
              for code, (n_open, n_overdue) in counts.items() if n_open > 0]
    scored.sort(key=lambda r: (-r[1], r[0]))
    return scored[:top]


def frame_around(geom, aspect: float, margin: float = 0.35, min_margin_m: float = 60.0) -> tuple[float, ...]:
    """A map frame (xmin, ymin, xmax, ymax) around a geometry with the axes' width/height ratio.

    The grid takes the middle of the page with some of its neighbours around
    it: ``margin`` of its larger side (at least ``min_margin_m``) on every side.
    """
    xmin, ymin, xmax, ymax = geom.bounds
    pad = max(margin * max(xmax - xmin, ymax - ymin), min_margin_m)
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    width, height = xmax - xmin, ymax - ymin
    if width / height < aspect:
        grow = (height * aspect - width) / 2
        xmin, xmax = xmin - grow, xmax + grow
    else:
        grow = (width / aspect - height) / 2
        ymin, ymax = ymin - grow, ymax + grow
    return (xmin, ymin, xmax, ymax)


def load_main_roads(conn, bounds: tuple[float, float, float, float], srid: int) -> list[tuple[str, str | None, object]]:
    """Expressways, arterials and secondary roads inside metric bounds (for street overview maps)."""
    params = {"x0": bounds[0], "y0": bounds[1], "x1": bounds[2], "y1": bounds[3], "srid": srid,
              "seg": FRAME_SEGMENT_M, "classes": list(MAIN_ROADS)}
    with conn.cursor() as cur:
        cur.execute(
            """
            WITH frame AS (
                SELECT ST_Transform(ST_Segmentize(ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, %(srid)s),
                                                  %(seg)s), 4326) AS g
            )
            SELECT r.class, r.name, ST_AsBinary(ST_Transform(r.geom, %(srid)s))
            FROM roads r, frame
            WHERE r.geom && frame.g AND r.class = ANY(%(classes)s)
            """,
            params,
        )
        return [(klass, name, wkb(g)) for klass, name, g in cur.fetchall()]


def street_shapes(conn) -> dict[str, object]:
    """Every street's outline in the city's metric CRS, by code (the bulletin's map of streets)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT code, ST_AsBinary({metric_polygon('geom')}) FROM admin_areas "
                    "WHERE level = 'street' AND geom IS NOT NULL ORDER BY code", {"srid": metric_srid(conn)})
        return {code: wkb(g) for code, g in cur.fetchall()}
