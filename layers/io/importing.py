"""Import a file into a layer: map columns, convert coordinates, validate, write.

The steps, each vectorized over all rows:

1. read the file (:mod:`layers.io.readers`),
2. map headers to the layer's columns (Chinese or English names, a mapping
   file); unknown columns are kept in ``attributes``,
3. find the coordinates (lon/lat columns, a "lat,lon" column, WKT, or the
   file's geometries) and convert them to WGS84 (:mod:`geo.coords`),
4. validate: every problem names the file, the row, the column and the
   reason; warnings (repaired polygons, a stated district that does not hold
   the point) do not block,
5. route each row to its district/street/community (and grid) by
   point-in-area,
6. write: COPY into a temporary staging table, then one
   ``INSERT … ON CONFLICT (source, source_id) DO UPDATE`` — all in one
   transaction, so a failed import leaves nothing behind and a re-import
   updates rows instead of duplicating them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import psycopg2
import shapely
from psycopg2 import sql

from data.errors import InvalidInput, InvalidParameter
from data.settings import GridSettings
from geo import coords
from layers.io.readers import ImportSettings, RawTable, read_file
from layers.io.routing import AreaIndex
from layers.spec.fields import (
    ACCEPTED_GEOMETRY,
    AREA_CODE_COLUMNS,
    AREA_CODE_LABELS,
    ATTRIBUTES_ALIASES,
    DISTRICT_ALIASES,
    ID_ALIASES,
    SOURCE_ALIASES,
    Field,
    fields_of,
    normalise_header,
    parse_bool,
)
from layers.spec.registry import get_layer

LON_ALIASES = ("经度", "經度", "lng", "lon", "long", "longitude", "东经", "經度wgs84", "经度wgs84", "gcjlng", "bdlng")
LAT_ALIASES = ("纬度", "緯度", "lat", "latitude", "北纬", "緯度wgs84", "纬度wgs84", "gcjlat", "bdlat")
X_ALIASES = ("x", "pointx", "xcoord", "横坐标", "橫坐標", "东坐标")
Y_ALIASES = ("y", "pointy", "ycoord", "纵坐标", "縱坐標", "北坐标")
PAIR_ALIASES = ("坐标", "座標", "坐標", "经纬度", "經緯度", "latlon", "latlng", "latlong", "location", "locationpoint",
                "coordinates", "coords", "point")
WKT_ALIASES = ("wkt", "geometry", "geom", "thegeom", "shape")
EXPORT_COORD_ALIASES = ("lon", "lat")

# Beyond this many rows outside the city, distances are not measured one by one.
_DISTANCE_LIMIT = 5000
_ROW_KEY_NOTE = "rows are keyed by their row number"


@dataclass
class ImportOptions:
    """What the user asked for (CLI options or an HTTP form)."""

    layer: str
    crs: str | None = None
    sheet: str | None = None
    gis_layer: str | None = None
    encoding: str | None = None
    lon_col: str | None = None
    lat_col: str | None = None
    id_field: str | None = None
    source: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    category_map: dict[str, str] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    tolerance_m: float = 500.0
    dry_run: bool = False
    skip_bad: bool = False
    rejects: Path | None = None
    level: str | None = None
    code_field: str | None = None
    name_field: str | None = None
    parent_field: str | None = None
    population_field: str | None = None
    name_en_field: str | None = None


@dataclass
class Problem:
    """One finding about one row (or the file, row None)."""

    file: str
    row: int | None
    column: str | None
    reason: str
    severity: str = "error"  # or "warning"
    row_label: str = "row"

    def as_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason,
                "severity": self.severity, "row_label": self.row_label}

    def line(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {self.row_label} {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{self.severity}: {where}: {self.reason}"


@dataclass
class ImportResult:
    """What an import did (or, with --dry-run, would do)."""

    file: str
    layer: str
    rows_read: int
    rows_written: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects_path: Path | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def summary(self) -> str:
        verb = "would write" if self.dry_run else "wrote"
        text = (f"{self.file} → {self.layer}: {self.rows_read:,} rows read, {verb} {self.rows_written:,} "
                f"({self.inserted:,} new, {self.updated:,} updated)")
        if self.rejected:
            text += f", {self.rejected:,} rejected"
        if self.warnings:
            text += f", {len(self.warnings):,} warnings"
        return text


class _Findings:
    """Problems collected per row while the columns are checked."""

    def __init__(self, raw: RawTable):
        self.raw = raw
        self.file = raw.path.name
        self.bad = np.zeros(len(raw.frame), dtype=bool)
        self.items: list[Problem] = []

    def rownum(self, idx: int) -> int:
        return int(idx) + self.raw.first_row

    def add(self, mask_or_idx, column: str | None, reason, severity: str = "error") -> None:
        idx = np.flatnonzero(mask_or_idx) if np.asarray(mask_or_idx).dtype == bool else np.asarray(mask_or_idx)
        if len(idx) == 0:
            return
        reasons = reason if callable(reason) else None
        for i in idx:
            text = reasons(i) if reasons else reason
            self.items.append(Problem(self.file, self.rownum(i), column, text, severity, self.raw.row_label))
        if severity == "error":
            self.bad[idx] = True

    def file_note(self, reason: str, severity: str = "warning") -> None:
        self.items.append(Problem(self.file, None, None, reason, severity))


# -- column mapping ---------------------------------------------------------------
def load_mapping(path: Path) -> dict[str, str]:
    """A mapping file: JSON object {"header": "column"} or a two-column CSV (header, column)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidParameter("--mapping", f"cannot read {path}: {exc.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidParameter("--mapping", f"{path} is not valid JSON: {exc}") from None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise InvalidParameter("--mapping", f"{path}: every key and value must be text")
        return data
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if any(len(r) < 2 for r in rows):
        raise InvalidParameter("--mapping", f"{path}: every line needs two values: file header, layer column")
    return {r[0].strip(): r[1].strip() for r in rows}


def _find(columns: list[str], aliases, used: set[str]) -> str | None:
    wanted = [normalise_header(a) for a in aliases]
    by_norm = {}
    for col in columns:
        if col not in used:
            by_norm.setdefault(normalise_header(col), col)
    for alias in wanted:
        if alias in by_norm:
            return by_norm[alias]
    return None


def _named(columns: list[str], given: str | None, option: str, file: str) -> str | None:
    if given is None:
        return None
    if given in columns:
        return given
    hit = _find(columns, [given], set())
    if hit is None:
        raise InvalidParameter(option, f"{file} has no column {given!r}; columns are: {', '.join(columns)}")
    return hit


@dataclass
class _Plan:
    fields: dict[str, str]       # layer column → file column
    id_col: str | None
    source_col: str | None
    district_col: str | None
    attributes_col: str | None
    code_cols: dict[str, str]
    coord: tuple                 # ("lonlat", lon, lat) | ("pair", col) | ("wkt", col) | ("geometry",)
    extra: list[str]


def plan_columns(raw: RawTable, opts: ImportOptions, layer_fields: tuple[Field, ...]) -> _Plan:
    """Decide which file column feeds which layer column; the rest go to attributes."""
    columns = list(raw.frame.columns)
    file = raw.path.name
    used: set[str] = set()
    mapped: dict[str, str] = {}
    known = {f.name for f in layer_fields}
    for header, target in opts.mapping.items():
        col = _named(columns, header, "--mapping", file)
        if target not in known and target not in ("source_id", "lon", "lat"):
            raise InvalidParameter("--mapping", f"{target!r} is not a column of {opts.layer}; columns are: "
                                   + ", ".join(sorted(known)))
        mapped[target] = col
        used.add(col)
    explicit = {"code": opts.code_field, "name": opts.name_field, "parent_code": opts.parent_field,
                "population": opts.population_field, "name_en": opts.name_en_field}
    for target, given in explicit.items():
        if given:
            col = _named(columns, given, f"--{target.replace('_code', '').replace('_', '-')}-field", file)
            mapped[target] = col
            used.add(col)
    id_col = mapped.pop("source_id", None) or _named(columns, opts.id_field, "--id-field", file)
    lon_col = mapped.pop("lon", None) or _named(columns, opts.lon_col, "--lon-col", file)
    lat_col = mapped.pop("lat", None) or _named(columns, opts.lat_col, "--lat-col", file)
    used.update(c for c in (id_col, lon_col, lat_col) if c)
    # Coordinates before attributes: "x" must not become some field's alias.
    coord: tuple
    if raw.geometries is not None:
        coord = ("geometry",)
    elif lon_col or lat_col:
        if not (lon_col and lat_col):
            raise InvalidParameter("--lon-col/--lat-col", "give both columns")
        coord = ("lonlat", lon_col, lat_col)
    else:
        lon = _find(columns, LON_ALIASES, used)
        lat = _find(columns, LAT_ALIASES, used)
        lone = (lon or lat) if not (lon and lat) else None
        sample = raw.frame[lone][raw.frame[lone].str.strip() != ""].head(20) if lone else None
        if lone and len(sample) and sample.str.contains(",").all():
            # One "coordinate" column holding both numbers (Hong Kong's `latitude` is "lat,lon").
            coord = ("pair", lone)
        elif lon and lat:
            coord = ("lonlat", lon, lat)
        elif (x := _find(columns, X_ALIASES, used)) and (y := _find(columns, Y_ALIASES, used)):
            coord = ("lonlat", x, y)
        elif pair := _find(columns, PAIR_ALIASES, used):
            coord = ("pair", pair)
        elif wkt := _find(columns, WKT_ALIASES, used):
            coord = ("wkt", wkt)
        else:
            hint = ""
            if len(columns) == 1:
                hint = " (only one column was found: is the delimiter , ; or tab?)"
            raise InvalidInput(f"{file}: no coordinate columns found{hint}; expected 经度/纬度, lng/lat, lon/lat, "
                               "x/y, longitude/latitude, a \"lat,lon\" column or WKT, or give --lon-col/--lat-col; "
                               f"columns are: {', '.join(columns)}")
    used.update(c for c in coord[1:] if c)
    if id_col is None:
        id_col = _find(columns, ID_ALIASES, used)
        if id_col:
            used.add(id_col)
    source_col = _find(columns, SOURCE_ALIASES, used)
    if source_col:
        used.add(source_col)
    attributes_col = _find(columns, ATTRIBUTES_ALIASES, used)
    if attributes_col:
        used.add(attributes_col)
    fields: dict[str, str] = {}
    for f in layer_fields:
        # f.name[:10]: the name a shapefile's .dbf cut it to.
        col = mapped.get(f.name) or _find(columns, (f.name, f.label_zh, *f.aliases, f.name[:10]), used)
        if col is None and f.name in ("name", "address"):
            # 公廁名稱, Facility Name, Market Name …: the suffix says what it is.
            suffixes = ("名称", "名稱", "name") if f.name == "name" else ("地址", "address")
            col = next((c for c in columns if c not in used
                        and normalise_header(c).endswith(suffixes)), None)
        if col is not None:
            fields[f.name] = col
            used.add(col)
    code_cols = {}
    for code in AREA_CODE_COLUMNS.get(opts.layer, ()):
        col = _find(columns, (code, AREA_CODE_LABELS[code], code[:10]), used)
        if col:
            code_cols[code] = col
            used.add(col)
    district_col = None
    if opts.layer != "admin_areas":
        district_col = _find(columns, DISTRICT_ALIASES, used)
    extra = [c for c in columns if c not in used]
    return _Plan(fields, id_col, source_col, district_col, attributes_col, code_cols, coord, extra)


# -- values -----------------------------------------------------------------------
def _numbers(text: pd.Series) -> np.ndarray:
    return pd.to_numeric(text.str.strip().replace("", np.nan), errors="coerce").to_numpy(dtype="float64")


def _check_field(f: Field, text: pd.Series, column: str, found: _Findings, *, category_names=None,
                 timezone: str = "Asia/Shanghai") -> pd.Series:
    """Normalise one column's values to what the table accepts; report the rest. Returns text or None."""
    stripped = text.str.strip()
    empty = (stripped == "").to_numpy()
    if f.required:
        found.add(empty, column, f"{f.name} is required but empty")
    if f.kind == "text" and f.choices is None and category_names is None:
        return stripped.where(~empty, None)
    if category_names is not None:
        uniques = pd.unique(stripped[~empty])
        lookup = {u: category_names.get(normalise_header(u)) for u in uniques}
        result = stripped.map(lookup)
        unknown = (~empty) & result.isna().to_numpy()
        if unknown.any():
            known = "、".join(sorted(set(category_names.values())))
            found.add(unknown, column, lambda i: f"category {stripped.iat[i]!r} is not a hygiene event type "
                      f"({known}); map it with --category-map")
        return result.where(~empty, None)
    if f.choices is not None:
        table = {normalise_header(c): c for c in f.choices}
        table.update({normalise_header(k): v for k, v in f.synonyms.items()})
        uniques = pd.unique(stripped[~empty])
        lookup = {u: table.get(normalise_header(u)) for u in uniques}
        result = stripped.map(lookup)
        unknown = (~empty) & result.isna().to_numpy()
        if unknown.any():
            found.add(unknown, column, lambda i: f"{stripped.iat[i]!r} is not an allowed {f.name} "
                      f"({' / '.join(f.choices)})")
        return result.where(~empty, f.default)
    if f.kind in ("int", "num"):
        values = _numbers(stripped)
        bad = (~empty) & ~np.isfinite(values)
        found.add(bad, column, lambda i: f"{f.name} {stripped.iat[i]!r} is not a number")
        neg = np.isfinite(values) & (values < 0)
        found.add(neg, column, lambda i: f"{f.name} {stripped.iat[i]!r} is negative")
        if f.kind == "int":
            frac = np.isfinite(values) & (values % 1 != 0)
            found.add(frac, column, lambda i: f"{f.name} {stripped.iat[i]!r} is not a whole number")
            huge = np.isfinite(values) & (np.abs(values) > 2**31 - 1)
            found.add(huge, column, lambda i: f"{f.name} {stripped.iat[i]!r} is too large")
            out = pd.Series(np.where(np.isfinite(values) & ~huge, np.nan_to_num(values).astype("int64").astype(str),
                                     None), index=text.index)
            return out
        return pd.Series(np.where(np.isfinite(values), values.astype(str), None), index=text.index)
    if f.kind == "bool":
        uniques = pd.unique(stripped[~empty])
        lookup = {u: parse_bool(u) for u in uniques}
        result = stripped.map(lookup)
        bad = (~empty) & result.isna().to_numpy()
        found.add(bad, column, lambda i: f"{f.name} {stripped.iat[i]!r} is not yes/no (是/否)")
        out = result.map({True: "true", False: "false"})
        if f.default is not None:
            out = out.where(~empty, "true" if parse_bool(f.default) else "false")
        return out.where(out.notna(), None)
    if f.kind == "time":
        return _times(f, stripped, empty, column, found, timezone)
    raise AssertionError(f.kind)


def _times(f: Field, stripped: pd.Series, empty: np.ndarray, column: str, found: _Findings,
           timezone: str) -> pd.Series:
    values = stripped.where(~empty, None)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": the retry below handles it
        try:
            parsed = pd.to_datetime(values, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            parsed = pd.Series(pd.NaT, index=values.index)
        retry = parsed.isna().to_numpy() & ~empty
        if retry.any():
            # Formats differ within the file: parse the rest one by one.
            parsed_retry = pd.to_datetime(values[retry], errors="coerce", format="mixed")
            if getattr(parsed.dt, "tz", None) is None and getattr(parsed_retry.dt, "tz", None) is not None:
                parsed_retry = parsed_retry.dt.tz_convert(None)
            parsed = parsed.astype(object)
            parsed[retry] = parsed_retry.astype(object)
            parsed = pd.to_datetime(parsed, errors="coerce", utc=False)
    bad = parsed.isna().to_numpy() & ~empty
    found.add(bad, column, lambda i: f"{f.name} {stripped.iat[i]!r} is not a date/time")
    try:
        if parsed.dt.tz is None:
            parsed = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
        parsed = parsed.dt.tz_convert("UTC")
    except Exception:
        raise InvalidParameter("--timezone", f"unknown time zone {timezone!r}") from None
    if f.name == "reported_at":
        future = (parsed > pd.Timestamp(datetime.now(UTC) + timedelta(days=1))).to_numpy()
        found.add(future, column, lambda i: f"{f.name} {stripped.iat[i]!r} lies in the future")
    # numpy formats a million timestamps in C; Series.dt.strftime is per value.
    utc = parsed.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    text = np.char.add(np.datetime_as_string(utc, unit="us"), "+00").astype(object)
    text[np.isnat(utc)] = None
    return pd.Series(text, index=stripped.index)


_UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00"
_PAIR = re.compile(r"^\s*[\(\[]?\s*([-+0-9.eE]+)\s*[,，;\s]\s*([-+0-9.eE]+)\s*[\)\]]?\s*$")


# -- coordinates --------------------------------------------------------------------
def _point_coordinates(raw: RawTable, plan: _Plan, found: _Findings) -> tuple[np.ndarray, np.ndarray]:
    """x, y (still in the source CRS) of point rows from columns; NaN where unusable."""
    frame = raw.frame
    if plan.coord[0] == "lonlat":
        _, xcol, ycol = plan.coord
        xs, ys = frame[xcol].str.strip(), frame[ycol].str.strip()
        x, y = _numbers(xs), _numbers(ys)
        for col, vals, txt in ((xcol, x, xs), (ycol, y, ys)):
            missing = (txt == "").to_numpy()
            found.add(missing, col, "coordinate missing")
            nan = ~missing & ~np.isfinite(vals)
            found.add(nan, col, lambda i, txt=txt: f"coordinate {txt.iat[i]!r} is not a finite number")
        return x, y
    if plan.coord[0] == "pair":
        col = plan.coord[1]
        text = frame[col].str.strip()
        parts = text.str.extract(_PAIR)
        a = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype="float64")
        b = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype="float64")
        missing = (text == "").to_numpy()
        found.add(missing, col, "coordinate missing")
        unusable = ~missing & ~(np.isfinite(a) & np.isfinite(b))
        found.add(unusable, col, lambda i: f"{text.iat[i]!r} is not a \"lat,lon\" pair of numbers")
        # "lat,lon" unless the first number cannot be a latitude (then it is "lon,lat").
        lon_first = np.nanmedian(np.abs(a)) > 90 if np.isfinite(a).any() else False
        return (a, b) if lon_first else (b, a)
    col = plan.coord[1]
    text = frame[col].str.strip()
    geoms = shapely.from_wkt(text.where(text != "", None).to_numpy(dtype=object), on_invalid="ignore")
    missing = (text == "").to_numpy()
    found.add(missing, col, "geometry missing")
    unusable = ~missing & shapely.is_missing(geoms)
    found.add(unusable, col, lambda i: f"{text.iat[i][:40]!r} is not WKT")
    raw.geometries = geoms
    plan.coord = ("geometry", col)
    return None, None


