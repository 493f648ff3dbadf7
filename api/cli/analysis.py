"""`hygiene-map analyze coverage|density|hotspots|priority|siting`: a table on stdout, files with --out."""

from __future__ import annotations

from pathlib import Path

import click


def _conn():
    from data.db import connect

    return connect()


def _when(name: str, raw: str | None):
    from api.routes.analysis import parse_when

    return parse_when(name, raw)


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _table(headers: list[str], rows: list[list], limit: int | None) -> None:
    shown = rows if limit is None else rows[:limit]
    cells = [[_fmt(v) for v in row] for row in shown]
    widths = [max(_width(h), *(_width(r[i]) for r in cells)) if cells else _width(h) for i, h in enumerate(headers)]
    click.echo("  ".join(_pad(h, w) for h, w in zip(headers, widths)))
    for row in cells:
        click.echo("  ".join(_pad(v, w) for v, w in zip(row, widths)))
    if limit is not None and len(rows) > limit:
        click.echo(f"… {len(rows) - limit} more rows (all of them with --out FILE)")


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _out_option(f):
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                        help="write all rows: .geojson, .csv or .xlsx")(f)


def _limit_option(f):
    return click.option("--limit", type=int, default=40, show_default=True, help="rows printed (not written)")(f)


def _lang_option(f):
    return click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)(f)


def _written(out: Path | None, rows: list[dict], geojson: bytes | None) -> None:
    if out is None:
        return
    from layers.analysis.encode import write

    fmt = write(out, rows, geojson)
    click.echo(f"wrote {len(rows)} rows to {out} ({fmt})")


@click.group("analyze")
def analyze() -> None:
    # Errors are turned into one line by the top-level group (api.cli.main) that runs this one.
    """Coverage gaps, density against the standards, complaint hotspots, grid priority, new sites."""


@analyze.command("coverage")
@click.option("--kind", default="toilets", show_default=True,
              help="toilets, garbage_points, collection_stations, transfer_stations, markets, health_trails")
@click.option("--radius", type=float, default=None, help="metres (default: the kind's standard)")
@click.option("--by", default="community", show_default=True, help="district, street, community, grid, urban_village")
@click.option("--street", default=None, help="only areas whose code starts with this")
@click.option("--gaps", is_flag=True, help="include gap polygons in the GeoJSON")
@click.option("--method", type=click.Choice(["straight", "walk"]), default="straight", show_default=True,
              help="straight-line radius, or walking distance along the roads (pgRouting)")
@_out_option
@_limit_option
@_lang_option
def coverage_cmd(kind, radius, by, street, gaps, method, out, limit, lang):
    """Covered area % and covered population % per area (straight-line radius or walking distance)."""
    from geo.coverage import coverage
    from layers.analysis.encode import coverage_features

    conn = _conn()
    try:
        result = coverage(conn, kind, radius, by, gaps=gaps, code_prefix=street, method=method)
    finally:
        conn.close()
    rule = result["rule"]
    click.echo(rule.describe(lang) if rule else f"radius {result['radius_m']:g} m (given; no standard applied)")
    click.echo(f"method: {result['method']}; circle: {result['circle']}")
    rows = result["rows"]
    _table(["code", "name", "km²", "covered area %", "population", "covered pop %"],
           [[r["code"], r["name_en"] if lang == "en" and r["name_en"] else r["name"], r["area_km2"],
             r["covered_area_pct"], r["population"], r["covered_pop_pct"]]
            for r in sorted(rows, key=lambda r: r["covered_area_pct"] or 0)], limit)
    s = result["summary"]
    click.echo(f"total: {s['areas']} areas, covered area {_fmt(s['covered_area_pct'])} %, "
               f"covered population {_fmt(s['covered_pop_pct'])} %")
    _written(out, rows, coverage_features(result, lang, gaps) if out else None)


@analyze.command("density")
@click.option("--kind", default="toilets", show_default=True)
@click.option("--by", default="street", show_default=True)
@click.option("--street", default=None, help="only areas whose code starts with this")
@_out_option
@_limit_option
@_lang_option
def density_cmd(kind, by, street, out, limit, lang):
    """Facilities per km² and per 10,000 residents, below / within / above the planning band."""
    from geo.density import density
    from layers.analysis.encode import feature_collection

    conn = _conn()
    try:
        result = density(conn, kind, by, code_prefix=street)
    finally:
        conn.close()
    for rule in result["rules"]:
        click.echo(rule.describe(lang))
    rows = result["rows"]
    _table(["code", "name", "count", "km²", "per km²", "per 10k", "expected", "status"],
           [[r["code"], r["name_en"] if lang == "en" and r["name_en"] else r["name"], r["count"], r["area_km2"],
             r["per_km2"], r["per_10k_residents"],
             f"{r['expected_min']:.1f}–{r['expected_max']:.1f}" if r["expected_min"] is not None else None,
             r["status"]] for r in rows], limit)
    s = result["summary"]
    click.echo(f"total: {s['areas']} areas: {s['below']} below, {s['within']} within, {s['above']} above the band")
    geo = feature_collection([(r["geometry"], {k: v for k, v in r.items() if k != "geometry"}) for r in rows]) if out else None
    _written(out, rows, geo)


