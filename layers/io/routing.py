"""Rows placed in the city: the extent check and point-in-area routing of imported rows.

Point-in-area at insert (FixMyStreet-style, DESIGN §11): each row gets the
district/street/community codes of the area it lies in, complaints also the
grid code. The polygons' boxes come first (a raster of them, :class:`PolygonBoxes`),
the exact predicate second; metric distances are measured in the city's
projected CRS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.coords import utm_srid
from layers.io.batch import Batch, Findings, Said
from layers.io.boxes import PolygonBoxes
from layers.io.reach import place_within_reach
from layers.io.shift_hint import IN_CITY_SAMPLE
from layers.spec import admin_areas
from layers.spec.model import values

LEVELS = values(admin_areas.LEVELS)  # coarse to fine
# Beyond this many rows outside the city, distances are not measured one by one.
_DISTANCE_LIMIT = 5000
_GRID_COLUMNS = "code, ST_AsBinary(geom), district_code, street_code, community_code"
_POINT = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
# The admin areas meeting a condition ({near}) and the areas above them, lowest code first.
_WITH_PARENTS = """WITH RECURSIVE held AS (
                       SELECT code, parent_code FROM admin_areas WHERE {near}
                       UNION SELECT a.code, a.parent_code FROM admin_areas a JOIN held h ON a.code = h.parent_code)
                   SELECT code, name, level, parent_code, ST_AsBinary(geom) FROM admin_areas
                   WHERE code IN (SELECT code FROM held) ORDER BY code"""


@dataclass
class AreaIndex:
    """Admin areas (and grids) of the target database, indexed for point look-ups."""

    codes: np.ndarray           # code per area
    names: np.ndarray
    levels: np.ndarray
    parents: dict[str, str | None]
    level_of: dict[str, str]
    geoms: np.ndarray
    grid_codes: np.ndarray
    grid_geoms: np.ndarray | None
    metric_srid: int
    extent_metric: object | None  # union of the areas in the metric CRS
    parts_tree: shapely.STRtree | None = None  # the outline's areas in the metric CRS
    grid_area_codes: dict[str, np.ndarray] | None = None
    _boxes: dict = field(default_factory=dict, repr=False)  # "grid" or a level → its PolygonBoxes, made once

    @property
    def empty(self) -> bool:
        return len(self.codes) == 0

    @classmethod
    def load(cls, conn, *, with_grids: bool = False) -> AreaIndex:
        """Read admin_areas (and grids when asked) from the database."""
        with conn.cursor() as cur:
            cur.execute("SELECT code, name, level, parent_code, ST_AsBinary(geom) FROM admin_areas")
            rows = cur.fetchall()
            grid_rows = []
            if with_grids:
                cur.execute(f"SELECT {_GRID_COLUMNS} FROM grids")
                grid_rows = cur.fetchall()
        return cls._of(conn, rows, grid_rows, outline=True)

    @classmethod
    def holding(cls, conn, lon: float, lat: float) -> AreaIndex:
        """The grids, else the admin areas (with the areas above them), holding one WGS84 point, lowest code first:
        what :meth:`route` needs to place that point (a complaint filed by hand) as an import places its rows."""
        point = {"lon": lon, "lat": lat}
        with conn.cursor() as cur:
            cur.execute(f"SELECT {_GRID_COLUMNS} FROM grids WHERE ST_Intersects(geom, {_POINT}) ORDER BY code",
                        point)
            grid_rows = cur.fetchall()
            rows = []
            if not grid_rows:  # a grid's row carries its areas' codes
                cur.execute(_WITH_PARENTS.format(near=f"ST_Intersects(geom, {_POINT})"), point)
                rows = cur.fetchall()
        return cls._of(conn, rows, grid_rows, outline=False)

    @classmethod
    def within(cls, conn, lon: float, lat: float, metres: float) -> AreaIndex:
        """The admin areas within ``metres`` of one WGS84 point (with the areas above them): what :meth:`nearest`
        needs to place a point in no area as an import places its rows (a complaint filed by hand on a pier)."""
        # A box first (the GiST index), in degrees of longitude, the wider ones; then the distance on the sphere.
        degrees = metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
        near = (f"geom && ST_Expand({_POINT}, %(degrees)s) "
                f"AND ST_DWithin(geom::geography, {_POINT}::geography, %(metres)s)")
        with conn.cursor() as cur:
            cur.execute(_WITH_PARENTS.format(near=near), {"lon": lon, "lat": lat, "degrees": degrees,
                                                          "metres": metres})
            rows = cur.fetchall()
        return cls._of(conn, rows, [], outline=False)

    @classmethod
    def _of(cls, conn, rows: list, grid_rows: list, *, outline: bool) -> AreaIndex:
        """The index of these rows of admin_areas and grids; ``outline``: with the city's extent in metres."""
        with conn.cursor() as cur:
            cur.execute("SELECT metric_srid FROM city_settings")
            srid_row = cur.fetchone()
        codes = np.array([r[0] for r in rows], dtype=object)
        names = np.array([r[1] for r in rows], dtype=object)
        levels = np.array([r[2] for r in rows], dtype=object)
        geoms = shapely.from_wkb([bytes(r[4]) for r in rows]) if rows else np.array([], dtype=object)
        grid_geoms = shapely.from_wkb([bytes(r[1]) for r in grid_rows]) if grid_rows else None
        grid_codes = np.array([r[0] for r in grid_rows], dtype=object)
        grid_area_codes = {level: np.array([r[2 + k] for r in grid_rows], dtype=object)
                           for k, level in enumerate(LEVELS)}
        extent = parts = None
        if rows and outline:
            # The coarsest level present is the city's outline.
            top = next(level for level in LEVELS if (levels == level).any())
            whole = shapely.union_all(geoms[levels == top])
            centre = whole.centroid
            srid = srid_row[0] if srid_row else utm_srid(centre.x, centre.y)
            extent = _to_metric(np.array([whole], dtype=object), srid)[0]
            shapely.prepare(extent)
            parts = shapely.STRtree(_to_metric(geoms[levels == top], srid))
        else:  # a city with no settings row: the UTM zone of its areas (distances of nearest() in metres)
            srid = srid_row[0] if srid_row else utm_srid(*shapely.centroid(geoms[0]).coords[0]) if rows else 4326
        return cls(codes, names, levels, {r[0]: r[3] for r in rows}, {r[0]: r[2] for r in rows}, geoms,
                   grid_codes, grid_geoms, srid, extent, parts, grid_area_codes)

    def metric_xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = Transformer.from_crs(4326, self.metric_srid, always_xy=True)
        x, y = t.transform(lon, lat)
        return np.asarray(x), np.asarray(y)

    def outside(self, lon: np.ndarray, lat: np.ndarray, tolerance_m: float,
                strict: list | None = None) -> np.ndarray:
        """Which points lie more than ``tolerance_m`` outside the city's areas.

        ``strict``, when a list, receives the mask of points outside at all (tolerance 0).
        """
        # Inside first (prepared outline, fast); then only the others are measured,
        # against the nearby areas the index finds (buffering a coastline is slow).
        x, y = self.metric_xy(lon, lat)
        out = ~shapely.intersects_xy(self.extent_metric, x, y)
        if strict is not None:
            strict.append(out.copy())
        idx = np.flatnonzero(out)
        if len(idx) and tolerance_m > 0:
            near, _ = self.parts_tree.query(shapely.points(x[idx], y[idx]), predicate="dwithin",
                                            distance=tolerance_m)
            out[idx[np.unique(near)]] = False
        return out

    def strictly_outside(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        x, y = self.metric_xy(lon, lat)
        return ~shapely.intersects_xy(self.extent_metric, x, y)

    def distance_m(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Metres from each point to the nearest of the city's areas (0 inside)."""
        x, y = self.metric_xy(lon, lat)
        (pt, _), dist = self.parts_tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
        out = np.full(len(x), np.nan)
        out[pt] = dist
        return out

    def route(self, lon: np.ndarray, lat: np.ndarray, *, grids: bool = False) -> dict[str, np.ndarray]:
        """district/street/community (and grid) codes, None where none, of the areas holding each point.

        Smallest units first: grids (whose rows carry their area codes), then
        communities, streets and districts for the points still unplaced,
        each through its :class:`PolygonBoxes` (made once per import); a point in
        several (on a shared edge) takes the first in the table's order. The
        level found fills the levels above it through parent_code.
        """
        n = len(lon)
        out = {f"{level}_code": np.full(n, None, dtype=object) for level in LEVELS}
        if grids:
            out["grid_code"] = np.full(n, None, dtype=object)
        if n == 0 or (self.empty and self.grid_geoms is None):
            return out
        placed = np.zeros(n, dtype=bool)
        if grids and self.grid_geoms is not None:
            found = self._boxes_of("grid").first_holding(lon, lat)
            placed = found >= 0
            out["grid_code"][placed] = self.grid_codes[found[placed]]
            for level in LEVELS:
                out[f"{level}_code"][placed] = self.grid_area_codes[level][found[placed]]
        for level in LEVELS[::-1]:  # community, street, district
            mask = self.levels == level
            if not mask.any() or placed.all():
                continue
            rest = np.flatnonzero(~placed)
            found = self._boxes_of(level).first_holding(lon[rest], lat[rest])
            hit = rest[found >= 0]
            if len(hit) == 0:
                continue
            codes = self.codes[mask][found[found >= 0]]
            chains = {code: self._chain(code) for code in set(codes)}
            for upper in LEVELS:
                lookup = {code: chain.get(upper) for code, chain in chains.items()}
                out[f"{upper}_code"][hit] = pd.Series(codes).map(lookup).to_numpy(dtype=object)
            placed[hit] = True
        return out

    def nearest(self, lon: np.ndarray, lat: np.ndarray, tolerance_m: float) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """For each point, the codes of the nearest area within ``tolerance_m`` of the finest level that has one (and
        of the areas above it), and the metres to that area: where a point in no area goes when the import's
        tolerance lets it in (a coastline drawn coarsely leaves a pier's toilet outside every outline). A finer level
        with no area within reach is left empty (None): a street 8 km away is not where a pier's complaint belongs."""
        n = len(lon)
        codes = np.full(n, None, dtype=object)
        metres = np.full(n, np.nan)
        x, y = self.metric_xy(lon, lat)
        points = shapely.points(x, y)
        for level in LEVELS[::-1]:  # community, street, district
            todo = np.flatnonzero(codes == None)  # noqa: E711
            if tolerance_m <= 0 or len(todo) == 0 or not (self.levels == level).any():
                continue
            (pt, area), dist = self._nearest_tree(level).query_nearest(
                points[todo], max_distance=tolerance_m, return_distance=True, all_matches=False)
            codes[todo[pt]] = self.codes[self.levels == level][area]
            metres[todo[pt]] = dist
        chains = {code: self._chain(code) for code in set(codes) if code is not None}
        return {f"{upper}_code": np.array([None if c is None else chains[c].get(upper) for c in codes], dtype=object)
                for upper in LEVELS}, metres

    def _nearest_tree(self, level: str) -> shapely.STRtree:
        """The level's areas in the metric CRS, indexed for nearest look-ups once per import."""
        key = f"nearest {level}"
        if key not in self._boxes:
            self._boxes[key] = shapely.STRtree(_to_metric(self.geoms[self.levels == level], self.metric_srid))
        return self._boxes[key]

    def _boxes_of(self, key: str) -> PolygonBoxes:
        """The grids' (key "grid") or a level's areas, indexed for point look-ups once per import."""
        if key not in self._boxes:
            self._boxes[key] = PolygonBoxes(self.grid_geoms if key == "grid" else self.geoms[self.levels == key])
        return self._boxes[key]

    def _chain(self, code: str) -> dict[str, str]:
        """level → code of an area and its ancestors (by parent_code)."""
        chain, seen, current = {}, set(), code
        while current is not None and current not in seen and current in self.level_of:
            seen.add(current)
            chain.setdefault(self.level_of[current], current)
            current = self.parents.get(current)
        return chain

    def district_names(self) -> dict[str, str]:
        """Normalised district name → code (for checking a stated district)."""
        mask = self.levels == "district"
        return {str(n).strip(): str(c) for n, c in zip(self.names[mask], self.codes[mask])}


def _to_metric(geoms: np.ndarray, srid: int) -> np.ndarray:
    t = Transformer.from_crs(4326, srid, always_xy=True)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)


def place(batch: Batch, areas: AreaIndex | None, crs: str) -> None:
    """Fill the layer's area codes: as the file states them, then by point-in-area; refuse rows outside the city."""
    spec, out, found, n = batch.spec, batch.out, batch.found, batch.n
    codes = {f.column: np.full(n, None, dtype=object) for f in spec.area_codes if f.column not in out}
    for code, col in batch.plan.code_cols.items():
        if code in codes:
            stated = batch.text(col)
            # a copy: with copy-on-write pandas hands out read-only views, and routing writes into these
            codes[code] = np.array(stated.where(stated != "", None), dtype=object)
    if areas is not None and not areas.empty and spec.rules.routing != "none":
        lon, lat = out["lon"], out["lat"]
        located = np.isfinite(lon) & np.isfinite(lat) & ~found.bad
        check_extent(areas, batch, located, crs)
        located = located & ~found.bad
        if spec.rules.routing == "points":
            routed = areas.route(lon[located], lat[located], grids="grid_code" in codes)
            place_within_reach(areas, routed, np.flatnonzero(located), lon, lat, found, batch.opts.tolerance_m)
            stated = {code: column.copy() for code, column in codes.items()}
            for code, column in codes.items():
                if code in routed:
                    column[located] = routed[code]
            if not spec.rules.points:
                _keep_stated_spans(areas, batch.out["geom"], stated, codes, located)
            if batch.plan.district_col and "district_code" in codes:
                _check_stated_district(areas, batch.text(batch.plan.district_col), codes["district_code"], located,
                                       batch.plan.district_col, found)
    out.update(codes)


def _keep_stated_spans(areas: AreaIndex, geoms: np.ndarray, stated: dict[str, np.ndarray],
                       codes: dict[str, np.ndarray], located: np.ndarray) -> None:
    """A line or polygon keeps the codes its file states when it reaches into every stated area.

    A road or a land parcel may span several areas; its representative point
    picks only one of them, so the routing would move a row stated (by its
    own export, say) in a street it does cross into the neighbour.
    """
    where = {code: i for i, code in enumerate(areas.codes)}
    rows = np.flatnonzero(located & np.any([v != None for v in stated.values()], axis=0))  # noqa: E711
    if len(rows) == 0:
        return
    keep = np.ones(len(rows), dtype=bool)
    for given_codes in stated.values():
        given = given_codes[rows] != None  # noqa: E711
        area = np.array([where.get(v, -1) for v in given_codes[rows]])
        keep &= ~given | (area >= 0)
        check = given & (area >= 0) & keep
        keep[check] = shapely.intersects(areas.geoms[area[check]], geoms[rows[check]])
    for code, given_codes in stated.items():
        held = rows[keep & (given_codes[rows] != None)]  # noqa: E711
        codes[code][held] = given_codes[held]


def check_extent(areas: AreaIndex, batch: Batch, located: np.ndarray, crs: str) -> None:
    """Points farther than the tolerance outside the city's admin areas are refused (swaps named as such)."""
    lon, lat, found = batch.out["lon"], batch.out["lat"], batch.found
    tolerance = batch.opts.tolerance_m
    idx = np.flatnonzero(located)
    if len(idx) == 0:
        return
    strict: list = []
    far = idx[areas.outside(lon[idx], lat[idx], tolerance, strict)]
    if len(far):
        swapped_in = ~areas.outside(lat[far], lon[far], tolerance)
        found.add(far[swapped_in], None, lambda i: Said(
            f"坐标 ({lon[i]:.6f}, {lat[i]:.6f}) 在本市以外，经纬度对调后在本市以内：经度、纬度两列填反了",
            f"({lon[i]:.6f}, {lat[i]:.6f}) lies outside the city, but with latitude and longitude exchanged it lies "
            "inside: the columns are swapped"))
        rest = _near_zero(batch, far[~swapped_in])
        dist = np.full(len(lon), np.nan)
        measured = rest[:_DISTANCE_LIMIT]
        if len(measured):
            dist[measured] = areas.distance_m(lon[measured], lat[measured])

        def reason(i):
            d = dist[i]
            how_far = f"{d / 1000:.1f} km" if d >= 1000 else f"{d:.0f} m"
            zh = how_far
            if not np.isfinite(d):
                how_far, zh = f"more than {tolerance:g} m", f"超过 {tolerance:g} m"
            return Said(f"坐标 ({lon[i]:.6f}, {lat[i]:.6f}) 在本市行政区以外 {zh}（容差 {tolerance:g} m，--tolerance）",
                        f"({lon[i]:.6f}, {lat[i]:.6f}) lies {how_far} outside the city's admin areas "
                        f"(tolerance {tolerance:g} m, --tolerance)")

        found.add(rest, None, reason)
    if crs == "wgs84":
        off, inside = idx[strict[0]], idx[~strict[0]]
        batch.state.off_city.append((lon[off], lat[off]))
        room = IN_CITY_SAMPLE - sum(len(x) for x, _ in batch.state.in_city)
        batch.state.in_city.append((lon[inside[:room]], lat[inside[:room]]))
        batch.state.in_city_n += len(inside)


#: A coordinate this close to 0° beside one that is not: an empty cell exported as 0 (New York's market at
#: longitude -0.00008), said as such with its column rather than as a point thousands of km away.
_ZERO_DEG = 0.01


def _near_zero(batch: Batch, far: np.ndarray) -> np.ndarray:
    """Of the points ``far`` outside the city, refuse those with one coordinate about 0 naming that column (an
    empty cell filled with zero); the rest, returned, are refused as lying outside."""
    lon, lat, cols = batch.out["lon"], batch.out["lat"], batch.plan.coord_columns
    for coord, other, col, zh, en in ((lon, lat, cols[0], "经度", "longitude"), (lat, lon, cols[1], "纬度", "latitude")):
        zero = (np.abs(coord[far]) < _ZERO_DEG) & (np.abs(other[far]) >= _ZERO_DEG)
        batch.found.add(far[zero], col, lambda i, v=coord, zh=zh, en=en: Said(
            f"{zh} {v[i]:.6f} 约为 0，点在本市以外（空单元格被填了零？）",
            f"{en} {v[i]:.6f} is about 0, which puts the point outside the city (an empty cell filled with zero?)"))
        far = far[~zero]
    return far


def _check_stated_district(areas: AreaIndex, stated: pd.Series, routed: np.ndarray, located: np.ndarray,
                           column: str, found: Findings) -> None:
    names = areas.district_names()
    if not names:
        return
    by_code = {c: n for n, c in names.items()}
    expected = stated.map(lambda t: names.get(t) or (t if t in by_code else None)).to_numpy(dtype=object)
    mismatch = located & pd.notna(expected) & pd.notna(routed) & (expected != routed)
    found.add(mismatch, column, lambda i: Said(f"所填区县为 {stated.iat[i]}，但点位于{by_code.get(routed[i], routed[i])}",
              f"states district {stated.iat[i]} but the point lies in {by_code.get(routed[i], routed[i])}"), "warning")
