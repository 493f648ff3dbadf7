"""Hot spots of Yantai's 12345 complaints at street scale (findings 3, 5 and 6 of the planner's walkthrough).

Yantai is 11 real districts, 14,177 km², rural counties included; its hotline's complaints lie in 芝罘区 and
莱山区: four clusters and a scatter over 19 × 16 km, six whole months (June … November 2026), imported as the
office does (`--channel 12345`, 高德经度/纬度 in GCJ-02), the city's data time 3 December 2026 (nothing imported
for December yet). A planner's map must be sized from the complaints (not 4.9 km hexagons from the municipality),
made at street scale (README's own `--cell 150`, refused before: 600,000 hexagons over the municipality), equal to
esda on its cells; and the trend must not count the unfinished December as a quiet month.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from data.db import connect
from tests.real_city import yantai  # noqa: F401

ZONE = ZoneInfo("Asia/Shanghai")
#: GCJ-02 centres of the clusters (芝罘区 ×3, 莱山区) and how many complaints each holds.
CLUSTERS = (((121.400, 37.535), 450), ((121.402, 37.542), 450), ((121.385, 37.522), 400), ((121.452, 37.492), 400))
SCATTER = 1_200
KINDS = ("暴露垃圾", "垃圾满溢", "道路不洁", "病媒生物", "占道经营")


def _hotline_csv(path) -> None:
    """The hotline's export: clusters of ~250 m and a scatter, reported evenly over June … November 2026."""
    rng = np.random.default_rng(12345)
    points = [np.column_stack([rng.normal(lon, 0.0028, n), rng.normal(lat, 0.0022, n)]) for (lon, lat), n in CLUSTERS]
    points.append(np.column_stack([rng.uniform(121.30, 121.52, SCATTER), rng.uniform(37.44, 37.58, SCATTER)]))
    points = np.vstack(points)
    start, span = datetime(2026, 6, 1), (datetime(2026, 12, 1) - datetime(2026, 6, 1)).total_seconds()
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(["工单编号", "来电时间", "诉求类别", "诉求内容", "高德经度", "高德纬度", "工单状态"])
        for k, (lon, lat) in enumerate(points):
            when = start + timedelta(seconds=float(rng.uniform(0, span - 60)))
            out.writerow([f"YT2026{k:06d}", f"{when:%Y-%m-%d %H:%M}", KINDS[k % 5], "群众反映此处环境卫生问题",
                          f"{lon:.6f}", f"{lat:.6f}", "已办结"])


@pytest.fixture(scope="module")
def hotline(yantai):  # noqa: F811
    """The complaints imported, the data time 3 December 2026 10:00 (December under way, none of it imported)."""
    _hotline_csv(yantai.work / "yantai_complaints.csv")
    # The scatter's points in the sea are refused (as the walkthrough's file had none): the rest are written.
    yantai.cli("import", "complaints", "yantai_complaints.csv", "--channel", "12345", "--skip-bad")
    yantai.n = yantai.one("SELECT count(*) FROM complaints")
    assert yantai.n > 2_500
    yantai.cli("city", "set", "--data-time", "2026-12-03T10:00")
    return yantai


@pytest.fixture
def conn(hotline):
    conn = connect(url=hotline.url)
    yield conn
    conn.rollback()
    conn.close()


def test_the_default_hexagon_is_sized_from_the_complaints_not_the_municipality(hotline, conn):
    """The first map a planner makes: hexagons of a few hundred metres (2·Clark–Evans r_E over the complaints'
    extent), the complaints in hundreds of cells, no "too coarse" warning — not 4,910 m hexagons, 9 with complaints."""
    from geo.hotspots import hotspots

    result = hotspots(conn, since=datetime(2026, 6, 1, tzinfo=ZONE))
    assert 200 <= result.cell_m <= 500, result.cell_m
    assert result.summary["cells_with_complaints"] >= 300
    assert result.summary["complaints"] + result.outside == hotline.n
    shown = hotline.cli("analyze", "hotspots", "--since", "2026-06-01").stdout
    assert f"边长 {result.cell_m:g} m" in shown and "少于 30 个" not in shown


