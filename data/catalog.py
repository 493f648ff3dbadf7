"""The city and its lookups: settings row, metric CRS, streets, event types (SQL, read by every package).

One city per database (DESIGN §3). Everything that asks "which city, in
which metric CRS, which streets" asks here.
"""

from __future__ import annotations

from data.errors import NotFound

NO_CITY = "no city is loaded: run `hygiene-map demo` or import admin areas first"
_CITY_COLUMNS = ("code", "name", "name_en", "metric_srid", "is_demo", "data_time", "attribution")


def city_info(conn) -> dict | None:
    """The city settings row as a dict, or None before a city is loaded."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(_CITY_COLUMNS)} FROM city_settings")
        row = cur.fetchone()
    return None if row is None else dict(zip(_CITY_COLUMNS, row))


def require_city(conn) -> dict:
    """The city settings row, or NotFound saying how to load a city."""
    city = city_info(conn)
    if city is None:
        raise NotFound(NO_CITY)
    return city


def metric_srid(conn) -> int:
    """The city's projected CRS for metres (UTM or CGCS2000 Gauss–Krüger), or NotFound before a city."""
    return int(require_city(conn)["metric_srid"])


def city_view(conn) -> tuple[tuple[float, float] | None, list[float] | None]:
    """The centre (lat, lon) and extent of the city's districts, for a map's first view."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent(geom) AS e FROM admin_areas WHERE level = 'district') s")
        row = cur.fetchone()
    if row is None or row[0] is None:
        return None, None
    return ((row[1] + row[3]) / 2, (row[0] + row[2]) / 2), [round(v, 6) for v in row]


def streets(conn) -> list[dict]:
    """Every street (code, name, name_en), in code order."""
    with conn.cursor() as cur:
        cur.execute("SELECT code, name, name_en FROM admin_areas WHERE level = 'street' ORDER BY code")
        return [{"code": c, "name": n, "name_en": e} for c, n, e in cur.fetchall()]


def street_info(conn, code: str) -> dict:
    """``{"code", "name", "name_en", "bbox"}`` of a street, or NotFound."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT code, name, name_en, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
            "FROM admin_areas WHERE code = %s AND level = 'street'", (code,))
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"street {code!r} does not exist (see the admin_areas layer for street codes)")
    west, south, east, north = (round(v, 6) for v in row[3:])
    return {"code": row[0], "name": row[1], "name_en": row[2], "bbox": [west, south, east, north],
            "bounds": [[south, west], [north, east]]}


def check_street(conn, code: str, parameter: str = "street") -> None:
    """NotFound unless ``code`` is a street of the city."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM admin_areas WHERE level = 'street' AND code = %s", (code,))
        if cur.fetchone() is None:
            raise NotFound(f"{parameter}: street {code!r} does not exist (see the admin_areas layer for street codes)")


def event_types(conn, lang: str = "zh") -> list[tuple[str, str]]:
    """Complaint categories as (name, label in the page language)."""
    with conn.cursor() as cur:
        cur.execute("SELECT name, name_en FROM event_types ORDER BY name")
        return [(name, (name_en or name) if lang == "en" else name) for name, name_en in cur.fetchall()]
