"""Where each row is: coordinates from columns or the file's geometries, checked and converted to WGS84.

Plausibility comes before conversion (swapped latitude/longitude, metres
given as degrees, 0,0); the conversion itself is :mod:`geo.coords`
(GCJ-02, BD-09, CGCS2000 and any EPSG code). Polygon and line rows are
located by a point on their surface, for the extent check and routing.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from data.errors import InvalidInput, InvalidParameter
from data.said import Note
from geo import coords
from layers.io.batch import Batch, Findings, Said
from layers.io.columns import stated_crs
from layers.io.values import numbers

_PAIR = re.compile(r"^\s*[\(\[]?\s*([-+0-9.eE]+)\s*[,，;\s]\s*([-+0-9.eE]+)\s*[\)\]]?\s*$")
_GEOM_FAMILY = {"Point": "Point", "MultiPoint": "Point", "LineString": "LineString",
                "MultiLineString": "LineString", "Polygon": "Polygon", "MultiPolygon": "Polygon"}
_NO_COORDINATE = Said("缺少坐标", "coordinate missing")


def locate(batch: Batch) -> str:
    """Fill ``lon``, ``lat`` (a representative point per row, NaN where unusable) and ``geom``.

    Returns the coordinate system the file was read in.
    """
    crs = _source_crs(batch)
    geographic = crs in coords.NAMED_CRS or coords.CRS.from_user_input(crs).is_geographic
    batch.out["geom"] = None
    if batch.plan.coord[0] != "geometry":
        _from_columns(batch, crs, geographic)
    if batch.plan.coord[0] == "geometry":  # the file's geometries, or WKT read from a column just now
        _from_geometries(batch, crs, geographic)
    return crs


#: How a report names the CRS a coordinate header states.
_CRS_SAID = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def _source_crs(batch: Batch) -> str:
    """--crs, else the CRS the coordinate headers name (高德经度: GCJ-02), else the file's own CRS, else WGS84
    (each said in a note where it is not plain WGS84)."""
    crs_option = coords.parse_crs(batch.opts.crs) if batch.opts.crs else None
    if header := _header_crs(batch, crs_option):
        return header
    declared = batch.raw.crs
    file_crs = _normalise_file_crs(declared)
    notes = batch.result.notes
    if crs_option and file_crs and crs_option != file_crs:
        said = _declared_said(declared)
        _check_kind(said, file_crs, crs_option)
        notes.append(Note(f"文件声明 {said}，按 --crs {crs_option} 处理",
                          f"the file declares {said}; read as --crs {crs_option}"))
    elif file_crs and not crs_option and file_crs != "wgs84":
        notes.append(Note(f"坐标已从文件自带的坐标系 {file_crs[:60]} 转换",
                          f"coordinates converted from the file's own CRS {file_crs[:60]}"))
    return crs_option or file_crs or "wgs84"


def _header_crs(batch: Batch, crs_option: str | None) -> str | None:
    """The CRS a coordinate header names (经度(WGS84) as exports write it, 高德经度, gcj_lng, bd09_lng …), or None.

    Without --crs it is the file's (said in a note unless WGS84); a --crs that contradicts it is refused, naming
    both: an office that loaded its Gaode ledger with ``--crs gcj02`` and loads this app's export (WGS84) back the
    same way would otherwise move every point by ~500 m without a word. CGCS2000 is WGS84 within a metre.
    """
    stated = stated_crs(batch.plan)
    if stated is None:
        return None
    header, crs = stated
    if crs_option is None:
        if crs != "wgs84":
            batch.result.notes.append(Note(f"按列名 {header} 视为 {_CRS_SAID[crs]}",
                                           f"read as {_CRS_SAID[crs]}, as the column {header!r} says"))
        return crs
    if crs_option == crs or {crs_option, crs} <= {"wgs84", "cgcs2000"}:
        return crs_option
    export = crs == "wgs84"
    raise InvalidParameter(
        "--crs", f"the file's coordinate column {header!r} says its coordinates are {_CRS_SAID[crs]}"
                 f"{' (as this app’s exports write them)' if export else ''}: reading them as {crs_option} would "
                 "move every point; import it without --crs",
        f"文件的坐标列“{header}”注明坐标是 {_CRS_SAID[crs]}{'（本系统导出的表即如此）' if export else ''}，"
        f"按 --crs {crs_option} 换算会把每个点都移走{'（GCJ-02 约 500 米）' if export else ''}；请去掉 --crs 再导入")


def _declared_said(declared: str) -> str:
    """A file's own CRS as a report names it: its EPSG code, else its name (not a page of WKT)."""
    if declared.startswith(("EPSG:", "OGC:")):
        return declared
    return coords.CRS.from_user_input(declared).name[:60]


