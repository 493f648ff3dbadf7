"""Time `hygiene-map demo --scale city` from two checkouts, interleaved, and check they load the same city.

    .venv/bin/python bench/bench_demo_load.py --server postgresql://USER@HOST:PORT/postgres \\
        --peer /path/to/main [--scale city] [--runs 5]

Each run gets a new database on ``--server`` (created, migrated with `db up`,
not timed), then the real CLI loads the demo into it in a subprocess run from
the checkout (``python -m api.cli demo``): the wall time and the loader's peak
resident memory are what is timed. Runs alternate between this checkout and
the peer (the order swapped every round). After each run the stored city is
summarised — rows and a hash of every table's rows (ids kept where the load
restarts them; columns that hold the load's own clock time left out) and the
schema of the tables (indexes, constraints, triggers on or off) — and the
bench fails unless every run of both sides gives the same summary. Prints
Markdown for bench/RESULTS.md. Without ``--peer`` only this checkout runs.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

REPO = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
# Not compared: the stamps count write statements (the loader's chunking), not rows.
_SKIPPED = {"data_changes", "schema_migrations", "spatial_ref_sys"}
# Columns the load fills with its own clock time (column defaults of now()), and ids of tables it does not restart.
_CLOCK = {"updated_at", "kept_at", "since"}
_CLOCK_IN = {"facility_changes": {"id", "at"}, "audit_log": {"id", "at"}}


def _url(server: str, database: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path="/" + database))


def _admin(server: str, statement: sql.Composable) -> None:
    conn = psycopg2.connect(server)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.close()


def run_once(checkout: Path, server: str, database: str, scale: str) -> tuple[float, float, str]:
    """Load the demo from ``checkout`` into a new database: (seconds, peak RSS in MB, the loader's output)."""
    _admin(server, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    # main's load fails on a busy machine with the default 30 s statement time-out (one 1,000,000-row INSERT).
    env = os.environ | {"DATABASE_URL": _url(server, database), "HYGIENE_MAP_DB_STATEMENT_TIMEOUT_MS": "1800000"}
    subprocess.run([str(PYTHON), "-B", "-m", "api.cli", "db", "up"], cwd=checkout, env=env, check=True,
                   capture_output=True)
    with tempfile.TemporaryFile("w+") as out:
        started = time.monotonic()
        child = subprocess.Popen([str(PYTHON), "-B", "-m", "api.cli", "demo", "--scale", scale], cwd=checkout, env=env,
                                 stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if child.returncode:
        raise SystemExit(f"{checkout}: demo failed ({child.returncode}):\n{text}")
    return seconds, usage.ru_maxrss / 1024, text


def summary(url: str) -> dict:
    """Rows and a hash of each table's rows (order-free), and the tables' indexes, constraints and triggers."""
    conn = psycopg2.connect(url)
    try:
        return _summary(conn)
    finally:
        conn.close()


def _summary(conn) -> dict:
    out = {}
    with conn.cursor() as cur:
        cur.execute("""SELECT c.relname, array_agg(a.attname::text ORDER BY a.attnum)
                       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
                       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                       WHERE c.relkind = 'r' GROUP BY 1 ORDER BY 1""")
        for table, columns in cur.fetchall():
            if table in _SKIPPED:
                continue
            kept = [c for c in columns if c not in _CLOCK and c not in _CLOCK_IN.get(table, ())]
            row = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(map(sql.Identifier, kept)))
            cur.execute(sql.SQL("SELECT count(*), coalesce(sum(('x' || left(md5({}), 15))::bit(60)::bigint), 0) "
                                "FROM {}").format(row, sql.Identifier(table)))
            out[table] = tuple(cur.fetchone())
        cur.execute("""SELECT c.relname || ' ' || pg_get_indexdef(i.indexrelid) FROM pg_index i
                       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = 'public' ORDER BY 1""")
        out["indexes"] = [r[0] for r in cur.fetchall()]
        cur.execute("""SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                       || ' ' || convalidated FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                       ORDER BY 1""")
        out["constraints"] = [r[0] for r in cur.fetchall()]
        cur.execute("""SELECT tgrelid::regclass::text || ' ' || tgname || ' ' || tgenabled::text FROM pg_trigger
                       WHERE NOT tgisinternal ORDER BY 1""")
        out["triggers"] = [r[0] for r in cur.fetchall()]
    return out


def _counts(text: str) -> dict[str, int]:
    found = (re.match(r"^(\w+)\s+([\d,]+)$", line.strip()) for line in text.splitlines())
    return {m.group(1): int(m.group(2).replace(",", "")) for m in found if m}


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="URL of a maintenance database (new ones are made there)")
    parser.add_argument("--peer", type=Path, help="the other checkout (e.g. main), run alternately")
    parser.add_argument("--scale", default="city")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sides = {"this": REPO} | ({"peer": args.peer.resolve()} if args.peer else {})
    times = {s: [] for s in sides}
    rss = {s: [] for s in sides}
    reference, counts = None, {}
    for k in range(args.runs):
        order = list(sides) if k % 2 == 0 else list(reversed(sides))
        for side in order:
            database = f"bench_demo_{side}_{os.getpid()}_{k}"
            try:
                load = _load_average()
                seconds, mb, text = run_once(sides[side], args.server, database, args.scale)
                city = summary(_url(args.server, database))
            finally:
                _admin(args.server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
            times[side].append(seconds)
            rss[side].append(mb)
            counts = _counts(text)
            print(f"round {k + 1} {side}: {seconds:.1f} s, {mb:.0f} MB (load average before: {load})", flush=True)
            if reference is None:
                reference = city
            elif city != reference:
                diff = [t for t in reference if reference[t] != city.get(t)]
                raise SystemExit(f"{side} round {k + 1} loaded a different city: {diff}")
    print(f"\nsame city in all {args.runs * len(sides)} runs ({len(reference) - 3} tables, rows and hashes; "
          "indexes, constraints, triggers)\n")
    print("| checkout | runs | median wall time | min–max | peak RSS (max) |\n|---|---|---|---|---|")
    for side in sides:
        print(f"| {side} ({sides[side].name}) | {len(times[side])} | {statistics.median(times[side]):.1f} s | "
              f"{min(times[side]):.1f}–{max(times[side]):.1f} s | {max(rss[side]):.0f} MB |")
    if "peer" in sides:
        print(f"\nratio peer / this (medians): {statistics.median(times['peer']) / statistics.median(times['this']):.2f}×")
    print("\n| table | rows |\n|---|---|")
    for table, n in counts.items():
        print(f"| {table} | {n:,} |")


if __name__ == "__main__":
    sys.exit(main())
