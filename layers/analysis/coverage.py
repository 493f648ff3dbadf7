"""Coverage: covered area and population per area, and the gaps (:mod:`geo.coverage`)."""

from __future__ import annotations

from psycopg2 import sql

from data.catalog import area_level, require_level
from data.errors import InvalidParameter
from data.params import clean_text, parse_area_code, parse_bool
from data.vocab import FACILITY_KINDS, UNIT_NAMES, facility_key, facility_kinds_help
from geo.coverage import LEVELS, METHODS, RADIAL_ERROR, SIDES, check_level, check_method, coverage, resolve
from geo.residents import COVERS
from layers.analysis.cache import PLACE_TABLES
from layers.analysis.coverage_state import STATE
from layers.analysis.encode import feature_collection, figure, headers, said_grids
from layers.analysis.registry import Analysis, Args, Report, optional_number, param
from layers.analysis.scope import scope, totals_label

#: The members of an area feature (besides its type and rule).
AREA_KEYS = ("code", "name", "name_en", "area_km2", "population", "covered_area_pct", "covered_pop_pct",
             "population_spread")
#: The facility kind and its service radius, as coverage, density and siting read them.
KIND = param("kind", lambda raw, name: parse_kind(clean_text(raw, name)), facility_kinds_help(), default="toilets")


def parse_kind(text: str | None) -> str | None:
    """The key of the kind ``text`` names (a key, its layer's id, its Chinese name); other text as it is, which
    the analysis's check refuses naming the kinds."""
    return facility_key(text) or text if text is not None else None


RADIUS = param("radius", optional_number, "metres; default: the kind's standard")


class Coverage(Analysis):
    name = "coverage"
    by_default = "community"
    summary = "Covered area and population per area (straight-line radius or walking distance); gap polygons with gaps"
    tables = PLACE_TABLES
    params = (
        KIND,
        RADIUS,
        param("by", clean_text, f"{', '.join(LEVELS)}; default: community, else the finest level the city has"),
        param("gaps", parse_bool, "also the gap polygons (uncovered part of each area)", kind="flag"),
        param("street", parse_area_code, "only areas whose code starts with this"),
        param("method", clean_text, f"{' or '.join(METHODS)}: service radius, or walking distance along the "
                                    "roads (pgRouting)", default="straight"),
    )

    def check(self, args: Args) -> None:
        resolve(args["kind"], args["radius"])  # a bad kind, or a kind without a standard radius and none given
        if args["by"] is not None:
            check_level(args["by"])
        check_method(args["method"])

    def compute(self, conn, args: Args, cache=None) -> dict:
        by = require_level(conn, args["by"]) if args["by"] else area_level(conn, self.by_default)
        require_areas_in(conn, by, args["street"])
        result = said_grids(coverage(conn, args["kind"], args["radius"], by, gaps=args["gaps"],
                                     code_prefix=args["street"], method=args["method"], store=STATE))
        # The summary adds up the areas shown: the city, unless they cover only part of it (a street's are a street's).
        s = result["summary"]
        result["scope"] = None if args["street"] else scope(conn, by, s["areas"], s["area_km2"] * 1e6)
        return result

    def geojson(self, result: dict, args: Args, lang: str) -> bytes:
        """Areas (and their gap polygons with ``gaps``); the rule, method and summary on top."""
        rule = result["rule"].as_dict(lang) if result["rule"] is not None else None
        feats = [(r["geometry"], {"feature_type": "area", **{k: r[k] for k in AREA_KEYS},
                                  "rule": rule["id"] if rule else None}) for r in result["rows"]]
        if args["gaps"]:
            feats += [(r["gaps"], {"feature_type": "gap", "code": r["code"], "name": r["name"]})
                      for r in result["rows"] if r["gaps"]]
        return feature_collection(feats, kind=result["kind"], by=result["by"], radius_m=result["radius_m"],
                                  method=result["method"], method_key=result["method_key"],
                                  method_asked=args["method"], circle=result["circle"],
                                  rule=rule, summary=result["summary"], warning=facility_warning(result, lang),
                                  facilities=result["facilities"],
                                  population_note=partly_drawn_note(result, lang), scope=result.get("scope"),
                                  totals_label=totals_label(result.get("scope"), lang, ("合计", "Total")))

    def notes(self, result: dict, lang: str) -> list[str]:
        """The caveats, then the rule (service radius and its standard), cited as the plan comparison's workbook does."""
        return [*super().notes(result, lang), rule_line(result["rule"], result["radius_m"], lang)]

    def total(self, result: dict, lang: str) -> dict:
        """The summary as the table's 合计 row (the areas drawn, when they are not the whole city)."""
        s = result["summary"]
        return {"label": totals_label(result.get("scope"), lang, ("合计", "Total")), "area_km2": s["area_km2"],
                "covered_area_pct": s["covered_area_pct"], "population": s["population"],
                "covered_pop_pct": s["covered_pop_pct"]}

    def report(self, result: dict, args: Args, lang: str) -> Report:
        s, en = result["summary"], lang == "en"
        rows = [[r["code"], r["name_en"] if en and r["name_en"] else r["name"], r["area_km2"],
                 r["covered_area_pct"], r["population"], r["covered_pop_pct"]]
                for r in sorted(result["rows"], key=lambda r: r["covered_area_pct"] or 0)]
        label = totals_label(result.get("scope"), lang, ("合计", "total"))  # the few areas drawn are not the city
        people = s["covered_pop_pct"]  # None in a city without population: said, not "— %"
        if en:
            people = f"{figure(people)} %" if people is not None else "— (no population)"
            tail = f"{label}: {s['areas']} areas, covered area {figure(s['covered_area_pct'])} %, " \
                   f"covered population {people}"
        else:
            people = f"{figure(people)} %" if people is not None else "—（无人口数据）"
            tail = f"{label}：{s['areas']} 个区域，覆盖面积 {figure(s['covered_area_pct'])} %，覆盖人口 {people}"
        keys = ("code", "name", "area_km2", "covered_area_pct", "population", "covered_pop_pct")
        said = [n for n in (facility_warning(result, lang), partly_drawn_note(result, lang)) if n]
        return Report(_head(result, args, lang) + said, headers(keys, lang), rows, [tail])


