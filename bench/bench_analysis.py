"""Hotspots and coverage at city scale, side by side with what a Python analyst would write.

    DATABASE_URL=postgresql://…/<a city demo database with the migrations> \\
        .venv/bin/python bench/bench_analysis.py [--runs 5]

Needs the optional `bench`/`test` tools (esda, libpysal). The database must be
the `city` demo at the current migrations (migration 0300 adds the metric
coordinates the hotspot binning reads): create your own database in the
shared cluster, `hygiene-map db up` + `hygiene-map demo --scale city` with
DATABASE_URL pointing at it. The script only reads.

1. Hotspots over all 1,000,000 complaints, end to end from the database to
   cells with bins (and their GeoJSON): ``geo.hotspots.hotspots`` versus
   ``geopandas.read_postgis`` → ``sjoin`` to the same hexagons →
   ``libpysal`` Rook weights → ``esda.G_Local(transform="B", star=True,
   permutations=0)`` → ``esda.fdr`` bins. The hexagons are handed to the
   baseline ready-made (not timed). Checks that both give the same z-scores.
2. Coverage of the 3,000 toilets (300 m) for the 600 communities:
   ``geo.coverage.coverage`` (equal-area 64-gon discs, plus covered population)
   versus ``buffer(300, 64)`` → ``union_all`` → ``overlay``.

Prints Markdown rows for bench/RESULTS.md: medians, ratios, peak RSS.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.db import connect, database_url  # noqa: E402
from geo import hexgrid  # noqa: E402
from geo.coverage import coverage  # noqa: E402
from geo.hotspots import hotspots  # noqa: E402


def timed(fn, runs: int):
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def ours_hotspots(conn, cell_m):
    res = hotspots(conn, cell_m=cell_m)
    from layers.analysis.hotspots import Found
    from layers.analysis.registry import load

    load("hotspots").geojson(Found(res), {}, "zh")  # the FeatureCollection a client receives
    return res


def baseline_hotspots(engine, hexes, srid):
    import esda
    import geopandas as gpd
    import libpysal

    pts = gpd.read_postgis("SELECT geom FROM complaints", engine, geom_col="geom").to_crs(srid)
    joined = gpd.sjoin(pts, hexes, how="inner", predicate="within")
    counts = joined.groupby("index_right").size().reindex(hexes.index, fill_value=0).to_numpy(dtype=float)
    w = libpysal.weights.Rook.from_dataframe(hexes, use_index=False, silence_warnings=True)
    g = esda.G_Local(counts, w, transform="B", star=True, permutations=0)
    p = 2 * g.p_norm
    bins = np.zeros(len(counts), dtype=int)
    for level, conf in ((1, 0.90), (2, 0.95), (3, 0.99)):
        bins[p < esda.fdr(p, 1 - conf)] = level
    return counts, g.Zs, bins * np.sign(g.Zs)


def baseline_coverage(engine, srid):
    import geopandas as gpd

    toilets = gpd.read_postgis("SELECT geom FROM toilets", engine, geom_col="geom").to_crs(srid)
    comms = gpd.read_postgis("SELECT code, geom FROM admin_areas WHERE level = 'community'", engine,
                             geom_col="geom").to_crs(srid)
    union = gpd.GeoDataFrame(geometry=[toilets.buffer(300, 64).union_all()], crs=srid)
    covered = gpd.overlay(comms, union, how="intersection")
    share = covered.set_index("code").area / comms.set_index("code").area
    return (100 * share.reindex(comms["code"]).fillna(0)).to_dict()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--cell", type=float, default=170.0, help="hexagon edge (the city default is 170 m)")
    args = parser.parse_args()
    import resource

    import geopandas as gpd
    from shapely.geometry import Polygon

    url = database_url()
    conn = connect()
    # pandas reads through a plain DBAPI connection too (it warns that only SQLAlchemy is "supported").
    engine = connect(url=url)
    warnings.filterwarnings("ignore", message=".*SQLAlchemy.*")
    with conn.cursor() as cur:
        cur.execute("SELECT metric_srid FROM city_settings")
        srid = cur.fetchone()[0]

    ours_t, _, ours = timed(lambda: ours_hotspots(conn, args.cell), args.runs)
    # The same hexagons, in the metric CRS where they are exact (given to the baseline, not timed).
    cx, cy = hexgrid.centres(ours.q, ours.r, ours.cell_m)
    angles = np.radians(30 + 60 * np.arange(6))
    hexes = gpd.GeoDataFrame(geometry=[Polygon(np.round(np.column_stack([x + ours.cell_m * np.cos(angles),
                                                                 y + ours.cell_m * np.sin(angles)]), 3))
                                       for x, y in zip(cx, cy)], crs=srid)
    base_t, _, (counts, zs, bins) = timed(lambda: baseline_hotspots(engine, hexes, srid), args.baseline_runs)
    same_counts = int((counts == ours.count).sum())
    z_diff = float(np.max(np.abs(zs - ours.gi_z)))
    bins_equal = int((bins == ours.gi_bin).sum())
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    cov_t, _, cov = timed(lambda: coverage(conn, "toilets", by="community"), args.runs)
    cova_t, _, _ = timed(lambda: coverage(conn, "toilets", by="community", population=False), args.runs)
    covb_t, _, covb = timed(lambda: baseline_coverage(engine, srid), args.baseline_runs)
    worst = max(abs(r["covered_area_pct"] - covb[r["code"]]) for r in cov["rows"])
    rss2 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"| hotspots, {ours.summary['complaints']:,} complaints → {ours.q.size:,} hexagons of {args.cell:g} m "
          f"| {ours_t:.2f} s | {base_t:.2f} s | {base_t / ours_t:.1f}× |")
    print(f"  cells with equal counts: {same_counts}/{ours.q.size}; max |Δz| {z_diff:.2e}; equal bins {bins_equal}/{ours.q.size}")
    print(f"| coverage, 3,000 toilets × {len(cov['rows'])} communities, 300 m | {cov_t:.2f} s | {covb_t:.2f} s "
          f"| {covb_t / cov_t:.1f}× |")
    print(f"| coverage, same, area only (population=False: what the baseline computes) | {cova_t:.2f} s "
          f"| {covb_t:.2f} s | {covb_t / cova_t:.1f}× |")
    print(f"  max |Δ covered area %| vs the baseline's buffer(300, 64): {worst:.3f} points")
    print(f"  peak RSS of this process: {rss1:.0f} MB after hotspots, {rss2:.0f} MB after coverage")
    conn.close()


if __name__ == "__main__":
    main()
