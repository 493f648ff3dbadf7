"""Read the files offices send: CSV, XLSX, GeoJSON, Shapefile (folder or zip), GeoPackage, KML.

Every reader returns a :class:`RawTable`: the attribute columns as text
(nothing guessed yet), and either geometries with their CRS (vector formats)
or nothing (tables: coordinates are found in the columns later). A file
that cannot be read at all raises :class:`~data.errors.InvalidInput` naming
the file and the reason.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineError

from data.errors import InvalidInput, InvalidParameter
from data.said import Note
from data.settings import ImportSettings
from layers.io.dbf_text import detected, names_encoding, utf8_cut_names
from layers.io.delimited import HEADER_SEARCH_ROWS, header_index, iter_csv, title_note, without_tail
from layers.io.kml import is_kml, keep_field_names
from layers.io.rawtable import RawTable
from layers.io.shapefile import attributes_back

TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls"}
VECTOR_SUFFIXES = {".geojson", ".json", ".shp", ".zip", ".gpkg", ".kml", ".kmz"}



def read_chunks(path: Path, *, sheet: str | None = None, layer: str | None = None, encoding: str | None = None,
                settings: ImportSettings | None = None, chunk_rows: int | None = None) -> Iterator[RawTable]:
    """Read any supported file as :class:`RawTable` chunks (format by suffix; folders hold a shapefile).

    Delimited text comes in chunks of ``chunk_rows`` rows, read as they are
    asked for; the other formats are read whole, as one chunk. Whatever
    makes the whole file unreadable is raised before the first chunk.
    """
    settings = settings or ImportSettings.from_env()
    path = Path(path)
    if not path.exists():
        raise InvalidParameter("FILE", f"{path} does not exist", f"{path} 不存在")
    if path.is_dir():
        return iter([_read_vector(_shapefile_in_folder(path, layer), None, encoding, settings)])
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"{path.name}: the file is empty", zh=f"{path.name}：文件是空的")
    if size > settings.max_file_mb * 1024 * 1024:
        raise InvalidInput(f"{path.name}: the file is {size / 2**20:,.0f} MB, above the import limit of "
                           f"{settings.max_file_mb} MB (HYGIENE_MAP_IMPORT_MAX_FILE_MB)",
                           zh=f"{path.name}：文件有 {size / 2**20:,.0f} MB，超过导入上限 {settings.max_file_mb} MB"
                              "（HYGIENE_MAP_IMPORT_MAX_FILE_MB）")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return iter_csv(path, encoding=encoding, chunk_rows=chunk_rows)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return iter([read_xlsx(path, sheet=sheet)])
    if suffix == ".json" and path.read_bytes()[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        return iter([read_json_records(path)])
    if suffix in (".zip", ".kmz"):
        _check_zip(path, settings)
    if suffix in VECTOR_SUFFIXES:
        return iter([_read_vector(path, layer, encoding, settings)])
    raise InvalidInput(f"{path.name}: unknown file type {suffix or '(no suffix)'}; "
                       "use .csv, .xlsx, .geojson, .shp (or a zip or folder), .gpkg or .kml",
                       zh=f"{path.name}：无法识别的文件类型 {suffix or '（无扩展名）'}；"
                          "请用 .csv、.xlsx、.geojson、.shp（或其 zip、文件夹）、.gpkg 或 .kml")


# -- JSON records (an API's answer saved to a file) -------------------------------
def read_json_records(path: Path) -> RawTable:
    """A JSON array of flat objects, one row each (e.g. a government API's answer)."""
    import json

    try:
        records = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name}: invalid JSON ({exc})", zh=f"{path.name}：JSON 格式错误（{exc}）") from None
    if not records:
        raise InvalidInput(f"{path.name}: the JSON array is empty", zh=f"{path.name}：JSON 数组是空的")
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise InvalidInput(f"{path.name}: item {bad + 1} of the JSON array is not an object",
                           zh=f"{path.name}：JSON 数组的第 {bad + 1} 项不是对象")
    frame = pd.DataFrame.from_records(records)
    return RawTable(path, _as_text(frame), "record", 1)


