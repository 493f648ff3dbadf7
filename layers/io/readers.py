"""Read the files offices send: CSV, XLSX, GeoJSON, Shapefile (folder or zip), GeoPackage, KML.

Every reader returns a :class:`RawTable`: the attribute columns as text
(nothing guessed yet), and either geometries with their CRS (vector formats)
or nothing (tables: coordinates are found in the columns later). A file
that cannot be read at all raises :class:`~data.errors.InvalidInput` naming
the file and the reason.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data.errors import InvalidInput, InvalidParameter
from data.settings import ImportSettings

TABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
VECTOR_SUFFIXES = {".geojson", ".json", ".shp", ".zip", ".gpkg", ".kml", ".kmz"}




@dataclass
class RawTable:
    """What a reader found: text columns, and geometries when the format has them."""

    path: Path
    frame: pd.DataFrame            # every column as str ('' for empty)
    row_label: str                 # "row" (spreadsheet rows, header = row 1) or "feature"
    first_row: int                 # the number of the first data row in that labelling
    geometries: np.ndarray | None = None  # shapely geometries (None entries for missing)
    crs: str | None = None         # the file's own CRS (authority string or WKT), when it states one
    encoding: str | None = None
    notes: tuple[str, ...] = ()


def read_file(path: Path, *, sheet: str | None = None, layer: str | None = None, encoding: str | None = None,
              settings: ImportSettings | None = None) -> RawTable:
    """Read any supported file into a :class:`RawTable` (format by suffix; folders hold a shapefile)."""
    settings = settings or ImportSettings.from_env()
    path = Path(path)
    if not path.exists():
        raise InvalidParameter("FILE", f"{path} does not exist")
    if path.is_dir():
        return _read_vector(_shapefile_in_folder(path, layer), None, encoding, settings)
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"{path.name}: the file is empty")
    if size > settings.max_file_mb * 1024 * 1024:
        raise InvalidInput(f"{path.name}: the file is {size / 2**20:,.0f} MB, above the import limit of "
                           f"{settings.max_file_mb} MB (HYGIENE_MAP_IMPORT_MAX_FILE_MB)")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(path, encoding=encoding)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet=sheet)
    if suffix == ".xls":
        raise InvalidInput(f"{path.name}: the old Excel .xls format is not read; save it as .xlsx")
    if suffix == ".json" and path.read_bytes()[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        return read_json_records(path)
    if suffix in (".zip", ".kmz"):
        _check_zip(path, settings)
    if suffix in VECTOR_SUFFIXES:
        return _read_vector(path, layer, encoding, settings)
    raise InvalidInput(f"{path.name}: unknown file type {suffix or '(no suffix)'}; "
                       "use .csv, .xlsx, .geojson, .shp (or a zip or folder), .gpkg or .kml")


# -- CSV ------------------------------------------------------------------------
def decode_text(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """Bytes → text: UTF-8 (with or without BOM), else GBK/GB18030; mixed files are refused."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise InvalidParameter("--encoding", f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path.name}: not valid {encoding} at byte {exc.start}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
    # A file whose lines are partly valid non-ASCII UTF-8 and partly not is a
    # mix of encodings (a sheet pasted together): decoding it as GBK would
    # silently garble the UTF-8 part.
    utf8_lines = 0
    for line in data.split(b"\n"):
        if max(line, default=0) >= 0x80:
            try:
                line.decode("utf-8")
                utf8_lines += 1
            except UnicodeDecodeError:
                pass
    if utf8_lines:
        raise InvalidInput(f"{path.name}: mixed text encodings: line {bad_line} is not UTF-8 while {utf8_lines} "
                           "other line(s) are; save the whole file as UTF-8")
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(f"{path.name}: line {line} is neither UTF-8 nor GBK/GB18030 text; "
                           "give the encoding with --encoding") from None


_DELIMITERS = (",", "\t", ";", "|")


