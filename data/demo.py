"""Load a generated demo city into PostGIS with COPY, in one transaction."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon

from data.demo_city import DATA_END, METRIC_SRID, DemoCity, metric_origin, to_lonlat_transformer

LAYER_TABLES = [
    "complaint_events", "complaints", "grid_assignments", "grids", "inspections", "health_trails",
    "garbage_stations", "toilets", "markets", "urban_villages", "land_use", "roads", "admin_areas",
]
SOURCE = "demo"
COMPLAINT_CHUNK = 100_000


# Straight metric edges bend under projection; polygons that share a border
# must bend alike, so their edges are densified before projecting.
DENSIFY_M = 25.0


def _to_wgs84(geoms: list | np.ndarray) -> np.ndarray:
    """Metric demo geometries → EPSG:4326, vectorized over all coordinates."""
    geoms = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(geoms)
    geoms = np.where(kinds >= 3, shapely.segmentize(geoms, DENSIFY_M), geoms)
    # segmentize turns a one-part MultiPolygon into a Polygon: restore the type.
    collapsed = (kinds == 6) & (shapely.get_type_id(geoms) == 3)
    geoms[collapsed] = [MultiPolygon([g]) for g in geoms[collapsed]]
    e0, n0 = metric_origin()
    transformer = to_lonlat_transformer()

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0] + e0, xy[:, 1] + n0)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, move)


def _ewkb(geoms: np.ndarray) -> np.ndarray:
    return shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)


class _AreaLookup:
    """Point-in-community routing of metric geometries to their area codes."""

    def __init__(self, city: DemoCity):
        comms = [a for a in city.areas if a.level == "community"]
        self.geoms = np.array([a.geom for a in comms], dtype=object)
        self.codes = np.array([a.code for a in comms])
        self.tree = shapely.STRtree(self.geoms)

    def community_of(self, geoms: np.ndarray) -> np.ndarray:
        points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
        found = np.full(len(points), -1)
        pairs = self.tree.query(points, predicate="intersects")
        found[pairs[0][::-1]] = pairs[1][::-1]  # first match wins
        missing = found < 0
        if missing.any():
            found[missing] = self.tree.nearest(points[missing])
        return self.codes[found]


def _copy_rows(cur, table: str, columns: list[str], rows: Iterable[list]) -> int:
    buf = io.StringIO()
    writer = csv.writer(buf)
    count = 0
    for row in rows:
        writer.writerow(["\\N" if v is None else v for v in row])
        count += 1
    buf.seek(0)
    cols = ", ".join(columns)
    cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf)
    return count


def _with_codes(codes: np.ndarray) -> list[tuple[str, str, str]]:
    return [(c[:6], c[:9], c) for c in codes]


def _copy_features(cur, table: str, items: list[dict], columns: list[str], lookup: _AreaLookup, *,
                   area_columns: tuple[str, ...] = ("district_code", "street_code", "community_code")) -> int:
    if not items:
        return 0
    metric = [it["geom"] for it in items]
    hexes = _ewkb(_to_wgs84(metric))
    codes = _with_codes(lookup.community_of(metric))
    picks = {"district_code": 0, "street_code": 1, "community_code": 2}

    def rows():
        for k, (it, hx, code3) in enumerate(zip(items, hexes, codes)):
            values = [it.get(c) for c in columns]
            values = [json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in values]
            yield [SOURCE, f"{table}-{k + 1}", *values, *[code3[picks[a]] for a in area_columns], hx]

    return _copy_rows(cur, table, ["source", "source_id", *columns, *area_columns, "geom"], rows())


def load(conn, city: DemoCity, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Replace every layer with the demo city, in one transaction. Returns row counts."""
    step = progress or (lambda label, n: None)
    counts: dict[str, int] = {}
    lookup = _AreaLookup(city)
    with conn.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(LAYER_TABLES) + " RESTART IDENTITY CASCADE")
        # Demo time limits match the generator's (they are city configuration).
        step("admin_areas", 0)
        hexes = _ewkb(_to_wgs84([a.geom for a in city.areas]))
        counts["admin_areas"] = _copy_rows(
            cur, "admin_areas",
            ["level", "code", "name", "name_en", "parent_code", "population", "source", "source_id", "geom"],
            ([a.level, a.code, a.name, a.name_en, a.parent_code, a.population, SOURCE, a.code, hx]
             for a, hx in zip(city.areas, hexes)),
        )
        step("roads", 0)
        road_hex = _ewkb(_to_wgs84([r["geom"] for r in city.roads]))
        road_codes = _with_codes(lookup.community_of([r["geom"] for r in city.roads]))
        counts["roads"] = _copy_rows(
            cur, "roads", ["source", "source_id", "name", "class", "district_code", "street_code", "geom"],
            ([SOURCE, f"roads-{k + 1}", r["name"], r["class"], c[0], c[1], hx]
             for k, (r, hx, c) in enumerate(zip(city.roads, road_hex, road_codes))),
        )
        step("land_use", 0)
        lu_hex = _ewkb(_to_wgs84([r["geom"] for r in city.land_use]))
        lu_codes = _with_codes(lookup.community_of([r["geom"] for r in city.land_use]))
        counts["land_use"] = _copy_rows(
            cur, "land_use", ["source", "source_id", "class", "district_code", "geom"],
            ([SOURCE, f"land_use-{k + 1}", r["class"], c[0], hx]
             for k, (r, hx, c) in enumerate(zip(city.land_use, lu_hex, lu_codes))),
        )
        step("facilities", 0)
        counts["urban_villages"] = _copy_features(
            cur, "urban_villages", city.urban_villages,
            ["name", "kind", "population", "renovation_status", "attributes"], lookup)
        counts["markets"] = _copy_features(
            cur, "markets", city.markets, ["name", "kind", "stalls", "opening_hours", "operator", "attributes"], lookup)
        counts["toilets"] = _copy_features(
            cur, "toilets", city.toilets,
            ["name", "grade", "kind", "opening_hours", "seats", "accessible", "manager_unit"], lookup)
        counts["garbage_stations"] = _copy_features(
            cur, "garbage_stations", city.garbage_stations,
            ["name", "kind", "capacity_t_per_day", "sorted", "schedule"], lookup)
        counts["health_trails"] = _copy_features(
            cur, "health_trails", city.health_trails,
            ["name", "kind", "length_m", "width_m", "equipment_kinds", "attributes"], lookup)
        step("grids", 0)
        grid_hex = _ewkb(_to_wgs84([g["geom"] for g in city.grids]))
        grid_cols = ["code", "name", "district_code", "street_code", "community_code",
                     "responsible_unit", "grid_manager", "phone"]
        counts["grids"] = _copy_rows(
            cur, "grids", [*grid_cols, "source", "source_id", "attributes", "geom"],
            ([*[g[c] for c in grid_cols], SOURCE, g["code"], json.dumps(g["attributes"]), hx]
             for g, hx in zip(city.grids, grid_hex)),
        )
        cur.execute(
            """INSERT INTO grid_assignments (grid_code, responsible_unit, grid_manager, phone, reason, changed_by, changed_at)
               SELECT code, responsible_unit, grid_manager, phone, '演示数据初始分配', 'demo', %s FROM grids""",
            (DATA_END,),
        )
        counts["complaints"] = _copy_complaints(cur, city, step)
        step("complaint history", 0)
        cur.execute(
            """INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at)
               SELECT id, NULL, status, '演示数据导入', 'demo', coalesce(closed_at, reported_at) FROM complaints"""
        )
        cur.execute(
            """INSERT INTO city_settings (code, name, name_en, metric_srid, is_demo, data_time, attribution)
               VALUES (%s, %s, %s, %s, true, %s, %s)
               ON CONFLICT (singleton) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name,
                   name_en = EXCLUDED.name_en, metric_srid = EXCLUDED.metric_srid, is_demo = true,
                   data_time = EXCLUDED.data_time, attribution = EXCLUDED.attribution, updated_at = now()""",
            ("379900", city.name, city.name_en, METRIC_SRID, DATA_END,
             f"演示数据（虚构）scale={city.scale.name} seed={city.seed} / synthetic demo data"),
        )
    conn.commit()
    old = conn.autocommit
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.autocommit = old
    return counts