def require_areas_in(conn, by: str, street: str | None) -> None:
    """InvalidParameter when ``street`` (a code prefix) holds no area at level ``by``: ``street=MN03&by=district``
    answered an empty map, which reads as "nothing there", and density then said the standard set no density."""
    if not street:
        return
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT 1 FROM ({}) a(code) WHERE starts_with(a.code, %s) LIMIT 1").format(
            sql.SQL(LEVELS[by])), (street,))
        if cur.fetchone() is not None:
            return
    raise InvalidParameter("by", f"no {by} area's code starts with {street!r}: a {by} is not part of it; ask by a "
                                 "level within it (street, community, grid) or without street",
                           f"没有代码以“{street}”开头的{UNIT_NAMES['zh'][by]}：{UNIT_NAMES['zh'][by]}不在其范围内；"
                           "请按其下的街道、社区或网格统计，或不限街道")


def rule_line(rule, radius: float, lang: str) -> str:
    """The standard a radius comes from, as maps and plans cite it; or that the radius is the user's own."""
    if rule is not None:
        return rule.describe(lang)
    return f"radius {radius:g} m (given; no standard applied)" if lang == "en" else \
        f"服务半径 {radius:g} m（用户指定，未采用标准条文）"


def facility_warning(result: dict, lang: str) -> str | None:
    """What coverage, density and siting leave out, said beside the answer: facilities of the kind not in service
    (closed, under construction); and when none is in the data at all, that the zeros are missing data."""
    kind, said = FACILITY_KINDS[result["kind"]], []
    if n := result.get("not_in_service"):
        said.append(f"{n:,} {kind.name('en')} not in service (closed, under construction) are not counted" if lang == "en"
                    else f"不计不在用（停用、在建等）的{kind.name('zh')} {n:,} 处")
    if not result["facilities"] and n:
        said.append("none of them is in service: every answer is 0" if lang == "en" else "均不在用：结果全为 0")
    elif not result["facilities"]:
        said.append(f"no {kind.name('en')} in the city's data: its zeros are missing data, not necessarily missing "
                    f"facilities; import the {kind.table} layer first (hygiene-map import)" if lang == "en" else
                    f"没有{kind.name('zh')}数据：结果中的 0 是缺少数据，不一定是缺少设施；请先导入{kind.name('zh')}图层")
    return ("; " if lang == "en" else "；").join(said) or None


def partly_drawn_note(result: dict, lang: str) -> str | None:
    """Which districts or streets have communities (all with a population) that cover too little of them to give
    their residents (:data:`geo.residents.COVERS`): their own figure is used, else none; and which have only some
    communities with a population (:func:`_mixed_note`); None when there is none."""
    areas = result.get("partly_drawn") or []  # a cached answer from before may lack it
    notes = [_mixed_note(result.get("mixed") or [], lang)]
    if areas:
        need = f"{COVERS * 100:g} %"
        if lang == "en":
            said = ", ".join(f"{a['name_en'] or a['name']} {a['drawn_pct']:.1f} %" for a in areas)
            notes.insert(0, f"residents not added up from communities that cover only part of the area ({said} of "
                            f"its area; {need} needed): the area's own population is used, else it is unknown")
        else:
            said = "、".join(f"{a['name']} {a['drawn_pct']:.1f} %" for a in areas)
            notes.insert(0, f"社区只覆盖部分面积（{said}，须达 {need}），人口不由社区汇总：取该区域自身人口，没有则为不详")
    said = [n for n in notes if n]
    return ("; " if lang == "en" else "；").join(said) if said else None


def _mixed_note(areas: list[dict], lang: str) -> str | None:
    """Which areas have only some communities with a population: their covered residents are unknown (the others'
    share would stand for all), where an area with none below it spreads its own figure."""
    if not areas:
        return None
    if lang == "en":
        said = ", ".join(a["name_en"] or a["name"] for a in areas)
        return (f"covered residents unknown in {said}: only some of its communities have a population (an area "
                "with none below it spreads its own population over its residential land, else its area)")
    said = "、".join(a["name"] for a in areas)
    return f"{said}：只有部分社区有人口数据，覆盖人口不详（下级社区均无人口数据的区域按自身人口，分布于居住用地，没有则按面积）"


def _head(result: dict, args: Args, lang: str) -> list[str]:
    """The rule (or the radius given) and the method, in ``lang``."""
    if lang == "en":
        return [rule_line(result["rule"], result["radius_m"], lang),
                f"method: {result['method']}; circle: {result['circle']}"]
    if result["method_key"] == "walk":
        from geo.walking import WALK_ACCESS_M

        method = (f"沿道路步行距离（pgRouting pgr_drivingDistance，到达 {result['walk_nodes']:,} 个路网节点，"
                  f"所达道路两侧各 {WALK_ACCESS_M:g} m）")
    else:
        method = "直线距离" + ("（要求步行距离，但没有道路数据）" if args["method"] == "walk" else "")
    return [rule_line(result["rule"], result["radius_m"], lang),
            f"方法：{method}；圆：等面积正 {SIDES} 边形，边界与真圆之差不超过 r 的 {RADIAL_ERROR * 100:.3f} %"]
