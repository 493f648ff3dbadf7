"""A month's and a year's bulletin side by side with the plain SQL of the same figures.

    DATABASE_URL=postgresql://…/<city demo database> \\
        .venv/bin/python bench/bench_bulletin.py [--month 2026-10] [--year 2026] [--runs 3]

* ours: ``layers.reports.compose.bulletin`` — the period and the previous
  one, each one statement (grid holders as time intervals joined by hash,
  status events aggregated once, ``GROUPING SETS`` over street, unit,
  category and city), then ranks and the summary in Python;
* peer: the SQL a analyst would write for the same figures: per table
  (streets, units, categories, city) and per period one query, the grid's
  holder at report time and the 不予立案/返工 events looked up per complaint
  with correlated subqueries.

Runs alternate (ours, peer, ours, …); prints the medians, and checks that
both give the same received/due/closed/on-time counts per street and unit.
Ours is the whole bulletin (issue 16's second part included: inspection scores,
satisfaction, the 12-period trend, the emerging hot spots, the facilities); the
peer only the figures above. Then the trend alone: ours, one statement for the
12 periods, against the same counts asked period by period (12 queries), with
the answers compared. Only reads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.db import connect  # noqa: E402
from data.params import Period, parse_period  # noqa: E402
from layers.reports.compose import bulletin  # noqa: E402

_PEER = """
WITH base AS (
    SELECT c.*,
           coalesce((SELECT a.responsible_unit FROM grid_assignments a
                     WHERE a.grid_code = c.grid_code AND a.changed_at <= c.reported_at
                     ORDER BY a.changed_at DESC, a.seq DESC LIMIT 1),
                    (SELECT CASE WHEN a.before IS NULL THEN a.responsible_unit ELSE a.before->>'unit' END
                     FROM grid_assignments a WHERE a.grid_code = c.grid_code ORDER BY a.changed_at, a.seq LIMIT 1),
                    (SELECT g.responsible_unit FROM grids g WHERE g.code = c.grid_code), '') AS unit,
           c.reported_at >= %(s)s AND c.status <> '受理' AND NOT EXISTS (
               SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id
               AND e.from_status = '受理' AND e.to_status = '结案') AS filed,
           EXISTS (SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id
                   AND e.from_status = '核查' AND e.to_status = '处置') AS reworked
    FROM complaints c
    WHERE c.reported_at < %(e)s AND (c.reported_at >= %(s)s OR c.closed_at IS NULL OR c.closed_at >= %(e)s))
SELECT {key},
       count(*) FILTER (WHERE reported_at >= %(s)s),
       count(*) FILTER (WHERE filed AND (closed_at < %(e)s OR due_at < %(j)s)),
       count(*) FILTER (WHERE filed AND closed_at < %(e)s),
       count(*) FILTER (WHERE filed AND closed_at < %(e)s AND closed_at <= due_at),
       count(*) FILTER (WHERE filed AND reworked),
       count(*) FILTER (WHERE closed_at IS NULL OR closed_at >= %(e)s),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - reported_at) / 3600)
           FILTER (WHERE filed AND closed_at < %(e)s)
FROM base GROUP BY {key}"""


def peer(conn, period: Period) -> dict:
    """The plain SQL: four queries for the period and four for the previous one; {(table, key): counts}."""
    out = {}
    with conn.cursor() as cur:
        cur.execute("SELECT data_time FROM city_settings")
        data_time = cur.fetchone()[0]
        for p in (period, period.previous()):
            params = {"s": p.start, "e": p.end, "j": min(p.end, data_time) if data_time else p.end}
            for table, key in (("streets", "street_code"), ("units", "unit"), ("categories", "category"),
                               ("city", "NULL::text")):
                cur.execute(_PEER.format(key=key) if table != "city" else
                            _PEER.format(key=key).replace("GROUP BY NULL::text", ""), params)
                if p is period:
                    out.update({(table, r[0] or None): r[1:5] for r in cur.fetchall()})
    return out


def ours(conn, period: Period) -> dict:
    b = bulletin(conn, period)
    return {(table, row["code"]): (row["received"], row["due"], row["closed"], row["on_time"])
            for table in ("streets", "units") for row in b[table]}


_PEER_TREND = """
SELECT count(*),
       count(*) FILTER (WHERE filed AND (closed_at < %(e)s OR due_at < %(j)s)),
       count(*) FILTER (WHERE filed AND closed_at < %(e)s)
FROM (SELECT c.closed_at, c.due_at, c.status <> '受理' AND NOT EXISTS (
              SELECT 1 FROM complaint_events e WHERE e.complaint_id = c.id
              AND e.from_status = '受理' AND e.to_status = '结案') AS filed
      FROM complaints c WHERE c.reported_at >= %(s)s AND c.reported_at < %(e)s) x"""


def peer_trend(conn, period: Period) -> list[tuple]:
    """The 12 periods' received, due and closed, one plain query per period."""
    from layers.reports.trend import last_periods

    out = []
    with conn.cursor() as cur:
        cur.execute("SELECT data_time FROM city_settings")
        data_time = cur.fetchone()[0]
        for p in last_periods(period):
            cur.execute(_PEER_TREND, {"s": p.start, "e": p.end, "j": min(p.end, data_time) if data_time else p.end})
            out.append(tuple(cur.fetchone()))
    return out


def ours_trend(conn, period: Period) -> list[tuple]:
    from layers.reports.trend import trend

    return [(p["received"], p["due"], p["closed"]) for p in trend(conn, period)]


def _timed(conn, period: Period, pair: tuple, runs: int) -> tuple[dict, dict]:
    """Alternating runs of (name, function) pairs: {name: [seconds]}, {name: last answer}."""
    times: dict[str, list[float]] = {name: [] for name, _ in pair}
    answers = {}
    for _ in range(runs):
        for name, fn in pair:
            t = time.perf_counter()
            answers[name] = fn(conn, period)
            times[name].append(time.perf_counter() - t)
    return times, answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--year", default="2026")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    conn = connect()
    for kind, day in (("month", args.month), ("year", args.year)):
        period = parse_period(kind, day)
        times, answers = _timed(conn, period, (("ours", ours), ("peer", peer)), args.runs)
        # A unit that only an inspection names (no complaint in the period) has zeros, and no row of the peer's.
        mismatched = [k for k, v in answers["ours"].items()
                      if k[0] != "city" and answers["peer"].get(k, (0, 0, 0, 0)) != v]
        print(f"{kind} {day}: ours {statistics.median(times['ours']):.2f} s, "
              f"plain SQL {statistics.median(times['peer']):.2f} s (medians of {args.runs}); "
              f"{len(answers['ours'])} street/unit rows, {len(mismatched)} differ"
              + (f": {mismatched[:3]}" if mismatched else ""))
        times, answers = _timed(conn, period, (("ours", ours_trend), ("peer", peer_trend)), args.runs)
        print(f"  trend of 12 {kind}s: ours (one statement) {statistics.median(times['ours']):.2f} s, "
              f"12 plain queries {statistics.median(times['peer']):.2f} s; answers equal: "
              f"{answers['ours'] == answers['peer']}")
    conn.close()


if __name__ == "__main__":
    main()
