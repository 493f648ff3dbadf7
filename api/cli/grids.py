"""`hygiene-map grids generate|assign|roster|balance`: a street office's grids from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.output import LANG as _LANG
from api.cli.output import reported
from api.cli.users import cli_actor
from data.said import say

#: Every line the grids commands print, in Chinese and in English (data.said.say); the numbers and codes are the same.
_SAID = {
    "dry_run": ("试运行：未写入任何内容", "dry run: nothing written"),
    "written": ("已写入：责任分配历史记录 {history_rows} 条；{complaints_rerouted} 件投诉和 {findings_rerouted} 条暗访问题"
                "已改挂到新网格",
                "written: {history_rows} assignment history rows, {complaints_rerouted} complaints and "
                "{findings_rerouted} findings re-routed to their new grid"),
    "user_left": ("  用户 {name}：其网格 {before} 所在的地方已没有网格；其网格保持不变（请停用该用户，并为新网格另行添加用户）",
                  "  user {name}: no grid is left where its grids {before} were; its grids are unchanged "
                  "(disable it and add one for the new grids)"),
    "user_kept": ("  用户 {name} 负责的地方不变：网格 {before} → {after}",
                  "  user {name} keeps its ground: grids {before} → {after}"),
    "dropped": ("  无新网格继承的原责任分配：{code} {unit} / {manager} / {phone}",
                "  assignment inherited by no new grid: {code} {unit} / {manager} / {phone}"),
    "removed": ("  删除（连同历史记录归档）：{code}", "  removed (archived with its history): {code}"),
    "small": ("  过小：{code} 面积 {area:,.0f} 平方米，不足 {size:g} 米网格单元的 {share:.0%}，保持原样："
              "社区 {community} 没有其他网格可以并入",
              "  small: {code} is {area:,.0f} m², under {share:.0%} of a {size:g} m cell, kept as it is: "
              "community {community} has no other grid to join it to"),
    "moved": ("  移位：{code} 继承 {source} 的责任分配（重叠 {overlap:.0%}）",
              "  moved: {code} inherits the assignment of {source} ({overlap:.0%} overlap)"),
    "new_inherits": ("  新增：{code} 继承 {source} 的责任分配（重叠 {overlap:.0%}）",
                     "  new: {code} inherits the assignment of {source} ({overlap:.0%} overlap)"),
    "new": ("  新增：{code}（其下没有原网格：未分配）", "  new: {code} (no old grid under it: unassigned)"),
    "assigned": ("{file}：{rows} 行均有效；变更网格 {changed} 个，未变 {unchanged} 个",
                 "{file}: {rows} rows valid; changed {changed} grid(s), {unchanged} unchanged"),
    "would_assign": ("{file}：{rows} 行均有效；将变更网格 {changed} 个，未变 {unchanged} 个",
                     "{file}: {rows} rows valid; would change {changed} grid(s), {unchanged} unchanged"),
    "since": ("  这 {n} 个网格的首个责任单位自 {since:%Y-%m-%d %H:%M} 起负责（历史记录的录入时间为现在）；"
              "其间上报的 {complaints} 件投诉计入这些责任单位",
              "  the first units of these {n} grid(s) are in force since {since:%Y-%m-%d %H:%M} (the history "
              "records them as entered now); the {complaints} complaint(s) reported there since then count for them"),
    "would_since": ("  这 {n} 个网格的首个责任单位将自 {since:%Y-%m-%d %H:%M} 起负责；其间上报的 {complaints} 件投诉将计入"
                    "这些责任单位",
                    "  the first units of these {n} grid(s) would be in force since {since:%Y-%m-%d %H:%M}; the "
                    "{complaints} complaint(s) reported there since then would count for them"),
    "charged": ("  另有 {n} 条检查问题改由网格的首个责任单位负责（发现时网格尚无责任单位，所在检查轮次仍在进行）",
                "  and {n} inspection finding(s) now charged to their grid's first unit (found while the grid had "
                "none, in a round still under way)"),
    "roster": ("{out}：街道 {street} 的网格 {n} 个", "{out}: {n} grids of street {street}"),
    "balance": ("街道 {street}：网格 {n} 个，分为 {zones} 个分区；工作量 = 截至 {until:%Y-%m-%d %H:%M} 的 {days} 天内的投诉"
                " + 设施",
                "street {street}: {n} grids in {zones} zones; workload = complaints of the {days} days to "
                "{until:%Y-%m-%d %H:%M} + facilities"),
    "zone": ("  分区 {zone}：网格 {n} 个，工作量 {load:.0f}（投诉 {complaints} 件，设施 {facilities} 处）：{codes}",
             "  zone {zone}: {n} grids, workload {load:.0f} ({complaints} complaints, {facilities} facilities): "
             "{codes}"),
    "imbalance": ("不均衡度：最大分区高于平均值 {imbalance:+.1%}；极差（最大−最小）/平均值 {spread:.1%}",
                  "imbalance: largest zone {imbalance:+.1%} over the mean; spread (max-min)/mean {spread:.1%}"),
    "by_count": ("期内没有投诉，网格内也没有设施（工作量均为 0）：按网格个数均分",
                 "no complaints in the period and no facilities in the grids (every workload 0): zones of about "
                 "equal numbers of grids"),
    "islands": ("不连通：{n} 个网格与本街道其他网格都不相邻：{codes}",
                "not contiguous: {n} grid(s) touch no other grid of the street: {codes}"),
    "csv_written": ("已写入：{out}", "written: {out}"),
}


def _echo(key: str, lang: str, **values) -> None:
    click.echo(say(_SAID, key, lang, **values))


def _adder(add, lang: str):
    """``said(key, **values)``: line ``key`` of :data:`_SAID` in ``lang``, handed to ``add`` (not printed yet)."""
    return lambda key, **values: add(say(_SAID, key, lang, **values))


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
@_LANG
def grids_generate(street_code: str, size_m: float, shape: str, origin: str | None, dry_run: bool,
                   force: bool, lang: str) -> None:
    """Cut a street's communities into grids, numbered north→south, west→east, and report what changed.

    Each new grid inherits the assignment of the old grid it overlaps most.
    If an old assignment would be inherited by no grid, nothing is written
    unless --force; removed grids are archived with their history.
    """
    from data.db import session
    from data.errors import InvalidParameter
    from data.settings import GridSettings
    from layers.workflow import regrid

    parsed = None
    if origin:
        try:
            e, n = (float(v) for v in origin.split(","))
            parsed = (e, n)
        except ValueError:
            raise InvalidParameter("--origin", f"expected E,N in metres, not {origin!r}",
                                   f"应为以米为单位的 E,N，而不是 {origin!r}") from None
    # The plan is printed once the transaction has ended: a reader closing the pipe cannot roll the grids back.
    with session() as conn, reported(conn, dry_run=dry_run) as add:
        said = _adder(add, lang)
        plan = regrid.plan(conn, street_code, size_m, shape, origin=parsed,
                           sequence_width=GridSettings.from_env().sequence_width)
        add(plan.summary(lang))
        _plan_lines(plan, said)
        if dry_run:
            said("dry_run")
            return
        result = regrid.apply(conn, plan, cli_actor(), force=force)
    _echo("written", lang, **result)
    for moved in result["inspectors"]:  # their codes would name other places now: they keep their ground
        before = ", ".join(moved["before"])
        if moved["after"] is None:
            _echo("user_left", lang, name=moved["name"], before=before)
        else:
            _echo("user_kept", lang, name=moved["name"], before=before, after=", ".join(moved["after"]))


def _plan_lines(plan, said) -> None:
    """What a regeneration changes, grid by grid: ``said(key, **values)`` for each line."""
    from geo.grids import SLIVER_SHARE

    for d in plan.dropped:
        said("dropped", code=d["code"], unit=d["unit"] or "-", manager=d["manager"] or "-", phone=d["phone"] or "-")
    for code in plan.removed:
        said("removed", code=code)
    for code in plan.alone:
        item = plan.new[code]
        said("small", code=code, area=item["geom"].area, share=SLIVER_SHARE, size=plan.size_m,
             community=item["community_code"])
    for code, item in plan.new.items():
        m = item["match"]
        if m["status"] in ("moved", "new") and m["source"]:
            said("moved" if m["status"] == "moved" else "new_inherits", code=code, source=m["source"],
                 overlap=m["overlap_share"])
        elif m["status"] == "new":
            said("new", code=code)


@grids.command("assign")
@click.argument("roster", type=click.Path(path_type=Path))
@click.option("--reason", default=None, help="why (default: the roster's 变更原因 column, else the file name)")
@click.option("--since", default=None,
              help="the units have held their grids since this date or time (ISO 8601; without a zone: the "
                   "city's), for a first roster loaded after past complaints: only grids without a unit yet")
@click.option("--dry-run", is_flag=True, help="check every row; write nothing")
@_LANG
def grids_assign(roster: Path, reason: str | None, since: str | None, dry_run: bool, lang: str) -> None:
    """Load a roster workbook: each grid's unit, manager and phone. Checked row by row, all or nothing.

    With --since, each grid's first unit holds it from that time in bulletins, scores and findings; the
    history still records when the roster was loaded and by whom.
    """
    from data.db import session, transaction
    from data.params import parse_instant
    from data.vocab import city_tz
    from layers.io.roster import read_roster
    from layers.workflow.rosters import assign_many

    rows = read_roster(roster)
    for r in rows:
        r["reason"] = r.get("reason") or reason
    with session() as conn, transaction(conn, dry_run=dry_run):
        start = parse_instant(since, "--since")  # after connecting: a time without a zone is the city's
        result = assign_many(conn, rows, cli_actor(), source=roster.name, since=start)
    _echo("would_assign" if dry_run else "assigned", lang, file=roster.name, rows=len(rows),
          changed=result["changed"], unchanged=result["unchanged"])
    if start is not None:
        _echo("would_since" if dry_run else "since", lang, since=start.astimezone(city_tz()),
              n=result["changed"], complaints=result["complaints_since"])
    if result["findings_charged"] and not dry_run:
        _echo("charged", lang, n=result["findings_charged"])


@grids.command("roster")
@click.option("--street", "street_code", required=True, help="street code")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="roster.xlsx to write")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the headers and of what the command prints")
def grids_roster(street_code: str, out: Path, lang: str) -> None:
    """Write a street's roster (XLSX): grid code, community, unit, manager, phone, facilities, open/overdue complaints."""
    from data.db import session
    from layers.io.roster import write_roster
    from layers.workflow.grids import roster

    with session() as conn:
        rows = roster(conn, street_code)
    write_roster(rows, out, lang)
    _echo("roster", lang, out=out, n=len(rows), street=street_code)