def _check_degrees(x: np.ndarray, y: np.ndarray, cols: tuple[str, str], found: _Findings) -> None:
    """Plausibility of geographic coordinates before any conversion."""
    ok = np.isfinite(x) & np.isfinite(y)
    with np.errstate(invalid="ignore"):
        swapped = ok & (np.abs(y) > 90) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
        metres = ok & ~swapped & ((np.abs(x) > 360) | (np.abs(y) > 360)) & (np.abs(x) < 1e8) & (np.abs(y) < 1e8)
        out_of_range = ok & ~swapped & ~metres & ((np.abs(x) > 180) | (np.abs(y) > 90))
        zero = ok & (x == 0) & (y == 0)
        same = ok & ~zero & (x == y)
    found.add(swapped, cols[1], lambda i: f"latitude {y[i]:g} is beyond ±90 while longitude {x[i]:g} is not: "
              "latitude and longitude are swapped")
    found.add(metres, cols[0], lambda i: f"({x[i]:g}, {y[i]:g}) look like metres, not degrees: give the projected "
              "system with --crs EPSG:n")
    found.add(out_of_range, cols[0], lambda i: f"({x[i]:g}, {y[i]:g}) is outside ±180° longitude / ±90° latitude")
    found.add(zero, cols[0], "coordinates are 0,0 (an empty cell filled with zeros?)")
    found.add(same, cols[0], lambda i: f"longitude and latitude are both {x[i]:g} (one column copied into the other?)")


