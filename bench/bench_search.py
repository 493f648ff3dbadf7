"""Finding a complaint (`GET /api/complaints?q=`) at city scale, side by side with the one query one would write.

Run against a database holding the `city` demo (it is copied, never changed):

    DATABASE_URL=postgresql://…/yours .venv/bin/python bench/bench_search.py --runs 5

The demo's complaints have no street address, so the copy is given one on every row (a road of 120 and a door
number, from the id) before anything is timed. Then, interleaved, each search as shipped
(`layers.workflow.complaints.search`: the id or hotline number through indexes first, else the words in the
address, and in the description where the caller may read it) and as a single query a developer would write
first: `id::text = q OR source_id = q OR address ILIKE … OR description ILIKE …`, newest first, 20 rows.
Both must return the same complaints; the bench stops otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2  # noqa: E402

from bench.benchdb import db_name, drop_database, new_database  # noqa: E402
from data.db import database_url  # noqa: E402
from layers.workflow import complaints as cases  # noqa: E402

ROADS = [f"{a}{b}路" for a in ("幸福", "胜利", "解放", "建设", "人民", "和平", "光明", "文化", "青年", "新华", "团结",
                                  "友谊", "长江", "黄河", "泰山") for b in "东西南北中一二三"]  # 120 roads
#: One statement naming every row's road and door from its id (deterministic: the same addresses every run).
ADDRESSES = ("UPDATE complaints SET address = (%(roads)s::text[])[1 + id %% %(n)s] || (1 + id %% 997)::text || '号'")
NAIVE = """SELECT c.id FROM complaints c
           WHERE (c.id::text = %(q)s OR c.source_id = %(q)s OR c.address ILIKE %(like)s OR c.description ILIKE %(like)s)
             {street}
           ORDER BY c.reported_at DESC, c.id DESC LIMIT 20"""


def copy_city(url: str) -> str:
    """A copy of the city database with an address on every complaint; its URL."""
    copy = new_database(url, db_name(url) + "_bench_search", template=db_name(url))
    conn = psycopg2.connect(copy)
    with conn.cursor() as cur:
        cur.execute(ADDRESSES, {"roads": ROADS, "n": len(ROADS)})
    conn.commit()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE complaints")
    conn.close()
    return copy


def searches(conn) -> list[tuple[str, str, str | None]]:
    """(what, q, street) of each search timed: by number, by a road, and words found nowhere."""
    with conn.cursor() as cur:
        cur.execute("SELECT id, source_id, street_code FROM complaints ORDER BY id LIMIT 1 "
                    "OFFSET (SELECT count(*) / 2 FROM complaints)")  # the middle one
        cid, source_id, street = cur.fetchone()
    return [("a complaint's id, city-wide", str(cid), None),
            ("a hotline number, city-wide", source_id, None),
            ("a road, city-wide", "幸福东路", None),
            ("a road, within a street", "幸福东路", street),
            ("words found nowhere, within a street", "不存在的地址", street),
            ("words found nowhere, city-wide", "不存在的地址", None)]


def shipped(conn, q: str, street: str | None) -> list[int]:
    found = cases.search(conn, text=q, described=True, street=street, limit=20)
    return [c["id"] for c in found["items"]]


def naive(conn, q: str, street: str | None) -> list[int]:
    with conn.cursor() as cur:
        cur.execute(NAIVE.format(street="AND c.street_code = %(street)s" if street else ""),
                    {"q": q, "like": "%" + q + "%", "street": street})
        return [r[0] for r in cur.fetchall()]


def measure(conn, runs: int) -> list[tuple[str, float, float]]:
    """Per search, the median seconds of the shipped search and the naive query, interleaved, after checking
    that both find the same complaints."""
    rows = []
    for what, q, street in searches(conn):
        ours, theirs = [], []
        for _ in range(runs):
            for fn, times in ((shipped, ours), (naive, theirs)):
                started = time.perf_counter()
                found = fn(conn, q, street)
                times.append(time.perf_counter() - started)
                conn.rollback()
        if shipped(conn, q, street) != naive(conn, q, street):
            raise SystemExit(f"{what}: the shipped search and the naive query found different complaints")
        rows.append((what, statistics.median(ours), statistics.median(theirs)))
        print(f"{what}: {rows[-1][1] * 1000:.1f} ms vs {rows[-1][2] * 1000:.1f} ms ({len(found)} found)",
              file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = database_url()
    copy = copy_city(url)
    try:
        conn = psycopg2.connect(copy)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM complaints")
            total = cur.fetchone()[0]
        rows = measure(conn, args.runs)
        conn.close()
    finally:
        drop_database(url, db_name(copy))
    print(f"\n{total:,} complaints, an address on every one; median of {args.runs} interleaved runs, 20 rows a page\n")
    print("| search (`q=`) | shipped | one `OR … ILIKE` query | naive ÷ shipped |\n|---|---|---|---|")
    for what, ours, theirs in rows:
        print(f"| {what} | {ours * 1000:.1f} ms | {theirs * 1000:.1f} ms | {theirs / ours:.1f}× |")
    print("\nboth found the same complaints for every search")


if __name__ == "__main__":
    main()
