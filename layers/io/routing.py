"""The city's admin areas in memory, for routing imported rows and checking their extent.

Point-in-area at insert (FixMyStreet-style, DESIGN §11): each row gets the
district/street/community codes of the area it lies in, complaints also the
grid code. The spatial index comes first (STRtree), the exact predicate
second; metric distances are measured in the city's projected CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.coords import utm_srid

LEVELS = ("district", "street", "community")


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

    @property
    def empty(self) -> bool:
        return len(self.codes) == 0

    @classmethod
    def load(cls, conn, *, with_grids: bool = False) -> AreaIndex:
        """Read admin_areas (and grids when asked) from the database."""
        with conn.cursor() as cur:
            cur.execute("SELECT code, name, level, parent_code, ST_AsBinary(geom) FROM admin_areas")
            rows = cur.fetchall()
            cur.execute("SELECT metric_srid FROM city_settings")
            srid_row = cur.fetchone()
            grid_rows = []
            if with_grids:
                cur.execute("SELECT code, ST_AsBinary(geom), district_code, street_code, community_code FROM grids")
                grid_rows = cur.fetchall()
        codes = np.array([r[0] for r in rows], dtype=object)
        names = np.array([r[1] for r in rows], dtype=object)
        levels = np.array([r[2] for r in rows], dtype=object)
        geoms = shapely.from_wkb([bytes(r[4]) for r in rows]) if rows else np.array([], dtype=object)
        grid_geoms = shapely.from_wkb([bytes(r[1]) for r in grid_rows]) if grid_rows else None
        grid_codes = np.array([r[0] for r in grid_rows], dtype=object)
        grid_area_codes = {level: np.array([r[2 + k] for r in grid_rows], dtype=object)
                           for k, level in enumerate(LEVELS)}
        extent = None
        if rows:
            # The coarsest level present is the city's outline.
            top = next(level for level in LEVELS if (levels == level).any())
            outline = shapely.union_all(geoms[levels == top])
            centre = outline.centroid
            srid = srid_row[0] if srid_row else utm_srid(centre.x, centre.y)
            extent = _to_metric(np.array([outline], dtype=object), srid)[0]
            shapely.prepare(extent)
            parts = shapely.STRtree(_to_metric(geoms[levels == top], srid))
        else:
            srid = srid_row[0] if srid_row else 4326
            parts = None
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

        The point index is built once and queried once per polygon (each
        polygon prepared once), smallest units first: grids (whose rows carry
        their area codes), then communities, streets and districts for the
        points still unplaced. The level found fills the levels above it
        through parent_code.
        """
        n = len(lon)
        out = {f"{level}_code": np.full(n, None, dtype=object) for level in LEVELS}
        if grids:
            out["grid_code"] = np.full(n, None, dtype=object)
        if n == 0 or (self.empty and self.grid_geoms is None):
            return out
        points = shapely.points(lon, lat)
        point_tree = shapely.STRtree(points)
        placed = np.zeros(n, dtype=bool)
        if grids and self.grid_geoms is not None:
            grid_idx, pt_idx = point_tree.query(self.grid_geoms, predicate="intersects")
            found = np.full(n, -1)
            found[pt_idx[::-1]] = grid_idx[::-1]  # first match wins
            placed = found >= 0
            out["grid_code"][placed] = self.grid_codes[found[placed]]
            for level in LEVELS:
                out[f"{level}_code"][placed] = self.grid_area_codes[level][found[placed]]
        for level in LEVELS[::-1]:  # community, street, district
            mask = self.levels == level
            if not mask.any() or placed.all():
                continue
            area_idx, pt_idx = point_tree.query(self.geoms[mask], predicate="intersects")
            keep = ~placed[pt_idx]
            area_idx, pt_idx = area_idx[keep], pt_idx[keep]
            if len(pt_idx) == 0:
                continue
            found = np.full(n, -1)
            found[pt_idx[::-1]] = area_idx[::-1]
            hit = found >= 0
            codes = self.codes[mask][found[hit]]
            chains = {code: self._chain(code) for code in set(codes)}
            for upper in LEVELS:
                lookup = {code: chain.get(upper) for code, chain in chains.items()}
                out[f"{upper}_code"][hit] = pd.Series(codes).map(lookup).to_numpy(dtype=object)
            placed |= hit
        return out

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
