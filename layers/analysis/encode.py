"""What the analyses share to write their results: GeoJSON bytes, CSV and XLSX files, report numbers.

Geometries arrive as GeoJSON text from PostGIS (ST_AsGeoJSON) and are
stitched in as raw JSON fragments: no geometry passes through shapely.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import orjson

from data.errors import InvalidParameter
from data.said import grid_name
from geo.hotspots import PATTERNS
from layers.io.cells import csv_frame, format_times, keep_text
from layers.io.columns import EXPORT_COORD_HEADERS


def lon_lat_headers() -> tuple[tuple[str, str], tuple[str, str]]:
    """(lon, lat) headers in Chinese, then in English, as the exports write them (``经度(WGS84)``): a sheet's
    coordinates say their CRS, so they are neither pasted into Gaode (GCJ-02) ~500 m off nor shifted on import."""
    return EXPORT_COORD_HEADERS["zh"], EXPORT_COORD_HEADERS["en"]


def feature_collection(features: Iterable[tuple[str | None, dict]], **top: object) -> bytes:
    """A GeoJSON FeatureCollection from (geometry GeoJSON text, properties) pairs, plus top-level members."""
    parts = []
    for geometry, properties in features:
        parts.append({"type": "Feature", "geometry": orjson.Fragment(geometry) if geometry else None,
                      "properties": properties})
    return orjson.dumps({"type": "FeatureCollection", **top, "features": parts},
                        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def features(rows: Iterable[dict], geometry: str = "geometry") -> list[tuple[str | None, dict]]:
    """(geometry, properties) pairs of result rows whose ``geometry`` member holds GeoJSON text."""
    return [(row[geometry], {k: v for k, v in row.items() if k != geometry}) for row in rows]


def figure(value, digits: int = 1) -> str:
    """A value as a report shows it: thousands separated, ``digits`` decimals for floats, — for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


#: Significant figures of a rate (facilities per km², per 10,000 residents): a sparse district's 0.0041 per km²,
#: read against a band of 3–5 per km², is not "0.0"; a dense one's 12.3 needs no more.
RATE_FIGURES = 3
#: The columns written as rates: the page (analysis.js rate), the command line and the workbook agree.
RATES = ("per_km2", "per_10k_residents")


def rate_digits(value) -> int:
    """Decimals of a rate: :data:`RATE_FIGURES` significant figures, at least 1 and at most 6 (0 for a true zero)."""
    if not value:
        return 0
    return min(6, max(1, RATE_FIGURES - 1 - math.floor(math.log10(abs(value)))))


def rate_figure(value) -> str:
    """A rate as the page and the command line show it (:func:`rate_digits` decimals), — for none."""
    return "—" if value is None else f"{value:,.{rate_digits(value)}f}"


def rate_format(value) -> str:
    """A rate cell's number format: the value stays the number, shown as :func:`rate_figure` shows it."""
    digits = rate_digits(value) if value is not None else 1
    return "#,##0" + ("." + "0" * digits if digits else "")


def table_rows(rows: list[dict], drop: tuple[str, ...] = ("geometry", "gaps", "disc")) -> list[dict]:
    """Rows without their geometries, nested dicts flattened (components.x.value → x_value)."""
    out = []
    for row in rows:
        flat = {}
        for key, value in row.items():
            if key in drop:
                continue
            if isinstance(value, dict):
                for sub, inner in value.items():
                    if isinstance(inner, dict):
                        for leaf, v in inner.items():
                            flat[f"{sub}_{leaf}"] = v
                    else:
                        flat[f"{key}_{sub}"] = inner
            else:
                flat[key] = value
        out.append(flat)
    return out


#: What ``--out`` writes, by the file's extension.
FORMATS = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".xlsx": "xlsx"}