def _convert_geometries(geoms: np.ndarray, crs: str) -> np.ndarray:
    if crs == "wgs84":
        return geoms

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = coords.to_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, move)


def _normalise_file_crs(crs: str | None) -> str | None:
    if crs is None:
        return None
    if crs in ("EPSG:4326", "OGC:CRS84"):
        return "wgs84"
    if crs.startswith("EPSG:"):
        return coords.parse_crs(crs)
    return crs  # WKT: pyproj reads it


_GEOM_FAMILY = {"Point": "Point", "MultiPoint": "Point", "LineString": "LineString",
                "MultiLineString": "LineString", "Polygon": "Polygon", "MultiPolygon": "Polygon"}


def _check_geometry_types(geoms: np.ndarray, layer: str, col: str | None, found: _Findings) -> np.ndarray:
    """Wrong types are errors; single-part multis of point/line layers are unwrapped."""
    accepted = ACCEPTED_GEOMETRY[layer]
    missing = shapely.is_missing(geoms)
    found.add(missing & ~found.bad, col, "no geometry")
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    family = np.array([_GEOM_FAMILY.get(t, t) for t in types], dtype=object)
    wrong = ~missing & ~np.isin(family, accepted)
    found.add(wrong, col, lambda i: f"geometry is a {types[i]}, but {layer} holds {' or '.join(accepted)} geometries")
    empty = ~missing & ~wrong & shapely.is_empty(np.where(missing, None, geoms))
    found.add(empty, col, "geometry is empty")
    geoms = shapely.force_2d(geoms)
    parts = shapely.get_num_geometries(geoms)
    multi_point = np.isin(types, ["MultiPoint", "MultiLineString"]) & ~wrong
    several = multi_point & (parts > 1)
    if layer != "health_trails" or (types == "MultiPoint").any():
        found.add(several, col, lambda i: f"a {types[i]} of {parts[i]} parts; {layer} holds one part per row")
    single = multi_point & (parts == 1)
    if single.any():
        geoms[single] = shapely.get_geometry(geoms[single], 0)
    return geoms


