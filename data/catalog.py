"""The city and its lookups: settings row, metric CRS, time zone, streets, event types (SQL, read by every package).

One city per database (DESIGN §3). Everything that asks "which city, in
which metric CRS, which streets" asks here, and :func:`write_city` is the
one place the city's settings row is written (``city init``, the first
admin-area import, the demo).
"""

from __future__ import annotations

import math
from datetime import datetime

from psycopg2 import sql

from data.clock import DATA_TIME_IN_FORCE_SQL
from data.errors import InvalidParameter, NotFound
from data.params import area_code_problem
from data.vocab import CITY_TIME_ZONE, FACILITY_KINDS, UNIT_NAMES, set_city_tz

NO_CITY = ("no city is loaded: set one up with `hygiene-map city init --name NAME --code CODE` or by importing "
           "its admin areas (`hygiene-map import admin_areas FILE --level district`), or load the demo "
           "(`hygiene-map demo`)")
NO_CITY_ZH = ("尚未载入城市：请用 `hygiene-map city init --name 名称 --code 代码` 设置，或导入其行政区划"
              "（`hygiene-map import admin_areas 文件 --level district`），或载入演示城市（`hygiene-map demo`）")
_CITY_COLUMNS = ("code", "name", "name_en", "metric_srid", "is_demo", "data_time", "attribution")
#: Every setting: the above and the time zone (which readers get from data.vocab.city_tz instead), and whether
#: that zone is still the default placeholder the first admin-area import replaces (migration 0860).
_SETTINGS_COLUMNS = (*_CITY_COLUMNS, "time_zone", "time_zone_pending")

#: The extent of China (lon/lat): the mainland, Hainan, Taiwan, Hong Kong and Macau. A city whose areas
#: centre inside it gets a CGCS2000 Gauss–Krüger zone; a rectangle, so parts of
#: neighbouring countries fall inside too (a GK zone measures there as well as UTM; `city set` changes it).
CHINA_EXTENT = (73.4, 18.1, 135.1, 53.6)
#: The mainland's zones in the tz database: official business keeps Beijing time in all of them.
_MAINLAND_ZONES = {"Asia/Shanghai", "Asia/Urumqi"}
#: EPSG:4534 is "CGCS2000 / 3-degree Gauss-Kruger CM 75E"; one code per 3° up to CM 135E, EPSG:4554
#: (PostGIS spatial_ref_sys; tests/test_city.py checks every one).
_GK_FIRST_EPSG, _GK_FIRST_CM, _GK_LAST_CM = 4534, 75, 135


def city_info(conn, *, settings: bool = False) -> dict | None:
    """The city settings row as a dict, or None before a city is set up.

    Its ``data_time`` is the one in force (:data:`data.clock.DATA_TIME_IN_FORCE_SQL`: None once a complaint is
    newer), as pages and prints stamp it; ``settings``: the row as set (its time zone, the data time as set)
    and ``data_time_in_force``.
    """
    columns = _SETTINGS_COLUMNS if settings else _CITY_COLUMNS
    exprs = [f"({DATA_TIME_IN_FORCE_SQL})" if c == "data_time" and not settings else c for c in columns]
    if settings:
        columns, exprs = (*columns, "data_time_in_force"), [*exprs, f"({DATA_TIME_IN_FORCE_SQL})"]
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(exprs)} FROM city_settings s")
        row = cur.fetchone()
    return None if row is None else dict(zip(columns, row))


def require_city(conn, *, settings: bool = False) -> dict:
    """The city settings row (``settings``: with its time zone), or NotFound saying how to set a city up."""
    city = city_info(conn, settings=settings)
    if city is None:
        raise NotFound(NO_CITY, NO_CITY_ZH)
    return city


