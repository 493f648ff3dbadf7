"""Finding a 12345 case by part of its caller's number or name (`q`, migration 0898) at city scale, side by side
with what one would do without it, and what its index costs an import.

    DATABASE_URL=postgresql://…/yours .venv/bin/python bench/bench_caller_search.py --rows 1000000 --callers 300000

A database of its own beside DATABASE_URL's (made, migrated, dropped after) gets ``--rows`` complaints, the
newest ``--callers`` of them with a hotline export's extra columns in ``attributes`` (来电人 from 60 surnames and
先生/女士 or a given name, 联系电话 a mobile written three ways or a landline, 回访日期), the rest none, as an
app's or the public channel's. Then, interleaved, each search as shipped (`layers.workflow.complaints.search` for
staff who may read callers, 20 rows newest first) against
- the same test without the index: ``complaint_caller_text(attributes) LIKE ALL …`` newest first (same answers:
  the bench stops otherwise);
- the query one writes first, ``attributes::text ILIKE '%q%'`` newest first (no digits joined across dashes: it
  misses numbers written 135-2864-0858, and finds dates);
- the office's way: export the cases with callers to CSV (``COPY … TO STDOUT``) and find the text in it (Excel's
  Ctrl-F, here Python's ``in`` on each line) — the export's time and the find's.
Then the import's price: ``--import-rows`` rows with callers inserted (then rolled back) into an empty copy of
the table with no caller index, with 0897's word index, and with 0898's gram index, interleaved; rows/s.
``--keep`` leaves the bench's database; ``--reuse`` times the one left without building it again.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2  # noqa: E402

from bench.benchdb import db_name, drop_database, new_database  # noqa: E402
from data.db import database_url  # noqa: E402
from data.migrate import migrate  # noqa: E402
from layers.workflow import callers as callers_sql  # noqa: E402
from layers.workflow import complaints as cases  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石"
GIVEN = ["先生", "女士", "建国", "秀英", "志强", "丽华", "小明", "海燕", "伟", "芳"]
#: One row's attributes from its number g, deterministic (the same city every run): a mobile as 13528640858,
#: 135-2864-0858 or 135 2864 0858, or a 0535 landline; every caller's 回访日期 a date in 2026.
ATTRIBUTES = """jsonb_build_object(
    '来电人', substr(%(surnames)s::text, (1 + (g * 7919) %% 60)::int, 1) || (%(given)s::text[])[(1 + (g * 104729) %% 10)::int],
    '联系电话', CASE (g * 31) %% 4
        WHEN 0 THEN '0535-' || lpad(((g * 2654435761) %% 10000000)::text, 7, '0')
        ELSE regexp_replace('1' || (3 + g %% 7)::text || lpad(((g * 2654435761) %% 1000000000)::text, 9, '0'),
                            '^(...)(....)(....)$', CASE (g * 31) %% 4 WHEN 1 THEN '\\1\\2\\3' WHEN 2 THEN '\\1-\\2-\\3'
                                                                          ELSE '\\1 \\2 \\3' END) END,
    '回访日期', to_char(date '2026-01-01' + (g %% 365)::int, 'YYYY-MM-DD'))"""
FILL = f"""INSERT INTO {{table}} (source, source_id, category, reported_at, geom, street_code, attributes)
    SELECT 'bench', 'B' || g, '暴露垃圾', timestamptz '2026-12-01' - g * interval '20 seconds',
           ST_SetSRID(ST_MakePoint(121.38, 37.52), 4326), 'S' || (g %% 40)::text,
           CASE WHEN g <= %(callers)s THEN {ATTRIBUTES} ELSE '{{{{}}}}'::jsonb END
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) g"""
SCAN = """SELECT c.id FROM complaints c WHERE c.id = %(number)s OR (c.attributes <> '{}'::jsonb
          AND complaint_caller_text(c.attributes) LIKE ALL (%(likes)s::text[]))
          ORDER BY c.reported_at DESC, c.id DESC LIMIT 20"""
NAIVE = """SELECT c.id FROM complaints c WHERE c.attributes::text ILIKE %(like)s
           ORDER BY c.reported_at DESC, c.id DESC LIMIT 20"""
EXPORT = "COPY (SELECT id, reported_at, attributes FROM complaints WHERE attributes <> '{}') TO STDOUT WITH CSV"
OLD_INDEX = "CREATE INDEX ON {table} USING gin (complaint_caller_terms(attributes)) WHERE attributes <> '{{}}'::jsonb"
NEW_INDEX = "CREATE INDEX {table}_caller_grams_idx ON {table} USING gin (complaint_caller_grams(attributes)) WHERE attributes <> '{{}}'::jsonb"


def build(url: str, rows: int, callers: int) -> tuple[str, float]:
    """The bench's database, migrated and filled (the gram index built after the rows); its URL and the seconds
    the index took to build."""
    copy = new_database(url, db_name(url) + "_bench_callers")
    conn = psycopg2.connect(copy)
    migrate(conn)
    with conn.cursor() as cur:
        cur.execute("DROP INDEX complaints_caller_grams_idx")
        cur.execute("SET session_replication_role = replica")  # the fixture only: no triggers, no FK checks
        for first in range(1, rows + 1, 100_000):
            cur.execute(FILL.format(table="complaints"), {"surnames": SURNAMES, "given": GIVEN, "callers": callers,
                                                          "first": first, "last": min(first + 99_999, rows)})
            conn.commit()
        started = time.perf_counter()
        cur.execute(NEW_INDEX.format(table="complaints"))
        seconds = time.perf_counter() - started
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE complaints")
    conn.close()
    return copy, seconds


def searches(conn) -> list[tuple[str, str]]:
    """(what, q) of each search timed, from a caller in the middle of those with attributes."""
    with conn.cursor() as cur:
        cur.execute("SELECT attributes->>'联系电话', attributes->>'来电人' FROM complaints WHERE attributes <> '{}' "
                    "ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM complaints WHERE attributes <> '{}')")
        phone, name = cur.fetchone()
    digits = "".join(ch for ch in phone if ch.isdigit())
    return [("尾号: a number's last 4 digits", digits[-4:]), ("7 digits inside a number", digits[3:10]),
            ("a whole number, as written", phone), ("a surname alone", name[0]), ("a full name", name),
            ("a surname and 尾号", f"{name[0]} {digits[-4:]}"), ("digits nobody called from", "99999999")]


def _timed(fn, *args):
    started = time.perf_counter()
    found = fn(*args)
    return time.perf_counter() - started, found


def _shipped(conn, q):
    return [c["id"] for c in cases.search(conn, text=q, callers=True, limit=20)["items"]]


def _query(conn, statement, params):
    with conn.cursor() as cur:
        cur.execute(statement, params)
        return [r[0] for r in cur.fetchall()]


def _export_and_find(conn, q):
    buffer = io.StringIO()
    with conn.cursor() as cur:
        cur.copy_expert(EXPORT, buffer)
    exported = time.perf_counter()
    return exported, [line for line in buffer.getvalue().splitlines() if q in line]


def measure_search(conn, runs: int) -> list[tuple]:
    """Per search: median seconds shipped, scan, naive, export, find; how many each found."""
    rows = []
    for what, q in searches(conn):
        likes = callers_sql.patterns(q)
        times: dict[str, list[float]] = {k: [] for k in ("shipped", "scan", "naive", "export", "find")}
        for _ in range(runs):
            seconds, ours = _timed(_shipped, conn, q)
            times["shipped"].append(seconds)
            seconds, scanned = _timed(_query, conn, SCAN, {"likes": likes, "number": int(q) if q.isdigit() else None})
            times["scan"].append(seconds)
            seconds, naive = _timed(_query, conn, NAIVE, {"like": cases.like_pattern(q)})
            times["naive"].append(seconds)
            started = time.perf_counter()
            exported, lines = _export_and_find(conn, q)
            times["export"].append(exported - started)
            times["find"].append(time.perf_counter() - exported)
            conn.rollback()
        if ours != scanned:
            raise SystemExit(f"{what}: the shipped search and the scan found different complaints")
        medians = {k: statistics.median(v) for k, v in times.items()}
        rows.append((what, q, medians, len(ours), len(naive), len(lines)))
        print(what, q, {k: round(v * 1000, 1) for k, v in medians.items()}, file=sys.stderr)
    return rows


def measure_import(conn, rows: int, runs: int) -> dict[str, float]:
    """Median rows/s of inserting ``rows`` rows with callers into an empty copy of complaints, per caller index."""
    with conn.cursor() as cur:
        for table, index in (("imp_none", None), ("imp_0897", OLD_INDEX), ("imp_0898", NEW_INDEX)):
            cur.execute(f"CREATE TABLE {table} (LIKE complaints INCLUDING DEFAULTS INCLUDING IDENTITY)")
            if index:
                cur.execute(index.format(table=table))
    conn.commit()
    rates: dict[str, list[float]] = {"imp_none": [], "imp_0897": [], "imp_0898": []}
    for _ in range(runs):
        for table, got in rates.items():
            with conn.cursor() as cur:
                started = time.perf_counter()
                cur.execute(FILL.format(table=table), {"surnames": SURNAMES, "given": GIVEN, "callers": rows,
                                                       "first": 1, "last": rows})
                got.append(rows / (time.perf_counter() - started))
            conn.rollback()
    return {table: statistics.median(got) for table, got in rates.items()}


def report(args, total: int, build_s: float, index_mb: float, found: list[tuple], rates: dict[str, float]) -> None:
    """The tables for bench/RESULTS.md."""
    print(f"\n{total:,} complaints, {args.callers:,} with callers; gram index built in {build_s:.1f} s, "
          f"{index_mb:.0f} MB; median of {args.runs} interleaved runs, 20 rows a page\n")
    print("| search | `q=` | shipped | same test, no index | `attributes::text ILIKE` | export CSV + find "
          "| scan ÷ shipped | export+find ÷ shipped | found (shipped / ILIKE / CSV lines) |\n|---|---|---|---|---|---|---|---|---|")
    for what, q, m, ours, naive, lines in found:
        csv_s = m["export"] + m["find"]
        print(f"| {what} | `{q}` | {m['shipped'] * 1000:.1f} ms | {m['scan'] * 1000:.0f} ms | {m['naive'] * 1000:.0f} ms "
              f"| {csv_s * 1000:.0f} ms ({m['find'] * 1000:.0f} find) | {m['scan'] / m['shipped']:.0f}× "
              f"| {csv_s / m['shipped']:.0f}× | {ours} / {naive} / {lines} |")
    none = rates["imp_none"]
    print(f"\nInsert of {args.import_rows:,} rows with callers (rolled back), median of {args.runs}:\n")
    print("| caller index | rows/s | ÷ none | µs a row added |\n|---|---|---|---|")
    for table, label in (("imp_none", "none"), ("imp_0897", "0897 words"), ("imp_0898", "0898 grams")):
        rate = rates[table]
        print(f"| {label} | {rate:,.0f} | {rate / none:.2f} | {(1 / rate - 1 / none) * 1e6:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--callers", type=int, default=300_000)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench's database (to EXPLAIN its queries)")
    parser.add_argument("--reuse", action="store_true", help="time the database --keep left, without building it")
    args = parser.parse_args()
    url = database_url()
    if args.reuse:  # a database --keep left, as built: its build not timed again
        copy, build_s = url.rsplit("/", 1)[0] + "/" + db_name(url) + "_bench_callers", float("nan")
    else:
        copy, build_s = build(url, args.rows, args.callers)
    try:
        conn = psycopg2.connect(copy)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), pg_relation_size('complaints_caller_grams_idx') / 1e6 FROM complaints")
            total, index_mb = cur.fetchone()
        conn.rollback()
        found = measure_search(conn, args.runs)
        rates = measure_import(conn, args.import_rows, args.runs)
        conn.close()
    finally:
        if not args.keep:
            drop_database(url, db_name(copy))
    report(args, total, build_s, index_mb, found, rates)


if __name__ == "__main__":
    main()
