"""Siting: where K new facilities would cover the most residents not yet covered (:mod:`geo.siting`)."""

from __future__ import annotations

from data.params import parse_area_code, parse_int
from geo.coverage import resolve
from geo.siting import check_add, siting
from layers.analysis.cache import PLACE_TABLES
from layers.analysis.coverage import KIND, RADIUS
from layers.analysis.encode import feature_collection, features, figure
from layers.analysis.registry import Analysis, Args, Report, param

#: PostgreSQL's integer range: what ``add`` may be written as; its range is check_add's, which names its setting.
INT4 = (-(2**31), 2**31 - 1)


class Siting(Analysis):
    name = "siting"
    summary = "New sites on the roads that cover the most residents not yet covered (greedy maximum coverage)"
    tables = PLACE_TABLES
    params = (
        KIND,
        param("add", lambda raw, name: parse_int(raw, name, *INT4), "how many new sites to propose", default="5",
              cli_required=True),
        param("street", parse_area_code, "street code: demand and candidates inside this street only"),
        RADIUS,
    )

    def check(self, args: Args) -> None:
        resolve(args["kind"], args["radius"])
        check_add(args["add"])

    def compute(self, conn, args: Args, cache=None) -> dict:
        return siting(conn, args["kind"], args["add"], radius_m=args["radius"], street=args["street"])

    def geojson(self, result: dict, args: Args, lang: str) -> bytes:
        """The new sites' service discs; covered residents before and after, radius and rule on top."""
        rule = result["rule"].as_dict(lang) if result["rule"] else None
        return feature_collection(features(result["sites"], geometry="disc"), before=result["before"],
                                  after=result["after"], radius_m=result["radius_m"], rule=rule)

    def rows(self, result: dict) -> list[dict]:
        return result["sites"]

    def report(self, result: dict, args: Args, lang: str) -> Report:
        rule, sites = result["rule"], result["sites"]
        head = [rule.describe(lang) if rule else f"radius {result['radius_m']:g} m (given)"]
        rows = [[s["rank"], f"{s['lon']:.6f}", f"{s['lat']:.6f}", s["new_residents"]] for s in sites]
        tail = []
        if len(sites) < args["add"]:
            tail.append(f"stopped after {len(sites)} sites: no other candidate covers anybody new")
        b, a = result["before"], result["after"]
        tail.append(f"covered residents: before {b['residents']:,.0f} ({figure(b['pct'])} %), "
                    f"after {a['residents']:,.0f} ({figure(a['pct'])} %)")
        return Report(head, ["rank", "lon", "lat", "new residents"], rows, tail, whole=True)