def _event_names(conn, category_map: dict[str, str]) -> dict[str, str]:
    """Every spelling of each event type → its stable name (STANDARDS §4)."""
    with conn.cursor() as cur:
        cur.execute("SELECT name, name_en FROM event_types")
        rows = cur.fetchall()
    names = {}
    for name, name_en in rows:
        names[normalise_header(name)] = name
        if name_en:
            names[normalise_header(name_en)] = name
    for spelling, name in EVENT_SYNONYMS.items():
        if name in {r[0] for r in rows}:
            names[normalise_header(spelling)] = name
    valid = {r[0] for r in rows}
    for spelling, name in category_map.items():
        if name not in valid:
            raise InvalidParameter("--category-map", f"{name!r} is not an event type; types are: "
                                   + "、".join(sorted(valid)))
        names[normalise_header(spelling)] = name
    return names


# Other spellings of the hygiene event types: traditional characters, and the
# complaint types of NYC 311 that are the same hygiene events.
EVENT_SYNONYMS = {
    "暴露垃圾": "暴露垃圾", "積存垃圾渣土": "积存垃圾渣土", "道路不潔": "道路不洁", "水域不潔": "水域不洁",
    "綠地髒亂": "绿地脏乱", "亂倒污水": "乱倒污水", "餐廚垃圾遺撒": "餐厨垃圾遗撒", "垃圾滿溢": "垃圾满溢",
    "佔道經營": "占道经营", "非法小廣告": "非法小广告", "病媒生物": "病媒生物",
    "乱堆乱放": "积存垃圾渣土", "垃圾乱倒": "暴露垃圾", "鼠患": "病媒生物", "蚊蝇": "病媒生物",
    "Dirty Condition": "道路不洁", "Dirty Conditions": "道路不洁", "Sanitation Condition": "道路不洁",
    "Street Sweeping Complaint": "道路不洁", "Litter Basket Complaint": "垃圾满溢",
    "Litter Basket Request": "垃圾满溢", "Overflowing Litter Baskets": "垃圾满溢",
    "Missed Collection": "垃圾满溢", "Illegal Dumping": "暴露垃圾", "Residential Disposal Complaint": "暴露垃圾",
    "Commercial Disposal Complaint": "暴露垃圾", "Lot Condition": "积存垃圾渣土", "Rodent": "病媒生物",
    "Mosquitoes": "病媒生物", "Unsanitary Pigeon Condition": "病媒生物", "UNSANITARY CONDITION": "病媒生物",
    "Unsanitary Animal Pvt Property": "病媒生物", "Standing Water": "病媒生物",
    "Illegal Posting": "非法小广告", "Street Vendor": "占道经营", "Mobile Food Vendor": "占道经营",
    "Vending": "占道经营", "Indoor Sewage": "乱倒污水", "Sewer": "乱倒污水",
    "Water Quality": "水域不洁", "Dead Animal": "暴露垃圾",
}


