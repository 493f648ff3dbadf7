"""Load a generated demo city into PostGIS with COPY, in the caller's transaction."""

from __future__ import annotations

import csv
import io
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import repeat

import numpy as np
import shapely
from psycopg2 import sql
from pyproj import Transformer
from shapely.geometry import MultiPolygon

from data.catalog import write_city
from data.demo.bulk import REPLACED_TRIGGERS, bulk_tables, check_metric, facility_history_once, fill_derived
from data.demo.inspections import load_inspections
from data.demo.model import DATA_END, METRIC_SRID, DemoCity, metric_origin, to_lonlat_transformer
from data.settings import ImportSettings
from geo.coords import point_ewkb_hex
from geo.grids import DENSIFY_M

LAYER_TABLES = [
    "complaint_events", "complaints", "grid_assignments", "grids", "inspection_events", "inspection_findings",
    "inspection_rounds", "health_trails",
    "garbage_stations", "toilets", "markets", "urban_villages", "land_use", "roads", "admin_areas",
]
SOURCE = "demo"
COMPLAINT_CHUNK = 100_000
# Facility layers: table → the city's attribute columns copied (area codes and geometry are added).
_FACILITIES = {
    "urban_villages": ["name", "kind", "population", "renovation_status", "attributes"],
    "markets": ["name", "kind", "stalls", "opening_hours", "operator", "attributes"],
    "toilets": ["name", "grade", "kind", "opening_hours", "seats", "accessible", "manager_unit"],
    "garbage_stations": ["name", "kind", "capacity_t_per_day", "sorted", "schedule"],
    "health_trails": ["name", "kind", "length_m", "width_m", "equipment_kinds", "attributes"],
}
_AREA_CODES = ("district_code", "street_code", "community_code")
# A community code begins with its street's code, which begins with its district's.
_CODE_LENGTH = {"district_code": 6, "street_code": 9, "community_code": 12}




