"""Coordinate conversions between the systems Chinese data arrives in.

WGS84 (GPS, OSM), GCJ-02 (AutoNavi/Gaode, Tencent: an obfuscating offset of
up to ~700 m), BD-09 (Baidu: a second offset on GCJ-02), CGCS2000 geographic
(EPSG:4490, within a metre of WGS84) and projected systems such as the
CGCS2000 Gauss–Krüger zones or a US state plane (any EPSG code pyproj knows).

Every conversion ``a_to_b(lon, lat)`` takes longitudes and latitudes in
degrees of system a (array_like; scalars work too) and returns a
``(lon, lat)`` tuple of numpy arrays in system b; all are vectorized: a
million points convert in well under a second. The GCJ-02 and
BD-09 forward formulas are the published ones (Krasovsky ellipsoid
a = 6378245 m, ee = 0.00669342162296594323; Baidu offsets 0.0065/0.006 with
x_pi = π·3000/180, see ../shared/STANDARDS.md §6). Their inverses have no
closed form: they are solved by fixed-point iteration to well under a
millimetre, so a round trip is exact for practical purposes.

Points outside the rough rectangle of China (the published ``out_of_china``
test) are not shifted by GCJ-02, as the map providers do not shift them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from data.errors import InvalidParameter

KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
X_PI = np.pi * 3000.0 / 180.0
BD_DLON = 0.0065
BD_DLAT = 0.006
# The published rectangle outside of which GCJ-02 applies no offset.
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)
# Inverse iteration: stop when the forward image is this close (degrees, ~1 mm).
_INVERSE_TOLERANCE_DEG = 1e-8
_INVERSE_MAX_STEPS = 30

#: The names ``--crs`` accepts besides ``EPSG:n``.
NAMED_CRS = ("wgs84", "gcj02", "bd09", "cgcs2000")


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def in_china(lon, lat) -> np.ndarray:
    """Whether points lie in the rectangle where GCJ-02 shifts coordinates.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees.

    Returns
    -------
    numpy.ndarray of bool
    """
    lon, lat = _as_arrays(lon, lat)
    return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 points (published formula)."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (what Gaode and Tencent maps show); points outside China unchanged."""
    lon, lat = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration (the offsets vary slowly)."""
    x, y = lon.copy(), lat.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x, y = x - ex, y - ey
        # NaN inputs stay NaN; they must not keep the loop going.
        err = np.nanmax(np.abs(np.concatenate([np.ravel(ex), np.ravel(ey)]))) if np.size(ex) else 0.0
        if not np.isfinite(err) or err < _INVERSE_TOLERANCE_DEG:
            break
    return x, y


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84, by iterating the forward formula (round trip < 1 mm)."""
    lon, lat = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu), the published formula."""
    lon, lat = _as_arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * X_PI)
    return z * np.cos(theta) + BD_DLON, z * np.sin(theta) + BD_DLAT


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02, by iterating the forward formula (round trip < 1 mm)."""
    lon, lat = _as_arrays(lon, lat)
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS84 (via GCJ-02, both steps iterated)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def parse_crs(value: str) -> str:
    """Normalise a ``--crs`` value: wgs84, gcj02, bd09, cgcs2000 or an EPSG code pyproj knows.

    Parameters
    ----------
    value : str
        ``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000`` (any case, with or without
        dashes), ``EPSG:n`` or a bare number.

    Returns
    -------
    str
        One of :data:`NAMED_CRS` or ``"EPSG:n"``.

    Raises
    ------
    InvalidParameter
        When the value is none of these or pyproj does not know the code.
    """
    text = str(value).strip().lower().replace("-", "").replace("_", "")
    aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "4326": "wgs84", "crs84": "wgs84",
               "gcj02": "gcj02", "gcj": "gcj02", "gaode": "gcj02", "amap": "gcj02", "tencent": "gcj02",
               "bd09": "bd09", "bd09ll": "bd09", "baidu": "bd09",
               "cgcs2000": "cgcs2000", "epsg4490": "cgcs2000", "4490": "cgcs2000"}
    if text in aliases:
        return aliases[text]
    code = text[4:].lstrip(":") if text.startswith("epsg") else text
    if not code.isdigit():
        raise InvalidParameter("--crs", f"{value!r} is not wgs84, gcj02, bd09, cgcs2000 or EPSG:n",
                               f"{value!r} 不是 wgs84、gcj02、bd09、cgcs2000 或 EPSG:n")
    try:
        CRS.from_epsg(int(code))
    except CRSError:
        raise InvalidParameter("--crs", f"EPSG:{code} is not a coordinate system pyproj knows",
                               f"EPSG:{code} 不是 pyproj 认识的坐标系") from None
    return f"EPSG:{int(code)}"


def is_geographic(crs: str) -> bool:
    """Whether a normalised CRS (see :func:`parse_crs`) has coordinates in degrees."""
    if crs in NAMED_CRS:
        return True
    return CRS.from_user_input(crs).is_geographic


def to_wgs84(x, y, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates in ``crs`` to WGS84 longitude/latitude.

    Parameters
    ----------
    x, y : array_like
        Longitude/latitude (geographic systems) or easting/northing
        (projected systems), in x-then-y order whatever the CRS's axis order.
    crs : str
        A value returned by :func:`parse_crs`.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray
        Non-finite inputs stay non-finite.
    """
    return _convert(x, y, crs, to_wgs84=True)


def from_wgs84(lon, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 longitude/latitude to ``crs`` (the inverse of :func:`to_wgs84`), x then y."""
    return _convert(lon, lat, crs, to_wgs84=False)


#: The Chinese offsets pyproj does not know: (to WGS84, from WGS84) for each named system.
_OFFSET_SYSTEMS = {"wgs84": (lambda x, y: (x, y),) * 2,
                   "gcj02": (gcj02_to_wgs84, wgs84_to_gcj02),
                   "bd09": (bd09_to_wgs84, wgs84_to_bd09)}


def _convert(x, y, crs: str, *, to_wgs84: bool) -> tuple[np.ndarray, np.ndarray]:
    x, y = _as_arrays(x, y)
    if crs in _OFFSET_SYSTEMS:
        return _OFFSET_SYSTEMS[crs][0 if to_wgs84 else 1](x, y)
    # Everything else is pyproj's: CGCS2000 geographic as EPSG:4490, projected systems by their code.
    other = "EPSG:4490" if crs == "cgcs2000" else crs
    source, target = (other, "EPSG:4326") if to_wgs84 else ("EPSG:4326", other)
    a, b = _transformer(source, target).transform(x, y)
    return np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")


def utm_srid(lon: float, lat: float) -> int:
    """The EPSG code of the WGS84 UTM zone containing a point (for metric work)."""
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return (32600 if lat >= 0 else 32700) + zone


def point_ewkb_hex(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """Points in WGS84 as hex EWKB (SRID 4326), exactly the doubles given, without building geometries."""
    xy = np.column_stack([np.asarray(lon, dtype="<f8"), np.asarray(lat, dtype="<f8")])
    digits = xy.tobytes().hex().upper()
    head = "0101000020E6100000"  # little-endian, point, with SRID, 4326
    return [head + digits[k:k + 32] for k in range(0, len(digits), 32)]