def read_csv(path: Path, *, encoding: str | None = None) -> RawTable:
    """A delimited text file, every value as text; row numbers as a spreadsheet shows them."""
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise InvalidInput(f"{path.name}: this is a binary file, not CSV text")
    text, used = decode_text(path, data, encoding)
    if not text or text.isspace():
        raise InvalidInput(f"{path.name}: the file has no text (only blanks)")
    first_line_end = text.find("\n")
    header = (text if first_line_end < 0 else text[:first_line_end + 1]).lstrip("\ufeff").splitlines()[0]
    del text  # decoded once to check the encoding; pandas reads the bytes (a million rows: ~0.5 GB less)
    counts = {d: header.count(d) for d in _DELIMITERS}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        delimiter = ","
    try:
        # object, not str: pandas' string dtype makes every later .str step several times slower.
        body = data[3:] if used == "utf-8" and data.startswith(b"\xef\xbb\xbf") else data
        frame = pd.read_csv(io.BytesIO(body), encoding=used, sep=delimiter, dtype=object, keep_default_na=False, na_filter=False,
                            skipinitialspace=False, on_bad_lines="error", engine="c")
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            raise InvalidInput(f"{path.name}: row {found.group(2)} has {found.group(3)} fields but the header has "
                               f"{found.group(1)} (a stray delimiter or an unclosed quote?)") from None
        first = str(exc).strip().splitlines()[0]
        raise InvalidInput(f"{path.name}: cannot be read as CSV: {first}") from None
    except pd.errors.EmptyDataError:
        raise InvalidInput(f"{path.name}: the file has no header row") from None
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InvalidInput(f"{path.name}: the header names column {dup!r} twice")
    if frame.empty:
        raise InvalidInput(f"{path.name}: the file has a header but no data rows")
    return RawTable(path, frame, "row", 2, encoding=used)


# -- JSON records (an API's answer saved to a file) -------------------------------
def read_json_records(path: Path) -> RawTable:
    """A JSON array of flat objects, one row each (e.g. a government API's answer)."""
    import json

    try:
        records = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name}: invalid JSON ({exc})") from None
    if not records:
        raise InvalidInput(f"{path.name}: the JSON array is empty")
    bad = next((i for i, r in enumerate(records) if not isinstance(r, dict)), None)
    if bad is not None:
        raise InvalidInput(f"{path.name}: item {bad + 1} of the JSON array is not an object")
    frame = pd.DataFrame.from_records(records)
    return RawTable(path, _as_text(frame), "record", 1)


# -- XLSX -----------------------------------------------------------------------
def read_xlsx(path: Path, *, sheet: str | None = None) -> RawTable:
    """One sheet of a workbook (the first unless --sheet), every value as text."""
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        raise InvalidInput(f"{path.name}: not a readable XLSX workbook ({type(exc).__name__})") from None
    with book:
        if sheet is not None and sheet not in book.sheet_names:
            raise InvalidParameter("--sheet", f"{path.name} has no sheet {sheet!r}; sheets are: "
                                   + ", ".join(book.sheet_names))
        frame = pd.read_excel(book, sheet_name=sheet if sheet is not None else 0, dtype=str, keep_default_na=False,
                              na_filter=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame.columns) == 0 or all(c.startswith("Unnamed:") for c in frame.columns):
        raise InvalidInput(f"{path.name}: the sheet is empty (no header row)")
    if frame.empty:
        raise InvalidInput(f"{path.name}: the sheet has a header but no data rows")
    return RawTable(path, frame.astype(str).astype(object), "row", 2)