def _check_kind(said: str, file_crs: str, crs_option: str) -> None:
    """--crs over a file's own CRS is taken as the user's word (Gaode data stored as EPSG:4326 is GCJ-02; a .prj
    naming the wrong zone), unless one is in degrees and the other in metres: then it cannot be what the file holds."""
    geographic = coords.is_geographic(file_crs)
    if geographic == coords.is_geographic(crs_option):
        return
    kind = ("degrees", "度") if geographic else ("metres", "米")
    other = ("metres", "米") if geographic else ("degrees", "度")
    raise InvalidParameter(
        "--crs", f"the file declares {said}, in {kind[0]}: its coordinates cannot be read as --crs {crs_option}, "
                 f"in {other[0]}; import it without --crs (the file's own CRS is used)",
        f"文件声明坐标系 {said}（单位：{kind[1]}），其坐标不能按 --crs {crs_option}（单位：{other[1]}）读取；"
        "请去掉 --crs 再导入（将使用文件自带的坐标系）")


def _normalise_file_crs(crs: str | None) -> str | None:
    if crs is None:
        return None
    if crs in ("EPSG:4326", "OGC:CRS84"):
        return "wgs84"
    if crs.startswith("EPSG:"):
        return coords.parse_crs(crs)
    return crs  # WKT: pyproj reads it


def _from_columns(batch: Batch, crs: str, geographic: bool) -> None:
    """Points from coordinate columns, converted to WGS84."""
    x, y = _point_coordinates(batch)
    if x is None:  # WKT: geometries now, handled as the file's own
        return
    plan, found, n = batch.plan, batch.found, batch.n
    if not batch.spec.rules.points:
        raise InvalidInput(f"{batch.raw.path.name}: {batch.spec.id} needs line or polygon geometries, but the file "
                           "has point coordinates; give WKT or a GIS format (GeoJSON, Shapefile, GeoPackage, KML)",
                           zh=f"{batch.raw.path.name}：{batch.spec.id} 需要线或面几何，而文件给的是点坐标；"
                              "请提供 WKT 或 GIS 格式（GeoJSON、Shapefile、GeoPackage、KML）")
    cols = plan.coord_columns
    if geographic:
        check_degrees(x, y, cols, found)
    good = np.isfinite(x) & np.isfinite(y) & ~found.bad
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    lon[good], lat[good] = coords.to_wgs84(x[good], y[good], crs)
    lost = good & ~(np.isfinite(lon) & np.isfinite(lat))
    found.add(lost, cols[0], lambda i: Said(f"坐标 ({x[i]:g}, {y[i]:g}) 无法从 {crs} 转换",
                                           f"({x[i]:g}, {y[i]:g}) cannot be converted from {crs}"))
    outside = good & ~lost & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    found.add(outside, cols[0], lambda i: Said(f"坐标 ({x[i]:g}, {y[i]:g}) 按 {crs} 换算后不在地球上：坐标系（--crs）不对？",
                                              f"({x[i]:g}, {y[i]:g}) in {crs} is not on the globe: wrong --crs?"))
    batch.out["lon"], batch.out["lat"] = lon, lat


def _point_coordinates(batch: Batch) -> tuple[np.ndarray | None, np.ndarray | None]:
    """x, y (still in the source CRS) of point rows from columns; NaN where unusable.

    A WKT column is read into the batch's geometries instead (returns None, None).
    """
    kind, *cols = batch.plan.coord
    if kind == "lonlat":
        return _two_columns(batch, *cols)
    if kind == "pair":
        return _pair_column(batch, cols[0])
    col = cols[0]
    text = batch.text(col)
    geoms = shapely.from_wkt(text.where(text != "", None).to_numpy(dtype=object), on_invalid="ignore")
    missing = (text == "").to_numpy()
    batch.found.add(missing, col, Said("缺少几何", "geometry missing"))
    batch.found.add(~missing & shapely.is_missing(geoms), col,
                    lambda i: Said(f"{text.iat[i][:40]!r} 不是 WKT 几何", f"{text.iat[i][:40]!r} is not WKT"))
    batch.raw.geometries = geoms
    batch.plan.coord = ("geometry", col)
    return None, None