def metric_srid(conn) -> int:
    """The city's projected CRS for metres (UTM or CGCS2000 Gauss–Krüger), or NotFound before one is chosen."""
    srid = require_city(conn)["metric_srid"]
    if srid is None:
        raise NotFound("the city has no metric CRS yet: import its admin areas (the CRS is chosen from them) "
                       "or set one with `hygiene-map city set --crs EPSG:n`",
                       "本市尚无度量坐标系：请导入行政区划（据此自动选定坐标系），"
                       "或用 `hygiene-map city set --crs EPSG:n` 设置")
    return int(srid)


def auto_metric_srid(lon: float, lat: float) -> int:
    """The metric CRS for a city centred at (lon, lat): CGCS2000 3° Gauss–Krüger inside China, else UTM.

    The 3° zone's central meridian is the multiple of 3° nearest the centre
    (zone n spans 3n ± 1.5°); outside :data:`CHINA_EXTENT` the WGS 84 UTM zone
    (EPSG:326zz north of the equator, 327zz south).
    """
    west, south, east, north = CHINA_EXTENT
    if west <= lon <= east and south <= lat <= north:
        cm = min(max(3 * math.floor(lon / 3 + 0.5), _GK_FIRST_CM), _GK_LAST_CM)
        return _GK_FIRST_EPSG + (cm - _GK_FIRST_CM) // 3
    zone = min(max(math.floor((lon + 180) / 6) + 1, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def auto_time_zone(lon: float, lat: float) -> str:
    """The time zone a new city starts with: the IANA zone of its centre (America/New_York, Asia/Hong_Kong,
    Asia/Taipei …, with daylight saving where it has it), Beijing time (Asia/Shanghai) anywhere on the mainland
    — Xinjiang's offices keep it too —, and at sea the whole-hour zone of the longitude."""
    from timezonefinder import TimezoneFinder  # its boundary data are read from disk on first use only

    zone = TimezoneFinder().timezone_at(lng=lon, lat=lat)
    if zone in _MAINLAND_ZONES:
        return CITY_TIME_ZONE
    if zone:
        return zone
    hours = round(lon / 15)
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"  # POSIX sign: Etc/GMT+5 is UTC−5


def crs_name(conn, srid: int) -> str:
    """The name of a projected CRS in metres from PostGIS (spatial_ref_sys); InvalidParameter for any other."""
    with conn.cursor() as cur:
        cur.execute("SELECT split_part(srtext, '\"', 2), srtext LIKE 'PROJCS%%', proj4text LIKE '%%+units=m %%' "
                    "FROM spatial_ref_sys WHERE srid = %s", (srid,))
        row = cur.fetchone()
    if row is None:
        raise InvalidParameter("--crs", f"EPSG:{srid} is not a CRS PostGIS knows (spatial_ref_sys)",
                               f"PostGIS 不认识坐标系 EPSG:{srid}（spatial_ref_sys 中没有）")
    if not (row[1] and row[2]):
        raise InvalidParameter("--crs", f"EPSG:{srid} ({row[0]}) is not a projected CRS in metres; "
                                        "name a UTM or CGCS2000 Gauss–Krüger zone",
                               f"EPSG:{srid}（{row[0]}）不是以米为单位的投影坐标系；请指定 UTM 或 CGCS2000 高斯–克吕格投影带")
    return row[0]


def load_city_tz(conn):
    """Make :func:`data.vocab.city_tz` answer the city's own time zone in this process; returns ``conn``.

    Called when a connection opens (data.db.connect), before or after the
    migrations: without the table or the column, or without a city, the
    default zone. Ends the transaction it started.
    """
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('city_settings') "
                    "AND attname = 'time_zone' AND NOT attisdropped)")
        row = None
        if cur.fetchone()[0]:
            cur.execute("SELECT time_zone FROM city_settings")
            row = cur.fetchone()
    conn.rollback()
    set_city_tz(row[0] if row else None)
    return conn


def write_city(conn, *, code: str, name: str, metric_srid: int | None, name_en: str | None = None,
               time_zone: str | None = None, is_demo: bool = False, data_time: datetime | None = None,
               attribution: str | None = None, time_zone_pending: bool = False) -> None:
    """Write the city's settings row (replacing the row), in the caller's transaction.

    The one writer of ``city_settings``. ``time_zone`` ``None`` is the
    default zone (:data:`~data.vocab.CITY_TIME_ZONE`); ``time_zone_pending``
    marks it as a placeholder the first admin-area import replaces by the
    zone the areas lie in (:func:`establish_city`). When the metric CRS
    changes, what is stored in it follows (:func:`_follow_metric_srid`); the
    time zone holds for this process at once, for others from their next
    connection.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidParameter("--name", "the city needs a name", "城市必须有名称")
    problem = area_code_problem(code or "")
    if problem:
        raise InvalidParameter("--code", problem, area_code_problem(code or "", "zh"))
    before = city_info(conn)
    if metric_srid is not None:
        crs_name(conn, metric_srid)
    values = {"code": code, "name": name, "name_en": name_en, "metric_srid": metric_srid, "is_demo": is_demo,
              "data_time": data_time, "attribution": attribution}
    if time_zone is not None:  # else the column's default (the demo also loads into schemas before 0600)
        values["time_zone"] = time_zone
    if time_zone_pending:  # else the column's default, false (and schemas before 0860 have no such column)
        values["time_zone_pending"] = True
    with conn.cursor() as cur:
        cur.execute("DELETE FROM city_settings")
        cur.execute(sql.SQL("INSERT INTO city_settings ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, values)), sql.SQL(", ").join(sql.Placeholder() * len(values))),
            list(values.values()))
    if before and before["metric_srid"] not in (None, metric_srid) and metric_srid is not None:
        _follow_metric_srid(conn, before["metric_srid"], metric_srid)
    set_city_tz(time_zone)


def update_city(conn, changes: dict) -> None:
    """Change some settings of the existing city (``city set``): ``changes`` maps columns to new values.

    A time zone named here is the city's own: no admin-area import replaces it.
    """
    city = require_city(conn, settings=True)
    merged = {k: v for k, v in city.items() if k not in ("is_demo", "data_time_in_force")} | changes
    if "time_zone" in changes:
        merged["time_zone_pending"] = False
    write_city(conn, is_demo=city["is_demo"], **merged)


def _follow_metric_srid(conn, old: int, new: int) -> None:
    """Keep what is stored in the city's metric CRS in that CRS when it changes.

    Complaints keep their metric x/y (migration 0300; analyses would project
    the stale rows on the fly, slowly, as they do for rows stored before the
    city had a CRS), generated grids the origin of their lattice
    (regenerating keeps the lattice where it lies on the ground). The
    analysis caches follow by themselves: writing city_settings counts as a
    change of it (migration 0500).
    """
    with conn.cursor() as cur:
        cur.execute("""UPDATE complaints SET metric_srid = %(new)s, metric_x = ST_X(ST_Transform(geom, %(new)s)),
                              metric_y = ST_Y(ST_Transform(geom, %(new)s))
                       WHERE metric_srid IS DISTINCT FROM %(new)s""", {"new": new})
        cur.execute(
            """WITH o AS (SELECT code, ST_Transform(ST_SetSRID(ST_MakePoint((attributes->'origin'->>0)::float,
                                                                     (attributes->'origin'->>1)::float), %(old)s),
                                            %(new)s) AS p
                          FROM grids WHERE jsonb_typeof(attributes->'origin') = 'array')
               UPDATE grids g
               SET attributes = jsonb_set(g.attributes, '{origin}', jsonb_build_array(ST_X(o.p), ST_Y(o.p)))
               FROM o WHERE o.code = g.code""", {"old": old, "new": new})


def areas_summary(conn) -> dict:
    """Admin areas per level and their extent (west, south, east, north; None without areas)."""
    with conn.cursor() as cur:
        cur.execute("SELECT level, count(*) FROM admin_areas GROUP BY level")
        counts = dict(cur.fetchall())
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                    "FROM (SELECT ST_Extent(geom) e FROM admin_areas) s")
        extent = cur.fetchone()
    return {"counts": counts, "extent": None if extent[0] is None else tuple(round(v, 6) for v in extent)}


def level_counts(conn) -> dict[str, int]:
    """How many areas the city has at each level an analysis can answer by (admin levels, grids, urban villages)."""
    with conn.cursor() as cur:
        cur.execute("SELECT level, count(*) FROM admin_areas GROUP BY level "
                    "UNION ALL SELECT 'grid', count(*) FROM grids "
                    "UNION ALL SELECT 'urban_village', count(*) FROM urban_villages")
        return {level: n for level, n in cur.fetchall() if n}


def area_level(conn, wanted: str) -> str:
    """``wanted`` (an admin level) when the city has areas at it, else its finest level that has areas.

    A city imported with districts only (Hong Kong's 18, Yantai's 11) answers an analysis asked without
    ``by`` by its districts instead of an empty map; with no areas at all, ``wanted``.
    """
    present = level_counts(conn)
    if wanted in present:
        return wanted
    return next((level for level in ("community", "street", "district") if level in present), wanted)


def require_level(conn, by: str) -> str:
    """``by`` when the city has areas at that level; else InvalidParameter saying what it has and how to add them.

    Asked explicitly (``by=community`` in a city of districts only), an empty answer would read as "no gaps".
    """
    present = level_counts(conn)
    if by in present:
        return by
    have = ", ".join(f"{level} ({n})" for level, n in present.items()) or "no areas at all"
    have_zh = "、".join(f"{level}（{n}）" for level, n in present.items()) or "没有任何区域"
    how = {"grid": ("cut them with `hygiene-map grids generate`", "请用 `hygiene-map grids generate` 划分网格"),
           "urban_village": ("import them with `hygiene-map import urban_villages FILE`",
                             "请用 `hygiene-map import urban_villages 文件` 导入")}.get(
        by, (f"import them with `hygiene-map import admin_areas FILE --level {by}`",
             f"请用 `hygiene-map import admin_areas 文件 --level {by}` 导入"))
    raise InvalidParameter("by", f"this city has no {by} areas (it has: {have}); {how[0]}, or ask by a level it has",
                           f"本市没有 {by} 级区域（现有：{have_zh}）；{how[1]}，或按现有的级别统计")


def areas_centre(conn) -> tuple[float, float] | None:
    """(lon, lat) of the centroid of every admin area, None without areas."""
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) c FROM admin_areas) s")
        lon, lat = cur.fetchone()
    return None if lon is None else (lon, lat)


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
    """Every street (code, name, name_en, and how many grids it has), in code order."""
    with conn.cursor() as cur:
        cur.execute("SELECT a.code, a.name, a.name_en, (SELECT count(*) FROM grids g WHERE g.street_code = a.code) "
                    "FROM admin_areas a WHERE a.level = 'street' ORDER BY a.code")
        return [{"code": c, "name": n, "name_en": e, "grids": g} for c, n, e, g in cur.fetchall()]


def siting_areas(conn) -> list[dict]:
    """The areas siting takes as ``street`` (code, name, name_en, level, in code order): the streets, or the districts of a
    city of districts only (geo.siting._check_area); none in a city with neither."""
    level = area_level(conn, "street")
    if level not in ("street", "district"):
        return []
    with conn.cursor() as cur:
        cur.execute("SELECT code, name, name_en FROM admin_areas WHERE level = %s ORDER BY code", (level,))
        return [{"code": c, "name": n, "name_en": e, "level": level} for c, n, e in cur.fetchall()]


def street_info(conn, code: str) -> dict:
    """``{"code", "name", "name_en", "bbox"}`` of a street, or NotFound."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT code, name, name_en, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
            "FROM admin_areas WHERE code = %s AND level = 'street'", (code,))
        row = cur.fetchone()
    if row is None:
        check_street(conn, code)  # says what the code is instead
    west, south, east, north = (round(v, 6) for v in row[3:])
    return {"code": row[0], "name": row[1], "name_en": row[2], "bbox": [west, south, east, north],
            "bounds": [[south, west], [north, east]]}


