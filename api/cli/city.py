"""`hygiene-map city`: set up the city this database describes, show it, change it.

The city is one row (``city_settings``): its name and code, the projected CRS
the analyses measure metres in, its time zone (a time written without a zone
means this) and the data's "as of" time printed on maps.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from api.cli.output import LANG as _LANG
from data.errors import Conflict, InvalidParameter
from data.params import parse_epsg, parse_instant, parse_time_zone
from data.said import say

#: The city as printed, in Chinese and in English (data.said.say): labels, then the values' words.
_SAID = {
    "name": ("名称", "name"), "code": ("代码", "code"), "crs": ("度量坐标系", "metric CRS"),
    "zone": ("时区", "time zone"), "when": ("数据时间", "data time"), "demo": ("演示数据", "demo data"),
    "areas": ("行政区划", "admin areas"), "extent": ("范围", "extent"),
    "label": ("{label}：", "{label}:"),
    "crs_pending": ("尚未选定（首次导入行政区划时选定）", "not chosen yet (the first admin-area import chooses it)"),
    "zone_pending": ("{zone}（暂定，首次导入行政区划时选定）", "{zone} for now (the first admin-area import chooses it)"),
    "no_data_time": ("无（地图显示当前时间）", "none (maps show the current time)"),
    "data_time_lapsed": ("{when}（不生效：已有晚于此时间上报的投诉，超期按当前时间判定）",
                         "{when} (not in force: complaints were reported after it; overdue is judged now)"),
    "yes": ("是", "yes"), "no": ("否", "no"),
    "counts": ("区 {district} 个，街道 {street} 个，社区 {community} 个",
               "{district} districts, {street} streets, {community} communities"),
    "bounds": ("{west}, {south} – {east}, {north}（经度、纬度，WGS84）", "{west}, {south} – {east}, {north} (lon, lat WGS84)"),
    "restart": ("说明：正在运行的服务重启后才按新时区读取时间", "note: a running server reads times in the new zone once restarted"),
}


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
@_LANG
def init(name: str, code: str, name_en: str | None, crs: str | None, tz: str | None, lang: str) -> None:
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
                               "`hygiene-map city set`",
                               f"已设置城市：{existing['name']}（{existing['code']}）；如需修改请用 `hygiene-map city set`")
            centre = areas_centre(conn)  # admin areas imported before: the CRS and zone follow from them
            if srid is None and centre:
                srid = auto_metric_srid(*centre)
            if zone is None and centre:
                zone = auto_time_zone(*centre)
            # No --tz and no areas yet: the default zone until the first admin-area import chooses it.
            write_city(conn, code=code.strip(), name=name, name_en=name_en, metric_srid=srid, time_zone=zone,
                       time_zone_pending=zone is None)
        _show(conn, lang)


@city.command("show")
@_LANG
def show(lang: str) -> None:
    """Print the city: name, code, metric CRS, time zone, data time, demo or not, admin areas."""
    from data.db import session
    from data.migrate import migrate

    with session() as conn:
        migrate(conn)
        _show(conn, lang)


@city.command("set")
@click.option("--name", default=None, help="the city's name")
@click.option("--name-en", default=None, help="its English name")
@click.option("--code", default=None, help="the city's code")
@click.option("--crs", default=None, help="metric CRS as EPSG:n (complaints' metric coordinates follow)")
@click.option("--tz", default=None, help="IANA time zone (Asia/Taipei, America/New_York)")
@click.option("--data-time", default=None, help="the data's \"as of\" time (ISO 8601), or none to clear it")
@_LANG
def set_command(name, name_en, code, crs, tz, data_time, lang) -> None:
    """Change the city's settings; options not given stay as they are."""
    from data.catalog import update_city
    from data.db import session, transaction
    from data.migrate import migrate

    changes = {"name": name, "name_en": name_en, "code": code and code.strip(),
               "metric_srid": parse_epsg(crs, "--crs"), "time_zone": parse_time_zone(tz, "--tz")}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes and data_time is None:
        raise InvalidParameter("city set", "nothing to change: give --name, --name-en, --code, --crs, --tz or "
                                           "--data-time",
                               "没有要修改的内容：请给出 --name、--name-en、--code、--crs、--tz 或 --data-time")
    with session() as conn:  # opened first: a time without a zone is in the city's zone, read on connecting
        migrate(conn)
        if data_time is not None:
            changes["data_time"] = _data_time(data_time, changes.get("time_zone"))
        with transaction(conn):
            update_city(conn, changes)
        _show(conn, lang)
    if "time_zone" in changes:
        click.echo(say(_SAID, "restart", lang))


_LABELS = ("name", "code", "crs", "zone", "when", "demo", "areas", "extent")


def _show(conn, lang: str) -> None:
    from data.catalog import areas_summary, crs_name, require_city

    c = require_city(conn, settings=True)
    areas = areas_summary(conn)
    conn.rollback()
    srid = c["metric_srid"]
    crs = f"EPSG:{srid} {crs_name(conn, srid)}" if srid else say(_SAID, "crs_pending", lang)
    when = (c["data_time"].astimezone(ZoneInfo(c["time_zone"])).isoformat(" ", "minutes") if c["data_time"]
            else say(_SAID, "no_data_time", lang))
    if c["data_time"] and c["data_time_in_force"] is None:
        when = say(_SAID, "data_time_lapsed", lang, when=when)
    counts = {level: areas["counts"].get(level, 0) for level in ("district", "street", "community")}
    zone = say(_SAID, "zone_pending", lang, zone=c["time_zone"]) if c["time_zone_pending"] else c["time_zone"]
    lines = [("name", c["name"] + (f" ({c['name_en']})" if c["name_en"] else "")), ("code", c["code"]),
             ("crs", crs), ("zone", zone), ("when", when), ("demo", say(_SAID, "yes" if c["is_demo"] else "no", lang)),
             ("areas", say(_SAID, "counts", lang, **counts))]
    if areas["extent"]:
        west, south, east, north = areas["extent"]
        lines.append(("extent", say(_SAID, "bounds", lang, west=west, south=south, east=east, north=north)))
    labels = {key: say(_SAID, "label", lang, label=say(_SAID, key, lang)) for key in _LABELS}
    width = max(_width(label) for label in labels.values()) + 1  # the values in one column
    for key, value in lines:
        click.echo(labels[key] + " " * (width - _width(labels[key])) + value)
    conn.rollback()


def _width(text: str) -> int:
    """Terminal columns: a Chinese character or punctuation mark takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
