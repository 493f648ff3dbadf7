"""Benchmark: a street atlas of ~100 grid sheets, against the obvious geopandas script.

    HYGIENE_MAP_HOME=/tmp/hm-city .venv/bin/python bench/bench_print.py --runs 3

Runs side by side in one process tree against the city demo (read only):

- ``hygiene-map`` — ``layers.printing.docs.atlas_document`` in-process (1 worker)
  and with the default worker processes (HYGIENE_MAP_PRINT_WORKERS);
- ``naive geopandas`` — what a user would write instead: per grid page,
  ``geopandas.read_postgis`` of each layer in the page's bounding box,
  ``GeoDataFrame.plot`` of each layer, numbered labels and a checklist made
  with ``ax.table``, ``PdfPages`` (same font, same paper);
- ``before`` (with ``--before DIR``, a copy of older code, e.g.
  ``mkdir /tmp/hm-before && git archive <commit> | tar -x -C /tmp/hm-before``):
  that code's atlas with its default workers, in a fresh Python process that
  imports first and times loading and drawing.

Every hygiene-map PDF must have the same pages and the same text (pdftotext)
as the first one: the bench stops if an answer changed.

Prints a Markdown table (median wall time, pages, seconds per page, ratio,
file size, peak RSS) for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from data.db import connect  # noqa: E402
from data.settings import PrintSettings  # noqa: E402
from layers.printing.docs import atlas_document  # noqa: E402

A4_IN = (210 / 25.4, 297 / 25.4)


def street_near(conn, target: int) -> tuple[str, int]:
    """The street whose grid count is nearest ``target`` (lowest code on ties)."""
    with conn.cursor() as cur:
        cur.execute("SELECT street_code, count(*) FROM grids GROUP BY 1 ORDER BY abs(count(*) - %s), 1 LIMIT 1",
                    (target,))
        return cur.fetchone()


#: What the naive script draws on each grid's page, read per page by bounding box as a geopandas user would.
_NAIVE_LAYERS = {
    "roads": "SELECT class, name, geom FROM roads",
    "urban_villages": "SELECT name, geom FROM urban_villages",
    "health_trails": "SELECT name, geom FROM health_trails",
    "markets": "SELECT id, name, geom FROM markets",
    "toilets": "SELECT id, name, geom FROM toilets",
    "garbage_stations": "SELECT id, name, kind, geom FROM garbage_stations",
    "complaints": "SELECT id, category AS name, status, geom FROM complaints WHERE status <> '结案'",
    "grids": "SELECT code, geom FROM grids",
}
_NAIVE_STYLES = {"markets": ("s", "orange"), "toilets": ("^", "tab:blue"), "garbage_stations": ("o", "green"),
                 "complaints": ("X", "red")}


def naive_atlas(conn, street: str, out: str) -> int:
    """One page per grid the way a geopandas user would script it. Returns the page count."""
    import geopandas as gpd
    import matplotlib

    matplotlib.use("pdf")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from layers.printing.style import register_font

    family = register_font(os.environ.get("HYGIENE_MAP_PRINT_FONT") or None)
    plt.rcParams.update({"pdf.fonttype": 42, "font.family": [family], "font.size": 7})
    warnings.filterwarnings("ignore", message=".*pandas only supports SQLAlchemy.*")
    with conn.cursor() as cur:
        cur.execute("SELECT metric_srid FROM city_settings")
        srid = cur.fetchone()[0]
    grids = gpd.read_postgis(
        "SELECT code, name, responsible_unit, grid_manager, phone, geom FROM grids WHERE street_code = %s "
        "ORDER BY code", conn, params=(street,), geom_col="geom", crs=4326).to_crs(srid)
    with PdfPages(out) as pdf:
        for _, grid in grids.iterrows():
            fig = _naive_page(conn, grid, srid)
            pdf.savefig(fig)
            plt.close(fig)
    return len(grids)


def _naive_page(conn, grid, srid: int):
    """One grid's page of the naive atlas: the layers around it read by bounding box, its features numbered."""
    import geopandas as gpd
    import matplotlib.pyplot as plt

    box = gpd.GeoSeries([grid.geom.buffer(90).envelope], crs=srid).to_crs(4326).total_bounds
    frames = {}
    for name, query in _NAIVE_LAYERS.items():
        where = " AND " if "WHERE" in query else " WHERE "
        frames[name] = gpd.read_postgis(
            query + where + "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", conn, params=tuple(float(v) for v in box),
            geom_col="geom", crs=4326).to_crs(srid)
    fig, (ax, tab) = plt.subplots(2, 1, figsize=A4_IN, gridspec_kw={"height_ratios": [3, 2]})
    frames["urban_villages"].plot(ax=ax, facecolor="none", edgecolor="brown", hatch="///")
    frames["health_trails"].plot(ax=ax, color="green", linestyle=":")
    frames["roads"].plot(ax=ax, color="grey", linewidth=0.8)
    frames["grids"].boundary.plot(ax=ax, color="grey", linestyle="--", linewidth=0.5)
    gpd.GeoSeries([grid.geom], crs=srid).boundary.plot(ax=ax, color="black", linewidth=2)
    rows, n = [], 0
    for name, (marker, color) in _NAIVE_STYLES.items():
        frame = frames[name]
        if frame.empty:
            continue
        frame.plot(ax=ax, marker=marker, color=color, markersize=25)
        inside = frame[frame.within(grid.geom)]
        for _, f in inside.iterrows():
            n += 1
            ax.annotate(str(n), (f.geom.x, f.geom.y), xytext=(3, 3), textcoords="offset points")
            rows.append([str(n), name, str(f["name"]), str(f.get("status", "")), str(f["id"]), ""])
    ax.set_xlim(grid.geom.bounds[0] - 90, grid.geom.bounds[2] + 90)
    ax.set_ylim(grid.geom.bounds[1] - 90, grid.geom.bounds[3] + 90)
    ax.set_title(f"{grid['name']} {grid['code']}  {grid['responsible_unit']} {grid['grid_manager']} "
                 f"{grid['phone']}")
    tab.axis("off")
    if rows:
        tab.table(cellText=rows[:30], colLabels=["No", "type", "name", "status", "id", "ok"], loc="upper center")
    return fig


