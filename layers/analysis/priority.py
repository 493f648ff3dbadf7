"""Priority: grids ranked for inspection, every component shown (:mod:`geo.priority`)."""

from __future__ import annotations

from data.catalog import level_counts
from data.params import parse_area_code, parse_int
from data.said import grid_name
from geo.priority import grid_places, priority
from layers.analysis.cache import COMPLAINT_TABLES, PLACE_TABLES, shared_part
from layers.analysis.encode import COMPONENTS, feature_collection, features, headers
from layers.analysis.registry import Analysis, Args, Report, param, window
from layers.spec.admin_areas import STREET_CODE_HINT

#: Most grids one answer may list.
MAX_LIMIT = 100_000


class Priority(Analysis):
    name = "priority"
    summary = "Inspection priority per grid; each component shown (value → weighted points)"
    tables = COMPLAINT_TABLES
    params = (
        param("street", parse_area_code, "street code (or any code prefix); the whole city by default"),
        window("complaint window start of the hotspot component (no zone: the city's)"),
        # The command prints the first rows and writes them all: only the route cuts the ranking.
        param("limit", lambda raw, name: parse_int(raw, name, 1, MAX_LIMIT), "the top grids only", cli=False),
    )

    def compute(self, conn, args: Args, cache=None) -> dict:
        street = args["street"]
        # The per-grid place part (coverage, markets, urban villages) reads no complaints: kept while the
        # places stand, though complaints keep coming.
        places = shared_part(cache, conn, ("priority grid places", street), PLACE_TABLES,
                             lambda: grid_places(conn, street), size=lambda places: 600 * len(places["grids"]))
        result = priority(conn, street=street, since=args["window"].since, limit=args["limit"], places=places)
        if "grids" in result["missing"] and not level_counts(conn).get("street"):
            # grids are cut per street: in a city without streets, `grids generate` would refuse too
            result["missing"] = ["streets" if m == "grids" else m for m in result["missing"]]
        return result

    def geojson(self, result: dict, args: Args, lang: str) -> bytes:
        said = [{**r, "name_en": grid_name(r["name"], "en")} for r in result["rows"]]  # the page's English popup
        return feature_collection(features(said), weights=result["weights"],
                                  hotspot_cell_m=result["hotspot_cell_m"], missing=result["missing"],
                                  ranked=result["ranked"], warning=missing_note(result["missing"], lang),
                                  warning_page=missing_note(result["missing"], lang, _MISSING_WEB))

    def of_grids(self, result: dict) -> bool:
        return True

    def report(self, result: dict, args: Args, lang: str) -> Report:
        weights, i = result["weights"], lang == "en"
        rows = [[r["rank"], r["code"], r["score"]]
                + [f"{c['value']} → {c['weighted']:.1f}" for c in r["components"].values()] for r in result["rows"]]
        tail = [_MISSING[m][i] for m in result["missing"]]
        names = [COMPONENTS[k][i] for k in weights]
        said = (", " if i else "，").join(f"{name} {v:g}" for name, v in zip(names, weights.values()))
        return Report([("weights: " if i else "权重：") + said], headers(("rank", "grid", "score"), lang) + names,
                      rows, tail)


#: What a city without grids or complaints is told (zh, en).
_MISSING = {
    "grids": ("没有网格：先运行 grids generate，才有可排序的网格",
              "no grids: run `grids generate` first, there is nothing to rank"),
    "streets": ("没有网格：网格按街道划分，而本市没有街道级区划；区下直接是社区（如台北的区和里）时，请把区再按 --level street "
                "导入一次（hygiene-map import admin_areas 文件 --level street），再运行 grids generate。" + STREET_CODE_HINT[0],
                "no grids: grids are cut per street and this city has no streets; where communities lie right under "
                "the districts (Taipei's 區 and 里), import the districts again with --level street "
                "(hygiene-map import admin_areas FILE --level street), then run grids generate. " + STREET_CODE_HINT[1]),
    "complaints": ("没有投诉：热点分量为 0", "no complaints: the hotspot component is 0"),
}


#: The same said on the map page, to a web user who runs no command: what to ask for, not the command line.
_MISSING_WEB = {
    "grids": ("没有网格：需先由管理员为各街道生成网格，才有可排序的网格",
              "no grids: an administrator must generate the streets' grids first; there is nothing to rank"),
    "streets": ("没有网格：网格按街道划分，而本市没有街道级区划。区下直接是社区时（如台北的区和里），请管理员把区再作为街道"
                "导入一次，然后生成网格",
                "no grids: grids are cut per street and this city has no streets. Where communities lie right under "
                "the districts (Taipei's 區 and 里), ask an administrator to import the districts again as streets, "
                "then to generate the grids"),
    "complaints": _MISSING["complaints"],
}


def missing_note(missing: list[str], lang: str, words: dict | None = None) -> str | None:
    """What the city lacks for a full ranking, said in ``lang`` (the command's closing lines as one; with ``words``
    :data:`_MISSING_WEB`, the page's), or None."""
    i = lang == "en"
    return ("; " if i else "；").join((words or _MISSING)[m][i] for m in missing) or None