# -- the import -------------------------------------------------------------------
def prepare(conn, raw: RawTable, opts: ImportOptions, areas: AreaIndex | None = None):
    """Map, convert, validate and route the rows of a read file. Returns (frame, result, bad mask)."""
    layer = opts.layer
    spec = get_layer(layer)
    layer_fields = fields_of(layer)
    found = _Findings(raw)
    frame = raw.frame
    n = len(frame)
    file = raw.path.name
    result = ImportResult(file, layer, n, dry_run=opts.dry_run)
    if raw.encoding and raw.encoding != "utf-8":
        result.notes.append(f"read as {raw.encoding}")
    plan = plan_columns(raw, opts, layer_fields)
    out: dict[str, pd.Series | np.ndarray] = {}

    # provenance and identity
    if plan.source_col:
        src = frame[plan.source_col].str.strip()
        out["source"] = src.where(src != "", opts.source or file).to_numpy(dtype=object)
    else:
        out["source"] = np.full(n, opts.source or file, dtype=object)
    if plan.id_col:
        ids = frame[plan.id_col].str.strip()
        found.add((ids == "").to_numpy(), plan.id_col, "id is empty")
    elif layer in ("admin_areas", "grids") and "code" in plan.fields:
        ids = frame[plan.fields["code"]].str.strip()
    else:
        ids = pd.Series([f"row-{i + raw.first_row}" for i in range(n)], index=frame.index)
        result.notes.append(f"no id column: {_ROW_KEY_NOTE} (re-importing the same file updates them)")
    key = pd.Series(list(zip(out["source"], ids)), index=frame.index) if plan.source_col else ids
    dup = key.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    if dup.any():
        first_at = {}
        for i, k in enumerate(key):
            first_at.setdefault(k, i)
        found.add(dup, plan.id_col or plan.fields.get("code"),
                  lambda i: f"duplicate id {ids.iat[i]!r} (first on {raw.row_label} {found.rownum(first_at[key.iat[i]])})")
    out["source_id"] = ids.to_numpy(dtype=object)
    if plan.id_col is None and layer not in ("admin_areas", "grids"):
        content = frame.duplicated(keep="first").to_numpy()
        if content.any():
            found.add(content, None, "the same values as an earlier row (a duplicate?)", "warning")

    # attributes
    category_names = _event_names(conn, opts.category_map) if layer == "complaints" else None
    for f in layer_fields:
        col = plan.fields.get(f.name)
        if f.name == "level" and opts.level:
            if opts.level not in f.choices:
                raise InvalidParameter("--level", f"{opts.level!r} is not district, street or community")
            out["level"] = np.full(n, opts.level, dtype=object)
            continue
        if col is None:
            if f.required:
                raise InvalidInput(f"{file}: no column for the required {f.name} ({f.label_zh}); "
                                   f"name it {f.label_zh} or {f.name}, or map one with --mapping; columns are: "
                                   + ", ".join(frame.columns))
            if f.name == "level":
                raise InvalidParameter("--level", "say which level the areas are: district, street or community")
            default = f.default
            if f.kind == "bool" and default is not None:
                default = "true" if parse_bool(default) else "false"
            out[f.name] = np.full(n, default, dtype=object)
            continue
        out[f.name] = _check_field(f, frame[col], col, found,
                                   category_names=category_names if f.name == "category" else None,
                                   timezone=opts.timezone).to_numpy(dtype=object)
    if "name" in out and layer in ("markets", "toilets", "garbage_stations") and "name" not in plan.fields:
        # The table needs a name; a stop without one is called by its address, or its id.
        fallback = out.get("address")
        label = spec.name_zh
        names = np.array([f"{label} {i}" for i in out["source_id"]], dtype=object)
        if fallback is not None:
            names = np.where(pd.isna(fallback), names, fallback)
        out["name"] = names
        result.notes.append("no name column: rows are named by their address (or id)")
    elif "name" in out and layer in ("markets", "toilets", "garbage_stations"):
        empty_name = pd.isna(out["name"])
        if empty_name.any():
            found.add(empty_name, plan.fields["name"], "name is empty")
    if layer == "grids":
        codes = pd.Series(out["code"], dtype=object).fillna("")
        width = 12 + GridSettings.from_env().sequence_width
        bad = ~codes.str.fullmatch(rf"\d{{{width}}}").to_numpy() & (codes != "").to_numpy()
        found.add(bad, plan.fields.get("code"), lambda i: f"grid code {codes.iat[i]!r} is not {width} digits "
                  "(6 district + 3 street + 3 community + sequence, STANDARDS §4)")
        out["district_code"] = codes.str[:6].to_numpy(dtype=object)
        out["street_code"] = codes.str[:9].to_numpy(dtype=object)
        out["community_code"] = codes.str[:12].to_numpy(dtype=object)
    if layer == "complaints":
        out["due_at"] = _deadlines(conn, out)
    out["attributes"] = _attributes(frame, plan, found)

    # geometry
    crs_option = coords.parse_crs(opts.crs) if opts.crs else None
    file_crs = _normalise_file_crs(raw.crs)
    crs = crs_option or file_crs or "wgs84"
    if crs_option and file_crs and crs_option != file_crs and file_crs != "wgs84":
        result.notes.append(f"--crs {crs_option} overrides the file's own CRS ({file_crs[:40]})")
    elif file_crs and not crs_option and file_crs != "wgs84":
        result.notes.append(f"coordinates converted from the file's own CRS {file_crs[:60]}")
    geographic = crs in coords.NAMED_CRS or coords.CRS.from_user_input(crs).is_geographic
    point_layer = ACCEPTED_GEOMETRY[layer] == ("Point",)
    lon = lat = None
    geoms = None
    if plan.coord[0] != "geometry":
        x, y = _point_coordinates(raw, plan, found)
        if x is not None:
            if not point_layer:
                raise InvalidInput(f"{file}: {layer} needs line or polygon geometries, but the file has point "
                                   "coordinates; give WKT or a GIS format (GeoJSON, Shapefile, GeoPackage, KML)")
            cols = (plan.coord[1], plan.coord[2]) if plan.coord[0] == "lonlat" else (plan.coord[1],) * 2
            if geographic:
                _check_degrees(x, y, cols, found)
            good = np.isfinite(x) & np.isfinite(y) & ~found.bad
            lon, lat = np.full(n, np.nan), np.full(n, np.nan)
            lon[good], lat[good] = coords.to_wgs84(x[good], y[good], crs)
            lost = good & ~(np.isfinite(lon) & np.isfinite(lat))
            found.add(lost, cols[0], lambda i: f"({x[i]:g}, {y[i]:g}) cannot be converted from {crs}")
            outside = good & ~lost & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
            found.add(outside, cols[0], lambda i: f"({x[i]:g}, {y[i]:g}) in {crs} is not on the globe: wrong --crs?")
    if plan.coord[0] == "geometry":
        col = plan.coord[1] if len(plan.coord) > 1 else None
        geoms = _check_geometry_types(np.asarray(raw.geometries, dtype=object), layer, col, found)
        usable = ~found.bad & ~shapely.is_missing(geoms)
        if geographic:
            b = shapely.bounds(geoms[usable])
            xb, yb = np.full(n, np.nan), np.full(n, np.nan)
            xb[usable] = np.where(np.abs(b[:, 0]) > np.abs(b[:, 2]), b[:, 0], b[:, 2])
            yb[usable] = np.where(np.abs(b[:, 1]) > np.abs(b[:, 3]), b[:, 1], b[:, 3])
            _check_degrees(xb, yb, (col or "geometry", col or "geometry"), found)
            usable = ~found.bad & ~shapely.is_missing(geoms)
        if usable.any():
            geoms[usable] = _convert_geometries(geoms[usable], crs)
            b = shapely.bounds(geoms[usable])
            bad_box = np.zeros(n, dtype=bool)
            bad_box[usable] = ~np.isfinite(b).all(axis=1) | (np.abs(b[:, [0, 2]]) > 180).any(axis=1) \
                | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
            found.add(bad_box, col, f"coordinates outside ±180°/±90° after conversion from {crs}: wrong --crs?")
        usable = ~found.bad & ~shapely.is_missing(geoms)
        if ACCEPTED_GEOMETRY[layer] != ("Point",):
            valid = np.ones(n, dtype=bool)
            valid[usable] = shapely.is_valid(geoms[usable])
            invalid = usable & ~valid
            if invalid.any():
                reasons = np.full(n, "", dtype=object)
                reasons[invalid] = shapely.is_valid_reason(geoms[invalid])
                found.add(invalid, col, lambda i: f"invalid geometry ({reasons[i]}): repaired with ST_MakeValid",
                          "warning")
        rep = np.full(n, None, dtype=object)
        rep[usable] = geoms[usable] if point_layer else shapely.point_on_surface(geoms[usable])
        lon, lat = np.full(n, np.nan), np.full(n, np.nan)
        lon[usable], lat[usable] = shapely.get_x(rep[usable]), shapely.get_y(rep[usable])

    # extent and routing
    codes = {c: np.full(n, None, dtype=object) for c in AREA_CODE_COLUMNS[layer] if c not in out}
    for code, col in plan.code_cols.items():
        if code in codes:
            stated = frame[col].str.strip()
            codes[code] = stated.where(stated != "", None).to_numpy(dtype=object)
    if areas is not None and not areas.empty and layer != "admin_areas":
        located = np.isfinite(lon) & np.isfinite(lat) & ~found.bad
        _check_extent(areas, lon, lat, located, crs, opts, found, result)
        located = located & ~found.bad
        if layer != "grids":
            routed = areas.route(lon[located], lat[located], grids="grid_code" in codes)
            for code, column in codes.items():
                if code in routed:
                    column[located] = routed[code]
            if plan.district_col and "district_code" in codes:
                _check_stated_district(areas, frame[plan.district_col], codes["district_code"], located,
                                       plan.district_col, found)
    out.update(codes)
    out["lon"], out["lat"] = lon, lat
    out["geom"] = geoms
    result.problems = found.items
    return out, result, found.bad, plan


