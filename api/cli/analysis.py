"""`hygiene-map analyze coverage|density|hotspots|priority|siting`: a table on stdout, files with --out.

Each command is built from its analysis's declaration (:mod:`layers.analysis.registry`) when it is
asked for: the same parameters, parsers, computation and GeoJSON as ``/api/analysis/…``.
"""

from __future__ import annotations

from pathlib import Path

import click

from api.cli.help_zh import chinese_first
from data.errors import InvalidParameter
from layers.analysis.registry import Analysis, Option, Report, load, names


class _Analyses(click.Group):
    """The analyses as commands, each loaded on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(names())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return chinese_first(_command(load(name)), f"analyze {name}") if name in names() else None


# Errors are turned into one line by the top-level group (api.cli.main) that runs this one.
analyze = _Analyses("analyze", help="Coverage gaps, density against the standards, complaint hotspots, "
                                    "grid priority, new sites.")


def _option(option: Option) -> click.Option:
    if option.kind == "flag":
        return click.Option([option.label(cli=True)], is_flag=True, help=option.help)
    return click.Option([option.label(cli=True)], multiple=option.kind == "list", required=option.cli_required,
                        default=None if option.cli_required else option.default, show_default=True, help=option.help)


_COMMON = (
    (["--out"], dict(type=click.Path(dir_okay=False, path_type=Path), help="write all rows: .geojson, .csv (keys as headers) or .xlsx (headers in --lang)")),
    (["--limit"], dict(type=int, default=40, show_default=True, help="rows printed (not written)")),
    (["--lang"], dict(type=click.Choice(["zh", "en"]), default="zh", show_default=True)),
)


def _command(analysis: Analysis) -> click.Command:
    def run(out: Path | None, limit: int, lang: str, **raw) -> None:
        from data.db import connect
        from layers.analysis.encode import out_format, write

        if out is not None:
            out_format(out)  # a bad extension is refused before the work
        conn = connect()  # first: it sets the city's time zone that --since/--until without a zone are read in
        try:
            args = analysis.parse(raw, cli=True)
            result = analysis.run(conn, args)
        except InvalidParameter as error:  # named as the route names it (cell): say the option typed (--cell)
            raise _as_typed(analysis, error) from None
        finally:
            conn.close()
        _echo(analysis.report(result, args, lang), limit, lang)
        if out is not None:
            fmt, n = write(out, analysis.rows(result), lambda: analysis.geojson(result, args, lang), lang,
                           analysis.name, grids=analysis.of_grids(result), notes=analysis.notes(result, lang),
                           total=analysis.total(result, lang))
            if fmt == "geojson":  # coverage's gaps are features beside its areas
                click.echo(f"wrote {n} features to {out} ({fmt})" if lang == "en" else
                           f"已写出 {n} 个要素到 {out}（{fmt}）")
            else:
                click.echo(f"wrote {n} rows to {out} ({fmt})" if lang == "en" else f"已写出 {n} 行到 {out}（{fmt}）")

    params = [_option(o) for o in analysis.options if o.cli] + [click.Option(d, **kw) for d, kw in _COMMON]
    return click.Command(analysis.name, callback=run, params=params, help=analysis.summary + ".")


def _as_typed(analysis: Analysis, error: InvalidParameter) -> InvalidParameter:
    """``error`` naming the command's option (``--per-population``) where it names the route's parameter."""
    labels = {o.name: o.label(cli=True) for o in analysis.options if o.cli}
    if error.parameter not in labels:
        return error
    return InvalidParameter(labels[error.parameter], error.reason, error.reason_zh)


def _echo(report: Report, limit: int | None, lang: str) -> None:
    from layers.analysis.encode import figure

    for line in report.head:
        click.echo(line)
    shown = report.rows if report.whole or limit is None else report.rows[:limit]
    cells = [[figure(v) for v in row] for row in shown]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(report.headers)]
    click.echo("  ".join(_pad(h, w) for h, w in zip(report.headers, widths)))
    for row in cells:
        click.echo("  ".join(_pad(v, w) for v, w in zip(row, widths)))
    if len(shown) < len(report.rows):
        more = len(report.rows) - len(shown)
        click.echo(f"… {more} more rows (all of them with --out FILE)" if lang == "en" else
                   f"… 还有 {more} 行（--out FILE 写出全部）")
    for line in report.tail:
        click.echo(line)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
