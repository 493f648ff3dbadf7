"""Coverage % against a brute-force shapely computation with exact circles (small demo and Taipei)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import shapely
import shapely.ops
from pyproj import Transformer
from shapely.geometry import shape
from shapely.ops import unary_union

from data.db import connect
from data.migrate import migrate
from geo.coverage import AREA_FACTOR, QUAD_SEGS, RADIAL_ERROR, coverage
from tests.conftest import REAL_DATA

# 4 × 512 vertices: the area of this polygon is within 2e-6 of the circle's, i.e. "exact" here.
EXACT_QUAD_SEGS = 512


def _metric(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT metric_srid FROM city_settings")
        srid = cur.fetchone()[0]
    return Transformer.from_crs(4326, srid, always_xy=True)


def _brute_force(conn, level_sql: str, facility_sql: str, radius: float):
    """(code → covered area %, code → covered population % over residential land or area) with shapely."""
    tr = _metric(conn)
    with conn.cursor() as cur:
        cur.execute(facility_sql)
        pts = np.array(cur.fetchall(), dtype=float)
        cur.execute(level_sql)
        areas = cur.fetchall()
        cur.execute("SELECT ST_AsBinary(geom) FROM land_use WHERE class = 'R'")
        residential = [shapely.transform(shapely.from_wkb(bytes(r[0])), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
                       for r in cur.fetchall()]
    x, y = tr.transform(pts[:, 0], pts[:, 1])
    discs = unary_union(shapely.buffer(shapely.points(x, y), radius, quad_segs=EXACT_QUAD_SEGS))
    res_union = unary_union(residential) if residential else None
    area_pct, pop_pct = {}, {}
    for code, wkb in areas:
        g = shapely.transform(shapely.from_wkb(bytes(wkb)), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        area_pct[code] = 100 * g.intersection(discs).area / g.area
        res = g.intersection(res_union) if res_union is not None else None
        if res is not None and res.area > 0:
            pop_pct[code] = 100 * res.intersection(discs).area / res.area
        else:
            pop_pct[code] = area_pct[code]
    return area_pct, pop_pct


def test_polygon_circle_error_bound(demo_conn):
    """The disc PostGIS draws has the circle's area and stays within RADIAL_ERROR·r of it."""
    assert RADIAL_ERROR < 1e-3
    with demo_conn.cursor() as cur:
        cur.execute(
            """SELECT ST_Area(d), ST_HausdorffDistance(ST_ExteriorRing(d), ST_ExteriorRing(ST_Buffer(p, 300, 4096)))
               FROM (SELECT ST_Buffer(p, 300 * %s, %s) AS d, p FROM (SELECT ST_MakePoint(500000, 4150000) p) a) b""",
            (AREA_FACTOR, f"quad_segs={QUAD_SEGS}"),
        )
        area, hausdorff = cur.fetchone()
    assert area == pytest.approx(math.pi * 300**2, rel=1e-9)
    assert hausdorff <= RADIAL_ERROR * 300 + 1e-6


@pytest.mark.parametrize("by", ["community", "street", "district"])
def test_small_demo_coverage_equals_shapely(demo_conn, by):
    result = coverage(demo_conn, "toilets", by=by)
    assert result["radius_m"] == 300 and result["rule"].id == "toilet_radius_mandatory"
    area_pct, _ = _brute_force(
        demo_conn, f"SELECT code, ST_AsBinary(geom) FROM admin_areas WHERE level = '{by}'",
        "SELECT ST_X(geom), ST_Y(geom) FROM toilets", 300.0)
    # Population: spread over each community's residential land; higher levels add up their communities.
    _, community_pct = _brute_force(
        demo_conn, "SELECT code, ST_AsBinary(geom) FROM admin_areas WHERE level = 'community'",
        "SELECT ST_X(geom), ST_Y(geom) FROM toilets", 300.0)
    with demo_conn.cursor() as cur:
        cur.execute("SELECT code, population FROM admin_areas WHERE level = 'community'")
        community_pop = dict(cur.fetchall())
    assert {r["code"] for r in result["rows"]} == set(area_pct)
    for row in result["rows"]:
        assert row["covered_area_pct"] == pytest.approx(area_pct[row["code"]], abs=0.1)
        inside = [c for c in community_pop if c.startswith(row["code"])]
        people = sum(community_pop[c] for c in inside)
        expected = sum(community_pop[c] * community_pct[c] for c in inside) / people
        assert row["population"] == people
        assert row["covered_pop_pct"] == pytest.approx(expected, abs=0.1)
    assert result["summary"]["covered_pop_pct"] == pytest.approx(
        sum(community_pop[c] * community_pct[c] for c in community_pop) / sum(community_pop.values()), abs=0.1)
    # The demo has real gaps: not everything is covered.
    assert any(r["covered_area_pct"] < 90 for r in result["rows"])


