"""The hot spots page /map/hotspots at city scale, this checkout beside another (before), on one database.

    mkdir /tmp/hm-before && git archive main | tar -x -C /tmp/hm-before
    HYGIENE_MAP_HOME=/tmp/hm-city .venv/bin/python bench/bench_hotspots_page.py --peer /tmp/hm-before --runs 5

Both checkouts are served by uvicorn (one worker each) over the same database (the city demo: 1,000,000
complaints). Each round asks, for each cell (the default and 100 m), the page of both servers in turn (the order
swapped every round), twice: right after a statement on complaints that changes no row but counts as a change
(``UPDATE complaints … WHERE false``: the stamps the caches key on move, as after a complaint comes in), and
again with nothing changed since, as planners reopen it. The page's script then asks /api/analysis/hotspots,
timed too: its first answer after the change (Gi* from the kept counts) and the next (the answer kept). Before timing, the bench checks
both pages offer the same event types with the same counts, and that both servers answer the same GeoJSON.
Medians of ``--runs``. Prints Markdown for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import sys
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.web_peers import get, serve_ours  # noqa: E402
from data.db import database_url  # noqa: E402

#: A checkbox of the panel's event types: its value, then its label's count （1,234） or (1,234).
_BOX = re.compile(r'name="category" value="([^"]*)"[^>]*>[^<]*?[（(]([\d,]+)[）)]</label>')


def categories(html: bytes) -> list[tuple[str, int]]:
    """The event types the page's panel offers, with the counts it shows, in its order."""
    return [(name, int(n.replace(",", ""))) for name, n in _BOX.findall(html.decode())]


def _ok(base: str, path: str) -> tuple[bytes, float]:
    status, body, seconds, conn = get(base, path)
    conn.close()
    assert status == 200, (base, path, status, body[:300])
    return body, seconds


def touch(url: str) -> None:
    """A statement on complaints that changes no row: the change stamps move (migration 0500), the data do not."""
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE complaints SET status = status WHERE false")
    conn.close()


def check_same(sides: dict[str, str], cells: list[str | None]) -> dict:
    """Both pages offer the same event types and counts; both APIs answer the same bytes. What was compared."""
    seen = {}
    for cell in cells:
        page = "/map/hotspots" + (f"?cell={cell}" if cell else "")
        api = "/api/analysis/hotspots?" + (f"cell={cell}&" if cell else "") + "lang=zh"
        offered = {side: categories(_ok(base, page)[0]) for side, base in sides.items()}
        answers = {side: hashlib.sha256(_ok(base, api)[0]).hexdigest() for side, base in sides.items()}
        assert len(set(map(tuple, offered.values()))) == 1 and offered["ours"], offered
        assert len(set(answers.values())) == 1, answers
        seen[cell or "default"] = (len(offered["ours"]), sum(n for _, n in offered["ours"]))
    return seen


def run(url: str, peer: Path, runs: int, cells: list[str | None]) -> None:
    env_home = os.environ.get("HYGIENE_MAP_HOME", "")
    with serve_ours(url, 1) as ours, serve_ours(url, 1, peer) as before:
        sides = {"ours": ours, "before": before}
        seen = check_same(sides, cells)  # also registers the grids and fills both analysis caches
        times: dict[tuple, list[float]] = {}
        for round_ in range(runs):
            order = list(sides.items()) if round_ % 2 == 0 else list(reversed(sides.items()))
            for cell in cells:
                page = "/map/hotspots" + (f"?cell={cell}" if cell else "")
                api = "/api/analysis/hotspots?" + (f"cell={cell}&" if cell else "") + "lang=zh"
                touch(url)
                for side, base in order:  # the first page load after a change, then one with nothing changed
                    times.setdefault((side, cell, "changed"), []).append(_ok(base, page)[1])
                for side, base in order:
                    times.setdefault((side, cell, "unchanged"), []).append(_ok(base, page)[1])
                    times.setdefault((side, cell, "api"), []).append(_ok(base, api)[1])  # computed (kept counts)
                    times.setdefault((side, cell, "api kept"), []).append(_ok(base, api)[1])  # the answer kept
    print(f"database {url.rsplit('/', 1)[-1]} (HYGIENE_MAP_HOME={env_home}); medians of {runs}, seconds; "
          f"event types offered and complaints counted: {seen}\n")
    print("| cell | page after a change: before | ours | page, nothing changed: before | ours | ratio | "
          "API after the change: before | ours | API again: before | ours |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for cell in cells:
        med = {k[0] + k[2]: statistics.median(v) for k, v in times.items() if k[1] == cell}
        print(f"| {cell or 'default'} | {med['beforechanged']:.3f} | {med['ourschanged']:.3f} | "
              f"{med['beforeunchanged']:.3f} | **{med['oursunchanged']:.3f}** | "
              f"{med['beforeunchanged'] / med['oursunchanged']:.1f}× | {med['beforeapi']:.3f} | {med['oursapi']:.3f} | "
              f"{med['beforeapi kept']:.3f} | {med['oursapi kept']:.3f} |")
    print("\nruns:")
    for key, values in sorted(times.items(), key=lambda kv: (str(kv[0][1]), kv[0][2], kv[0][0])):
        print(f"- {key[1] or 'default'} {key[2]} {key[0]}: " + ", ".join(f"{v:.3f}" for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", type=Path, required=True, help="the other checkout (git archive main | tar -x)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cell", action="append", default=None,
                        help="hexagon edge(s) in m besides the default (repeat; default: 100)")
    args = parser.parse_args()
    run(database_url(), args.peer.resolve(), args.runs, [None, *(args.cell or ["100"])])


if __name__ == "__main__":
    main()
