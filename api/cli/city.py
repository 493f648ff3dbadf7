"""`hygiene-map city`: set up the city this database describes, show it, change it.

The city is one row (``city_settings``): its name and code, the projected CRS
the analyses measure metres in, its time zone (a time written without a zone
means this) and the data's "as of" time printed on maps.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from data.errors import Conflict, InvalidParameter
from data.params import parse_epsg, parse_instant, parse_time_zone


def _data_time(raw: str, zone: str | None):
    """``--data-time``: an ISO 8601 time (without a zone: the city's), or ``none`` to clear it."""
    if raw.strip().lower() == "none":
        return None
    return parse_instant(raw, "--data-time", tz=ZoneInfo(zone) if zone else None)


@click.group("city")
def city() -> None:
    """The city this database describes: name, code, metric CRS, time zone, data time."""


@city.command("init")
@click.option("--name", required=True, help="the city's name (烟台市)")
@click.option("--code", required=True, help="the city's code (GB/T 2260: 370600)")
@click.option("--name-en", default=None, help="its English name (Yantai)")
@click.option("--crs", default=None, help="metric CRS as EPSG:n; default: chosen from the admin areas "
              "(CGCS2000 3° Gauss–Krüger in China, else UTM), at their first import if there are none yet")
@click.option("--tz", default=None, help="IANA time zone; default: where the areas lie (Asia/Shanghai on the "
              "mainland; see README), at their first import if there are none yet")
def init(name: str, code: str, name_en: str | None, crs: str | None, tz: str | None) -> None:
    """Set up the city (no demo): refuses when one is set up already (see `city set`)."""
    from data.catalog import areas_centre, auto_metric_srid, auto_time_zone, city_info, write_city
    from data.db import session, transaction
    from data.migrate import migrate

    srid = parse_epsg(crs, "--crs")
    zone = parse_time_zone(tz, "--tz")
    with session() as conn:
        migrate(conn)
        with transaction(conn):
            existing = city_info(conn)
            if existing is not None:
                raise Conflict(f"a city is set up already: {existing['name']} ({existing['code']}); change it with "
                               "`hygiene-map city set`")
            centre = areas_centre(conn)  # admin areas imported before: the CRS and zone follow from them
            if srid is None and centre:
                srid = auto_metric_srid(*centre)
            if zone is None and centre:
                zone = auto_time_zone(*centre)
            # No --tz and no areas yet: the default zone until the first admin-area import chooses it.
            write_city(conn, code=code.strip(), name=name, name_en=name_en, metric_srid=srid, time_zone=zone,
                       time_zone_pending=zone is None)
        _show(conn)


@city.command("show")
def show() -> None:
    """Print the city: name, code, metric CRS, time zone, data time, demo or not, admin areas."""
    from data.db import session
    from data.migrate import migrate

    with session() as conn:
        migrate(conn)
        _show(conn)


@city.command("set")
@click.option("--name", default=None, help="the city's name")
@click.option("--name-en", default=None, help="its English name")
@click.option("--code", default=None, help="the city's code")
@click.option("--crs", default=None, help="metric CRS as EPSG:n (complaints' metric coordinates follow)")
@click.option("--tz", default=None, help="IANA time zone (Asia/Taipei, America/New_York)")
@click.option("--data-time", default=None, help="the data's \"as of\" time (ISO 8601), or none to clear it")
def set_command(name, name_en, code, crs, tz, data_time) -> None:
    """Change the city's settings; options not given stay as they are."""
    from data.catalog import update_city
    from data.db import session, transaction
    from data.migrate import migrate

    changes = {"name": name, "name_en": name_en, "code": code and code.strip(),
               "metric_srid": parse_epsg(crs, "--crs"), "time_zone": parse_time_zone(tz, "--tz")}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes and data_time is None:
        raise InvalidParameter("city set", "nothing to change: give --name, --name-en, --code, --crs, --tz or "
                                           "--data-time")
    with session() as conn:  # opened first: a time without a zone is in the city's zone, read on connecting
        migrate(conn)
        if data_time is not None:
            changes["data_time"] = _data_time(data_time, changes.get("time_zone"))
        with transaction(conn):
            update_city(conn, changes)
        _show(conn)
    if "time_zone" in changes:
        click.echo("note: a running server reads times in the new zone once restarted")


_LEVELS = (("district", "districts"), ("street", "streets"), ("community", "communities"))


def _show(conn) -> None:
    from data.catalog import areas_summary, crs_name, require_city

    c = require_city(conn, settings=True)
    areas = areas_summary(conn)
    conn.rollback()
    srid = c["metric_srid"]
    crs = f"EPSG:{srid} {crs_name(conn, srid)}" if srid else "not chosen yet (the first admin-area import chooses it)"
    when = (c["data_time"].astimezone(ZoneInfo(c["time_zone"])).isoformat(" ", "minutes") if c["data_time"]
            else "none (maps show the current time)")
    counts = areas["counts"]
    zone = c["time_zone"] + (" for now (the first admin-area import chooses it)" if c["time_zone_pending"] else "")
    lines = [("name", c["name"] + (f" ({c['name_en']})" if c["name_en"] else "")), ("code", c["code"]),
             ("metric CRS", crs), ("time zone", zone), ("data time", when),
             ("demo data", "yes" if c["is_demo"] else "no"),
             ("admin areas", ", ".join(f"{counts.get(level, 0)} {plural}" for level, plural in _LEVELS))]
    if areas["extent"]:
        west, south, east, north = areas["extent"]
        lines.append(("extent", f"{west}, {south} – {east}, {north} (lon, lat WGS84)"))
    for label, value in lines:
        click.echo(f"{label + ':':13s}{value}")
    conn.rollback()