def test_garbage_points_and_gaps(demo_conn):
    result = coverage(demo_conn, "garbage_points", by="community", gaps=True)
    assert result["radius_m"] == 120
    area_pct, _ = _brute_force(
        demo_conn, "SELECT code, ST_AsBinary(geom) FROM admin_areas WHERE level = 'community'",
        "SELECT ST_X(geom), ST_Y(geom) FROM garbage_stations WHERE kind = '收集点'", 120.0)
    tr = _metric(demo_conn)
    for row in result["rows"]:
        assert row["covered_area_pct"] == pytest.approx(area_pct[row["code"]], abs=0.1)
        gap = shapely.transform(shape(json.loads(row["gaps"])),
                                lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        assert 100 * gap.area / (row["area_km2"] * 1e6) == pytest.approx(100 - row["covered_area_pct"], abs=0.1)


def test_grids_have_no_population(demo_conn):
    result = coverage(demo_conn, "toilets", by="grid", code_prefix="379901001")
    assert result["rows"] and all(r["covered_pop_pct"] is None for r in result["rows"])
    assert all(r["code"].startswith("379901001") for r in result["rows"])


def test_bad_parameters(demo_conn):
    from data.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match="kind"):
        coverage(demo_conn, "fountains")
    with pytest.raises(InvalidParameter, match="radius"):
        coverage(demo_conn, "markets")  # no standard radius for markets
    with pytest.raises(InvalidParameter, match="by"):
        coverage(demo_conn, "toilets", by="planet")


@pytest.fixture(scope="module")
def taipei_db(pg_server):
    """Taipei villages (里) as communities and the city's public toilets, loaded with plain SQL."""
    from tests.conftest import create_database, drop_database

    villages = REAL_DATA / "taipei" / "taipei_villages_li.geojson"
    toilets = REAL_DATA / "taipei" / "taipei_public_toilets.csv"
    if not villages.exists() or not toilets.exists():
        pytest.skip("Taipei real data not present")
    url = create_database(pg_server[0])
    conn = connect(url=url)
    migrate(conn)
    features = json.loads(villages.read_text(encoding="utf-8"))["features"]
    with conn.cursor() as cur:
        # Taipei lies in UTM zone 51N, like the demo city.
        cur.execute("INSERT INTO city_settings (code, name, metric_srid, attribution) "
                    "VALUES ('630000', '臺北市', 32651, 'data.taipei, Open Government Data License, Taiwan 1.0')")
        for f in features:
            p = f["properties"]
            cur.execute(
                "INSERT INTO admin_areas (level, code, name, source, source_id, geom) VALUES "
                "('community', %s, %s, 'data.taipei', %s, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)))",
                (p["CPTVID"], p["VNAME"], p["CPTVID"], json.dumps(f["geometry"])),
            )
        with toilets.open(encoding="utf-8-sig", newline="") as fh:
            rows = [(r["公廁名稱"], float(r["經度"]), float(r["緯度"])) for r in csv.DictReader(fh)]
        cur.executemany("INSERT INTO toilets (name, source, geom) VALUES (%s, 'data.taipei', "
                        "ST_SetSRID(ST_MakePoint(%s, %s), 4326))", rows)
    conn.commit()
    conn.close()
    yield url
    drop_database(url)


def test_taipei_toilets_by_village_equal_shapely(taipei_db):
    conn = connect(url=taipei_db)
    try:
        result = coverage(conn, "toilets", by="community")
        area_pct, _ = _brute_force(conn, "SELECT code, ST_AsBinary(geom) FROM admin_areas",
                                   "SELECT ST_X(geom), ST_Y(geom) FROM toilets", 300.0)
    finally:
        conn.close()
    assert len(result["rows"]) == 456
    worst = max(abs(r["covered_area_pct"] - area_pct[r["code"]]) for r in result["rows"])
    assert worst < 0.1
    assert all(r["covered_pop_pct"] is None for r in result["rows"])  # no population in this file