def _copy_complaints(cur, city: DemoCity, step) -> int:
    cols = city.complaints
    n = len(cols["x"])
    grid_geoms = np.array([g["geom"] for g in city.grids], dtype=object)
    grid_codes = np.array([g["code"] for g in city.grids])
    tree = shapely.STRtree(grid_geoms)
    e0, n0 = metric_origin()
    transformer = to_lonlat_transformer()
    written = 0
    for start in range(0, n, COMPLAINT_CHUNK):
        stop = min(n, start + COMPLAINT_CHUNK)
        x, y = cols["x"][start:stop], cols["y"][start:stop]
        points = shapely.points(x, y)
        found = np.full(len(points), -1)
        pairs = tree.query(points, predicate="intersects")
        found[pairs[0][::-1]] = pairs[1][::-1]
        missing = found < 0
        if missing.any():
            found[missing] = tree.nearest(points[missing])
        grid = grid_codes[found]
        lon, lat = transformer.transform(x + e0, y + n0)
        geom = shapely.to_wkb(shapely.set_srid(shapely.points(lon, lat), 4326), hex=True, include_srid=True)
        frame = pd.DataFrame(
            {
                "source": SOURCE,
                "source_id": np.char.add("c-", np.arange(start + 1, stop + 1).astype(str)),
                "channel": cols["channel"][start:stop],
                "category": cols["category"][start:stop],
                "reported_at": _iso(cols["reported_at"][start:stop]),
                "status": cols["status"][start:stop],
                "due_at": _iso(cols["due_at"][start:stop]),
                "closed_at": _iso(cols["closed_at"][start:stop]),
                "district_code": [g[:6] for g in grid],
                "street_code": [g[:9] for g in grid],
                "community_code": [g[:12] for g in grid],
                "grid_code": grid,
                "geom": geom,
            }
        )
        buf = io.StringIO()
        frame.to_csv(buf, header=False, index=False, na_rep="\\N")
        buf.seek(0)
        cur.copy_expert(
            f"COPY complaints ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf
        )
        written += stop - start
        step("complaints", stop - start)
    return written


def _iso(values: np.ndarray) -> np.ndarray:
    """UTC datetime64 → ISO text with an explicit zone; NaT → NULL."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    return np.where(np.isnat(values), "\\N", np.char.add(text.astype(str), "+00"))
