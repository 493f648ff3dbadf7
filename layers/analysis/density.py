"""Density: facilities per km² and per 10,000 residents against the planning bands (:mod:`geo.density`)."""

from __future__ import annotations

from data.catalog import area_level, require_level
from data.params import clean_text, parse_area_code
from geo.coverage import LEVELS, check_level, facility_kind
from geo.density import WHOLE_AREA_MAX_KM2, density
from layers.analysis.cache import PLACE_TABLES
from layers.analysis.coverage import KIND, facility_warning, partly_drawn_note, require_areas_in
from layers.analysis.encode import feature_collection, features, figure, headers, rate_figure, said_grids, value_name
from layers.analysis.registry import Analysis, Args, Report, param

#: Said when an area has no land use: the built-up band is then applied to the whole area.
WHOLE_AREA_NOTE = {
    "zh": "无用地数据：期望值 = 整个区域面积 × 建成区密度；区域含山林、郊野公园、水面等非建成区时期望值偏高，"
          "“低于”仅供参考。导入用地数据后按用地类型计算",
    "en": "no land use: the expected range is the built-up band times the whole area; where an area includes "
          "hills, country parks or water that are not built up, the range is too high and 'below' only indicative. "
          "Import land use to judge by land-use class",
}


#: Said when areas are not judged: no land use, and too large for the whole area to stand for built-up land.
UNJUDGED_NOTE = {
    "zh": "未评判 {n} 个区域（无建成区用地）：无用地数据且面积超过 {km2:g} km²，多为郊区、农村、山林，"
          "按建成区密度乘整个面积的期望值没有意义，不作低于/符合/高于判断；导入用地数据后按用地类型判定",
    "en": "{n} area(s) not judged (no built-up land): no land use and larger than {km2:g} km², mostly suburbs, "
          "farmland or hills, where the built-up band times the whole area means nothing; import land use to judge "
          "them by land-use class",
}


def band_use(result: dict, lang: str) -> str | None:
    """How the built-up band is meant to be used (STANDARDS §1), in one line, where it was applied: its lower bound for
    new districts, its upper end for old districts, tourist cities and dense land; the verdict's pass mark is the
    lower bound, so an old centre "within" may still be short of its band. None where the band was not applied."""
    rule = next((r for r in result["rules"] if r.metric == "density_city"), None)
    if rule is None:
        return None
    lo, hi = f"{rule.number():g}", f"{(rule.upper() or rule.number()):g}"
    if lang == "en":
        return f"built-up band {lo}–{hi} per km²: {lo} for new districts, up to {hi} for old districts, tourist " \
               f"cities and dense land; 'below' means under {lo}"
    return f"建成区密度 {lo}–{hi} 座/km²：新区取下限 {lo}，老城区、旅游城市、用地紧张地区取上限 {hi}；“低于标准”指低于下限 {lo}"


def basis_note(result: dict, lang: str) -> str | None:
    """The caveats of areas without land use (basis ``city``): those judged over their whole area, those too large
    to be judged (``unjudged``); None when every area had land use."""
    key = "en" if lang == "en" else "zh"
    whole = [r for r in result["rows"] if r["basis"] == "city"]
    unjudged = sum(r["status"] == "unjudged" for r in whole)
    said = [WHOLE_AREA_NOTE[key]] if len(whole) > unjudged else []
    if unjudged:
        said.append(UNJUDGED_NOTE[key].format(n=unjudged, km2=WHOLE_AREA_MAX_KM2))
    return ("; " if lang == "en" else "；").join(said) or None