def _two_columns(batch: Batch, xcol: str, ycol: str) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = batch.text(xcol), batch.text(ycol)
    x, y = numbers(xs), numbers(ys)
    for col, vals, txt in ((xcol, x, xs), (ycol, y, ys)):
        missing = (txt == "").to_numpy()
        batch.found.add(missing, col, _NO_COORDINATE)
        nan = ~missing & ~np.isfinite(vals)
        batch.found.add(nan, col, lambda i, txt=txt: Said(f"坐标 {txt.iat[i]!r} 不是有效数字",
                                                          f"coordinate {txt.iat[i]!r} is not a finite number"))
    return x, y


def _pair_column(batch: Batch, col: str) -> tuple[np.ndarray, np.ndarray]:
    text = batch.text(col)
    parts = text.str.extract(_PAIR)
    a = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype="float64")
    b = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype="float64")
    missing = (text == "").to_numpy()
    batch.found.add(missing, col, _NO_COORDINATE)
    unusable = ~missing & ~(np.isfinite(a) & np.isfinite(b))
    batch.found.add(unusable, col, lambda i: Said(f"{text.iat[i]!r} 不是“纬度,经度”两个数字",
                                                  f"{text.iat[i]!r} is not a \"lat,lon\" pair of numbers"))
    # "lat,lon" unless the first number cannot be a latitude (then it is "lon,lat").
    lon_first = np.nanmedian(np.abs(a)) > 90 if np.isfinite(a).any() else False
    return (a, b) if lon_first else (b, a)


def check_degrees(x: np.ndarray, y: np.ndarray, cols: tuple[str, str], found: Findings) -> None:
    """Plausibility of geographic coordinates before any conversion."""
    ok = np.isfinite(x) & np.isfinite(y)
    with np.errstate(invalid="ignore"):
        swapped = ok & (np.abs(y) > 90) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
        metres = ok & ~swapped & ((np.abs(x) > 360) | (np.abs(y) > 360)) & (np.abs(x) < 1e8) & (np.abs(y) < 1e8)
        out_of_range = ok & ~swapped & ~metres & ((np.abs(x) > 180) | (np.abs(y) > 90))
        zero = ok & (x == 0) & (y == 0)
        same = ok & ~zero & (x == y)
    found.add(swapped, cols[1], lambda i: Said(f"纬度 {y[i]:g} 超出 ±90 而经度 {x[i]:g} 没有：经纬度填反了",
                                               f"latitude {y[i]:g} is beyond ±90 while longitude {x[i]:g} is not: "
                                               "latitude and longitude are swapped"))
    found.add(metres, cols[0], lambda i: Said(f"坐标 ({x[i]:g}, {y[i]:g}) 像是米而不是度：请用 --crs EPSG:n 给出投影坐标系",
                                              f"({x[i]:g}, {y[i]:g}) look like metres, not degrees: give the projected "
                                              "system with --crs EPSG:n"))
    found.add(out_of_range, cols[0], lambda i: Said(f"坐标 ({x[i]:g}, {y[i]:g}) 超出经度 ±180°、纬度 ±90°",
                                                    f"({x[i]:g}, {y[i]:g}) is outside ±180° longitude / ±90° latitude"))
    found.add(zero, cols[0], Said("坐标为 0,0（空单元格被填了零？）", "coordinates are 0,0 (an empty cell filled with zeros?)"))
    found.add(same, cols[0], lambda i: Said(f"经度和纬度都是 {x[i]:g}（一列被复制到了另一列？）",
                                            f"longitude and latitude are both {x[i]:g} (one column copied into the other?)"))