# -- XLSX -----------------------------------------------------------------------
#: The first bytes of an old .xls (OLE2, Excel 97–2003); an .xlsx is a zip, and some systems' "export to Excel"
#: is a web page or XML under an .xls name.
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_xlsx(path: Path, *, sheet: str | None = None) -> RawTable:
    """One sheet of a workbook, .xlsx or the old .xls (the first sheet unless --sheet), every value as text; its
    header found under any title rows above it (:func:`~layers.io.delimited.header_index`)."""
    cells, chosen = _sheet_cells(path, sheet)
    head = header_index((cells.head(HEADER_SEARCH_ROWS) != "").sum(axis=1).tolist())
    if head is None:
        raise InvalidInput(f"{path.name}: the sheet is empty (no header row)", zh=f"{path.name}：工作表是空的（没有表头行）")
    names = [str(c).strip() or f"Unnamed: {i}" for i, c in enumerate(cells.iloc[head])]
    frame = cells.iloc[head + 1:].set_axis(names, axis=1).reset_index(drop=True)
    # Columns with neither a name nor a value (cells formatted beyond the table's edge) are no columns.
    frame = frame.loc[:, [not (n.startswith("Unnamed: ") and (frame[n] == "").all()) for n in names]]
    _check_names(path, list(frame.columns), head + 1)
    frame, tail = without_tail(frame)
    if frame.empty:
        raise InvalidInput(f"{path.name}: the sheet has a header but no data rows",
                           zh=f"{path.name}：工作表只有表头，没有数据行")
    notes = tuple(n for n in (chosen, title_note(head) if head else None, tail) if n)
    return RawTable(path, frame.astype(object), "row", head + 2, notes=notes)


def _first_table(book: pd.ExcelFile, sheet: str | None) -> tuple[pd.DataFrame, str | None]:
    """The cells of ``sheet``; without one, of the first sheet that holds a table (a header of two columns or
    more: a 说明 sheet of notes before the data is passed over; else the first sheet), and a note naming it when
    the workbook has others."""
    if sheet is not None:
        return _cells(book, sheet), None
    read = [(name, _cells(book, name)) for name in book.sheet_names[:1]]
    for name in book.sheet_names[1:]:
        if _holds_table(read[-1][1]):
            break
        read.append((name, _cells(book, name)))
    name, cells = next(((n, c) for n, c in read if _holds_table(c)), read[0])
    others = len(book.sheet_names) > 1
    return cells, (Note(f"已读取工作表 {name!r}（工作簿中的工作表：{'、'.join(book.sheet_names)}；用 --sheet 读取其他工作表）",
                        f"sheet {name!r} read (the workbook's sheets: {', '.join(book.sheet_names)}; --sheet reads "
                        "another)") if others else None)


def _cells(book: pd.ExcelFile, name: str) -> pd.DataFrame:
    return pd.read_excel(book, sheet_name=name, header=None, dtype=str, keep_default_na=False,
                         na_filter=False).astype(str)


def _holds_table(cells: pd.DataFrame) -> bool:
    """A header (:func:`~layers.io.delimited.header_index`) of two named columns or more."""
    head = header_index((cells.head(HEADER_SEARCH_ROWS) != "").sum(axis=1).tolist())
    return head is not None and (cells.iloc[head] != "").sum() >= 2