class Density(Analysis):
    name = "density"
    by_default = "street"
    summary = "Facilities per km² and per 10,000 residents, below / within / above the planning band"
    tables = PLACE_TABLES
    params = (
        KIND,  # only toilets have density bands
        param("by", clean_text, f"{', '.join(LEVELS)}; default: street, else the finest level the city has"),
        param("street", parse_area_code, "only areas whose code starts with this"),
    )

    def check(self, args: Args) -> None:
        facility_kind(args["kind"])
        if args["by"] is not None:
            check_level(args["by"])

    def compute(self, conn, args: Args, cache=None) -> dict:
        by = require_level(conn, args["by"]) if args["by"] else area_level(conn, self.by_default)
        require_areas_in(conn, by, args["street"])
        return said_grids(density(conn, args["kind"], by, code_prefix=args["street"]))

    def geojson(self, result: dict, args: Args, lang: str) -> bytes:
        return feature_collection(features(result["rows"]), kind=result["kind"], by=result["by"],
                                  rules=[r.as_dict(lang) for r in result["rules"]], summary=result["summary"],
                                  band_use=band_use(result, lang), facilities=result["facilities"],
                                  basis_note=basis_note(result, lang) if result["rules"] else no_band_note(
                                      result["kind"], lang), warning=facility_warning(result, lang),
                                  population_note=partly_drawn_note(result, lang))

    def notes(self, result: dict, lang: str) -> list[str]:
        """The standards the bands come from and how they were applied, as the page's legend says them."""
        cited = [rule.describe(lang) for rule in result["rules"]] + [u for u in [band_use(result, lang)] if u]
        note = basis_note(result, lang) if result["rules"] else no_band_note(result["kind"], lang)
        return super().notes(result, lang) + cited + ([note] if note else [])

    def total(self, result: dict, lang: str) -> dict:
        """The areas together (the summary's figures) as the table's 合计 row."""
        s = result["summary"]
        return {"label": "合计" if lang != "en" else "Total",
                **{k: s[k] for k in ("count", "area_km2", "per_km2", "population", "per_10k_residents")}}

    def report(self, result: dict, args: Args, lang: str) -> Report:
        rows = [[r["code"], r["name_en"] if lang == "en" and r["name_en"] else r["name"], r["count"], r["area_km2"],
                 rate_figure(r["per_km2"]), rate_figure(r["per_10k_residents"]),
                 f"{r['expected_min']:.1f}–{r['expected_max']:.1f}" if r["expected_min"] is not None else None,
                 value_name("status", r["status"], lang)] for r in sorted(result["rows"], key=_weakest_first)]
        note = basis_note(result, lang) if result["rules"] else no_band_note(result["kind"], lang)
        keys = ("code", "name", "count", "area_km2", "per_km2", "per_10k_residents", "expected", "status")
        warning = facility_warning(result, lang)
        said = [n for n in (note, warning, partly_drawn_note(result, lang)) if n]
        cited = [rule.describe(lang) for rule in result["rules"]] + [u for u in [band_use(result, lang)] if u]
        return Report(cited + said + [_together(result, lang)],
                      headers(keys, lang), rows, [_total(result, lang)])


def _weakest_first(row: dict) -> tuple:
    """Sort key of the table: the areas judged first, furthest below their band's minimum first (below, then
    within, then above, as the count over the minimum rises); areas with no band after, fewest per km² first."""
    if row["expected_min"]:
        return (0, row["count"] / row["expected_min"], row["code"])
    return (1, row["per_km2"] if row["per_km2"] is not None else float("inf"), row["code"])


def _together(result: dict, lang: str) -> str:
    """All the areas together: how many facilities, their km², per km² and per 10,000 residents (of the areas
    whose residents are known, saying how many are not)."""
    s, unit = result["summary"], "座" if result["kind"] == "toilets" else "处"  # toilets are counted in 座
    if lang == "en":
        return f"all areas: {s['count']:,} facilities, {figure(s['area_km2'])} km², {rate_figure(s['per_km2'])} per km², " \
               f"{rate_figure(s['per_10k_residents'])} per 10,000 residents" + _unknown_residents(s, lang)
    return f"各区域合计：{s['count']:,} {unit}，{figure(s['area_km2'])} km²，每平方公里 {rate_figure(s['per_km2'])} {unit}，" \
           f"每万人 {rate_figure(s['per_10k_residents'])} {unit}" + _unknown_residents(s, lang)


def _unknown_residents(s: dict, lang: str) -> str:
    """How many areas' residents are unknown (none, or only some of their communities', have a population): their
    facilities are left out of the rate per 10,000 residents. Empty when every area's are known."""
    n = s["without_population"]
    if not n:
        return ""
    if lang == "en":
        if n == s["areas"]:
            return " (no area's population is known)"
        return f" ({n} area{'s' if n > 1 else ''} of unknown population left out)"
    return "（各区域人口均不详）" if n == s["areas"] else f"（{n} 个区域人口不详，未计入）"


def _total(result: dict, lang: str) -> str:
    """The summary line: how many areas, and (where a band applies) how many below, within and above it."""
    s = result["summary"]
    if s.get("no_data"):  # nothing of the kind imported: no verdict at all, the warning says why
        return f"total: {s['areas']} areas, not judged (no data)" if lang == "en" else \
            f"合计：{s['areas']} 个区域，无数据，不作判断"
    # Without a band there is no verdict: "0 below, 0 within, 0 above" would read as one.
    if lang == "en":
        verdict = f": {s['below']} below, {s['within']} within, {s['above']} above the band" if result["rules"] else ""
        unjudged = f", {s['unjudged']} not judged (no land use, over {WHOLE_AREA_MAX_KM2:g} km²)" \
            if s.get("unjudged") else ""
        return f"total: {s['areas']} areas{verdict}{unjudged}"
    verdict = f"：低于标准 {s['below']} 个，符合 {s['within']} 个，高于 {s['above']} 个" if result["rules"] else ""
    unjudged = f"，未评判（无建成区用地，面积超过 {WHOLE_AREA_MAX_KM2:g} km²）{s['unjudged']} 个" if s.get("unjudged") else ""
    return f"合计：{s['areas']} 个区域{verdict}{unjudged}"


def no_band_note(kind: str, lang: str) -> str:
    """Said when no standard gives ``kind`` a planning density: the counts and densities are shown, not judged."""
    name = facility_kind(kind).name(lang)
    if lang == "en":
        return f"{name}: no standard gives a planning density; counts and densities only, no below/within/above"
    return f"{name}：标准未规定设置密度，仅列数量与密度，不作低于/符合/高于判断"