def _deadlines(conn, out: dict) -> np.ndarray:
    """due_at as given, else reported_at + the event type's time limit (city configuration)."""
    with conn.cursor() as cur:
        cur.execute("SELECT name, time_limit_hours FROM event_types")
        limits = dict(cur.fetchall())
    due = np.asarray(out["due_at"], dtype=object).copy()
    missing = pd.isna(due)
    if not missing.any():
        return due
    reported = pd.to_datetime(pd.Series(out["reported_at"][missing], dtype=object), format=_UTC_FORMAT,
                              errors="coerce")
    hours = pd.Series(out["category"][missing], dtype=object).map(limits).astype("float64")
    deadline = (reported + pd.to_timedelta(hours.to_numpy(), unit="h")).to_numpy(dtype="datetime64[us]")
    text = np.char.add(np.datetime_as_string(deadline, unit="us"), "+00").astype(object)
    text[np.isnat(deadline)] = None
    due[missing] = text
    return due


def _attributes(frame: pd.DataFrame, plan: _Plan, found: _Findings) -> np.ndarray:
    """Columns the layer has no place for, kept per row as a JSON object (empty values left out)."""
    n = len(frame)
    base = None
    if plan.attributes_col:
        text = frame[plan.attributes_col].str.strip()
        base = []
        for i, t in enumerate(text):
            if not t:
                base.append({})
                continue
            try:
                value = json.loads(t)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                found.add([i], plan.attributes_col, "attributes is not a JSON object")
                value = {}
            base.append(value)
    if not plan.extra and base is None:
        return np.full(n, "{}", dtype=object)
    columns = [frame[c].to_numpy(dtype=object) for c in plan.extra]
    names = list(plan.extra)
    out = np.empty(n, dtype=object)
    for i in range(n):
        row = dict(base[i]) if base is not None else {}
        for name, values in zip(names, columns):
            v = values[i]
            if v != "":
                row[name] = v
        out[i] = orjson.dumps(row).decode()
    return out


def _check_extent(areas: AreaIndex, lon, lat, located, crs, opts: ImportOptions, found: _Findings,
                  result: ImportResult) -> None:
    """Points farther than the tolerance outside the city's admin areas are refused (swaps named as such)."""
    idx = np.flatnonzero(located)
    if len(idx) == 0:
        return
    strict: list = []
    outside = areas.outside(lon[idx], lat[idx], opts.tolerance_m, strict)
    far = idx[outside]
    if len(far):
        swapped_in = ~areas.outside(lat[far], lon[far], opts.tolerance_m)
        swapped = far[swapped_in]
        found.add(swapped, None, lambda i: f"({lon[i]:.6f}, {lat[i]:.6f}) lies outside the city, but with latitude "
                  "and longitude exchanged it lies inside: the columns are swapped")
        rest = far[~swapped_in]
        dist = np.full(len(lon), np.nan)
        measured = rest[:_DISTANCE_LIMIT]
        if len(measured):
            dist[measured] = areas.distance_m(lon[measured], lat[measured])

        def reason(i):
            d = dist[i]
            how_far = f"{d / 1000:.1f} km" if d >= 1000 else f"{d:.0f} m"
            if not np.isfinite(d):
                how_far = f"more than {opts.tolerance_m:g} m"
            return (f"({lon[i]:.6f}, {lat[i]:.6f}) lies {how_far} outside the city's admin areas "
                    f"(tolerance {opts.tolerance_m:g} m, --tolerance)")

        found.add(rest, None, reason)
    # A whole file read in the wrong system sits off by the GCJ-02/BD-09 shift.
    if crs == "wgs84":
        off = strict[0]
        n_off = int(off.sum())
        if n_off >= 3:
            sample = idx[off]
            for name, back in (("gcj02", coords.gcj02_to_wgs84), ("bd09", coords.bd09_to_wgs84)):
                blon, blat = back(lon[sample], lat[sample])
                still = int(areas.strictly_outside(blon, blat).sum())
                if still <= n_off // 2:
                    result.notes.append(
                        f"{n_off} points lie outside the city's areas, and {n_off - still} of them fall inside when "
                        f"read as {name.upper()} ({'Gaode/Tencent' if name == 'gcj02' else 'Baidu'}): is the file in "
                        f"{name.upper()}? then import it with --crs {name}")
                    found.file_note(result.notes[-1])
                    break


