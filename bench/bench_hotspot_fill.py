"""Registering a kept hot-spot grid while complaints are written: how long writers wait, side by side with
the fill under a SHARE lock that migration 0750 used (issue 18).

    DATABASE_URL=postgresql://…/<a COPY of a city demo database at the current migrations> \\
        .venv/bin/python bench/bench_hotspot_fill.py [--runs 5] [--cell 200]

It WRITES to the database (complaints inserted, moved and deleted; grids registered and dropped): run it
on a copy. Each round, in turn for ours and the peer, a writer thread commits one transaction after
another (insert a complaint, move one, delete one; 50 ms apart) while the grid of ``--cell`` metres is
registered; then the grid's counts are checked equal to a fresh aggregation of the complaints (asserted)
and the grid is dropped for the next round.

* ours: ``geo.hotspot_counts.register`` — announced as filling under a SHARE lock held for milliseconds,
  filled from the snapshot taken then, handed over a month per transaction (migration 0795);
* the peer: the 0750 registration — the SHARE lock on complaints held through the whole fill.

Prints, per design, the medians over the rounds of the registration's time, of the longest wait of a
write transaction during it, and the writes committed during it.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.catalog import metric_srid  # noqa: E402
from data.db import connect, database_url  # noqa: E402
from data.vocab import CITY_TIME_ZONE  # noqa: E402
from geo import hotspot_counts as hc  # noqa: E402


def locked_fill(conn, size: float, srid: int, tz: str) -> int:
    """The 0750 registration: SHARE lock on complaints, grid inserted, counts filled, all in one transaction."""
    params = {"size": size, "srid": srid, "tz": tz}
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE complaints IN SHARE MODE")
        cur.execute("INSERT INTO hotspot_grids (cell_m, srid, tz) VALUES (%(size)s, %(srid)s, %(tz)s) RETURNING id",
                    params)
        params["grid"] = cur.fetchone()[0]
        cur.execute("INSERT INTO hotspot_counts (grid, month, category, q, r, n) "
                    f"SELECT %(grid)s, month, category, q, r, count(*) FROM ({hc.binned_sql('true', True, True)}) b "
                    "GROUP BY month, category, q, r", params)
    conn.commit()
    return params["grid"]


class Writer(threading.Thread):
    """Commits a small complaint write every 50 ms; the time each transaction took, by its start."""

    def __init__(self, url: str, tag: str):
        super().__init__(daemon=True)
        self.url, self.tag, self.stop, self.times, self.error = url, tag, threading.Event(), [], None

    def run(self) -> None:
        try:
            self._write()
        except Exception as error:  # noqa: BLE001 (the round reports it)
            self.error = error

    def _write(self) -> None:
        conn = connect(url=self.url)
        k = 0
        while not self.stop.is_set():
            k += 1
            started = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute("INSERT INTO complaints (source, source_id, category, reported_at, geom) "
                            "SELECT 'bench-fill', %s, category, reported_at, ST_Translate(geom, 0.001, 0) "
                            "FROM complaints WHERE id = (SELECT min(id) FROM complaints) + %s", (f"{self.tag}-{k}", k))
                cur.execute("UPDATE complaints SET geom = ST_Translate(geom, 0.002, 0.001) "
                            "WHERE id = (SELECT min(id) FROM complaints) + 500000 + %s", (k,))
                cur.execute("DELETE FROM complaints WHERE id = (SELECT max(id) FROM complaints WHERE source <> 'bench-fill')")
            conn.commit()
            self.times.append((started, time.perf_counter() - started))
            time.sleep(0.05)
        conn.close()


def differing_keys(conn, grid: int, size: float, srid: int, tz: str) -> int:
    """Keys (month, category, cell) whose kept count differs from a fresh aggregation of the complaints."""
    with conn.cursor() as cur:
        cur.execute(f"""WITH fresh AS (SELECT month, category, q, r, count(*) AS n
                                       FROM ({hc.binned_sql('true', True, True)}) b GROUP BY 1, 2, 3, 4),
                             kept AS (SELECT month, category, q, r, n FROM hotspot_counts WHERE grid = %(g)s AND n <> 0)
                        SELECT count(*) FROM fresh FULL JOIN kept USING (month, category, q, r)
                        WHERE fresh.n IS DISTINCT FROM kept.n""", {"size": size, "srid": srid, "tz": tz, "g": grid})
        differ = cur.fetchone()[0]
        cur.execute("DELETE FROM hotspot_grids WHERE id = %s", (grid,))  # the next round registers it again
    conn.commit()
    return differ


def one_round(url: str, design: str, size: float, srid: int, tz: str, tag: str) -> tuple[float, float, int]:
    """(registration seconds, longest write wait during it, writes during it) of one registration."""
    conn = connect(url=url)
    writer = Writer(url, tag)
    writer.start()
    time.sleep(0.5)
    started = time.perf_counter()
    grid = hc.register(url, conn.info.password, size, srid, tz) if design == "ours" else locked_fill(conn, size, srid, tz)
    took = time.perf_counter() - started
    time.sleep(0.2)
    writer.stop.set()
    writer.join()
    assert grid is not None, "the registration did not go through"
    assert writer.error is None, f"the writer failed: {writer.error}"
    during = [t for s, t in writer.times if started <= s <= started + took]
    assert differing_keys(conn, grid, size, srid, tz) == 0, f"{design}: kept counts differ from the complaints"
    conn.close()
    return took, max(during, default=0.0), len(during)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cell", type=float, default=200.0)
    args = parser.parse_args()
    url = database_url()
    conn = connect(url=url)
    srid = metric_srid(conn)
    if hc.kept_grid(conn, args.cell, srid, CITY_TIME_ZONE, filling=True) is not None:
        sys.exit(f"a {args.cell:g} m grid is already registered: pick another --cell")
    conn.close()
    results, tag = {"ours": [], "0750 SHARE lock": []}, secrets.token_hex(3)  # the writes' ids: new each run
    for run in range(args.runs):
        for design in results:
            results[design].append(one_round(url, design, args.cell, srid, CITY_TIME_ZONE, f"{tag}-{run}-{design[:4]}"))
            print(f"round {run + 1} {design}: registration {results[design][-1][0]:.1f} s, longest write wait "
                  f"{results[design][-1][1]:.2f} s, {results[design][-1][2]} writes", flush=True)
    print("\n| design | registration | longest write wait | writes committed during it |\n|---|---|---|---|")
    for design, rows in results.items():
        print(f"| {design} | {statistics.median(r[0] for r in rows):.1f} s | "
              f"{statistics.median(r[1] for r in rows):.2f} s | {statistics.median(r[2] for r in rows):.0f} |")


if __name__ == "__main__":
    main()