def test_a_coarse_map_is_told_which_cell_to_use(hotline):
    """5 km hexagons put the complaints in a handful of cells: the warning names a concrete smaller --cell, the
    one the default rule gives these complaints."""
    shown = hotline.cli("analyze", "hotspots", "--since", "2026-06-01", "--cell", "5000").stdout
    said = re.search(r"--cell (\d+)", shown)
    assert said and 200 <= int(said.group(1)) <= 500, shown[:600]
    answer = hotline.cli("analyze", "hotspots", "--since", "2026-06-01", "--cell", "5000", "--lang", "en").stdout
    assert f"--cell {said.group(1)}" in answer


def test_a_street_scale_map_covers_the_complaints_only_and_equals_esda(hotline, conn):
    """README's `--cell 150` in Yantai: made (not refused), over the complaints' area — every neighbour of a cell
    with complaints is a cell, empty cells count — not the municipality's 600,000 hexagons; Gi* and FDR bins equal
    esda's on the same cells."""
    import esda
    import libpysal
    import shapely

    from geo.hexcells import polygons
    from geo.hotspots import hotspots

    shown = hotline.cli("analyze", "hotspots", "--since", "2026-06-01", "--cell", "150", check=False)
    assert shown.returncode == 0, shown.stderr
    result = hotspots(conn, since=datetime(2026, 6, 1, tzinfo=ZONE), cell_m=150)
    assert 1_000 < result.q.size < 20_000
    assert (result.count == 0).sum() > result.q.size / 2  # the empty cells of the area are cells
    cells = set(zip(result.q.tolist(), result.r.tolist(), strict=True))
    steps = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1))
    # Neighbours of a cell with complaints are cells, unless that hexagon lies off the city (the sea).
    off = [(q + dq, r + dr) for q, r, c in zip(result.q, result.r, result.count, strict=True) if c
           for dq, dr in steps if (q + dq, r + dr) not in cells]
    assert len(off) < 0.05 * 6 * int((result.count > 0).sum())
    # Vertices to the millimetre, so that libpysal finds the shared edges (as bench/bench_hotspots.py).
    hexagons = shapely.set_precision(polygons(result.q, result.r, 150.0), 0.001)
    w = libpysal.weights.Rook.from_iterable(list(hexagons))
    g = esda.G_Local(result.count.astype(float), w, transform="B", star=True, permutations=0)
    assert np.allclose(g.Zs, result.gi_z, atol=1e-9)
    p = 2 * g.p_norm
    bins = np.zeros(len(p), dtype=int)
    for level, conf in ((1, 0.90), (2, 0.95), (3, 0.99)):
        bins[p < esda.fdr(p, 1 - conf)] = level
    assert (bins * np.sign(g.Zs) == result.gi_bin).all()


def test_the_unfinished_month_does_not_turn_persistent_hot_spots_into_no_pattern(hotline, conn):
    """December is three days old at the data time and holds no complaint: the trend runs June … November, so the
    cells hot every month are persistent hot spots, as with until=2026-12-01; and the answer says December is out."""
    from geo.hotspots import emerging

    since = datetime(2026, 6, 1, tzinfo=ZONE)
    open_end, patterns, months = emerging(conn, since=since, cell_m=300)
    whole, whole_patterns, whole_months = emerging(conn, since=since, until=datetime(2026, 12, 1, tzinfo=ZONE),
                                                   cell_m=300)
    assert [f"{m:%Y-%m}" for m in months] == [f"{m:%Y-%m}" for m in whole_months] == \
        ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    top = int(np.argmax(open_end.gi_z))
    assert patterns[top] == whole_patterns[top] == "persistent"
    assert patterns == whole_patterns
    assert open_end.summary["months"]["unfinished_left_out"] == "2026-12"
    shown = hotline.cli("analyze", "hotspots", "--since", "2026-06-01", "--cell", "300", "--emerging").stdout
    assert "本月（2026-12）尚未结束且还没有投诉，不计入趋势" in shown and "持续热点" in shown


