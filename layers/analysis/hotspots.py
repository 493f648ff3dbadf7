"""Hot spots: Getis–Ord Gi* of complaints on hexagons, optionally their monthly trend (:mod:`geo.hotspots`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from data.errors import InvalidParameter
from data.params import parse_bool, parse_list
from data.vocab import city_tz
from geo import hotspot_points, hotspot_scale
from geo import hotspots as hs
from layers.analysis.cache import COMPLAINT_TABLES, PLACE_TABLES, shared_part
from layers.analysis.encode import feature_collection, headers, value_name
from layers.analysis.registry import Analysis, Args, Report, optional_number, param, window
from layers.io.columns import normalise_header
from layers.io.values import vocabulary
from layers.spec.registry import get_layer

STATISTIC = ("Getis–Ord Gi*, binary weights over edge-sharing hexagons plus the cell itself; two-sided p; "
             "bins ±3/±2/±1 = 99/95/90 % confidence after FDR correction")
#: Fewer complaints than this and Gi* bins say little: a couple of complaints in an empty city make "99 %"
#: hot spots. ArcGIS's Optimized Hot Spot Analysis refuses fewer than 30 incidents; here the map is still drawn,
#: with a warning.
MIN_COMPLAINTS = 30
#: Fewer complaints than this per cell holding any: the bins show where complaints are, not where they cluster.
MIN_MEAN_PER_CELL = hotspot_scale.MIN_MEAN_PER_CELL
#: Fewer cells holding complaints than this and the hot spots are those few cells and their neighbours.
MIN_CELLS_WITH_COMPLAINTS = hs.MIN_CELLS_WITH_COMPLAINTS
SAID = {
    "few": {"zh": "投诉仅 {n} 件（少于 {min} 件）：热点置信度不可靠，仅供参考",
            "en": "only {n} complaints (fewer than {min}): the hot-spot confidence levels are not reliable"},
    "outside": {"zh": "时段内投诉 {total:,} 件，其中 {outside:,} 件在所有边长 {cell:g} m 的六边形之外（位于行政区边界以外、"
                      "导入容差以内），未计入",
                "en": "{outside:,} of the {total:,} complaints of the window lie outside every {cell:g} m hexagon "
                      "(beyond the admin areas' outline, let in by the import's tolerance) and are not counted"},
    "few_cells": {"zh": "{n:,} 件投诉只落在 {cells:,} 个六边形中的 {k:,} 个（少于 {min} 个）：热点只是这几个六边形及其相邻"
                        "六边形{hot0}，不表示聚集；请用较小的六边形{suggest}或较长的时段",
                  "en": "the {n:,} complaints fall in only {k:,} of the {cells:,} hexagons (fewer than {min}): the hot "
                        "spots are those few cells and their neighbours{hot0}, not clusters; use a smaller cell{suggest} or a longer window"},
    "suggest": {"zh": "（这些投诉的分布宜用 --cell {cell:g}，即 cell={cell:g}）", "zh0": "（--cell）",
                "en": " (for these complaints' spread: --cell {cell:g}, cell={cell:g})", "en0": " (--cell)"},
    "left_out": {"zh": "本月（{month}）尚未结束且还没有投诉，不计入趋势：逐月统计为 {first} 至 {last} 共 {count} 个月",
                 "en": "the current month ({month}) is unfinished and holds no complaint yet, so it is not counted in "
                       "the trend: the months are {first} … {last} ({count})"},
    "sparse": {"zh": "数据过稀：{n:,} 件投诉落在边长 {cell:g} m 的 {cells:,} 个六边形中的 {k:,} 个（{empty:.1f} % 的六边形没有"
                     "投诉，有投诉的平均仅 {mean:.1f} 件）：热点只表示哪里有投诉，不表示投诉聚集{lone}；请用较大的六边形"
                     "{suggest}或较长的时段",
               "en": "too sparse for {cell:g} m hexagons: {n:,} complaints in {k:,} of {cells:,} hexagons ({empty:.1f} % "
                     "hold none, the others {mean:.1f} on average): the hot spots show where complaints are, not where "
                     "they cluster{lone}; use a larger cell{suggest} or a longer window"},
    "lone": {"zh": "（一件投诉、周围没有投诉也被判为热点）",
             "en": " (a single complaint with none around it comes out as a hot spot)"},
    "hot0": {"zh": "（其中 {hot0:,} 个热点没有投诉）", "en": " ({hot0:,} of the hot spots hold no complaint)"},
}


#: The admin levels whose populations a rate per 10,000 residents may use (:func:`geo.hexcells.population_level`).
LEVELS = {"community": ("社区", "community"), "street": ("街道", "street"), "district": ("区县", "district")}
POPULATION = {"zh": "每万人投诉数的人口取自{level}人口（按面积分摊到各六边形）",
              "en": "the rates per 10,000 residents use the {level} populations (spread over the hexagons by area)"}


def population_note(summary: dict, lang: str) -> str | None:
    """Which admin level's populations the rates came from, in ``lang``; None for a map of counts."""
    level = summary.get("population_level")
    if not level:
        return None
    en = lang == "en"
    return POPULATION["en" if en else "zh"].format(level=LEVELS.get(level, (level, level))[1 if en else 0])