def _sheet_cells(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str | None]:
    """Every cell of the sheet (:func:`_first_table`) as text ('' for empty), no row taken as the header yet, and
    the note saying which sheet it was."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise InvalidInput(f"{path.name}: a web page or XML saved with a spreadsheet's name, not a workbook; open it "
                           "in Excel or WPS and save it as .xlsx (or CSV)",
                           zh=f"{path.name}：这是以表格文件名保存的网页或 XML，不是工作簿；请用 Excel 或 WPS 打开并另存为 .xlsx（或 CSV）")
    # .xls through calamine; an .xlsx misnamed .xls is read as what it is.
    engine = "calamine" if magic.startswith(_OLE2) else "openpyxl"
    try:
        with pd.ExcelFile(path, engine=engine) as book:
            if sheet is not None and sheet not in book.sheet_names:
                raise InvalidParameter("--sheet", f"{path.name} has no sheet {sheet!r}; sheets are: "
                                       + ", ".join(book.sheet_names),
                                       f"{path.name} 没有工作表 {sheet!r}；工作表有：{'、'.join(book.sheet_names)}")
            return _first_table(book, sheet)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, CalamineError) as exc:
        kind = "XLS" if engine == "calamine" else "XLSX"
        raise InvalidInput(f"{path.name}: not a readable {kind} workbook ({type(exc).__name__})",
                           zh=f"{path.name}：无法作为 {kind} 工作簿读取（{type(exc).__name__}）") from None


def _check_names(path: Path, names: list[str], row: int) -> None:
    """A header naming a column twice is refused (which would the import read?), as in a CSV."""
    seen = pd.Index(names)
    if seen.has_duplicates:
        twice = seen[seen.duplicated()][0]
        raise InvalidInput(f"{path.name}: the header (row {row}) names column {twice!r} twice",
                           zh=f"{path.name}：表头（第 {row} 行）中 {twice!r} 列出现两次")


# -- vector formats (GDAL through pyogrio) ---------------------------------------
def _check_zip(path: Path, settings: ImportSettings) -> None:
    """Refuse zip bombs and broken archives before GDAL opens them."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise InvalidInput(f"{path.name}: not a readable zip archive", zh=f"{path.name}：不是可读取的 zip 压缩包") from None
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > settings.max_unzipped_mb * 1024 * 1024 or total / packed > settings.max_zip_ratio:
        raise InvalidInput(f"{path.name}: refused: the archive would unpack to {total / 2**20:,.0f} MB "
                           f"({total / packed:,.0f}× its size; limits {settings.max_unzipped_mb} MB, "
                           f"{settings.max_zip_ratio}×) — a zip bomb?",
                           zh=f"{path.name}：拒收：压缩包解压后将有 {total / 2**20:,.0f} MB（原大小的 {total / packed:,.0f} 倍；"
                              f"上限 {settings.max_unzipped_mb} MB、{settings.max_zip_ratio} 倍）——是 zip 炸弹吗？")
    if path.suffix.lower() == ".zip":
        shapefiles = [i.filename for i in infos if i.filename.lower().endswith(".shp")]
        others = [i.filename for i in infos if i.filename.lower().endswith((".gpkg", ".geojson", ".kml"))]
        if not shapefiles and not others:
            raise InvalidInput(f"{path.name}: the archive holds no .shp, .gpkg, .geojson or .kml file",
                               zh=f"{path.name}：压缩包里没有 .shp、.gpkg、.geojson 或 .kml 文件")
        for shp in shapefiles:
            stem = shp[:-4]
            names = {i.filename.lower() for i in infos}
            for part in (".shx", ".dbf"):
                if (stem + part).lower() not in names:
                    raise InvalidInput(f"{path.name}: {shp} has no {stem}{part}; {_TOGETHER}",
                                       zh=f"{path.name}：{shp} 缺少 {stem}{part}；{_TOGETHER_ZH}")


def _shapefile_in_folder(folder: Path, layer: str | None) -> Path:
    shps = sorted(folder.glob("*.shp"))
    if layer:
        shps = [p for p in shps if p.stem == layer]
    if len(shps) != 1:
        found = ", ".join(p.name for p in sorted(folder.glob("*.shp"))) or "none"
        raise InvalidParameter("--layer" if layer else "FILE",
                               f"{folder} must hold exactly one shapefile (found: {found}); pick one with --layer",
                               f"{folder} 中须恰有一个 shapefile（找到：{'无' if found == 'none' else found}）；"
                               "请用 --layer 选择其一")
    _check_parts(shps[0])
    return shps[0]