def _from_geometries(batch: Batch, crs: str, geographic: bool) -> None:
    """The file's geometries checked, converted to WGS84, and located by a point on each."""
    found, n = batch.found, batch.n
    col = batch.plan.coord[1] if len(batch.plan.coord) > 1 else None
    geoms = check_geometry_types(np.asarray(batch.raw.geometries, dtype=object), batch, col)
    usable = ~found.bad & ~shapely.is_missing(geoms)
    if geographic:
        # The coordinate of each bounding box farthest from 0 stands for the row.
        b = shapely.bounds(geoms[usable])
        xb, yb = np.full(n, np.nan), np.full(n, np.nan)
        xb[usable] = np.where(np.abs(b[:, 0]) > np.abs(b[:, 2]), b[:, 0], b[:, 2])
        yb[usable] = np.where(np.abs(b[:, 1]) > np.abs(b[:, 3]), b[:, 1], b[:, 3])
        check_degrees(xb, yb, (col or "geometry", col or "geometry"), found)
        usable = ~found.bad & ~shapely.is_missing(geoms)
    if usable.any():
        geoms[usable] = _convert_geometries(geoms[usable], crs)
        b = shapely.bounds(geoms[usable])
        bad_box = np.zeros(n, dtype=bool)
        bad_box[usable] = ~np.isfinite(b).all(axis=1) | (np.abs(b[:, [0, 2]]) > 180).any(axis=1) \
            | (np.abs(b[:, [1, 3]]) > 90).any(axis=1)
        found.add(bad_box, col, Said(f"从 {crs} 转换后坐标超出 ±180°/±90°：坐标系（--crs）不对？",
                                     f"coordinates outside ±180°/±90° after conversion from {crs}: wrong --crs?"))
    usable = ~found.bad & ~shapely.is_missing(geoms)
    points = batch.spec.rules.points
    if not points:
        _note_invalid(geoms, usable, col, found)
    rep = np.full(n, None, dtype=object)
    rep[usable] = geoms[usable] if points else shapely.point_on_surface(geoms[usable])
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    lon[usable], lat[usable] = shapely.get_x(rep[usable]), shapely.get_y(rep[usable])
    batch.out["lon"], batch.out["lat"], batch.out["geom"] = lon, lat, geoms


def _note_invalid(geoms: np.ndarray, usable: np.ndarray, col: str | None, found: Findings) -> None:
    """Invalid lines and polygons are warned about: the write repairs them."""
    valid = np.ones(len(geoms), dtype=bool)
    valid[usable] = shapely.is_valid(geoms[usable])
    invalid = usable & ~valid
    if invalid.any():
        reasons = np.full(len(geoms), "", dtype=object)
        reasons[invalid] = shapely.is_valid_reason(geoms[invalid])
        found.add(invalid, col, lambda i: Said(f"几何图形无效（{reasons[i]}）：已用 ST_MakeValid 修复",
                                               f"invalid geometry ({reasons[i]}): repaired with ST_MakeValid"), "warning")


def _convert_geometries(geoms: np.ndarray, crs: str) -> np.ndarray:
    if crs == "wgs84":
        return geoms

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = coords.to_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, move)


def check_geometry_types(geoms: np.ndarray, batch: Batch, col: str | None) -> np.ndarray:
    """Wrong types are errors; single-part multis of point/line layers are unwrapped."""
    found, layer, rules = batch.found, batch.spec.id, batch.spec.rules
    accepted = rules.geometry
    missing = shapely.is_missing(geoms)
    found.add(missing & ~found.bad, col, Said("没有几何", "no geometry"))
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    family = np.array([_GEOM_FAMILY.get(t, t) for t in types], dtype=object)
    wrong = ~missing & ~np.isin(family, accepted)
    found.add(wrong, col, lambda i: Said(f"几何是 {types[i]}，但{batch.spec.name_zh}图层只收 {'、'.join(accepted)}",
                                         f"geometry is a {types[i]}, but {layer} holds {' or '.join(accepted)} geometries"))
    empty = ~missing & ~wrong & shapely.is_empty(np.where(missing, None, geoms))
    found.add(empty, col, Said("几何为空", "geometry is empty"))
    geoms = shapely.force_2d(geoms)
    parts = shapely.get_num_geometries(geoms)
    multi_point = np.isin(types, ["MultiPoint", "MultiLineString"]) & ~wrong
    several = multi_point & (parts > 1)
    if not rules.multi_part or (types == "MultiPoint").any():
        found.add(several, col, lambda i: Said(f"{types[i]} 有 {parts[i]} 个部分，{batch.spec.name_zh}图层每行只收一个",
                                               f"a {types[i]} of {parts[i]} parts; {layer} holds one part per row"))
    single = multi_point & (parts == 1)
    if single.any():
        geoms[single] = shapely.get_geometry(geoms[single], 0)
    return geoms
