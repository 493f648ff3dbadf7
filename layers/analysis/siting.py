"""Siting: where K new facilities would cover the most residents, area or complaints not yet covered (:mod:`geo.siting`)."""

from __future__ import annotations

from data.params import clean_text, parse_area_code, parse_int
from geo.coverage import resolve
from geo.demand import DEMAND_CELL_M, MAX_DEMAND_CELLS, OBJECTIVES, check_objective
from geo.siting import check_add, siting, siting_places
from layers.analysis.cache import COMPLAINT_TABLES, PLACE_TABLES, shared_part
from layers.analysis.coverage import KIND, RADIUS, facility_warning
from layers.analysis.coverage_state import STATE
from layers.analysis.encode import feature_collection, features, figure, headers
from layers.analysis.registry import Analysis, Args, Report, param

#: PostgreSQL's integer range: what ``add`` may be written as; its range is check_add's, which names its setting.
INT4 = (-(2**31), 2**31 - 1)


class Siting(Analysis):
    name = "siting"
    summary = ("New sites on the roads that cover the most residents (or residential area, or open complaints) "
               "not yet covered (greedy maximum coverage)")
    tables = COMPLAINT_TABLES  # the complaints objective (and the automatic choice's last resort) reads them
    params = (
        KIND,
        param("add", lambda raw, name: parse_int(raw, name, *INT4), "how many new sites to propose", default="5",
              cli_required=True),
        param("street", parse_area_code, "street code (a district code in a city of districts only): demand and "
                                        "candidates inside it only"),
        RADIUS,
        param("objective", lambda raw, name: check_objective(clean_text(raw, name) or None),
              f"what to cover: {' | '.join(OBJECTIVES)} (default: the first the data has, in that order)"),
    )

    def check(self, args: Args) -> None:
        resolve(args["kind"], args["radius"])
        check_add(args["add"])

    def compute(self, conn, args: Args, cache=None) -> dict:
        kind, street, objective = args["kind"], args["street"], args["objective"]
        # Facilities, road candidates and the demand lattice read no complaints: kept while the places
        # stand, so a complaint coming in (or another add or radius) reruns only the greedy.
        places = shared_part(cache, conn, ("siting places", kind, street, objective), PLACE_TABLES,
                             lambda: siting_places(conn, kind, street, objective), size=lambda part: part.nbytes)
        # The figures are measured on coverage's state, kept as the coverage map and the what-ifs keep it.
        return siting(conn, kind, args["add"], radius_m=args["radius"], street=street, objective=objective,
                      places=places, store=STATE)

    def geojson(self, result: dict, args: Args, lang: str) -> bytes:
        """The new sites' service discs; the objective, covered demand before and after, radius and rule on top."""
        rule = result["rule"].as_dict(lang) if result["rule"] else None
        return feature_collection(features(result["sites"], geometry="disc"), objective=result["objective"],
                                  objective_label=objective_label(result, lang), measure=result["measure"],
                                  candidates_on=result["candidates_on"],
                                  before=result["before"], after=result["after"], radius_m=result["radius_m"],
                                  rule=rule, warning=siting_warning(result, lang))

    def rows(self, result: dict) -> list[dict]:
        return result["sites"]

    def report(self, result: dict, args: Args, lang: str) -> Report:
        rule, sites, measure, en = result["rule"], result["sites"], result["measure"], lang == "en"
        given = f"radius {result['radius_m']:g} m (given)" if en else f"服务半径 {result['radius_m']:g} m（用户指定）"
        head = [rule.describe(lang) if rule else given, objective_label(result, lang)]
        warning = siting_warning(result, lang)  # not in service left out; none at all: its 0 is missing data
        if warning:
            head.append(warning)
        if result["candidates_on"] == "lattice":
            head.append("no roads: candidate sites at the centres of the demand lattice" if en else
                        "无道路数据：候选点取需求网格中心")
        rows = [[s["rank"], f"{s['lon']:.6f}", f"{s['lat']:.6f}", s["new_" + measure]] for s in sites]
        tail = []
        if len(sites) < args["add"]:
            tail.append(f"stopped after {len(sites)} sites: no other candidate covers anything new" if en else
                        f"选出 {len(sites)} 处后停止：其余候选点都不能新增覆盖")
        b, a = result["before"], result["after"]
        before, after = (f"{x[measure]:,.0f} ({figure(x['pct'])} %)" if en else f"{x[measure]:,.0f}（{figure(x['pct'])} %）"
                         for x in (b, a))
        tail.append(f"covered {measure}: before {before}, after {after}" if en else
                    f"已覆盖{_MEASURES[measure]}：现状 {before}，新增后 {after}")
        return Report(head, headers(("rank", "lon", "lat", "new_" + measure), lang), rows, tail, whole=True)