def hotspot_warning(summary: dict, lang: str) -> str | None:
    """:func:`hotspot_warnings` in one line (the answer's ``warning``, the page's legend), or None."""
    return ("; " if lang == "en" else "；").join(hotspot_warnings(summary, lang)) or None


def hotspot_warnings(summary: dict, lang: str) -> list[str]:
    """What makes the map unreliable or leaves complaints out, said beside the answer in ``lang``.

    Too few complaints; too few cells holding complaints; cells so small for the complaints that most cells with
    any hold one (or that a lone complaint is a hot spot); complaints of the window outside every cell (not
    counted).
    """
    lang = "en" if lang == "en" else "zh"
    n, k, cells, hot0 = (summary[key] for key in ("complaints", "cells_with_complaints", "cells",
                                                  "hot_without_complaints"))
    figures = dict(n=n, k=k, cells=cells, cell=summary["cell_m"], outside=summary["outside_city"],
                   total=n + summary["outside_city"], empty=100.0 * (cells - k) / max(cells, 1), mean=n / max(k, 1),
                   hot0=SAID["hot0"][lang].format(hot0=hot0) if hot0 else "",
                   suggest=_suggest(summary.get("suggested_cell_m"), lang))
    if n < MIN_COMPLAINTS:  # then also in few cells: that says it all
        said = [SAID["few"][lang].format(min=MIN_COMPLAINTS, **figures)]
    elif k < MIN_CELLS_WITH_COMPLAINTS:
        said = [SAID["few_cells"][lang].format(min=MIN_CELLS_WITH_COMPLAINTS, **figures)]
    else:
        sparse = hotspot_scale.sparse(summary)
        lone = SAID["lone"][lang] if summary["lone_complaint_hot"] else ""
        said = [SAID["sparse"][lang].format(lone=lone, **figures)] if sparse else []
    if summary["outside_city"]:
        said.append(SAID["outside"][lang].format(**figures))
    months = summary.get("months") or {}
    if months.get("unfinished_left_out"):
        said.append(SAID["left_out"][lang].format(month=months["unfinished_left_out"], **months))
    return said


def _suggest(cell_m: float | None, lang: str) -> str:
    """The concrete smaller edge a too-coarse map is told to use (:func:`geo.hotspot_scale.default_cell_m`)."""
    return SAID["suggest"][lang].format(cell=cell_m) if cell_m else SAID["suggest"][lang + "0"]


def _event_types(conn, given: tuple[str, ...]) -> list[str] | None:
    """The event types asked; one spelled as an import reads it (an English name, traditional characters, NYC 311's
    Rodent: :func:`layers.io.values.vocabulary`) is refused naming the type it is stored as — that type holds more
    than the spelling asked for (病媒生物: rats, but also mosquitoes and 311's pests in a flat)."""
    if not given:
        return None
    names = vocabulary(conn, next(f for f in get_layer("complaints").fields if f.column == "category"), {})
    stored = set(names.values())
    for asked in given:
        key = normalise_header(asked)
        name = names.get(key) or names.get((key,))  # (key,): a type only as a file's coarsest level (NYC 311's)
        if asked not in stored and name:
            raise InvalidParameter("category", f"{asked!r} is not an event type: complaints of it are imported as "
                                   f"{name!r}, which counts every complaint of that type; ask category={name}",
                                   f"{asked!r} 不是事件类型：这类投诉导入时归为 {name!r}，统计的是该类型的全部投诉；"
                                   f"请改用 category={name}")
    return list(given)


def centre(geometry: str) -> dict:
    """The ``lon``, ``lat`` of a hexagon's centre (the mean of its six corners, 6 decimals): where a table's row
    is on the ground, since the axial q, r mean nothing to a reader of the spreadsheet."""
    corners = json.loads(geometry)["coordinates"][0][:6]
    return {"lon": round(sum(c[0] for c in corners) / 6, 6), "lat": round(sum(c[1] for c in corners) / 6, 6)}


@dataclass
class Found:
    """The cells and, for emerging hot spots, one pattern key per cell."""

    cells: hs.HotspotResult
    patterns: list[str] | None = None


