"""Deep pages of the complaints layer at city scale: the OGC items query against the /api features query.

    HYGIENE_MAP_HOME=/tmp/hm-city .venv/bin/python bench/bench_ogc_paging.py [--runs 3]

Read-only. For each offset, times one page of 1,000 complaints (GeoJSON
bytes built by PostGIS) with ``layers.store.features.get_features`` (what
``/api/layers/{id}/features`` runs: the features are built in the query the
OFFSET applies to) and with ``layers.store.ogc.get_items`` (``/ogc/.../items``: the
page's ids first, the GeoJSON for those only), side by side in one run, and
prints a Markdown table (medians) for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

from data.db import connect
from layers.spec.registry import get_layer
from layers.store import ogc
from layers.store.features import feature_query, get_features

OFFSETS = (0, 100_000, 500_000, 990_000)
PAGE = 1_000


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    conn = connect()
    conn.set_session(readonly=True)
    spec = get_layer("complaints")
    print("| offset | /api features (s) | /ogc items (s) | ratio |")
    print("|---|---|---|---|")
    for offset in OFFSETS:
        api_query = feature_query(spec, limit=PAGE, offset=offset)
        ogc_query = ogc.items_query(conn, spec, {"limit": str(PAGE), "offset": str(offset)})
        api_s = _median(lambda q=api_query: get_features(conn, spec, q), args.runs)
        ogc_s = _median(lambda q=ogc_query: ogc.get_items(conn, spec, q, count=False), args.runs)
        print(f"| {offset:,} | {api_s:.3f} | {ogc_s:.3f} | {api_s / ogc_s:.1f}× |")
    conn.rollback()
    conn.close()


if __name__ == "__main__":
    main()
