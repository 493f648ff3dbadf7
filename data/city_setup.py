"""The city set up from its first admin areas: name, code, metric CRS and time zone, and the notes saying so.

An admin-area import calls :func:`establish_city` after it wrote; `city init`
may have named the city and left the CRS or the zone to the areas.
"""

from __future__ import annotations

import os
import re

from data.catalog import areas_centre, auto_metric_srid, auto_time_zone, city_info, crs_name, update_city, write_city
from data.params import AREA_CODE
from data.said import Note


def establish_city(conn, source: str, *, dry_run: bool = False) -> list[Note]:
    """Set up the city from its admin areas when none is set up (or complete its missing metric CRS and zone).

    Returns the notes saying what was set up (none when a city with a metric
    CRS and a chosen zone exists). The rule: a file whose coarsest level
    holds one area names the city after it (name and code); otherwise the
    city is named after the file, coded with the parent code its top areas
    share, else their longest common prefix, else the file name. Metric CRS
    and time zone follow from the centroid of the areas
    (:func:`data.catalog.auto_metric_srid`, :func:`data.catalog.auto_time_zone`);
    a zone named with ``--tz`` is kept.
    """
    city = city_info(conn, settings=True)
    if city is not None and city["metric_srid"] is not None and not city["time_zone_pending"]:
        return []
    centre = areas_centre(conn)
    if centre is None:
        return []
    if city is not None:
        return _complete_city(conn, city, centre, dry_run)
    with conn.cursor() as cur:
        cur.execute("""SELECT code, name, name_en, parent_code FROM admin_areas WHERE level = (
                           SELECT level FROM admin_areas ORDER BY array_position(ARRAY['district', 'street',
                                                                                        'community'], level) LIMIT 1)
                       ORDER BY code""")
        top = cur.fetchall()
    srid = auto_metric_srid(*centre)
    code, name, name_en = _city_names(top, source)
    zone = auto_time_zone(*centre)
    write_city(conn, code=code, name=name, name_en=name_en, metric_srid=srid, time_zone=zone)
    crs = f"EPSG:{srid} ({crs_name(conn, srid)})"
    return [Note(f"尚未设置城市：本次导入{'将' if dry_run else '已'}按这些区域设置城市“{name}”（代码 {code}），"
                 f"度量坐标系 {crs}，时区 {zone}{_fixed(zone, 'zh')}；用 `hygiene-map city show` 查看，"
                 "用 `hygiene-map city set --name … --code … --crs … --tz …` 修改",
                 f"no city was set up: this import {'would set' if dry_run else 'sets'} it up from these areas as "
                 f"{name!r} (code {code}), metric CRS {crs}, time zone {zone}{_fixed(zone, 'en')}; see it with "
                 "`hygiene-map city show`, change any of it with `hygiene-map city set --name … --code … --crs … "
                 "--tz …`")]


def _complete_city(conn, city: dict, centre: tuple[float, float], dry_run: bool) -> list[Note]:
    """Choose what `city init` left to the areas (the metric CRS, the zone when no ``--tz`` named it); the notes."""
    changes, notes = {}, []
    verb, done = ("would set", "将") if dry_run else ("sets", "已")
    if city["metric_srid"] is None:
        srid = changes["metric_srid"] = auto_metric_srid(*centre)
        crs = f"EPSG:{srid} ({crs_name(conn, srid)})"
        notes.append(Note(f"城市的度量坐标系尚未选定：本次导入{done}按区域中心设为 {crs}；"
                          "用 `hygiene-map city set --crs EPSG:n` 修改",
                          f"the city's metric CRS was not chosen yet: this import {verb} it to {crs} from the areas' "
                          "centre; change it with `hygiene-map city set --crs EPSG:n`"))
    if city["time_zone_pending"]:
        zone = changes["time_zone"] = auto_time_zone(*centre)
        notes.append(Note(f"城市的时区尚未指定：本次导入{done}设为区域所在的时区 {zone}{_fixed(zone, 'zh')}；"
                          "用 `hygiene-map city set --tz ZONE` 修改",
                          f"the city's time zone was not named yet: this import {verb} it to {zone}"
                          f"{_fixed(zone, 'en')}, the zone the areas lie in; change it with "
                          "`hygiene-map city set --tz ZONE`"))
    update_city(conn, changes)
    return notes


def _fixed(zone: str, lang: str) -> str:
    """What a note adds about a zone chosen at sea: a fixed offset, without daylight saving."""
    if not zone.startswith("Etc/"):
        return ""
    if lang == "zh":
        return "（与 UTC 相差固定时数，不含夏令时：请用 `--tz` 指明城市自己的时区，如 America/New_York）"
    return (" (a fixed offset from UTC, without daylight saving: name the city's own zone with `--tz`, "
            "e.g. America/New_York)")


def _city_names(top: list[tuple], source: str) -> tuple[str, str, str | None]:
    """(code, name, name_en) of a city set up from its top areas (rows of code, name, name_en, parent_code)."""
    if len(top) == 1:
        return top[0][0], top[0][1], top[0][2]
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", os.path.basename(source)) or "city"
    parents = {row[3] for row in top}
    code = parents.pop() if len(parents) == 1 and None not in parents else os.path.commonprefix([r[0] for r in top])
    if not AREA_CODE.fullmatch(code or ""):
        code = re.sub(r"[^A-Za-z0-9.\-]", "", stem)[:32] or "city"
    return code, stem, None
