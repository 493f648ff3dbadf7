"""Benchmark: a street's 问题清单 (problem list) PDF for a round of 200 findings, against an HTML page printed by
headless Chromium.

    HYGIENE_MAP_HOME=/tmp/hm-city .venv/bin/python bench/bench_problems.py --runs 5

Against a city with the demo loaded (any scale; its first street). The round is written inside one
transaction that is rolled back at the end, its photos into a temporary folder: the database is left as it
was. The round is the issue's: 200 findings from 3 inspectors, all in one street (a street's list at its
longest), each with a before photo (1280×960 JPEG, as a phone sends it), every other one rectified with an
after photo: 300 photos, each a different one.

- **hygiene-map** — :func:`layers.printing.problems_data.load_problems` (the SQL: findings, nearest roads,
  photos, outlines) then :func:`layers.printing.problems_pdf.write_pdf` (map page, list with thumbnails).
  Twice a run: first with no thumbnail made yet (the round's first print: each photo decoded once, its
  thumbnail kept next to it), then again (every later print, reading the kept thumbnails).
- **HTML + Chromium** — what one would write instead: the same loaded list as an HTML page (an inline SVG
  map of the outlines and numbered findings, a table with the photos as ``<img>`` of the stored files,
  scaled by the browser) printed to PDF by ``chromium --headless --print-to-pdf`` (A4). Its load step is
  ours (the same SQL), so the comparison is of the drawing.

- **before / after** (with ``--before DIR``, a checkout of the code to compare with, e.g. made by
  ``mkdir /tmp/hm-before && git archive <commit> | tar -x -C /tmp/hm-before``): the same loaded list drawn by ``write_pdf`` of that checkout
  and of this one, each in a fresh Python process that imports first and times only the drawing (the
  thumbnails already kept), so neither has a warm font cache the other lacks.

Runs alternate (ours twice, then the peer, then before and after in alternating order, run after run) so the
shared machine's load falls on all alike; prints the medians as a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import html
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_FINDINGS = 200


def phone_photo(rng: random.Random) -> bytes:
    """A 1280×960 JPEG with a phone photo's kind of content (smooth areas and detail), about 100–300 kB."""
    import numpy as np
    from PIL import Image

    small = np.array([[[rng.randrange(256) for _ in range(3)] for _ in range(32)] for _ in range(24)], dtype=np.uint8)
    image = Image.fromarray(small).resize((1280, 960), Image.BICUBIC)
    noise = np.random.default_rng(rng.randrange(2**32)).integers(0, 24, (960, 1280, 3), dtype=np.uint8)
    image = Image.fromarray(np.clip(np.asarray(image, dtype=np.int16) + noise - 12, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def make_round(conn, street: str, rng: random.Random) -> int:
    """The issue's round in ``street``: 200 findings from 3 inspectors, photos, half of them rectified."""
    from data import checklist
    from layers.workflow.access import User
    from layers.workflow.inspection_photos import add_photo
    from layers.workflow.inspections import create_round, move, record_finding

    now = datetime.now(UTC)
    made = create_round(conn, name="基准 200 处", kind="月度暗访", starts=now - timedelta(days=7),
                        ends=now + timedelta(days=1), streets=[street], actor="bench")
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, %s, 15))).geom p "
                    "FROM admin_areas WHERE level = 'street' AND code = %s) s", (N_FINDINGS * 2, street))
        spots = [xy for xy in cur.fetchall()]
    items = list(checklist.load())
    inspectors = [User(0, f"bench-inspector-{k}", "admin") for k in (1, 2, 3)]
    rectifier = User(0, "bench-street", "admin")
    photos = iter([phone_photo(rng) for _ in range(N_FINDINGS * 3 // 2)])  # every photo its own, as in the field
    made_n = 0
    for k, (lon, lat) in enumerate(spots):
        if made_n == N_FINDINGS:
            break
        try:
            finding, _ = record_finding(conn, inspectors[k % 3], round_id=made["id"], lon=lon, lat=lat,
                                        item=items[k % len(items)], note=f"基准问题 {k}：门店 某某",
                                        observed_at=now - timedelta(hours=1, minutes=k), client_id=str(uuid.uuid4()))
        except Exception:  # a point in no grid of the street (a gap between grids): take the next one
            continue
        made_n += 1
        add_photo(conn, inspectors[k % 3], finding, "before", next(photos))
        if made_n % 2:
            add_photo(conn, rectifier, finding, "after", next(photos))
            move(conn, rectifier, finding["id"], "已整改", "已清理")
    return made["id"]


def _svg_map(plist) -> str:
    """The peer's map: outlines and numbered findings as inline SVG, in metres (y flipped)."""
    import shapely

    shapes = [g for *_, g in plist.outlines] + [shapely.Point(p.x, p.y) for p in plist.problems]
    x0, y0, x1, y1 = shapely.union_all(shapes).bounds
    body = [f'<g transform="translate(0,{y0 + y1}) scale(1,-1)">']
    body += [g.svg(0.5).replace('stroke-width="1.0"', 'stroke-width="3"') for g in plist.communities]
    body += [g.svg(1.0) for *_, g in plist.outlines]
    body += [f'<circle cx="{p.x}" cy="{p.y}" r="12" fill="#d62728"/>' for p in plist.problems]
    body.append("</g>")
    body += [f'<text x="{p.x + 14}" y="{y0 + y1 - p.y}" font-size="30">{p.number}</text>' for p in plist.problems]
    return (f'<svg viewBox="{x0} {y0} {x1 - x0} {y1 - y0}" style="width:100%;height:230mm">' + "".join(body)
            + "</svg>")


def peer_html(plist) -> str:
    """The same list as an HTML page: the map, then per unit a table with the photos as images."""
    rows = []
    for unit, group in plist.units():
        rows.append(f'<tr><th colspan="9">责任单位：{html.escape(unit or "—")} · 问题 {len(group)} 处</th></tr>')
        for p in group:
            imgs = {s: "".join(f'<img src="file://{ph.path}">' for ph in p.photos if ph.stage == s)[:300]
                    for s in ("before", "after")}
            rows.append(
                f"<tr><td>{p.number}</td><td>{html.escape(p.street_name or '')} · {html.escape(p.community_name or '')}"
                f"<br>网格{p.grid_code}<br>{p.lon:.5f}, {p.lat:.5f}</td><td>{p.item_code} {html.escape(p.item_text)}</td>"
                f"<td>{p.deduction:g}</td><td>{p.due_at:%Y-%m-%d}</td><td>{p.status}</td>"
                f"<td>{html.escape(p.description or '')}</td><td>{imgs['before']}</td><td>{imgs['after']}</td></tr>")
    style = ("@page{size:A4;margin:10mm} body{font-family:'WenQuanYi Micro Hei';font-size:7pt} table{width:100%;"
             "border-collapse:collapse} td,th{border-bottom:0.3pt solid #999;vertical-align:top;text-align:left}"
             " img{width:12mm;height:9mm;object-fit:contain} svg{page-break-after:always}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>"
            f"<h1>问题清单</h1>{_svg_map(plist)}<table>{''.join(rows)}</table></body></html>")


def run_peer(plist, work: Path) -> tuple[float, int]:
    from tests.chromium import chromium_binary

    started = time.perf_counter()
    page = work / "peer.html"
    page.write_text(peer_html(plist), encoding="utf-8")
    out = work / "peer.pdf"
    subprocess.run([chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={work / 'profile'}", "--allow-file-access-from-files",
                    f"--print-to-pdf={out}", page.as_uri()], check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started, out.stat().st_size


def run_ours(conn, round_id: int, street: str, work: Path) -> tuple[float, float, int, int]:
    from layers.printing.problems_data import load_problems
    from layers.printing.problems_pdf import write_pdf

    started = time.perf_counter()
    plist = load_problems(conn, round_id, street)
    loaded = time.perf_counter()
    out = work / "ours.pdf"
    pages = write_pdf(plist, str(out))
    return loaded - started, time.perf_counter() - loaded, pages, out.stat().st_size


_DRAW_IN = """
import pickle, sys, time
sys.path.insert(0, sys.argv[1])
from layers.printing.problems_pdf import write_pdf
plist = pickle.load(open(sys.argv[2], "rb"))
started, cpu = time.perf_counter(), time.process_time()
write_pdf(plist, sys.argv[3])
print(time.perf_counter() - started, time.process_time() - cpu)
"""


def draw_in(checkout: Path, plist_file: Path, out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds ``write_pdf`` of the code in ``checkout`` takes to draw the pickled list, in a fresh
    process (CPU time, which the machine's load changes less, is its own and its threads')."""
    done = subprocess.run([sys.executable, "-c", _DRAW_IN, str(checkout), str(plist_file), str(out)],
                          check=True, capture_output=True, text=True, cwd=checkout, timeout=600)
    wall, cpu = done.stdout.split()[-2:]
    return float(wall), float(cpu)


def before_after(plist, before: Path, work: Path, runs: int) -> tuple[list, list]:
    """(wall, CPU) drawing times of the checkout ``before`` and of this code, in alternating order."""
    import pickle

    plist_file = work / "plist.pickle"
    plist_file.write_bytes(pickle.dumps(plist))
    here = Path(__file__).resolve().parent.parent
    times: dict[Path, list[tuple[float, float]]] = {before: [], here: []}
    for run in range(runs):
        for checkout in ((before, here) if run % 2 == 0 else (here, before)):
            times[checkout].append(draw_in(checkout, plist_file, work / "ba.pdf"))
    return times[before], times[here]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare the drawing with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hm-bench-problems-") as tmp:
        work = Path(tmp)
        os.environ["HYGIENE_MAP_PHOTO_DIR"] = str(work / "photos")
        from data.db import connect
        from layers.printing.problems_data import load_problems

        conn = connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT code FROM admin_areas WHERE level = 'street' ORDER BY code LIMIT 1")
                street = cur.fetchone()[0]
            round_id = make_round(conn, street, random.Random(15))
            plist = load_problems(conn, round_id, street)
            n_photos = sum(len(p.photos) for p in plist.problems)
            cold, ours, peer = [], [], []
            for _ in range(args.runs):
                for made in (work / "photos").rglob("*.t*.png"):
                    made.unlink()  # the first print of a round: every thumbnail still to make
                cold.append(run_ours(conn, round_id, street, work))
                ours.append(run_ours(conn, round_id, street, work))
                peer.append(run_peer(plist, work))
            compared = before_after(plist, args.before.resolve(), work, args.runs) if args.before else None
        finally:
            conn.rollback()  # the round was the bench's own: nothing stays
            conn.close()
    load_s = statistics.median(r[0] for r in ours)
    draw_s = statistics.median(r[1] for r in ours)
    total = statistics.median(r[0] + r[1] for r in ours)
    peer_s = statistics.median(r[0] for r in peer)
    cold_s = statistics.median(r[0] + r[1] for r in cold)
    print(f"street {street}: {len(plist.problems)} findings, {n_photos} photos, {ours[0][2]} pages; "
          f"medians of {args.runs}")
    print("| contender | median | ratio | file |")
    print("|---|---|---|---|")
    print(f"| hygiene-map (load {load_s:.2f} s + draw {draw_s:.2f} s) | **{total:.2f} s** | 1.0 | "
          f"{ours[0][3] / 1e6:.1f} MB |")
    print(f"| hygiene-map, first print (every thumbnail made) | {cold_s:.2f} s | {cold_s / total:.1f} | "
          f"{cold[0][3] / 1e6:.1f} MB |")
    print(f"| HTML + headless Chromium (drawing only) | {peer_s:.2f} s | {peer_s / total:.1f} | "
          f"{peer[0][1] / 1e6:.1f} MB |")
    if compared:
        old, new = (statistics.median(wall for wall, _ in t) for t in compared)
        old_cpu, new_cpu = (statistics.median(cpu for _, cpu in t) for t in compared)
        print(f"\nDrawing only, fresh process each, {args.before} against this code, alternating, medians of "
              f"{args.runs}: before {old:.2f} s, after {new:.2f} s ({new / old:.2f}×); faster in "
              f"{sum(n[0] < o[0] for o, n in zip(*compared))} of {args.runs} pairs; CPU before {old_cpu:.2f} s, "
              f"after {new_cpu:.2f} s ({new_cpu / old_cpu:.2f}×)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