def out_format(path: Path) -> str:
    """The format ``path`` asks for by its extension; InvalidParameter for any other, or for a folder that does not
    exist or cannot be written to (said before the work, not as a traceback after it)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidParameter("--out", f"{path.name}: the extension must be .geojson, .csv or .xlsx",
                               f"{path.name}：扩展名须为 .geojson、.csv 或 .xlsx")
    folder = path.parent
    if not folder.is_dir():
        raise InvalidParameter("--out", f"{path}: the folder {folder} does not exist", f"{path}：文件夹 {folder} 不存在")
    if not os.access(folder, os.W_OK):
        raise InvalidParameter("--out", f"{path}: the folder {folder} cannot be written to",
                               f"{path}：文件夹 {folder} 不可写入")
    return fmt


#: Spreadsheet headers of the analyses' table columns (zh, en). CSV keeps the keys, as the layer exports do:
#: a CSV feeds scripts, a workbook is read by people.
HEADERS = {
    "code": ("代码", "Code"), "name": ("名称", "Name"), "name_en": ("英文名称", "Name (English)"),
    "area_km2": ("面积（km²）", "Area (km²)"), "covered_area_pct": ("覆盖面积占比（%）", "Area covered (%)"),
    "population": ("人口", "Population"), "covered_pop_pct": ("覆盖人口占比（%）", "Residents covered (%)"),
    "population_spread": ("人口分布方式", "How population is spread"), "count": ("数量", "Count"),
    "per_km2": ("每平方公里", "Per km²"), "per_10k_residents": ("每万人", "Per 10,000 residents"),
    "expected_min": ("标准下限", "Standard, low"), "expected_max": ("标准上限", "Standard, high"),
    "status": ("判定", "Status"), "basis": ("依据", "Basis"),
    "q": ("六边形列 q", "Hexagon q"), "r": ("六边形行 r", "Hexagon r"), "gi_z": ("Gi* z 值", "Gi* z"),
    "gi_p": ("Gi* p 值", "Gi* p"), "gi_bin": ("热点等级", "Hot/cold spot bin"), "score": ("得分", "Score"),
    "rank": ("排名", "Rank"), "x": ("平面坐标 x（m）", "x (m)"), "y": ("平面坐标 y（m）", "y (m)"),
    "new_residents": ("新增覆盖人口", "Residents newly covered"),
    "new_area_m2": ("新增覆盖面积（m²）", "Area newly covered (m²)"),
    "new_complaints": ("新增覆盖未结案投诉", "Open complaints newly covered"),
    "gi_bin_code": ("热点等级代码", "Bin code"),
    "pattern": ("热点趋势", "Trend pattern"),
    "lon": (EXPORT_COORD_HEADERS["zh"][0], EXPORT_COORD_HEADERS["en"][0]),
    "lat": (EXPORT_COORD_HEADERS["zh"][1], EXPORT_COORD_HEADERS["en"][1]),
    "communities_drawn_pct": ("社区所覆盖面积占比（%）", "Share drawn in communities (%)"),
    # Columns of the printed tables only (the command line's).
    "expected": ("标准范围（座）", "Expected"), "grid": ("网格", "Grid"),
}
#: Coded values of the tables' columns as a workbook says them (zh, en); CSV keeps the codes, for scripts.
VALUES = {
    "status": {"below": ("低于标准", "below"), "within": ("符合标准", "within"), "above": ("高于标准", "above"),
               "unjudged": ("未评判（无建成区用地）", "not judged (no built-up land)"),
               "no_data": ("无数据", "no data")},
    "basis": {"land_use": ("按用地类型", "by land-use class"),
              "city": ("整个区域按建成区密度", "whole area at the built-up band")},
    "population_spread": {"residential": ("按居住用地", "over residential land"), "area": ("按区域面积", "over the area"),
                          "communities": ("由社区汇总", "summed from communities")},
    "pattern": PATTERNS,
    # As the hot-spot page's legend says them (热点 99 % 置信度 (+3)); the code stays in its own column.
    "gi_bin": {3: ("热点 99 % 置信度", "Hot spot 99 % confidence"), 2: ("热点 95 % 置信度", "Hot spot 95 % confidence"),
               1: ("热点 90 % 置信度", "Hot spot 90 % confidence"), 0: ("不显著", "Not significant"),
               -1: ("冷点 90 % 置信度", "Cold spot 90 % confidence"), -2: ("冷点 95 % 置信度", "Cold spot 95 % confidence"),
               -3: ("冷点 99 % 置信度", "Cold spot 99 % confidence")},
}
#: Columns of whole numbers: a missing one (an area without population) must not turn the rest into 57000.0.
WHOLE = ("population", "count", "rank", "new_residents", "new_complaints", "gi_bin_code")
#: Coded columns a workbook also keeps as codes, in a column of their own right after the words (``gi_bin_code``):
#: a bin sorts and filters by its number.
CODES_KEPT = ("gi_bin",)
#: Priority's components: a column per component and part (``overdue_weighted``: 逾期投诉·加权分).
COMPONENTS = {"hotspot": ("投诉热点", "Hot spot"), "overdue": ("逾期投诉", "Overdue complaints"),
              "open": ("未办结投诉", "Open complaints"), "coverage_gap": ("公厕覆盖缺口", "Coverage gap"),
              "urban_village": ("城中村", "Urban village"), "markets": ("农贸市场", "Markets")}
PARTS = {"value": ("原值", "value"), "scaled": ("归一化", "scaled"), "weighted": ("加权分", "weighted")}


def header(key: str, lang: str) -> str:
    """The spreadsheet header of a table column in ``lang``; the key itself for a column without one."""
    i = 0 if lang == "zh" else 1
    if key in HEADERS:
        return HEADERS[key][i]
    component, _, part = key.rpartition("_")
    if component in COMPONENTS and part in PARTS:
        return f"{COMPONENTS[component][i]}·{PARTS[part][i]}" if i == 0 else \
            f"{COMPONENTS[component][i]}, {PARTS[part][i]}"
    return key


def headers(keys: Iterable[str], lang: str) -> list[str]:
    """The headers of a printed table's columns in ``lang``: the spreadsheet's (:func:`header`)."""
    return [header(key, lang) for key in keys]


def value_name(key: str, value, lang: str):
    """A coded value of column ``key`` as people read it in ``lang`` (低于标准 / below); others as they are."""
    names = VALUES.get(key, {})
    return names[value][0 if lang == "zh" else 1] if value in names else value


#: A workbook's sheet, named for its analysis (not Excel's Sheet1).
SHEETS = {"coverage": ("服务覆盖", "Coverage"), "density": ("设置密度", "Density"), "hotspots": ("投诉热点", "Hot spots"),
          "priority": ("巡查优先级", "Inspection priority"), "siting": ("选址建议", "Siting")}


def said_grids(result: dict) -> dict:
    """``result`` with each grid row's ``name_en`` its name said in English (「East Village 2号网格」 → "East Village grid
    2"), where a result by grid had the Chinese pattern there; other levels' rows are left as they are."""
    if result["by"] == "grid":
        for row in result["rows"]:
            row["name_en"] = grid_name(row["name"], "en")
    return result