#: Why a shapefile's parts are asked for (English, Chinese).
_TOGETHER = "a shapefile needs .shp, .shx and .dbf together"
_TOGETHER_ZH = "shapefile 须有 .shp、.shx 和 .dbf 三个文件放在一起"


def _check_parts(shp: Path) -> None:
    """InvalidInput when the .shx or the .dbf beside ``shp`` is missing."""
    for part in (".shx", ".dbf"):
        if not shp.with_suffix(part).exists():
            raise InvalidInput(f"{shp.name}: no {shp.stem}{part} beside it; {_TOGETHER}",
                               zh=f"{shp.name}：旁边没有 {shp.stem}{part}；{_TOGETHER_ZH}")


def _read_vector(path: Path, layer: str | None, encoding: str | None, settings: ImportSettings) -> RawTable:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    name = path.name
    if path.suffix.lower() == ".shp":
        _check_parts(path)
    if path.suffix.lower() in (".json", ".geojson"):
        _check_geojson_shape(path)
    try:
        layers = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError, OSError) as exc:
        kind = path.suffix.lstrip('.').upper() or 'GIS'
        raise InvalidInput(f"{name}: cannot be opened as {kind} data: {_first_line(exc)}",
                           zh=f"{name}：无法作为 {kind} 数据打开：{_first_line(exc)}") from None
    names = [str(row[0]) for row in layers]
    if not names:
        raise InvalidInput(f"{name}: the file holds no layer", zh=f"{name}：文件中没有图层")
    if layer is not None:
        if layer not in names:
            raise InvalidParameter("--layer", f"{name} has no layer {layer!r}; layers are: {', '.join(names)}",
                                   f"{name} 没有图层 {layer!r}；图层有：{'、'.join(names)}")
        chosen = [layer]
    elif len(names) == 1 or is_kml(path):
        chosen = names  # KML folders are layers: read them all
    else:
        raise InvalidParameter("--layer", f"{name} holds {len(names)} layers; pick one with --layer: "
                               + ", ".join(names), f"{name} 有 {len(names)} 个图层；请用 --layer 选择其一：{'、'.join(names)}")
    frames, geoms, crs, cut_off = [], [], None, frozenset()
    read_as, cut_in, notes = _dbf_encodings(path, layer, encoding)
    if is_kml(path):
        keep_field_names()
    for lyr in chosen:
        try:
            gdf, cut = _read_layer(path, lyr, read_as, cut_in)
            cut_off |= cut
        except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
            raise InvalidInput(f"{name}: cannot be read: {_first_line(exc)}", zh=f"{name}：无法读取：{_first_line(exc)}") from None
        except Exception as exc:  # GDAL raises its own classes for truncated files
            raise InvalidInput(f"{name}: cannot be read ({type(exc).__name__}): {_first_line(exc)}",
                               zh=f"{name}：无法读取（{type(exc).__name__}）：{_first_line(exc)}") from None
        if gdf.crs is not None and crs is None:
            epsg = gdf.crs.to_epsg()
            crs = f"EPSG:{epsg}" if epsg else gdf.crs.to_wkt()
        geoms.append(np.asarray(gdf.geometry.values, dtype=object))
        attrs = _as_text(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)))
        if path.suffix.lower() in (".shp", ".zip"):  # this tool's own export: its attributes set aside
            notes += [note] if (note := attributes_back(path, lyr, attrs)) else []
        frames.append(attrs)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if frame.empty:
        raise InvalidInput(f"{name}: the file holds no features", zh=f"{name}：文件中没有要素")
    frame = _as_text(frame)  # again: layers of a KML that lack a column hold NaN there
    return RawTable(path, frame, "feature", 1, geometries=np.concatenate(geoms), crs=crs, encoding=encoding,
                    notes=tuple(notes), names_cut_in=cut_in, names_cut_off=cut_off)