# -- vector formats (GDAL through pyogrio) ---------------------------------------
def _check_zip(path: Path, settings: ImportSettings) -> None:
    """Refuse zip bombs and broken archives before GDAL opens them."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise InvalidInput(f"{path.name}: not a readable zip archive") from None
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > settings.max_unzipped_mb * 1024 * 1024 or total / packed > settings.max_zip_ratio:
        raise InvalidInput(f"{path.name}: refused: the archive would unpack to {total / 2**20:,.0f} MB "
                           f"({total / packed:,.0f}× its size; limits {settings.max_unzipped_mb} MB, "
                           f"{settings.max_zip_ratio}×) — a zip bomb?")
    if path.suffix.lower() == ".zip":
        shapefiles = [i.filename for i in infos if i.filename.lower().endswith(".shp")]
        others = [i.filename for i in infos if i.filename.lower().endswith((".gpkg", ".geojson", ".kml"))]
        if not shapefiles and not others:
            raise InvalidInput(f"{path.name}: the archive holds no .shp, .gpkg, .geojson or .kml file")
        for shp in shapefiles:
            stem = shp[:-4]
            names = {i.filename.lower() for i in infos}
            for part in (".shx", ".dbf"):
                if (stem + part).lower() not in names:
                    raise InvalidInput(f"{path.name}: {shp} has no {stem}{part}; a shapefile needs .shp, .shx "
                                       "and .dbf together")


def _shapefile_in_folder(folder: Path, layer: str | None) -> Path:
    shps = sorted(folder.glob("*.shp"))
    if layer:
        shps = [p for p in shps if p.stem == layer]
    if len(shps) != 1:
        found = ", ".join(p.name for p in sorted(folder.glob("*.shp"))) or "none"
        raise InvalidParameter("--layer" if layer else "FILE",
                               f"{folder} must hold exactly one shapefile (found: {found}); pick one with --layer")
    for part in (".shx", ".dbf"):
        if not shps[0].with_suffix(part).exists():
            raise InvalidInput(f"{shps[0].name}: no {shps[0].stem}{part} beside it; a shapefile needs .shp, .shx "
                               "and .dbf together")
    return shps[0]


def _read_vector(path: Path, layer: str | None, encoding: str | None, settings: ImportSettings) -> RawTable:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    name = path.name
    if path.suffix.lower() == ".shp":
        for part in (".shx", ".dbf"):
            if not path.with_suffix(part).exists():
                raise InvalidInput(f"{name}: no {path.stem}{part} beside it; a shapefile needs .shp, .shx and "
                                   ".dbf together")
    if path.suffix.lower() in (".json", ".geojson"):
        _check_geojson_shape(path)
    try:
        layers = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise InvalidInput(f"{name}: cannot be opened as {path.suffix.lstrip('.').upper() or 'GIS'} data: "
                           f"{_first_line(exc)}") from None
    names = [str(row[0]) for row in layers]
    if not names:
        raise InvalidInput(f"{name}: the file holds no layer")
    if layer is not None:
        if layer not in names:
            raise InvalidParameter("--layer", f"{name} has no layer {layer!r}; layers are: {', '.join(names)}")
        chosen = [layer]
    elif len(names) == 1 or path.suffix.lower() in (".kml", ".kmz"):
        chosen = names  # KML folders are layers: read them all
    else:
        raise InvalidParameter("--layer", f"{name} holds {len(names)} layers; pick one with --layer: "
                               + ", ".join(names))
    frames, geoms, crs = [], [], None
    for lyr in chosen:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gdf = pyogrio.read_dataframe(path, layer=lyr, encoding=encoding, on_invalid="ignore")
        except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
            raise InvalidInput(f"{name}: cannot be read: {_first_line(exc)}") from None
        except Exception as exc:  # GDAL raises its own classes for truncated files
            raise InvalidInput(f"{name}: cannot be read ({type(exc).__name__}): {_first_line(exc)}") from None
        if gdf.crs is not None and crs is None:
            epsg = gdf.crs.to_epsg()
            crs = f"EPSG:{epsg}" if epsg else gdf.crs.to_wkt()
        geoms.append(np.asarray(gdf.geometry.values, dtype=object))
        attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        frames.append(attrs)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if frame.empty:
        raise InvalidInput(f"{name}: the file holds no features")
    frame = _as_text(frame)
    return RawTable(path, frame, "feature", 1, geometries=np.concatenate(geoms), crs=crs, encoding=encoding)


def _check_geojson_shape(path: Path) -> None:
    """A .json/.geojson must be a GeoJSON object; say which way it is not one."""
    import json

    head = path.read_bytes()[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        raise InvalidInput(f"{path.name}: not GeoJSON: it does not start with a JSON object")
    if path.stat().st_size < 50 * 2**20:
        try:
            doc = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path.name}: not GeoJSON: invalid JSON ({exc})") from None
        kind = doc.get("type") if isinstance(doc, dict) else None
        if kind not in ("FeatureCollection", "Feature", "Point", "MultiPoint", "LineString", "MultiLineString",
                        "Polygon", "MultiPolygon", "GeometryCollection"):
            raise InvalidInput(f"{path.name}: not GeoJSON: the object has no GeoJSON \"type\" "
                               f"(found {kind!r})")
        if kind == "FeatureCollection" and not isinstance(doc.get("features"), list):
            raise InvalidInput(f"{path.name}: not GeoJSON: \"features\" is not a list")


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