@grids.command("balance")
@click.option("--street", "street_code", required=True, help="street code")
@click.option("--zones", "n_zones", required=True, type=int, help="how many zones")
@click.option("--days", default=365, show_default=True, type=int, help="count complaints of the last N days")
@click.option("--out", "out", default=None, type=click.Path(path_type=Path), help="CSV: grid code → zone")
@_LANG
def grids_balance(street_code: str, n_zones: int, days: int, out: Path | None, lang: str) -> None:
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
    _echo("balance", lang, street=street_code, n=len(items), zones=n_zones, days=days, until=until)
    for z in range(n_zones):
        members = [items[i] for i, zz in enumerate(zoning.zone_of) if zz == z]
        _echo("zone", lang, zone=z + 1, n=len(members), load=zoning.loads[z],
              complaints=sum(m["complaints"] for m in members), facilities=sum(m["facilities"] for m in members),
              codes=", ".join(m["code"] for m in members))
    _echo("by_count" if zoning.by_count else "imbalance", lang, imbalance=zoning.imbalance, spread=zoning.spread)
    if zoning.islands:
        _echo("islands", lang, n=len(zoning.islands), codes=", ".join(items[i]["code"] for i in zoning.islands))
    if out:
        import csv

        from layers.io.cells import csv_row

        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["grid_code", "zone", "complaints", "facilities"])
            for item, z in zip(items, zoning.zone_of):
                writer.writerow(csv_row([item["code"], z + 1, item["complaints"], item["facilities"]]))
        _echo("csv_written", lang, out=out)