def _read_layer(path: Path, layer: str, read_as: str | None, cut_in: str | None) -> tuple:
    """One layer as a GeoDataFrame and its headers known to be cut (:func:`utf8_cut_names`): a UTF-8 shapefile
    whose 10-byte field names cut a character in two (pyogrio cannot decode them) is read again as ISO-8859-1 and
    given back its UTF-8 text."""
    import pyogrio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pyogrio.read_dataframe(path, layer=layer, encoding=read_as, on_invalid="ignore"), frozenset()
        except UnicodeDecodeError:
            if cut_in not in ("utf-8", "utf_8"):
                raise
            # GDAL's own name for the code page (it does not know "latin-1")
            return utf8_cut_names(pyogrio.read_dataframe(path, layer=layer, encoding="ISO-8859-1", on_invalid="ignore"))


def _dbf_encodings(path: Path, layer: str | None, encoding: str | None) -> tuple[str | None, str | None, list]:
    """The encoding to read a shapefile in (--encoding, else judged when its .dbf states none; None: GDAL's), the one
    its headers were cut to 10 bytes in (None: no shapefile), and the note saying what was judged."""
    read_as, notes = encoding, []
    if encoding is None and path.suffix.lower() in (".shp", ".zip"):  # a .dbf that states no encoding: judged
        read_as, said = detected(path, layer)
        notes += [said] if said else []
    return read_as, names_encoding(path, layer, read_as) if _is_shapefile(path) else None, notes


def _is_shapefile(path: Path) -> bool:
    """A .shp, or a zip holding one (its .dbf's field names are cut to 10 bytes)."""
    if path.suffix.lower() == ".shp":
        return True
    if path.suffix.lower() != ".zip":
        return False
    with zipfile.ZipFile(path) as archive:
        return any(n.lower().endswith(".shp") for n in archive.namelist())


def _check_geojson_shape(path: Path) -> None:
    """A .json/.geojson must be a GeoJSON object; say which way it is not one."""
    import json

    head = path.read_bytes()[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        raise InvalidInput(f"{path.name}: not GeoJSON: it does not start with a JSON object",
                           zh=f"{path.name}：不是 GeoJSON：文件开头不是 JSON 对象")
    if path.stat().st_size < 50 * 2**20:
        try:
            doc = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path.name}: not GeoJSON: invalid JSON ({exc})",
                               zh=f"{path.name}：不是 GeoJSON：JSON 格式错误（{exc}）") from None
        kind = doc.get("type") if isinstance(doc, dict) else None
        if kind not in ("FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString",
                        "Polygon", "MultiPolygon", "GeometryCollection"):
            raise InvalidInput(f"{path.name}: not GeoJSON: the object has no GeoJSON \"type\" "
                               f"(found {kind!r})", zh=f"{path.name}：不是 GeoJSON：对象没有 GeoJSON 的 \"type\"（读到 {kind!r}）")
        if kind == "FeatureCollection" and not isinstance(doc.get("features"), list):
            raise InvalidInput(f"{path.name}: not GeoJSON: \"features\" is not a list",
                               zh=f"{path.name}：不是 GeoJSON：\"features\" 不是列表")


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every attribute as text, '' for missing; whole floats written without '.0'."""
    out = {}
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_float_dtype(series):
            whole = series.notna() & np.isfinite(series.fillna(0)) & (series.fillna(0) % 1 == 0) \
                & (series.fillna(0).abs() < 1e15)
            text = series.astype(str)
            text = text.where(~whole, series.fillna(0).astype("int64").astype(str))
            out[str(col)] = text.where(series.notna(), "")
        else:
            out[str(col)] = series.astype(str).where(series.notna(), "")
    return pd.DataFrame(out).astype(object)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