def siting_warning(result: dict, lang: str) -> str | None:
    """What the sites rest on, said with them: facilities left out or missing (coverage's warning), and demand spread
    evenly over whole areas (no communities, no land use), where the sites are only indicative."""
    said = [w for w in (facility_warning(result, lang), _uniform_note(result, lang), _cell_note(result, lang)) if w]
    return ("; " if lang == "en" else "；").join(said) or None


def _uniform_note(result: dict, lang: str) -> str | None:
    if not result.get("uniform"):  # a cached answer from before may lack it
        return None
    what = ("residents", "人口") if result["objective"] == "residents" else ("demand", "需求")
    if lang == "en":
        return (f"{what[0]} spread evenly over each area's extent: the sites are indicative only, import communities "
                "with population, or land use (which of several near-equal spots is chosen is arbitrary)")
    return f"{what[1]}按区域面积均匀分布：选址仅供参考，请导入社区人口或用地（条件相近的多处之间选哪一处是任意的）"


def _cell_note(result: dict, lang: str) -> str | None:
    """Said when the demand lattice is coarser than 50 m: the area asked is too large for it (geo.demand.demand_cell)."""
    cell = result.get("demand_cell_m")  # a cached answer from before may lack it
    if not cell or cell <= DEMAND_CELL_M:
        return None
    km2 = f"{result['demand_area_m2'] / 1e6:,.0f}"
    if lang == "en":
        return (f"demand counted on a {cell:g} m lattice, not {DEMAND_CELL_M:g} m: the area asked ({km2} km²) would be "
                f"more than {MAX_DEMAND_CELLS:,} cells at {DEMAND_CELL_M:g} m; give a street or district for a finer choice")
    return (f"需求按 {cell:g} m 网格计（非 {DEMAND_CELL_M:g} m）：所选范围 {km2} km²，按 {DEMAND_CELL_M:g} m 将超过 "
            f"{MAX_DEMAND_CELLS:,} 格；指定街道或区可得更细的选址")


#: What the covered demand is counted in (zh).
_MEASURES = {"residents": "人口", "area_m2": "面积（m²）", "complaints": "未结案投诉"}


#: What each objective maximises (zh, en), and why it was the automatic choice.
_LABELS = {
    "residents": ("新增覆盖常住人口", "newly covered residents", "", ""),
    "area": ("新增覆盖居住用地面积（无用地数据处为辖区面积）",
             "newly covered residential area (the areas themselves where there is no land use) (m²)",
             "无社区人口数据", "no population per community"),
    "complaints": ("新增覆盖未结案投诉", "newly covered open complaints",
                   "无社区人口、无行政区划", "no population and no admin areas"),
}


def objective_label(result: dict, lang: str) -> str:
    """The objective used, in ``lang`` (zh or en), with the reason when the data chose it."""
    zh, en, why_zh, why_en = _LABELS[result["objective"]]
    auto = not result["objective_asked"]
    if lang == "en":
        return f"objective: {en}" + (f" (chosen automatically: {why_en})" if auto and why_en else "")
    return f"目标：{zh}" + (f"（自动选择：{why_zh}）" if auto and why_zh else "")
