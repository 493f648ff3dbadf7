"""Gi* hot spots from kept hexagon counts, side by side with the esda pipeline a Python analyst writes.

    DATABASE_URL=postgresql://…/<a city demo database at the current migrations> \\
        .venv/bin/python bench/bench_hotspots.py [--runs 5] [--cell 170]

Needs the `test` tools (esda, libpysal). Each round runs, in turn:

* ours, kept counts: ``geo.hotspots.hotspots`` and the GeoJSON a client
  receives, the hexagon counts read from ``hotspot_counts`` (migration 0750);
* ours, binned afresh: the same with months cut in UTC, a grid not kept
  (and not registered): every complaint binned by one parallel GROUP BY,
  as before issue 18;
* the peer: ``geopandas.read_postgis`` → ``to_crs`` → ``sjoin`` to the same
  hexagons (handed over ready-made, not timed) → ``libpysal`` Rook →
  ``esda.G_Local(star=True, permutations=0)`` → ``esda.fdr`` bins
  (``bench/bench_analysis.py``'s baseline).

Before the rounds the grid is registered if it is not kept yet (one fill,
timed and printed: the only write). Prints medians, ratios and whether the
bins equal the peer's.
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

from bench.bench_analysis import baseline_hotspots, ours_hotspots  # noqa: E402
from data.catalog import metric_srid  # noqa: E402
from data.db import connect, database_url  # noqa: E402
from data.vocab import CITY_TIME_ZONE  # noqa: E402
from geo import hexgrid, hotspot_counts  # noqa: E402
from geo.hotspots import hotspots  # noqa: E402


def afresh(conn, cell_m: float):
    """Ours with no kept counts to read: months cut in another time zone, whose grid is not kept (nor registered)."""
    from layers.analysis.hotspots import Found
    from layers.analysis.registry import load

    register_later = hotspot_counts.register_later
    hotspot_counts.register_later = lambda *args: None
    try:
        result = hotspots(conn, cell_m=cell_m, tz="UTC")
    finally:
        hotspot_counts.register_later = register_later
    load("hotspots").geojson(Found(result), {}, "zh")
    return result


def hexagons(result, srid: int):
    """The analysis' hexagons in the metric CRS (vertices to the millimetre, so libpysal finds shared edges)."""
    import geopandas as gpd
    from shapely.geometry import Polygon

    cx, cy = hexgrid.centres(result.q, result.r, result.cell_m)
    angles = np.radians(30 + 60 * np.arange(6))
    return gpd.GeoDataFrame(geometry=[Polygon(np.round(np.column_stack([x + result.cell_m * np.cos(angles),
                                                                        y + result.cell_m * np.sin(angles)]), 3))
                                      for x, y in zip(cx, cy)], crs=srid)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cell", type=float, default=170.0, help="hexagon edge (the city default is 170 m)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*SQLAlchemy.*")
    conn = connect()
    engine = connect(url=database_url())
    srid = metric_srid(conn)
    if hotspot_counts.kept_grid(conn, args.cell, srid, CITY_TIME_ZONE) is None:
        start = time.perf_counter()
        hotspot_counts.register(conn.dsn, conn.info.password, args.cell, srid, CITY_TIME_ZONE)
        print(f"registered the {args.cell:g} m grid: one fill of {time.perf_counter() - start:.1f} s")
    conn.rollback()
    hexes = None
    tools = {"ours, kept counts": lambda: ours_hotspots(conn, args.cell),
             "ours, binned afresh": lambda: afresh(conn, args.cell),
             "read_postgis → sjoin → libpysal → esda": lambda: baseline_hotspots(engine, hexes, srid)}
    times: dict[str, list[float]] = {name: [] for name in tools}
    out = {}
    for _ in range(args.runs):
        for name, run in tools.items():
            start = time.perf_counter()
            out[name] = run()
            times[name].append(time.perf_counter() - start)
            conn.rollback()
            if hexes is None:
                hexes = hexagons(out[name], srid)
    ours, peer = out["ours, kept counts"], out["read_postgis → sjoin → libpysal → esda"]
    med = {name: statistics.median(t) for name, t in times.items()}
    peer_t = med["read_postgis → sjoin → libpysal → esda"]
    for name in tools:
        print(f"| {name} | {med[name]:.2f} s | {peer_t / med[name]:.1f}× |")
    counts, zs, bins = peer
    print(f"{ours.summary['complaints']:,} complaints → {ours.q.size:,} hexagons of {args.cell:g} m; "
          f"equal counts {int((counts == ours.count).sum())}/{ours.q.size}, equal bins {int((bins == ours.gi_bin).sum())}"
          f"/{ours.q.size}, max |Δz| {float(np.max(np.abs(zs - ours.gi_z))):.2e}; kept = afresh: "
          f"{bool((ours.count == out['ours, binned afresh'].count).all())}")
    print("runs:", {k: [round(t, 2) for t in v] for k, v in times.items()})


if __name__ == "__main__":
    main()