def check_street(conn, code: str, parameter: str = "street") -> None:
    """NotFound unless ``code`` is a street of the city; the message says what the code is instead (a district,
    a community) and, in a city with no streets yet, what to import."""
    with conn.cursor() as cur:
        cur.execute("SELECT level, name FROM admin_areas WHERE code = %s", (code,))
        found = cur.fetchone()
        if found and found[0] == "street":
            return
        cur.execute("SELECT EXISTS (SELECT 1 FROM admin_areas WHERE level = 'street')")
        streets = cur.fetchone()[0]
    level_zh = UNIT_NAMES["zh"].get(found[0], "") if found else ""
    what = (f"{code!r} is a {found[0]} ({found[1]}), not a street" if found else f"street {code!r} does not exist",
            f"“{code}”是{level_zh}（{found[1]}），不是街道" if found else f"街道“{code}”不存在")
    if not streets:
        raise NotFound(f"{parameter}: {what[0]}; this city has no streets yet, and grids, field prints and rosters "
                       "are made per street: import them (hygiene-map import admin_areas FILE --level street)",
                       f"{parameter}：{what[1]}；本市尚未导入街道，网格、巡查图和责任名册都按街道制作：请先导入街道"
                       "（hygiene-map import admin_areas 文件 --level street）")
    raise NotFound(f"{parameter}: {what[0]} (see the admin_areas layer for street codes)",
                   f"{parameter}：{what[1]}（街道代码见行政区划图层）")