def test_new_cell_sizes_are_counted_from_one_read_of_the_complaints_and_equal_the_sql_binning(hotline, monkeypatch):
    """A planner trying 160, 210 and 410 m (sizes never asked for) through the analysis with the server's cache: no
    SQL pass bins the complaints per size (the first request's wait), their coordinates are read once; every map's
    counts equal the per-size SQL binning of migration 0750 (hm_hex_q / hm_hex_r) cell for cell, and its Gi* bins the
    bins of those counts."""
    import psycopg2.extensions

    from geo import hotspot_counts
    from geo.hexgrid import neighbour_index
    from geo.stats import confidence_bins, gi_star, two_sided_p
    from layers.analysis.cache import AnswerCache
    from layers.analysis.registry import load

    said: list[str] = []

    class Spy(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            said.append(query if isinstance(query, str) else query.decode())
            return super().execute(query, vars)

        def copy_expert(self, sql, file, size=8192):
            said.append(sql)
            return super().copy_expert(sql, file, size)

    # The background fill a first request starts is not what is measured here (its own connections).
    monkeypatch.setattr(hotspot_counts, "register_later", lambda *args: None)
    conn, cache, analysis = connect(url=hotline.url), AnswerCache(), load("hotspots")
    conn.cursor_factory = Spy
    try:
        maps = {}
        for cell in (160.0, 210.0, 410.0):
            args = analysis.parse({"cell": str(cell)})
            maps[cell] = analysis.compute(conn, args, cache).cells
            conn.rollback()
        binned_in_sql = [q for q in said if "hm_hex_q(" in q and "FROM complaints" in q]
        read = [q for q in said if q.lstrip().startswith("COPY") and "FROM complaints" in q]
        assert not binned_in_sql and len(read) == 1, (len(binned_in_sql), len(read))
        conn.cursor_factory = psycopg2.extensions.cursor
        for cell, result in maps.items():
            with conn.cursor() as cur:
                cur.execute(f"SELECT q, r, count(*) FROM ({hotspot_counts.binned_sql('true')}) b GROUP BY q, r",
                            {"size": cell, "srid": result.srid})
                sql = {(q, r): n for q, r, n in cur.fetchall()}
            assert sum(sql.values()) == result.summary["complaints"] + result.outside
            assert [sql.get(cell, 0) for cell in zip(result.q.tolist(), result.r.tolist())] == result.count.tolist()
            z = gi_star(result.count.astype(float), neighbour_index(result.q, result.r))
            assert (confidence_bins(z, two_sided_p(z)) == result.gi_bin).all()
    finally:
        conn.rollback()
        conn.close()


def test_a_too_sparse_map_names_a_larger_cell_that_is_not(hotline, conn):
    """50 m hexagons leave most of Yantai's complaints one to a cell: the warning names a concrete larger --cell
    (zh first, English with --lang en), and at that size the complaints hold at least 2 per cell holding any."""
    from geo.hotspots import hotspots

    shown = hotline.cli("analyze", "hotspots", "--since", "2026-06-01", "--cell", "50").stdout
    assert "数据过稀" in shown, shown[:600]
    said = re.search(r"请用较大的六边形（这些投诉的分布宜用 --cell (\d+)", shown)
    assert said and int(said.group(1)) > 50, shown[:800]
    answer = hotline.cli("analyze", "hotspots", "--since", "2026-06-01", "--cell", "50", "--lang", "en").stdout
    assert f"use a larger cell (for these complaints' spread: --cell {said.group(1)}" in answer
    larger = hotspots(conn, since=datetime(2026, 6, 1, tzinfo=ZONE), cell_m=float(said.group(1))).summary
    assert larger["complaints"] / larger["cells_with_complaints"] >= 2.0
    assert "数据过稀" not in hotline.cli("analyze", "hotspots", "--since", "2026-06-01", "--cell", said.group(1)).stdout
