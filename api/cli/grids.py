"""`hygiene-map grids generate|assign|roster|balance`: a street office's grids from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.users import cli_actor


@click.group("grids")
def grids() -> None:
    """Grids (网格) of a street: generate, assign from a roster, print a roster, balance into zones."""


@grids.command("generate")
@click.option("--street", "street_code", required=True, help="street code")
@click.option("--size", "size_m", required=True, type=float, help="cell size in metres (hex: equal area)")
@click.option("--shape", type=click.Choice(["square", "hex"]), default="square", show_default=True)
@click.option("--origin", default=None, help="fishnet origin E,N in the city's metric CRS "
              "(default: the one the street's grids record, else 0,0)")
@click.option("--dry-run", is_flag=True, help="report what would change; write nothing")
@click.option("--force", is_flag=True, help="apply even when some old assignment is inherited by no new grid")
def grids_generate(street_code: str, size_m: float, shape: str, origin: str | None, dry_run: bool,
                   force: bool) -> None:
    """Cut a street's communities into grids, numbered north→south, west→east, and report what changed.

    Each new grid inherits the assignment of the old grid it overlaps most.
    If an old assignment would be inherited by no grid, nothing is written
    unless --force; removed grids are archived with their history.
    """
    from data.db import session, transaction
    from data.errors import InvalidParameter
    from data.settings import GridSettings
    from layers.workflow import regrid

    parsed = None
    if origin:
        try:
            e, n = (float(v) for v in origin.split(","))
            parsed = (e, n)
        except ValueError:
            raise InvalidParameter("--origin", f"expected E,N in metres, not {origin!r}") from None
    with session() as conn, transaction(conn, dry_run=dry_run):
        plan = regrid.plan(conn, street_code, size_m, shape, origin=parsed,
                           sequence_width=GridSettings.from_env().sequence_width)
        _echo_plan(plan)
        if dry_run:
            click.echo("dry run: nothing written")
            return
        result = regrid.apply(conn, plan, cli_actor(), force=force)
    click.echo(f"written: {result['history_rows']} assignment history rows, "
               f"{result['complaints_rerouted']} complaints and {result['findings_rerouted']} findings "
               "re-routed to their new grid")
    for moved in result["inspectors"]:  # their codes would name other places now: they keep their ground
        if moved["after"] is None:
            click.echo(f"  user {moved['name']}: no grid is left where its grids {', '.join(moved['before'])} "
                       "were; its grids are unchanged (disable it and add one for the new grids)")
        else:
            click.echo(f"  user {moved['name']} keeps its ground: grids {', '.join(moved['before'])} → "
                       f"{', '.join(moved['after'])}")


def _echo_plan(plan) -> None:
    """What a regeneration changes, grid by grid."""
    from geo.grids import SLIVER_SHARE

    click.echo(plan.summary())
    for d in plan.dropped:
        click.echo(f"  assignment inherited by no new grid: {d['code']} {d['unit'] or '-'} / "
                   f"{d['manager'] or '-'} / {d['phone'] or '-'}")
    for code in plan.removed:
        click.echo(f"  removed (archived with its history): {code}")
    for code in plan.alone:
        item = plan.new[code]
        click.echo(f"  small: {code} is {item['geom'].area:,.0f} m², under {SLIVER_SHARE:.0%} of a {plan.size_m:g} m "
                   f"cell, kept as it is: community {item['community_code']} has no other grid to join it to")
    for code, item in plan.new.items():
        m = item["match"]
        if m["status"] in ("moved", "new") and m["source"]:
            click.echo(f"  {m['status']}: {code} inherits the assignment of {m['source']} "
                       f"({m['overlap_share']:.0%} overlap)")
        elif m["status"] == "new":
            click.echo(f"  new: {code} (no old grid under it: unassigned)")


@grids.command("assign")
@click.argument("roster", type=click.Path(path_type=Path))
@click.option("--reason", default=None, help="why (default: the roster's 变更原因 column, else the file name)")
@click.option("--dry-run", is_flag=True, help="check every row; write nothing")
def grids_assign(roster: Path, reason: str | None, dry_run: bool) -> None:
    """Load a roster workbook: each grid's unit, manager and phone. Checked row by row, all or nothing."""
    from data.db import session, transaction
    from layers.io.roster import read_roster
    from layers.workflow.grids import assign_many

    rows = read_roster(roster)
    for r in rows:
        r["reason"] = r.get("reason") or reason
    with session() as conn, transaction(conn, dry_run=dry_run):
        result = assign_many(conn, rows, cli_actor(), source=roster.name)
    verb = "would change" if dry_run else "changed"
    click.echo(f"{roster.name}: {len(rows)} rows valid; {verb} {result['changed']} grid(s), "
               f"{result['unchanged']} unchanged")


@grids.command("roster")
@click.option("--street", "street_code", required=True, help="street code")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="roster.xlsx to write")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="header language")
def grids_roster(street_code: str, out: Path, lang: str) -> None:
    """Write a street's roster (XLSX): grid code, community, unit, manager, phone, facilities, open/overdue complaints."""
    from data.db import session
    from layers.io.roster import write_roster
    from layers.workflow.grids import roster

    with session() as conn:
        rows = roster(conn, street_code)
    write_roster(rows, out, lang)
    click.echo(f"{out}: {len(rows)} grids of street {street_code}")


@grids.command("balance")
@click.option("--street", "street_code", required=True, help="street code")
@click.option("--zones", "n_zones", required=True, type=int, help="how many zones")
@click.option("--days", default=365, show_default=True, type=int, help="count complaints of the last N days")
@click.option("--out", "out", default=None, type=click.Path(path_type=Path), help="CSV: grid code → zone")
def grids_balance(street_code: str, n_zones: int, days: int, out: Path | None) -> None:
    """Propose N contiguous zones of grids with balanced workload (complaints + facilities); report the imbalance.

    Region growing from spread-out seeds, then boundary refinement (geo/zones.py).
    """
    from data.clock import reference_time
    from data.db import session
    from data.vocab import city_tz
    from layers.workflow.grids import balance

    with session() as conn:
        items, zoning = balance(conn, street_code, n_zones, days)
        until = reference_time(conn).astimezone(city_tz())
    click.echo(f"street {street_code}: {len(items)} grids in {n_zones} zones; workload = complaints of the "
               f"{days} days to {until:%Y-%m-%d %H:%M} + facilities")
    for z in range(n_zones):
        members = [items[i] for i, zz in enumerate(zoning.zone_of) if zz == z]
        click.echo(f"  zone {z + 1}: {len(members)} grids, workload {zoning.loads[z]:.0f} "
                   f"({sum(m['complaints'] for m in members)} complaints, {sum(m['facilities'] for m in members)} "
                   f"facilities): {', '.join(m['code'] for m in members)}")
    click.echo(f"imbalance: largest zone {zoning.imbalance:+.1%} over the mean; spread (max-min)/mean "
               f"{zoning.spread:.1%}")
    if zoning.islands:
        click.echo(f"not contiguous: {len(zoning.islands)} grid(s) touch no other grid of the street: "
                   + ", ".join(items[i]["code"] for i in zoning.islands))
    if out:
        import csv

        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["grid_code", "zone", "complaints", "facilities"])
            for item, z in zip(items, zoning.zone_of):
                writer.writerow([item["code"], z + 1, item["complaints"], item["facilities"]])
        click.echo(f"written: {out}")