def check_area_prefix(conn, code: str, parameter: str = "street") -> None:
    """NotFound unless some admin area's code is ``code`` or starts with it (analyses filter by prefix)."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM admin_areas WHERE starts_with(code, %s) LIMIT 1", (code,))
        if cur.fetchone() is None:
            raise NotFound(f"{parameter}: no admin area's code is or starts with {code!r} "
                           "(see the admin_areas layer for the codes)",
                           f"{parameter}：没有代码为 {code!r} 或以其开头的行政区划（代码见行政区划图层）")


def event_types(conn, lang: str = "zh") -> list[tuple[str, str]]:
    """Complaint categories as (name, label in the page language)."""
    with conn.cursor() as cur:
        cur.execute("SELECT name, name_en FROM event_types ORDER BY name")
        return [(name, (name_en or name) if lang == "en" else name) for name, name_en in cur.fetchall()]


def facility_counts(conn) -> dict[str, int]:
    """How many facilities of each kind (:data:`data.vocab.FACILITY_KINDS`, in its order) the city has in service:
    those the analyses count (one closed or under construction reaches no one). One statement."""
    parts = []
    for kind in FACILITY_KINDS.values():
        where = sql.SQL("in_service") if kind.category is None else \
            sql.SQL("in_service AND kind = {}").format(sql.Literal(kind.category))
        parts.append(sql.SQL("SELECT {}, count(*) FROM {} WHERE {}").format(
            sql.Literal(kind.key), sql.Identifier(kind.table), where))
    with conn.cursor() as cur:
        cur.execute(sql.SQL(" UNION ALL ").join(parts))
        counts = dict(cur.fetchall())
    return {key: counts[key] for key in FACILITY_KINDS}


def complaint_categories(conn) -> list[tuple[str, str | None, int]]:
    """The event types the city's complaints are of: (name, English name, how many), most complaints first."""
    with conn.cursor() as cur:
        cur.execute("SELECT c.category, e.name_en, count(*) FROM complaints c JOIN event_types e ON e.name = c.category "
                    "GROUP BY c.category, e.name_en ORDER BY count(*) DESC, c.category")
        return cur.fetchall()


def has_roads(conn) -> bool:
    """Whether the city has imported any roads (a map page without a basemap then still shows its streets)."""
    with conn.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM roads)")
        return cur.fetchone()[0]
