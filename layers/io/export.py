"""Export a layer to the files desktop GIS, Excel, 奥维互动地图 and Google Earth open.

PostGIS encodes the geometries (ST_AsGeoJSON for GeoJSON, WKB for the GDAL
formats, ST_X/ST_Y or WKT for tables); no geometry passes through shapely.
Every export carries ``source`` and ``source_id``, so importing it again
(into this or an empty database) gives the same rows. An export only reads,
inside the caller's transaction, and leaves that transaction to the caller
(the web request's connection is rolled back when it is returned; the CLI
closes its own).
"""

from __future__ import annotations

import html
import warnings
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import orjson
from psycopg2 import sql

from data.errors import InvalidParameter
from data.params import parse_area_code
from data.vocab import city_tz
from layers.io.cells import csv_text, text_row, timed_cell
from layers.io.columns import EXPORT_COORD_HEADERS, EXPORT_WKT_HEADER
from layers.io.shapefile import write_shapefile
from layers.spec.registry import get_layer
from layers.store.columns import shown_columns
from layers.workflow.access import OPERATOR, User, readable

FORMATS = ("geojson", "gpkg", "shp", "csv", "xlsx", "kml")
MEDIA_TYPES = {
    "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3", "shp": "application/zip",
    "csv": "text/csv; charset=utf-8", "kml": "application/vnd.google-earth.kml+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SUFFIXES = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".zip", "csv": ".csv", "xlsx": ".xlsx", "kml": ".kml"}
XLSX_CELL_LIMIT = 32_767


def export_columns(layer: str, viewer: User | None = OPERATOR) -> list[tuple[str, str, str]]:
    """(column, kind, zh label) of an export, in order: provenance, fields, area codes, attributes —
    those ``viewer`` may read (layers.workflow.access; the command line's operator reads all)."""
    spec = get_layer(layer)
    shown = readable(spec, viewer, spec.stored)
    return [(f.column, f.kind, f.label_zh) for f in spec.stored if f.column in shown]


def _where(layer: str, street: str | None) -> tuple[sql.Composable, list]:
    """The WHERE clause of one street's rows: by code prefix for the areas themselves, else by street_code."""
    street = parse_area_code(street, "--street")
    if street is None:
        return sql.SQL(""), []
    spec = get_layer(layer)
    if spec.street_filter == "admin":
        return sql.SQL(" WHERE code LIKE %s"), [street + "%"]
    if "street_code" not in {f.column for f in spec.area_codes}:
        raise InvalidParameter("--street", f"{layer} rows carry no street code; export it without --street",
                               f"{layer} 的行没有街道代码；请去掉 --street 导出")
    return sql.SQL(" WHERE street_code = %s"), [street]


def _fetch(conn, layer: str, street: str | None, viewer: User | None, geometry_sql: str):
    spec = get_layer(layer)
    cols = export_columns(layer, viewer)
    exprs = dict(shown_columns(spec, viewer, spec.stored))
    where, params = _where(layer, street)
    query = sql.SQL("SELECT {cols}, {geom} FROM {table}{where} ORDER BY id").format(
        cols=sql.SQL(", ").join(exprs[c] for c, _, _ in cols), geom=sql.SQL(geometry_sql),
        table=sql.Identifier(spec.table), where=where)
    with conn.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    return cols, rows


def _text(value, kind: str):
    if value is None:
        return None
    if kind == "json":
        return orjson.dumps(value).decode() if value else "{}"
    if isinstance(value, datetime):  # in the city's time, with its offset: Excel's reader sees the city's day
        return value.astimezone(city_tz()).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def export_layer(conn, layer: str, fmt: str, out: Path, *, street: str | None = None, encoding: str = "utf-8",
                 lang: str = "zh", viewer: User | None = OPERATOR, notes: list | None = None) -> int:
    """Write a layer (or one street's rows) to ``out`` in ``fmt``; returns the row count.

    ``notes``, when given, receives what the file holds differently from the layer (a shapefile's
    ``attributes`` set aside in a CSV beside it), each a :class:`~data.said.Note`.

    Only the columns ``viewer`` may read are written (the HTTP route passes its caller;
    the command line runs as the operator, who holds the database's credentials anyway).
    """
    get_layer(layer)
    if fmt not in FORMATS:
        raise InvalidParameter("format", f"{fmt!r} is not one of {', '.join(FORMATS)}",
                               f"{fmt!r} 不是 {'、'.join(FORMATS)} 之一")
    out = Path(out)
    if not out.parent.exists():
        raise InvalidParameter("--out", f"the folder {out.parent} does not exist", f"文件夹 {out.parent} 不存在")
    if fmt == "shp" and out.suffix.lower() != ".zip":
        raise InvalidParameter("--out", f"a shapefile export is a zip of .shp/.shx/.dbf/.prj/.cpg: name it "
                               f"{out.with_suffix('.zip').name}",
                               f"shapefile 导出为 .shp/.shx/.dbf/.prj/.cpg 的 zip 压缩包：请命名为 {out.with_suffix('.zip').name}")
    if fmt == "shp":
        return _gdal(conn, layer, fmt, out, street=street, encoding=encoding, lang=lang, viewer=viewer, notes=notes)
    writer = {"geojson": _geojson, "csv": _csv, "xlsx": _xlsx, "gpkg": _gdal, "kml": _gdal}[fmt]
    return writer(conn, layer, fmt, out, street=street, encoding=encoding, lang=lang, viewer=viewer)


def _geojson(conn, layer, fmt, out, *, street, encoding, lang, viewer) -> int:
    cols, rows = _fetch(conn, layer, street, viewer, "ST_AsGeoJSON(geom, 9)")
    with open(out, "wb") as fh:
        fh.write(b'{"type":"FeatureCollection","name":' + orjson.dumps(layer) + b',"features":[\n')
        for k, row in enumerate(rows):
            props = {c: _text(v, kind) if kind in ("time", "json") else (
                float(v) if isinstance(v, Decimal) else v) for (c, kind, _), v in zip(cols, row[:-1])}
            fh.write((b",\n" if k else b"") + b'{"type":"Feature","properties":' + orjson.dumps(props)
                     + b',"geometry":' + row[-1].encode() + b"}")
        fh.write(b"\n]}\n")
    return len(rows)


def _is_point(layer: str) -> bool:
    return get_layer(layer).rules.points


def _cell(value, kind: str, lang: str):
    """A workbook cell: numbers as numbers, times as times (the writer makes them date cells), yes/no as 是/否
    (yes/no in English), the rest as :func:`_text`."""
    if kind == "time":
        return value
    if isinstance(value, bool):
        return ("是" if value else "否") if lang != "en" else ("yes" if value else "no")
    if kind in ("int", "num") and value is not None:
        return float(value) if isinstance(value, Decimal) else value
    return _text(value, kind)


def _table_rows(conn, layer, street, viewer, lang, cell=_text):
    geometry = "ST_X(geom), ST_Y(geom)" if _is_point(layer) else "ST_AsText(geom)"
    cols, rows = _fetch(conn, layer, street, viewer, geometry)
    zh = lang != "en"
    header = [label if zh else name for name, _, label in cols]
    # The headers say the coordinates' CRS: an office re-importing its edited sheet with its ledger's --crs
    # gcj02 is refused, not moved ~500 m (layers/io/geometry.py).
    header += list(EXPORT_COORD_HEADERS["zh" if zh else "en"]) if _is_point(layer) else [EXPORT_WKT_HEADER]
    width = len(cols)

    def body():  # the rows as written, again at each call (a check may read them before the writer does)
        return ([cell(v, kind) for (_, kind, _), v in zip(cols, row[:width])] + list(row[width:]) for row in rows)
    return header, body, len(rows)


def _csv(conn, layer, fmt, out, *, street, encoding, lang, viewer) -> int:
    import csv

    header, body, n = _table_rows(conn, layer, street, viewer, "en" if lang == "zh" else lang)
    # UTF-8 with BOM: Excel opens Chinese text correctly.
    with open(out, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([csv_text(h) for h in header])  # a column's label may be an imported one
        for row in body():
            writer.writerow([f"{v:.9f}".rstrip("0") if isinstance(v, float) else csv_text(v) for v in row])
    return n


def _xlsx(conn, layer, fmt, out, *, street, encoding, lang, viewer) -> int:
    from openpyxl import Workbook

    header, body, n = _table_rows(conn, layer, street, viewer, lang, lambda v, kind: _cell(v, kind, lang))
    wkt = None if _is_point(layer) else len(header) - 1
    _check_cells(header, body(), wkt)  # before the workbook exists: a refusal leaves nothing behind
    book = Workbook(write_only=True)
    sheet = book.create_sheet(get_layer(layer).name(lang)[:31])
    sheet.append(text_row(sheet, header))
    for row in body():
        if wkt is not None and len(row[wkt] or "") > XLSX_CELL_LIMIT:
            row[wkt] = _WKT_TOO_LONG[lang]
        # Times as date cells in the city's wall-clock time: a clerk sorts and filters them as dates.
        sheet.append(text_row(sheet, [timed_cell(sheet, v) for v in row]))
    book.save(out)
    return n


#: What an area's cell says when its outline is too long for Excel: the sheet is for its names, codes and
#: figures; the outline is in the other formats.
_WKT_TOO_LONG = {"zh": f"（边界过长，超出 Excel 单元格 {XLSX_CELL_LIMIT:,} 字符的上限；边界请导出 gpkg、geojson 或 shp）",
                 "en": f"(outline longer than Excel's cell limit of {XLSX_CELL_LIMIT:,} characters; export gpkg, "
                       "geojson or shp for the outlines)"}


def _check_cells(header: list[str], rows, wkt: int | None) -> None:
    """Refuse a value other than an outline (``wkt``, the column index) above Excel's cell limit: Excel would cut it."""
    for k, row in enumerate(rows):
        for j, v in enumerate(row):
            if j != wkt and isinstance(v, str) and len(v) > XLSX_CELL_LIMIT:
                raise InvalidParameter("--format", f"row {k + 1}, column {header[j]}: a value of {len(v):,} "
                                       f"characters, above Excel's cell limit of {XLSX_CELL_LIMIT:,}; export this "
                                       "layer as gpkg or geojson, which keep every value whole",
                                       f"第 {k + 1} 行 {header[j]} 列：值有 {len(v):,} 个字符，超过 Excel 单元格上限 "
                                       f"{XLSX_CELL_LIMIT:,}；请把该图层导出为 gpkg 或 geojson，它们完整保留每个值")


def _gdal(conn, layer, fmt, out, *, street, encoding, lang, viewer, notes=None) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's notes on shortened .dbf field names
        return _gdal_write(conn, layer, fmt, out, street=street, encoding=encoding, lang=lang, viewer=viewer,
                           notes=notes)


def _gdal_write(conn, layer, fmt, out, *, street, encoding, lang, viewer, notes) -> int:
    import pyogrio.raw

    cols, rows = _fetch(conn, layer, street, viewer, "ST_AsBinary(geom), GeometryType(geom)")
    names = [c for c, _, _ in cols]
    data, masks, offsets = _field_arrays(cols, rows, typed=fmt == "gpkg")
    geoms = np.array([bytes(r[-2]) for r in rows], dtype=object)
    types = {r[-1] for r in rows}
    written = dict(geometry_type=_geometry_type(layer, types), crs="EPSG:4326")
    if fmt == "kml":
        data, masks, names = _kml_fields(cols, rows, data, masks, lang)
        pyogrio.raw.write(str(out), geoms, data, names, field_mask=masks, driver="LIBKML", layer=layer, **written)
    elif fmt == "gpkg":
        # GeoPackage 1.2: GDAL 3.12 writes 1.4 by default, which older GDAL (QGIS on Debian 12) reads warily
        pyogrio.raw.write(str(out), geoms, data, names, field_mask=masks, driver="GPKG", layer=layer,
                          gdal_tz_offsets=offsets, dataset_options={"VERSION": "1.2"}, **written)
    else:
        write_shapefile(layer, out, types, geoms, data, names, encoding, dict(written, field_mask=masks), notes)
    return len(rows)


def _field_arrays(cols, rows, *, typed: bool) -> tuple[list, list, dict]:
    """Each column as the array GDAL writes: (arrays, null masks, time-zone offsets by column).

    Whole numbers become integer fields everywhere. ``typed`` (GeoPackage) also keeps times as DateTime
    fields in the city's time with its offset (GDAL's code: 100 + quarter-hours from UTC) and yes/no as
    Boolean fields, so QGIS filters by date; a .dbf has no time type and KML keeps text, so there they
    stay text as in every other export.
    """
    data, masks, offsets = [], [], {}
    for j, (name, kind, _) in enumerate(cols):
        values = [r[j] for r in rows]
        missing = np.array([v is None for v in values], dtype=bool)
        if kind == "int":
            data.append(np.array([0 if v is None else int(v) for v in values], dtype="int64"))
        elif kind == "num":
            data.append(np.array([np.nan if v is None else float(v) for v in values], dtype="float64"))
        elif typed and kind == "time":
            local = [v.astimezone(city_tz()) if v is not None else None for v in values]
            data.append(np.array([np.datetime64("NaT") if v is None else np.datetime64(v.replace(tzinfo=None), "ms")
                                  for v in local], dtype="datetime64[ms]"))
            offsets[name] = np.array([100 if v is None else 100 + int(v.utcoffset().total_seconds()) // 900
                                      for v in local], dtype="int32")
        elif typed and kind == "bool":
            data.append(np.array([bool(v) for v in values], dtype=bool))
        else:
            data.append(np.array([_text(v, kind) for v in values], dtype=object))
        masks.append(missing if missing.any() and kind in ("int", "time", "bool") else None)
    return data, masks, offsets


def _kml_fields(cols, rows, data: list, masks: list, lang: str) -> tuple[list, list, list[str]]:
    """The KML's fields: the placemark's Name and Description (奥维 and Google Earth show them), then every column.

    KML's own name/description would take a column of the same name (case-insensitive in KML): the name
    column is the placemark's, and a data column "description" (complaints) travels in ExtendedData under
    its zh label, which an import reads back (KML's rendered Description of this export is not data).
    """
    names = [c for c, _, _ in cols]
    label = {c: (lab if lang != "en" else c) for c, _, lab in cols}
    name_col = names.index("name") if "name" in names else names.index("source_id")
    descriptions = []
    for r in rows:
        lines = [f"{html.escape(label[c])}: {html.escape(_text(v, k) or '')}" for (c, k, _), v
                 in zip(cols, r) if v not in (None, "", {}) and c != "name"]
        descriptions.append("<br/>".join(lines))
    keep = [j for j, c in enumerate(names) if c != "name"]
    fields = [np.array([_text(r[name_col], "text") for r in rows], dtype=object),
              np.array(descriptions, dtype=object), *[data[j] for j in keep]]
    return (fields, [None, None, *[masks[j] for j in keep]],
            ["Name", "Description", *[cols[j][2] if names[j] == "description" else names[j] for j in keep]])


def _geometry_type(layer: str, types: set[str]) -> str:
    if len(types) == 1:
        return {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon",
                "MULTILINESTRING": "MultiLineString", "MULTIPOINT": "MultiPoint"}[next(iter(types))]
    declared = get_layer(layer).geometry_type
    return "Unknown" if declared == "Geometry" else declared