def _check_stated_district(areas: AreaIndex, stated: pd.Series, routed: np.ndarray, located: np.ndarray,
                           column: str, found: _Findings) -> None:
    names = areas.district_names()
    if not names:
        return
    by_code = {c: n for n, c in names.items()}
    text = stated.str.strip()
    expected = text.map(lambda t: names.get(t) or (t if t in by_code else None)).to_numpy(dtype=object)
    mismatch = located & pd.notna(expected) & pd.notna(routed) & (expected != routed)
    found.add(mismatch, column, lambda i: f"states district {text.iat[i]} but the point lies in "
              f"{by_code.get(routed[i], routed[i])}", "warning")


# -- writing ----------------------------------------------------------------------
_SQL_TYPES = {"text": "text", "int": "integer", "num": "numeric", "bool": "boolean", "time": "timestamptz"}


def _geometry_expression(layer: str) -> str:
    if ACCEPTED_GEOMETRY[layer] == ("Point",):
        return "ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)"
    if layer == "roads":
        return "ST_GeomFromEWKB(decode(s.geom, 'hex'))"
    repaired = ("CASE WHEN ST_IsValid(g) THEN g ELSE ST_CollectionExtract(ST_MakeValid(g), "
                "CASE WHEN ST_Dimension(g) = 2 THEN 3 ELSE 2 END) END")
    expr = f"(SELECT {repaired} FROM (SELECT ST_GeomFromEWKB(decode(s.geom, 'hex')) AS g) AS one)"
    if ACCEPTED_GEOMETRY[layer] == ("Polygon",):
        return f"ST_Multi({expr})"
    return expr


def write(conn, layer: str, out: dict, keep: np.ndarray, result: ImportResult,
          settings: ImportSettings | None = None) -> None:
    """Write the kept rows inside the caller's transaction.

    Rows whose source is new to the table are COPied straight into it (the
    common first import: nothing to update). Otherwise they are COPied into a
    temporary staging table and upserted by (source, source_id).
    """
    settings = settings or ImportSettings.from_env()
    layer_fields = fields_of(layer)
    point_layer = ACCEPTED_GEOMETRY[layer] == ("Point",)
    columns = ["source", "source_id", *[f.name for f in layer_fields]]
    columns += [c for c in AREA_CODE_COLUMNS[layer] if c not in columns]
    columns.append("attributes")
    data = {c: np.asarray(out[c], dtype=object)[keep] for c in columns}
    # A column with one value for every row (the file's source, '{}' attributes,
    # an absent field) is not sent row by row.
    constants = {}
    for c in columns:
        if _constant(data[c]):
            first = data[c][0]
            constants[c] = None if pd.isna(first) else first
    n = int(keep.sum())
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(settings.statement_timeout_ms),))
        cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE source = ANY(%s))").format(sql.Identifier(layer)),
                    (list(pd.unique(data["source"])),))
        fresh = point_layer and not cur.fetchone()[0]
        rebuild = []
        if n >= settings.rebuild_index_rows:
            tables = [layer, "complaint_events"] if layer == "complaints" else [layer]
            rebuild = _drop_indexes_and_foreign_keys(cur, tables, n)
        if fresh:
            _copy_new_rows(cur, conn, layer, columns, data, constants, out, keep)
            inserted = total = n
        else:
            inserted, total = _stage_and_upsert(cur, conn, layer, columns, data, constants, out, keep)
        if rebuild:
            cur.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")
            for statement in rebuild:
                cur.execute(statement)
    result.inserted, result.rows_written = int(inserted), int(total)
    result.updated = result.rows_written - result.inserted


def _constant(values: np.ndarray) -> bool:
    """Whether every value equals the first (None counts as a value); a sample rules most columns out fast."""
    if len(values) == 0:
        return False
    missing = pd.isna(values[: min(len(values), 64)])
    first_missing = bool(missing[0])
    if (missing != first_missing).any():
        return False
    if first_missing:
        return bool(pd.isna(values).all())
    sample = values[:: max(1, len(values) // 64)]
    if not all(v == values[0] for v in sample):
        return False
    return bool((values == values[0]).all())


_COPY_CHUNK_ROWS = 100_000


def _copy_frame(cur, statement: str, frame: pd.DataFrame) -> None:
    """COPY a frame in chunks, so the CSV text of a million rows is never in memory at once."""
    for start in range(0, max(len(frame), 1), _COPY_CHUNK_ROWS):
        buf = io.StringIO()
        frame.iloc[start:start + _COPY_CHUNK_ROWS].to_csv(buf, header=False, index=False, na_rep="\\N")
        buf.seek(0)
        cur.copy_expert(statement, buf)


def _copy_new_rows(cur, conn, layer, columns, data, constants, out, keep) -> None:
    """COPY straight into the layer table (every row is new); complaints get their first history row."""
    # Columns that are NULL (or '{}' attributes) throughout are left to the table's defaults.
    sent = [c for c in columns if not (c in constants and constants[c] in (None, "{}"))]
    frame = pd.DataFrame({c: data[c] for c in sent})
    points = shapely.points(out["lon"][keep], out["lat"][keep])
    frame["geom"] = shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
    cur.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(layer)))
    before = cur.fetchone()[0]
    _copy_frame(cur, sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(layer), sql.SQL(", ").join(sql.Identifier(c) for c in [*sent, "geom"])).as_string(conn),
        frame)
    if layer == "complaints":
        # A new complaint starts its history with the status it arrived in.
        # New ids are above the old maximum; the source test keeps out complaints filed meanwhile.
        cur.execute("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
                    "SELECT id, NULL, status, 'import', 'import', reported_at FROM complaints "
                    "WHERE id > %s AND source = ANY(%s)", (before, list(pd.unique(data["source"]))))