#: What ``/api/analysis/…?format=`` answers besides GeoJSON: the table's format → its media type.
TABLE_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}


def table_bytes(rows: list[dict], fmt: str, lang: str = "zh", analysis: str | None = None, grids: bool = False,
                keys: bool = False, notes: Iterable[str] = (), total: dict | None = None) -> bytes:
    """The rows as an ``xlsx`` workbook or a ``csv`` file (UTF-8 with a BOM, so Excel reads its Chinese): headers
    and coded values in ``lang``, numbers as numbers; the workbook's sheet named for ``analysis``; with ``grids``
    the rows' generated grid names said in ``lang`` too. With ``keys`` a CSV keeps the keys as headers and the
    codes as values (the command's ``--out x.csv``, which feeds scripts); a workbook is always said in ``lang``.
    ``notes`` (:meth:`~layers.analysis.registry.Analysis.notes`) go under a workbook's table, after a blank row and
    说明 (a CSV stays one table: its rows carry what a script needs, such as ``communities_drawn_pct``); ``total``
    (:meth:`~layers.analysis.registry.Analysis.total`), keyed as the rows, is a workbook's last table row, 合计.
    A workbook's figures keep every digit, shown to the page's precision by a number format (:data:`CELL_FORMATS`)."""
    import io

    import pandas as pd

    frame = pd.DataFrame(table_rows(rows))
    for key in set(WHOLE) & set(frame.columns):
        if pd.api.types.is_float_dtype(frame[key]) and (frame[key].dropna() % 1 == 0).all():
            frame[key] = frame[key].astype("Int64")  # whole numbers, the missing ones left empty
    if fmt == "csv" and keys:  # for scripts, and still escaped: a person may open it in Excel too
        return csv_frame(frame).to_csv(index=False).encode("utf-8-sig")
    for key in CODES_KEPT:
        if key in frame.columns:
            frame.insert(frame.columns.get_loc(key) + 1, f"{key}_code", frame[key])
    for key in set(VALUES) & set(frame.columns):
        frame[key] = frame[key].map(lambda v, key=key: value_name(key, v, lang))
    if grids and "name" in frame.columns:  # an English table says no 「N号网格」
        frame["name"] = frame["name"].map(lambda v: grid_name(v, lang))
    columns = list(frame.columns)
    frame = frame.rename(columns=lambda key: header(key, lang))
    if fmt == "csv":
        return csv_frame(frame).to_csv(index=False).encode("utf-8-sig")
    buffer = io.BytesIO()
    sheet = SHEETS[analysis][lang == "en"] if analysis in SHEETS else "Sheet1"
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet)
        if total:
            _total_row(writer.book[sheet], columns, total)
        _number_formats(writer.book[sheet], columns)
        _notes(writer.book[sheet], list(notes), lang)
        keep_text(writer.book)
        format_times(writer.book)  # any time a date cell as in every workbook (layers.io.cells)
    return buffer.getvalue()