def _atlas(conn, street: str, out: str, settings: PrintSettings) -> int:
    """hygiene-map's atlas of a street, loaded and drawn, as the CLI does it: its page count."""
    document = atlas_document(conn, street, settings=settings)
    conn.rollback()
    document.write(out)
    return len(document.pages)


_ATLAS_IN = """
import sys, time
sys.path.insert(0, sys.argv[1])
from data.db import connect
from data.settings import PrintSettings
from layers.printing.docs import atlas_document
conn = connect()
started = time.perf_counter()
document = atlas_document(conn, sys.argv[2], settings=PrintSettings.from_env())
conn.rollback()
document.write(sys.argv[3])
print(time.perf_counter() - started, len(document.pages))
"""


def atlas_in(checkout: Path, street: str, out: str) -> tuple[float, int]:
    """(seconds, pages) of the atlas by the code in ``checkout``, timed inside a fresh process."""
    done = subprocess.run([sys.executable, "-c", _ATLAS_IN, str(checkout), street, out], check=True,
                          capture_output=True, text=True, cwd=checkout, timeout=1800)
    seconds, pages = done.stdout.split()[-2:]
    return float(seconds), int(pages)


def pdf_text(path: str) -> str:
    return subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=100, help="pick the street with about this many grids")
    parser.add_argument("--street", help="or name the street")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--naive-runs", type=int, default=1)
    parser.add_argument("--single-runs", type=int, default=None, help="runs in one process (default: --runs)")
    parser.add_argument("--before", type=Path, help="a copy of older code to run side by side")
    return parser.parse_args()


def _contenders(args, conn, street: str) -> list[tuple]:
    """(name, make the atlas at a path → pages, runs) of each contender, hygiene-map's default first."""
    default_workers = PrintSettings.from_env().workers
    contenders = [("hygiene-map, 1 process", lambda out: _atlas(
        conn, street, out, PrintSettings.from_env({"HYGIENE_MAP_PRINT_WORKERS": "1"})),
        args.runs if args.single_runs is None else args.single_runs)]
    if default_workers > 1:
        contenders.insert(0, (f"hygiene-map, {default_workers} worker processes", lambda out: _atlas(
            conn, street, out, PrintSettings.from_env()), args.runs))
    if args.before:
        contenders.append((f"before ({args.before.name}), {default_workers} worker processes",
                           lambda out: atlas_in(args.before.resolve(), street, out), args.runs))
    contenders.append(("naive geopandas (read_postgis + .plot per page)", lambda out: naive_atlas(conn, street, out),
                       args.naive_runs))
    return [c for c in contenders if c[2] > 0]


def _interleaved(conn, contenders: list[tuple]) -> list[tuple]:
    """The contenders' runs interleaved, so that load from other users falls on every one alike; per contender
    (name, runs, median s, pages, s per page, × the first, PDF size). Every hygiene-map atlas prints alike."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        times: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
        meta: dict[str, tuple[int, int]] = {}
        answer = None  # the pages' text, which every hygiene-map contender must print alike
        for run in range(max(r for _, _, r in contenders)):
            for name, fn, runs in contenders:
                if run >= runs:
                    continue
                out = os.path.join(tmp, f"{len(times[name])}-{abs(hash(name))}.pdf")
                started = time.perf_counter()
                pages = fn(out)
                times[name].append(time.perf_counter() - started)
                if isinstance(pages, tuple):  # timed in its own process
                    times[name][-1], pages = pages
                conn.rollback()
                if not name.startswith("naive"):
                    text = pdf_text(out)
                    answer = answer or text
                    assert text == answer, f"{name}: the atlas' text changed"
                meta[name] = (pages, os.path.getsize(out))
                print(f"{name}: run {run + 1}: {times[name][-1]:.1f} s, {pages} pages", file=sys.stderr)
        base = statistics.median(times[contenders[0][0]])
        for name, _, _ in contenders:
            median = statistics.median(times[name])
            pages, size = meta[name]
            results.append((name, len(times[name]), median, pages, median / pages, median / base, size))
    return results


def main() -> None:
    args = _args()
    conn = connect()
    if args.street:
        street = args.street
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM grids WHERE street_code = %s", (street,))
            n_grids = cur.fetchone()[0]
    else:
        street, n_grids = street_near(conn, args.grids)
    conn.rollback()
    print(f"street {street}: {n_grids} grids; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    contenders = _contenders(args, conn, street)
    results = _interleaved(conn, contenders)
    own, children = peak_rss_mb()
    print(f"\n| contender | runs | median wall time | pages | s/page | × {contenders[0][0]} | PDF size |")
    print("|---|---|---|---|---|---|---|")
    for name, runs, median, pages, per_page, ratio, size in results:
        print(f"| {name} | {runs} | {median:.1f} s | {pages} | {per_page:.2f} | {ratio:.2f} | {size / 1e6:.1f} MB |")
    print("all hygiene-map PDFs: the same pages and text")
    print(f"\nstreet {street} ({n_grids} grids); peak RSS: this process {own:.0f} MB, "
          f"largest worker {children:.0f} MB; load average at the end {os.getloadavg()[0]:.1f}")

if __name__ == "__main__":
    main()