@analyze.command("hotspots")
@click.option("--since", default=None, help="ISO date, inclusive")
@click.option("--until", default=None, help="ISO date, exclusive")
@click.option("--category", "categories", multiple=True, help="event type name; repeatable")
@click.option("--cell", type=float, default=None, help="hexagon edge in metres (default from the data)")
@click.option("--per-population", is_flag=True, help="Gi* on complaints per 10,000 residents")
@click.option("--emerging", is_flag=True, help="monthly Gi* and a Mann–Kendall trend per cell")
@_out_option
@_limit_option
@_lang_option
def hotspots_cmd(since, until, categories, cell, per_population, emerging, out, limit, lang):
    """Getis–Ord Gi* hotspots on a hexagon grid, FDR-corrected confidence bins."""
    from geo import hotspots as hs
    from layers.analysis.encode import hotspot_features

    conn = _conn()
    try:
        kwargs = dict(since=_when("--since", since), until=_when("--until", until),
                      categories=list(categories) or None, cell_m=cell)
        patterns = None
        if emerging:
            result, patterns, months = hs.emerging(conn, **kwargs)
        else:
            result = hs.hotspots(conn, per_population=per_population, **kwargs)
    finally:
        conn.close()
    s = result.summary
    click.echo(f"Getis–Ord Gi* on {s['cells']:,} hexagons of {result.cell_m:g} m ({s['value']}), "
               f"{s['complaints']:,} complaints; FDR-corrected bins")
    click.echo(f"hot 99 %: {s['hot_99']}  95 %: {s['hot_95']}  90 %: {s['hot_90']}   "
               f"cold 90 %: {s['cold_90']}  95 %: {s['cold_95']}  99 %: {s['cold_99']}")
    order = sorted(range(result.q.size), key=lambda i: -result.gi_z[i])
    rows = [{"q": int(result.q[i]), "r": int(result.r[i]), "count": int(result.count[i]),
             "gi_z": float(result.gi_z[i]), "gi_p": float(result.gi_p[i]), "gi_bin": int(result.gi_bin[i]),
             **({"pattern": patterns[i]} if patterns else {})} for i in order]
    headers = ["q", "r", "count", "gi_z", "gi_p", "gi_bin"] + (["pattern"] if patterns else [])
    _table(headers, [[row[h] if h != "gi_p" else f"{row[h]:.2e}" for h in headers] for row in rows], limit)
    _written(out, rows, hotspot_features(result, lang, patterns) if out else None)


@analyze.command("priority")
@click.option("--street", default=None, help="street code")
@click.option("--since", default=None, help="complaint window start for the hotspot component")
@_out_option
@_limit_option
def priority_cmd(street, since, out, limit):
    """Inspection priority per grid; each component shown (value → weighted points)."""
    from geo.priority import WEIGHTS, priority
    from layers.analysis.encode import feature_collection

    conn = _conn()
    try:
        result = priority(conn, street=street, since=_when("--since", since))
    finally:
        conn.close()
    click.echo("weights: " + ", ".join(f"{k} {v:g}" for k, v in WEIGHTS.items()))
    rows = result["rows"]
    _table(["rank", "grid", "score"] + list(WEIGHTS),
           [[r["rank"], r["code"], r["score"]] + [f"{c['value']} → {c['weighted']:.1f}" for c in r["components"].values()]
            for r in rows], limit)
    geo = feature_collection([(r["geometry"], {k: v for k, v in r.items() if k != "geometry"}) for r in rows]) if out else None
    _written(out, rows, geo)


@analyze.command("siting")
@click.option("--kind", default="toilets", show_default=True)
@click.option("--add", type=int, required=True, help="how many new sites to propose")
@click.option("--street", default=None, help="street code")
@click.option("--radius", type=float, default=None)
@_out_option
@_lang_option
def siting_cmd(kind, add, street, radius, out, lang):
    """Greedy max-coverage siting on road candidates: newly covered residents per site."""
    from geo.siting import siting
    from layers.analysis.encode import feature_collection

    conn = _conn()
    try:
        result = siting(conn, kind, add, radius_m=radius, street=street)
    finally:
        conn.close()
    rule = result["rule"]
    click.echo(rule.describe(lang) if rule else f"radius {result['radius_m']:g} m (given)")
    rows = result["sites"]
    _table(["rank", "lon", "lat", "new residents"],
           [[s["rank"], f"{s['lon']:.6f}", f"{s['lat']:.6f}", s["new_residents"]] for s in rows], None)
    if len(rows) < add:
        click.echo(f"stopped after {len(rows)} sites: no other candidate covers anybody new")
    b, a = result["before"], result["after"]
    click.echo(f"covered residents: before {b['residents']:,.0f} ({_fmt(b['pct'])} %), "
               f"after {a['residents']:,.0f} ({_fmt(a['pct'])} %)")
    geo = feature_collection([(s["disc"], {k: v for k, v in s.items() if k != "disc"}) for s in rows]) if out else None
    _written(out, rows, geo)