def _share_format(value) -> str:
    return "0.00"


def _count_format(value) -> str:
    """A band's expected count of facilities (2,915.27 toilets) in whole facilities; below 10 to a tenth, so that a
    small area's 0.3–0.5 does not read 0–1."""
    return "#,##0" if abs(value) >= 10 else "0.0"


#: Number formats of a workbook's figures, by column key: each a function of the cell's value (a rate's digits
#: depend on its size). The cells keep every digit; the format shows them as the page does.
CELL_FORMATS: dict[str, Callable] = {
    **{key: rate_format for key in RATES},
    "covered_area_pct": _share_format, "covered_pop_pct": _share_format, "communities_drawn_pct": _share_format,
    "area_km2": lambda value: "#,##0.00", "expected_min": _count_format, "expected_max": _count_format,
}


def _number_formats(sheet, columns: list[str]) -> None:
    """The figure cells of ``columns`` (the keys, in the sheet's order) shown by :data:`CELL_FORMATS`."""
    for j, key in enumerate(columns):
        if key not in CELL_FORMATS:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=j + 1, max_col=j + 1):
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = CELL_FORMATS[key](cell.value)


def _total_row(sheet, columns: list[str], total: dict) -> None:
    """``total`` under the table, in bold, its label in the first column."""
    from openpyxl.styles import Font

    sheet.append([total.get(key) if j else total.get(key, total.get("label")) for j, key in enumerate(columns)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def _notes(sheet, notes: list[str], lang: str) -> None:
    """``notes`` under the table, one a row after a blank row and a 说明 (Notes) row, as a page says them beside it."""
    if notes:
        sheet.append([])
        sheet.append(["说明" if lang != "en" else "Notes"])
        for note in notes:
            sheet.append([note])


def write(path: Path, rows: list[dict], geojson: Callable[[], bytes], lang: str = "zh",
          analysis: str | None = None, grids: bool = False, notes: Iterable[str] = (),
          total: dict | None = None) -> tuple[str, int]:
    """Write a result by the file's extension: the GeoJSON (made only now), or the rows as CSV (keys as
    headers, codes as values) or XLSX (:func:`table_bytes`: headers and coded values in ``lang``, numbers as
    numbers, its sheet named for ``analysis``, with ``grids`` the generated grid names said in ``lang``).

    Returns the format and how many features (GeoJSON: the areas and, for coverage, their gaps) or rows it holds.
    """
    fmt = out_format(path)
    if fmt == "geojson":
        data = geojson()
        path.write_bytes(data)
        return fmt, len(orjson.loads(data)["features"])
    path.write_bytes(table_bytes(rows, fmt, lang, analysis, grids, keys=True, notes=notes, total=total))
    return fmt, len(rows)