class Hotspots(Analysis):
    name = "hotspots"
    summary = "Getis–Ord Gi* hot spots of complaints on hexagons (count, gi_z, gi_p, gi_bin), FDR-corrected bins"
    tables = COMPLAINT_TABLES
    params = (
        window("ISO date or date-time, inclusive (no zone: the city's)",
               "ISO date or date-time, exclusive (no zone: the city's)"),
        param("category", parse_list, "event type name(s); repeat or comma-separate", kind="list"),
        param("cell", optional_number, "hexagon edge length in metres; default from the data"),
        param("per_population", parse_bool, "Gi* on complaints per 10,000 residents", kind="flag"),
        param("emerging", parse_bool, "add the monthly trend pattern per cell (Mann–Kendall)", kind="flag"),
    )

    def check(self, args: Args) -> None:
        hs.check_cell(args["cell"])

    def compute(self, conn, args: Args, cache=None) -> Found:
        def cells(conn, size: float, srid: int, with_population: bool, box=None):
            # The hexagons and their GeoJSON read the places only (the study area's box is a key): kept while
            # complaints come in.
            return shared_part(cache, conn, ("hotspot cells", size, srid, with_population, box), PLACE_TABLES,
                               lambda: hs.city_cells(conn, size, srid, with_population, box),
                               size=lambda part: 200 * len(part[2]) + sum(map(len, part[2])))

        def points(conn, srid: int, where: str, params: dict):
            # Every complaint's metric x, y (16 bytes each), kept while no complaint changes: a planner trying a
            # second new cell size bins them in numpy without reading the complaints again. A window's or
            # category's own are read each time (one binary COPY).
            if where != "true":
                return hotspot_points.read(conn, srid, where, params)
            return shared_part(cache, conn, ("hotspot points", srid), COMPLAINT_TABLES,
                               lambda: hotspot_points.read(conn, srid), size=lambda xy: xy[0].nbytes + xy[1].nbytes)

        common = dict(since=args["window"].since, until=args["window"].until,
                      categories=_event_types(conn, args["category"]), cell_m=args["cell"], tz=city_tz().key,
                      cells=cells)
        if args["emerging"]:
            cells, patterns, _ = hs.emerging(conn, points=points, **common)
            return Found(cells, patterns)
        return Found(hs.hotspots(conn, per_population=args["per_population"], points=points, **common))

    def geojson(self, found: Found, args: Args, lang: str) -> bytes:
        """Hexagons with count, gi_z, gi_p, gi_bin (rate and pattern where asked); the statistic on top."""
        result, patterns = found.cells, found.patterns
        feats = []
        for i, geometry in enumerate(result.geojson):
            props = {"q": int(result.q[i]), "r": int(result.r[i]), "count": int(result.count[i]),
                     "gi_z": float(result.gi_z[i]), "gi_p": float(result.gi_p[i]), "gi_bin": int(result.gi_bin[i])}
            if result.population is not None:
                props["population"] = float(result.population[i])
                props["rate_per_10k"] = float(result.value[i])
            if patterns is not None:
                props["pattern"] = patterns[i]
                props["pattern_name"] = hs.PATTERNS[patterns[i]][1 if lang == "en" else 0]
            feats.append((geometry, props))
        return feature_collection(feats, cell_m=result.cell_m, statistic=STATISTIC, summary=result.summary,
                                  population_note=population_note(result.summary, lang),
                                  warning=hotspot_warning(result.summary, lang))

    def rows(self, found: Found) -> list[dict]:
        """The cells hottest first (without their polygons)."""
        result, patterns = found.cells, found.patterns
        order = sorted(range(result.q.size), key=lambda i: -result.gi_z[i])
        return [{"q": int(result.q[i]), "r": int(result.r[i]), "count": int(result.count[i]),
                 "gi_z": float(result.gi_z[i]), "gi_p": float(result.gi_p[i]), "gi_bin": int(result.gi_bin[i]),
                 **({"pattern": patterns[i]} if patterns else {}), **centre(result.geojson[i])} for i in order]

    def report(self, found: Found, args: Args, lang: str) -> Report:
        result, s = found.cells, found.cells.summary
        head = _head(s, result.cell_m, lang) + [population_note(s, lang)] * bool(s.get("population_level")) \
            + hotspot_warnings(s, lang)
        keys = ["q", "r", "count", "gi_z", "gi_p", "gi_bin"] + (["pattern"] if found.patterns else []) + ["lon", "lat"]
        shown = {"gi_p": "{:.2e}", "lon": "{:.6f}", "lat": "{:.6f}"}  # the rest as the table's figures
        rows = [[shown[k].format(row[k]) if k in shown else value_name(k, row[k], lang) for k in keys]
                for row in self.rows(found)]
        return Report(head, headers(keys, lang), rows)


def _head(s: dict, cell_m: float, lang: str) -> list[str]:
    """What the map is made of and how many cells are hot or cold at each confidence, in ``lang``."""
    if lang == "en":
        return [f"Getis–Ord Gi* on {s['cells']:,} hexagons of {cell_m:g} m ({s['value']}), "
                f"{s['complaints']:,} complaints; FDR-corrected bins",
                f"hot 99 %: {s['hot_99']}  95 %: {s['hot_95']}  90 %: {s['hot_90']}   "
                f"cold 90 %: {s['cold_90']}  95 %: {s['cold_95']}  99 %: {s['cold_99']}"]
    value = "每万人投诉数" if s["value"].endswith("residents") else "投诉数"
    return [f"Getis–Ord Gi* 统计：边长 {cell_m:g} m 的六边形 {s['cells']:,} 个（{value}），投诉 {s['complaints']:,} 件；"
            "经 FDR 校正分级",
            f"热点 99 %：{s['hot_99']}  95 %：{s['hot_95']}  90 %：{s['hot_90']}   "
            f"冷点 90 %：{s['cold_90']}  95 %：{s['cold_95']}  99 %：{s['cold_99']}"]