def load(conn, city: DemoCity, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Replace every layer with the demo city, in the caller's transaction; returns row counts by table.

    Every layer table is emptied first, so loading twice replaces, never
    adds. The planner statistics are refreshed in the same transaction.
    ``progress(label, rows)`` is told what is being loaded.
    """
    step = progress or (lambda label, n: None)
    communities = city.communities()
    lookup = _Nearest([a.geom for a in communities], [a.code for a in communities])
    with conn.cursor() as cur:
        # A million complaints in one COPY outlast the per-request time-out, as an import does.
        cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(ImportSettings.from_env().statement_timeout_ms),))
        # A schema migrated only part way (tests of older migrations) lacks the later tables and columns.
        cur.execute("SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NOT NULL", (LAYER_TABLES,))
        present = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'complaints'::regclass "
                    "AND attname = 'metric_x' AND NOT attisdropped)")
        metric = cur.fetchone()[0]
        # The complaint rows are made in a thread from now on, while the other layers are written.
        stream = _ChunkStream(_complaint_chunks(city, metric), step)
        try:
            cur.execute("TRUNCATE " + ", ".join(present) + " RESTART IDENTITY CASCADE")
            # The city's CRS first: what the layers store in it (the grids' lattice origin) is in the demo's
            # CRS already, and a change of CRS written after them would re-project it as the old city's.
            _set_city(conn, city)
            counts = _copy_layers(cur, city, lookup, step)
            counts["complaints"] = _copy_complaints(cur, len(city.complaints["x"]), metric, stream)
        finally:
            stream.close()
        if "inspection_findings" in present:
            step("inspections", 0)
            counts["inspection_findings"] = load_inspections(cur)
        # Every table: triggers fill some besides the layers (complaint cells, change log).
        cur.execute("ANALYZE")
    return counts


def _copy_layers(cur, city: DemoCity, lookup: _Nearest, step) -> dict[str, int]:
    """Every layer but the complaints; returns row counts by table."""
    step("admin_areas", 0)
    counts = {"admin_areas": _copy_areas(cur, city)}
    step("roads", 0)
    counts["roads"] = _copy_features(cur, "roads", city.roads, ["name", "class"], lookup,
                                     area_columns=_AREA_CODES[:2])
    step("land_use", 0)
    counts["land_use"] = _copy_features(cur, "land_use", city.land_use, ["class"], lookup,
                                        area_columns=_AREA_CODES[:1])
    step("facilities", 0)
    for table, columns in _FACILITIES.items():
        counts[table] = _copy_features(cur, table, getattr(city, table), columns, lookup)
    step("grids", 0)
    counts["grids"] = _copy_grids(cur, city)
    return counts


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


class _Nearest:
    """The code of the polygon containing each geometry (its point on surface), else of the nearest one."""

    def __init__(self, geoms: list, codes: list[str]):
        self.codes = np.array(codes)
        self.tree = shapely.STRtree(np.array(geoms, dtype=object))

    def codes_of(self, geoms) -> np.ndarray:
        return self.codes_of_points(shapely.point_on_surface(np.asarray(geoms, dtype=object)))

    def codes_of_points(self, points: np.ndarray) -> np.ndarray:
        """The code of the polygon containing each point, else of the nearest one."""
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
    _copy_csv(cur, table, columns, buf)
    return count


def _copy_csv(cur, table: str, columns, buf: io.StringIO) -> None:
    cur.copy_expert(sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)), buf)


def _copy_areas(cur, city: DemoCity) -> int:
    hexes = _ewkb(_to_wgs84([a.geom for a in city.areas]))
    return _copy_rows(
        cur, "admin_areas",
        ["level", "code", "name", "name_en", "parent_code", "population", "source", "source_id", "geom"],
        ([a.level, a.code, a.name, a.name_en, a.parent_code, a.population, SOURCE, a.code, hx]
         for a, hx in zip(city.areas, hexes)),
    )


def _copy_features(cur, table: str, items: list[dict], columns: list[str], lookup: _Nearest, *,
                   area_columns: tuple[str, ...] = _AREA_CODES) -> int:
    """COPY rows with ``columns`` from ``items``, the area codes of the community each lies in, and geometry."""
    if not items:
        return 0
    metric = [it["geom"] for it in items]
    hexes = _ewkb(_to_wgs84(metric))
    codes = [[code[:_CODE_LENGTH[a]] for a in area_columns] for code in lookup.codes_of(metric)]

    def rows():
        for k, (it, hx, area) in enumerate(zip(items, hexes, codes)):
            values = [it.get(c) for c in columns]
            values = [json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in values]
            yield [SOURCE, f"{table}-{k + 1}", *values, *area, hx]

    with facility_history_once(cur, table):
        return _copy_rows(cur, table, ["source", "source_id", *columns, *area_columns, "geom"], rows())


def _copy_grids(cur, city: DemoCity) -> int:
    """The grids, and their first assignment as history."""
    hexes = _ewkb(_to_wgs84([g["geom"] for g in city.grids]))
    columns = ["code", "name", "district_code", "street_code", "community_code",
               "responsible_unit", "grid_manager", "phone"]
    count = _copy_rows(
        cur, "grids", [*columns, "source", "source_id", "attributes", "geom"],
        ([*[g[c] for c in columns], SOURCE, g["code"], json.dumps(g["attributes"]), hx]
         for g, hx in zip(city.grids, hexes)),
    )
    cur.execute(
        """INSERT INTO grid_assignments (grid_code, responsible_unit, grid_manager, phone, reason, changed_by, changed_at)
           SELECT code, responsible_unit, grid_manager, phone, '演示数据初始分配', 'demo', %s FROM grids""",
        (DATA_END,),
    )
    return count


def _copy_complaints(cur, n: int, metric: bool, stream: _ChunkStream) -> int:
    """The ``n`` complaints from ``stream`` in one COPY and their first history row, the bulk way
    (:mod:`data.demo.bulk`); with ``metric`` the rows carry the metric pair."""
    columns = ["source", "source_id", "channel", "category", "reported_at", "status", "due_at", "closed_at",
               *_AREA_CODES, "grid_code", "geom", *(("metric_srid", "metric_x", "metric_y") if metric else ())]
    with bulk_tables(cur, ("complaints", "complaint_events"), REPLACED_TRIGGERS):
        cur.copy_expert(sql.SQL("COPY complaints ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, columns))), stream, size=1 << 20)
        stream.finish()
        if metric:
            check_metric(cur, n)
        stream.step("complaint history", 0)
        cur.execute(
            """INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at)
               SELECT id, NULL, status, '演示数据导入', 'demo', coalesce(closed_at, reported_at) FROM complaints"""
        )
        fill_derived(cur, n)
    return n


def _complaint_chunks(city: DemoCity, metric: bool) -> Iterator[tuple[bytes, int]]:
    """COPY text of the complaints, COMPLAINT_CHUNK rows at a time, each routed to the grid containing it (else
    the nearest); with ``metric``, the metric pair the table's trigger would compute (:mod:`data.demo.bulk`)."""
    cols = city.complaints
    n = len(cols["x"])
    grids = _Nearest([g["geom"] for g in city.grids], [g["code"] for g in city.grids])
    e0, n0 = metric_origin()
    to_lonlat = to_lonlat_transformer()
    to_metric = Transformer.from_crs(4326, METRIC_SRID, always_xy=True)
    for start in range(0, n, COMPLAINT_CHUNK):
        stop = min(n, start + COMPLAINT_CHUNK)
        x, y = cols["x"][start:stop], cols["y"][start:stop]
        grid = grids.codes_of_points(shapely.points(x, y))
        lon, lat = to_lonlat.transform(x + e0, y + n0)
        fields = [
            repeat(SOURCE), [f"c-{k}" for k in range(start + 1, stop + 1)],
            cols["channel"][start:stop].tolist(), cols["category"][start:stop].tolist(),
            _utc_text(cols["reported_at"][start:stop]), cols["status"][start:stop].tolist(),
            _utc_text(cols["due_at"][start:stop]), _utc_text(cols["closed_at"][start:stop]),
            # A fixed-width text array cast to a narrower one keeps the leading characters: the area codes.
            *(grid.astype(f"U{_CODE_LENGTH[a]}").tolist() for a in _AREA_CODES), grid.tolist(),
            point_ewkb_hex(lon, lat),
        ]
        if metric:
            mx, my = to_metric.transform(lon, lat)
            # repr of a float is its shortest exact decimal: the server reads back the same double.
            fields += [repeat(str(METRIC_SRID)), list(map(repr, mx.tolist())), list(map(repr, my.tolist()))]
        yield ("\n".join(map("\t".join, zip(*fields))) + "\n").encode(), stop - start


