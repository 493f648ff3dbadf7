"""Hot spots of a municipality's clustered complaints at street scale, side by side with the esda pipeline.

    HYGIENE_MAP_HOME=<a home whose city is Yantai (11 districts, 14,177 km²) with yantai_complaints.csv imported>
    (or DATABASE_URL=…) .venv/bin/python bench/bench_hotspots_yantai.py [--runs 5] [--cells 0,300,250,150]

Yantai's 3,189 12345 complaints lie in 芝罘区/莱山区 (19 × 16 km) of a 14,177 km² municipality. Each round runs
``geo.hotspots.hotspots`` (since 2026-06-01, the GeoJSON a client receives included) at each size (0: the default),
and, in the same round, the peer on the same hexagons: ``read_postgis`` → ``sjoin`` → ``libpysal`` Rook → ``esda.G_Local(star=True)``
→ ``esda.fdr`` bins (bench/bench_analysis.py's baseline; the hexagons handed over ready-made, not timed). Run it from
another worktree (PYTHONPATH) for that code's figures: a size refused there is printed as refused.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_analysis import baseline_hotspots  # noqa: E402
from bench.bench_hotspots import hexagons  # noqa: E402
from data.catalog import metric_srid  # noqa: E402
from data.db import connect, database_url  # noqa: E402
from data.errors import InvalidParameter  # noqa: E402
from geo.hotspots import hotspots  # noqa: E402

SINCE = datetime(2026, 5, 31, 16, tzinfo=UTC)  # 2026-06-01 in Yantai


def ours(conn, cell: float | None):
    """The map as the API makes it: Gi* and the GeoJSON."""
    from layers.analysis.hotspots import Found
    from layers.analysis.registry import load

    result = hotspots(conn, since=SINCE, cell_m=cell)
    load("hotspots").geojson(Found(result), {}, "zh")
    return result


def one_size(conn, engine, srid: int, cell: float | None, runs: int, peer_max: int) -> None:
    """``runs`` rounds of ours then the peer on the same cells (interleaved: the machine's load falls on both);
    medians and their ratio, one table row."""
    ours_s, peer_s, result, bins = [], [], None, None
    for _ in range(runs):
        start = time.perf_counter()
        try:
            result = ours(conn, cell)
        except InvalidParameter as e:
            print(f"| {cell or 'default'} | refused: {e} | | | |")
            conn.rollback()
            return
        ours_s.append(time.perf_counter() - start)
        conn.rollback()
        if result.q.size <= peer_max:
            # The peer counts every complaint; ours the window's: the file's complaints all lie in it.
            start = time.perf_counter()
            counts, _, bins = baseline_hotspots(engine, hexagons(result, srid), srid)
            peer_s.append(time.perf_counter() - start)
    hot = int((result.gi_bin > 0).sum())
    ours_m = statistics.median(ours_s)
    peer = "skipped (more cells than --peer-max)"
    if peer_s:
        peer_m = statistics.median(peer_s)
        peer = (f"{peer_m:.2f} s ({peer_m / ours_m:.1f}× ours), equal counts {int((counts == result.count).sum())}/"
                f"{result.q.size}, equal bins {int((bins == result.gi_bin).sum())}/{result.q.size}")
    print(f"| {result.cell_m:g} m{'' if cell else ' (default)'} | {ours_m:.2f} s | "
          f"{result.q.size:,} hexagons, {hot} hot | {peer} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cells", default="0,300,250,150", help="edges in metres; 0 is the default")
    parser.add_argument("--peer-max", type=int, default=20_000, help="largest grid the peer is run on")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*SQLAlchemy.*")
    conn = connect()
    engine = connect(url=database_url())
    srid = metric_srid(conn)
    print("| cell | ours (median) | cells | peer (median): read_postgis → sjoin → libpysal → esda, same cells |")
    print("|---|---|---|---|")
    for cell in (float(c) for c in args.cells.split(",")):
        one_size(conn, engine, srid, cell or None, args.runs, args.peer_max)


if __name__ == "__main__":
    main()