def _stage_and_upsert(cur, conn, layer, columns, data, constants, out, keep) -> tuple[int, int]:
    """COPY into a temporary table, then INSERT … ON CONFLICT (source, source_id) DO UPDATE."""
    point_layer = ACCEPTED_GEOMETRY[layer] == ("Point",)
    types = {f.name: _SQL_TYPES[f.kind] for f in fields_of(layer)}
    sent = [c for c in columns if c not in constants]
    frame = pd.DataFrame({c: data[c] for c in sent})
    if point_layer:
        # repr of a float64 is its shortest exact decimal: nothing lost on the way.
        frame["lon"] = out["lon"][keep].astype(str)
        frame["lat"] = out["lat"][keep].astype(str)
        geom_cols = [("lon", "float8"), ("lat", "float8")]
    else:
        geoms = shapely.set_srid(out["geom"][keep], 4326)
        frame["geom"] = shapely.to_wkb(geoms, hex=True, include_srid=True)
        geom_cols = [("geom", "text")]
    stage_cols = [(c, "text") for c in sent] + geom_cols
    cur.execute(sql.SQL("CREATE TEMP TABLE import_stage ({}) ON COMMIT DROP").format(
        sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in stage_cols)))
    _copy_frame(cur, sql.SQL("COPY import_stage ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.SQL(", ").join(sql.Identifier(c) for c, _ in stage_cols)).as_string(conn), frame)

    def value(c: str) -> sql.Composable:
        return sql.Literal(constants[c]) if c in constants else sql.SQL("s.{}").format(sql.Identifier(c))

    select = [sql.SQL("{}::{}").format(value(c), sql.SQL("jsonb" if c == "attributes" else types.get(c, "text")))
              for c in columns]
    select.append(sql.SQL(_geometry_expression(layer)))
    target = [*columns, "geom"]
    updates = [c for c in target if c not in ("source", "source_id")]
    if layer == "complaints":
        # Status changes by re-import are history, like any other change.
        cur.execute(sql.SQL("""
            INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor)
            SELECT c.id, c.status, {status}, 'import: ' || {source}, 'import'
            FROM import_stage s JOIN complaints c ON c.source = {source} AND c.source_id = {source_id}
            WHERE c.status IS DISTINCT FROM {status}""").format(
            status=value("status"), source=value("source"), source_id=value("source_id")))
    returning = "id, (xmax = 0) AS inserted" + (", status, reported_at" if layer == "complaints" else "")
    upsert = sql.SQL(
        "INSERT INTO {table} ({cols}) SELECT {select} FROM import_stage s "
        "ON CONFLICT (source, source_id) DO UPDATE SET {updates}, updated_at = now() RETURNING " + returning
    ).format(table=sql.Identifier(layer), cols=sql.SQL(", ").join(sql.Identifier(c) for c in target),
             select=sql.SQL(", ").join(select),
             updates=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates))
    history = sql.SQL("")
    if layer == "complaints":
        history = sql.SQL(
            ", ev AS (INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
            "SELECT id, NULL, status, 'import', 'import', reported_at FROM up WHERE inserted)")
    cur.execute(sql.SQL("WITH up AS ({upsert}){history} SELECT count(*) FILTER (WHERE inserted), count(*) "
                        "FROM up").format(upsert=upsert, history=history))
    return cur.fetchone()


def _drop_indexes_and_foreign_keys(cur, tables: list[str], incoming: int) -> list[sql.Composable]:
    """Drop the non-unique indexes and the foreign keys of tables no bigger than the import.

    Returns the statements that restore them (indexes rebuilt in one pass,
    foreign keys re-added, which checks every row again in one join). This is
    PostgreSQL's advice for populating a database; it happens inside the
    import's transaction, so a failure rolls the drop back too. The tables are
    locked for the import's length (a bulk load, not a trickle).
    """
    restore: list[sql.Composable] = []
    foreign_keys: list[sql.Composable] = []
    for table in tables:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,))
        if cur.fetchone()[0] > incoming:
            continue
        cur.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                       WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary""", (table,))
        for name, definition in cur.fetchall():
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            restore.append(sql.SQL(definition))
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'", (table,))
        for name, definition in cur.fetchall():
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table),
                                                                          sql.Identifier(name)))
            foreign_keys.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)))
    return restore + foreign_keys


def _write_rejects(raw: RawTable, bad: np.ndarray, problems: list[Problem], path: Path) -> None:
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.severity == "error" and p.row is not None:
            reasons.setdefault(p.row, []).append(f"{p.column + ': ' if p.column else ''}{p.reason}")
    rows = raw.frame[bad].copy()
    numbers = np.flatnonzero(bad) + raw.first_row
    rows.insert(0, raw.row_label, numbers)
    rows.insert(1, "reason", ["; ".join(reasons.get(int(r), [])) for r in numbers])
    try:
        rows.to_csv(path, index=False, encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidParameter("--rejects", f"cannot write {path}: {exc.strerror}") from None


def import_file(conn, path: Path, opts: ImportOptions, settings: ImportSettings | None = None) -> ImportResult:
    """Import one file into a layer in one transaction (see the module docstring).

    Raises InvalidInput (with every problem) when a row is bad and neither
    --skip-bad nor --dry-run was given; then nothing is written.
    """
    path = Path(path)
    raw = read_file(path, sheet=opts.sheet, layer=opts.gis_layer, encoding=opts.encoding, settings=settings)
    areas = AreaIndex.load(conn, with_grids=opts.layer == "complaints") if opts.layer != "admin_areas" else None
    conn.rollback()
    out, result, bad, _ = prepare(conn, raw, opts, areas)
    result.rejected = int(bad.sum())
    if bad.all() and not opts.dry_run:
        if opts.skip_bad:
            result.rejects_path = _rejects_path(path, opts)
            _write_rejects(raw, bad, result.problems, result.rejects_path)
        raise InvalidInput(f"{path.name}: every one of the {len(bad):,} rows is bad; nothing written",
                           [p.as_dict() for p in result.problems])
    if bad.any() and not opts.skip_bad and not opts.dry_run:
        raise InvalidInput(f"{path.name}: {int(bad.sum()):,} bad rows; nothing written "
                           "(fix them, or --skip-bad to write the good rows)",
                           [p.as_dict() for p in result.problems])
    try:
        if (~bad).any():
            write(conn, opts.layer, out, ~bad, result, settings)
        if opts.dry_run:
            conn.rollback()
        else:
            conn.commit()
    except psycopg2.errors.UniqueViolation as exc:
        conn.rollback()
        detail = (exc.diag.message_detail or exc.diag.message_primary or "").strip()
        raise InvalidInput(f"{path.name}: conflicts with rows already in {opts.layer} from another source: "
                           f"{detail}") from None
    except psycopg2.errors.IntegrityError as exc:
        conn.rollback()
        raise InvalidInput(f"{path.name}: refused by the database: {exc.diag.message_primary}") from None
    except BaseException:
        conn.rollback()
        raise
    if opts.skip_bad and bad.any():
        result.rejects_path = _rejects_path(path, opts)
        _write_rejects(raw, bad, result.problems, result.rejects_path)
    return result


def _rejects_path(path: Path, opts: ImportOptions) -> Path:
    if opts.rejects:
        return Path(opts.rejects)
    base = path if path.is_file() else path / path.name
    return base.with_name(base.stem + ".rejects.csv")