class _ChunkStream:
    """A COPY source made in a thread, up to two chunks ahead; ``step`` is told of each chunk handed over.

    An error while making the rows ends the COPY early and is raised by
    :meth:`finish`; :meth:`close` stops the thread when the rows are not all read.
    """

    def __init__(self, chunks: Iterator[tuple[bytes, int]], step):
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self.step, self._error, self._closed = step, None, False
        self._thread = threading.Thread(target=self._make, args=(chunks,), daemon=True)
        self._thread.start()

    def _make(self, chunks) -> None:
        try:
            for chunk in chunks:
                if self._closed:
                    return
                self._queue.put(chunk)
        except Exception as exc:  # handed to the reading side
            self._error = exc
        self._queue.put((b"", 0))

    def read(self, size: int = -1) -> bytes:
        data, rows = self._queue.get()
        if rows:
            self.step("complaints", rows)
        return data

    readline = read

    def finish(self) -> None:
        """Wait for the thread; raise its error, if any."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Stop the thread (it may be waiting for room in the queue)."""
        self._closed = True
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.1)
            except queue.Empty:
                pass


def _set_city(conn, city: DemoCity) -> None:
    """The demo city's settings row (code, names, metric CRS, data time), marked as demo data."""
    write_city(conn, code="379900", name=city.name, name_en=city.name_en, metric_srid=METRIC_SRID, is_demo=True,
               data_time=DATA_END,
               attribution=f"演示数据（虚构）scale={city.scale.name} seed={city.seed} / synthetic demo data")


def _utc_text(values: np.ndarray) -> list[str]:
    """UTC datetime64 → ISO text with its zone (Z); NaT → NULL."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s", timezone="UTC")
    return np.where(np.isnat(values), "\\N", text).tolist()
