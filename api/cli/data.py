"""`hygiene-map import` and `hygiene-map export`: real data in and out."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from data.errors import HygieneMapError
from data.said import in_lang
from layers.io.export import FORMATS
from layers.spec.registry import layer_ids

#: The report's words in Chinese: severities and what a row is called.
_ZH = {"error": "错误", "warning": "警告", "row": "第 {} 行", "feature": "第 {} 个要素", "record": "第 {} 条记录"}


def _print_problems(problems, out, lang: str) -> None:
    for p in problems:
        row, column = p.get("row"), p.get("column")
        if lang == "zh":
            where = p["file"] + (f"，{_ZH[p.get('row_label', 'row')].format(row)}" if row is not None else "")
            where += f"，{column} 列" if column else ""
            click.echo(f"{_ZH[p['severity']]}：{where}：{p.get('reason_zh') or p['reason']}", file=out)
            continue
        where = p["file"] + (f", {p.get('row_label', 'row')} {row}" if row is not None else "")
        where += f", column {column}" if column else ""
        click.echo(f"{p['severity']}: {where}: {p['reason']}", file=out)


@click.command("import")
@click.argument("layer", type=click.Choice(layer_ids()))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--crs", default=None, help="wgs84 | gcj02 (Gaode, Tencent) | bd09 (Baidu) | cgcs2000 | EPSG:n; "
              "default: the CRS the coordinate headers name (高德经度, gcj_lng: gcj02), else the file's own CRS, else wgs84")
@click.option("--sheet", default=None, help="XLSX: the sheet to read (default: the first sheet holding a table)")
@click.option("--layer", "gis_layer", default=None, help="GeoPackage/KML/folder: the layer to read")
@click.option("--encoding", default=None, help="override the text encoding (e.g. gbk); default: detected / .cpg")
@click.option("--lon-col", default=None, help="the longitude (or x) column")
@click.option("--lat-col", default=None, help="the latitude (or y) column")
@click.option("--id-field", default=None, help="the column that identifies a row (re-imports update by it)")
@click.option("--source", default=None, help="provenance name stored with every row (default: the file name)")
@click.option("--mapping", type=click.Path(path_type=Path), default=None,
              help="JSON {\"header\": \"column\"} or a two-column CSV mapping file headers to layer columns")
@click.option("--category-map", type=click.Path(path_type=Path), default=None,
              help="complaints: JSON or CSV mapping categories to event types")
@click.option("--timezone", default=None, help="zone of times without one; default: the city's (city show)")
@click.option("--tolerance", type=float, default=500.0, show_default=True,
              help="metres a point may lie outside the city's admin areas")
@click.option("--dry-run", is_flag=True, help="validate and report; write nothing")
@click.option("--skip-bad", is_flag=True, help="write the good rows; bad rows and reasons go to a CSV")
@click.option("--rejects", type=click.Path(path_type=Path), default=None,
              help="where --skip-bad writes the rejected rows (default: beside the input; "
                   "HYGIENE_MAP_HOME/rejects/ when its folder is read-only)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="language of the report and of the reasons in the rejects file")
@click.option("--level", type=click.Choice(["district", "street", "community"]), default=None,
              help="admin_areas: the level of the areas in the file")
@click.option("--channel", default=None,
              help="complaints: the channel every row came through (12345, 数字城管 …), over the file's own column")
@click.option("--code-field", default=None, help="admin_areas: the code column")
@click.option("--name-field", default=None, help="admin_areas: the name column")
@click.option("--name-en-field", default=None, help="admin_areas: the English name column (pages with lang=en)")
@click.option("--parent-field", default=None, help="admin_areas: the parent area's code column")
@click.option("--population-field", default=None,
              help="admin_areas: the population column; a table without coordinates sets only the populations "
                   "of the --level areas already imported, joined by --code-field")
def import_command(layer, file, crs, sheet, gis_layer, encoding, lon_col, lat_col, id_field, source, mapping,
                   category_map, timezone, tolerance, dry_run, skip_bad, rejects, lang, level, channel,
                   code_field, name_field, name_en_field, parent_field, population_field) -> None:
    """Import FILE (CSV, XLSX, GeoJSON, Shapefile folder/zip, GeoPackage, KML) into LAYER.

    All or nothing by default: one bad row and nothing is written; the report
    lists the bad rows (the first 100 of each column, then a count) with their file, row, column and reason.
    """
    from layers.io.options import ImportOptions, load_mapping

    if tolerance < 0:
        from data.errors import InvalidParameter

        raise InvalidParameter("--tolerance", "must be zero or more metres", "应不小于 0 米")
    opts = ImportOptions(
        layer=layer, crs=crs, sheet=sheet, gis_layer=gis_layer, encoding=encoding, lon_col=lon_col,
        lat_col=lat_col, id_field=id_field, source=source,
        mapping=load_mapping(mapping) if mapping else {},
        category_map=_category_map(category_map) if category_map else {},
        timezone=timezone, tolerance_m=tolerance, dry_run=dry_run, skip_bad=skip_bad, rejects=rejects, lang=lang,
        level=level, channel=channel, code_field=code_field, name_field=name_field, name_en_field=name_en_field,
        parent_field=parent_field, population_field=population_field,
    )
    try:
        result = _run_import(file, opts)
    except HygieneMapError as exc:
        _print_problems(getattr(exc, "problems", []), sys.stdout, lang)
        raise  # the refusal itself said by main, in the --lang typed
    _print_problems([p.as_dict() for p in result.problems], sys.stdout, lang)
    for note in result.notes:
        click.echo(f"说明：{in_lang(note, 'zh')}" if lang == "zh" else f"note: {note}")
    click.echo(result.summary(lang))
    if result.rejects_path:
        click.echo(result.rejects_said(lang))


def _run_import(file: Path, opts):
    """The import in one transaction this command owns: committed, or rolled back (dry run, any error)."""
    from data.db import session, transaction
    from data.migrate import migrate
    from layers.io.census import attach, census_table
    from layers.io.importing import import_file

    with session() as conn:
        migrate(conn)
        with transaction(conn, dry_run=opts.dry_run):
            # A table of populations without coordinates: attached to the areas already imported, by code.
            table = census_table(file, opts)
            return attach(conn, table, opts) if table is not None else import_file(conn, file, opts)


def _category_map(path: Path) -> dict[str, str]:
    from layers.io.options import load_mapping

    try:
        return load_mapping(path)
    except Exception as exc:  # the same file formats as --mapping; name the right option
        from data.errors import InvalidParameter

        zh = getattr(exc, "reason_zh", None) or f"无法读取对照文件 {path}（应为 JSON 对象或两列 CSV）"
        raise InvalidParameter("--category-map", str(exc).split(": ", 1)[-1], zh) from None


@click.command("export")
@click.argument("layer", type=click.Choice(layer_ids()))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="the file to write")
@click.option("--street", default=None, help="only this street's rows (street code)")
@click.option("--encoding", default="utf-8", show_default=True,
              help="shp: the .dbf text encoding (gbk for old desktop GIS)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="xlsx/kml: header and label language; the notes' language")
def export_command(layer, fmt, out, street, encoding, lang) -> None:
    """Write LAYER to a file QGIS, ArcGIS, Excel, 奥维互动地图 or Google Earth opens."""
    from data.db import session
    from layers.io.export import export_layer

    notes: list = []
    with session() as conn:  # the export only reads: closing the session ends its transaction
        n = export_layer(conn, layer, fmt, out, street=street, encoding=encoding, lang=lang, notes=notes)
    click.echo(f"已写入 {out}：{layer} {n:,} 行" if lang == "zh" else f"wrote {n:,} {layer} rows to {out}")
    for note in notes:
        click.echo(("说明：" if lang == "zh" else "note: ") + in_lang(note, lang))
