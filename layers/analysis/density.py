"""Density: facilities per km² and per 10,000 residents against the planning bands (:mod:`geo.density`)."""

from __future__ import annotations

from data.params import clean_text, parse_area_code
from geo.coverage import LEVELS, check_level, facility_kind
from geo.density import density
from layers.analysis.cache import PLACE_TABLES
from layers.analysis.coverage import KIND
from layers.analysis.encode import feature_collection, features
from layers.analysis.registry import Analysis, Args, Report, param


class Density(Analysis):
    name = "density"
    summary = "Facilities per km² and per 10,000 residents, below / within / above the planning band"
    tables = PLACE_TABLES
    params = (
        KIND,  # only toilets have density bands
        param("by", clean_text, ", ".join(LEVELS), default="street"),
        param("street", parse_area_code, "only areas whose code starts with this"),
    )

    def check(self, args: Args) -> None:
        facility_kind(args["kind"])
        check_level(args["by"])

    def compute(self, conn, args: Args, cache=None) -> dict:
        return density(conn, args["kind"], args["by"], code_prefix=args["street"])

    def geojson(self, result: dict, args: Args, lang: str) -> bytes:
        return feature_collection(features(result["rows"]), kind=result["kind"], by=result["by"],
                                  rules=[r.as_dict(lang) for r in result["rules"]], summary=result["summary"])

    def report(self, result: dict, args: Args, lang: str) -> Report:
        rows = [[r["code"], r["name_en"] if lang == "en" and r["name_en"] else r["name"], r["count"], r["area_km2"],
                 r["per_km2"], r["per_10k_residents"],
                 f"{r['expected_min']:.1f}–{r['expected_max']:.1f}" if r["expected_min"] is not None else None,
                 r["status"]] for r in result["rows"]]
        s = result["summary"]
        return Report([rule.describe(lang) for rule in result["rules"]],
                      ["code", "name", "count", "km²", "per km²", "per 10k", "expected", "status"], rows,
                      [f"total: {s['areas']} areas: {s['below']} below, {s['within']} within, "
                       f"{s['above']} above the band"])