def _walked_area(lines: list, toilets_xy: tuple[np.ndarray, np.ndarray], limit_m: float = 300.0):
    """The stretches of road within ``limit_m`` walk of a toilet, by scipy's Dijkstra on the roads as a graph
    (ends snapped as geo.walking snaps them), grown by the access distance: the area a walk covers."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    from geo.walking import SNAP_M, WALK_ACCESS_M

    ends = np.array([[ln.coords[0], ln.coords[-1]] for ln in lines])  # (m, 2, 2)
    keys = np.round(ends / SNAP_M).reshape(-1, 2)
    uniq, node_of = np.unique(keys, axis=0, return_inverse=True)
    node_of = node_of.reshape(-1, 2)
    node_xy = ends.reshape(-1, 2)[np.unique(node_of.ravel(), return_index=True)[1]]
    n = len(uniq)
    tx, ty = toilets_xy
    nearest = np.argmin((node_xy[:, 0][None, :] - tx[:, None]) ** 2 + (node_xy[:, 1][None, :] - ty[:, None]) ** 2, axis=1)
    offset = np.hypot(node_xy[nearest, 0] - tx, node_xy[nearest, 1] - ty)
    # One super-source (index n) joined to each toilet's node by the walk to it.
    lengths = np.array([ln.length for ln in lines])
    rows = np.concatenate([node_of[:, 0], node_of[:, 1], np.full(len(nearest), n)])
    cols = np.concatenate([node_of[:, 1], node_of[:, 0], nearest])
    data = np.concatenate([lengths, lengths, offset + 1e-9])
    # A sparse matrix adds duplicate entries up: keep the shortest of parallel links instead.
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    graph = coo_matrix((data[first], (rows[first], cols[first])), shape=(n + 1, n + 1)).tocsr()
    dist = dijkstra(graph, indices=n, directed=True, limit=limit_m + 1e-6)[:n]
    stretches = []
    for ln, (s, t), length in zip(lines, node_of, lengths):
        bs, bt = limit_m - dist[s], limit_m - dist[t]
        if not (np.isfinite(bs) or np.isfinite(bt)):
            continue
        bs, bt = (bs if np.isfinite(bs) else -1.0), (bt if np.isfinite(bt) else -1.0)
        if bs + bt >= length:
            stretches.append(ln)
            continue
        if bs > 0:
            stretches.append(shapely.ops.substring(ln, 0, bs))
        if bt > 0:
            stretches.append(shapely.ops.substring(ln, length - bt, length))
    return unary_union(shapely.buffer(stretches, WALK_ACCESS_M, quad_segs=16))


def test_walking_coverage_equals_an_independent_network_walk(demo_conn):
    """pgRouting's service area against scipy's Dijkstra on the same roads, stretches drawn with shapely."""
    result = coverage(demo_conn, "toilets", by="street", method="walk")
    assert result["method"].startswith("walking along roads (pgRouting")
    tr = _metric(demo_conn)
    with demo_conn.cursor() as cur:
        cur.execute("SELECT ST_AsBinary(geom) FROM roads")
        roads = [shapely.from_wkb(bytes(r[0])) for r in cur.fetchall()]
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM toilets")
        toilets = np.array(cur.fetchall())
        cur.execute("SELECT code, ST_AsBinary(geom) FROM admin_areas WHERE level = 'street'")
        streets = cur.fetchall()

    def metric(g):
        return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    walk_area = _walked_area([metric(g) for g in roads], tr.transform(toilets[:, 0], toilets[:, 1]))
    expected = {code: 100 * metric(shapely.from_wkb(bytes(w))).intersection(walk_area).area
                / metric(shapely.from_wkb(bytes(w))).area for code, w in streets}
    for row in result["rows"]:
        # The service area's round ends are 16-gons in PostGIS: within half a point.
        assert row["covered_area_pct"] == pytest.approx(expected[row["code"]], abs=0.5)
    straight = {r["code"]: r["covered_area_pct"] for r in coverage(demo_conn, "toilets", by="street")["rows"]}
    assert sum(r["covered_area_pct"] for r in result["rows"]) < sum(straight.values())
