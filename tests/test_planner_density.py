"""Density per 10,000 residents on Taipei imported from nothing (tests/taipei_planner.py), with the population a city
usually has: per community (社区/里, from its census), none on its districts and streets."""

from __future__ import annotations

import orjson
import pytest

from data.db import connect
from layers.analysis import registry
from tests.taipei_planner import taipei  # noqa: F401 (fixture)


@pytest.fixture
def populated(taipei):
    """Taipei's connection with a population on every village (里) only, rolled back afterwards."""
    conn = connect(url=taipei["url"])
    with conn.cursor() as cur:  # a different figure per village: a sum that mixes them up shows
        cur.execute("UPDATE admin_areas SET population = 2000 + right(code, 3)::int * 10 WHERE level = 'community'")
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _computed(conn, name: str, **raw) -> dict:
    analysis = registry.load(name)
    return analysis.compute(conn, analysis.parse(raw))


@pytest.mark.parametrize("by", ["district", "street"])
def test_density_per_10k_residents_of_a_district_sums_its_communities(populated, by):
    """Coverage gave 北投區 its villages' 210,000-odd residents, yet density by district printed "—" per 10,000
    residents for every district: it read the district's own (empty) population."""
    with populated.cursor() as cur:
        cur.execute("SELECT d.code, sum(c.population) FROM admin_areas d JOIN admin_areas c ON c.level = 'community' "
                    "AND c.code LIKE d.code || '%%' WHERE d.level = %s GROUP BY d.code", (by,))
        residents = dict(cur.fetchall())
    rows = {r["code"]: r for r in _computed(populated, "density", kind="toilets", by=by)["rows"]}
    covered = {r["code"]: r["population"] for r in _computed(populated, "coverage", kind="toilets", by=by)["rows"]}
    assert set(rows) == set(residents) and len(rows) == 12
    for code, row in rows.items():
        assert row["population"] == residents[code] == covered[code], code
        assert row["per_10k_residents"] == pytest.approx(row["count"] / residents[code] * 10_000), code
    # A village keeps its own figure.
    village = _computed(populated, "density", kind="toilets", by="community", street="6301200")["rows"][0]
    assert village["population"] == 2000 + int(village["code"][-3:]) * 10


def test_density_gives_the_figures_of_all_areas_together(populated):
    """The planner's headline figure — all Taipei's toilets per km² and per 10,000 residents — was nowhere: the
    summary counted only the areas below, within and above their bands."""
    analysis = registry.load("density")
    args = analysis.parse({"kind": "toilets", "by": "district"})
    result = analysis.compute(populated, args)
    rows, s = result["rows"], result["summary"]
    assert s["count"] == sum(r["count"] for r in rows) > 1500
    assert s["area_km2"] == pytest.approx(sum(r["area_km2"] for r in rows)) and 250 < s["area_km2"] < 290
    assert s["per_km2"] == pytest.approx(s["count"] / s["area_km2"])
    assert s["population"] == sum(r["population"] for r in rows)
    assert s["per_10k_residents"] == pytest.approx(s["count"] / s["population"] * 10_000)
    zh, en = analysis.report(result, args, "zh").head[-1], analysis.report(result, args, "en").head[-1]
    assert zh.startswith(f"各区域合计：{s['count']:,} 座") and f"每万人 {s['per_10k_residents']:.1f} 座" in zh, zh
    assert en.startswith(f"all areas: {s['count']:,} facilities") and "per 10,000 residents" in en, en


@pytest.mark.parametrize("by", ["district", "street"])
def test_an_area_whose_residents_are_known_only_in_part_has_no_rate(populated, by):
    """Hong Kong's 灣仔區 showed 每万人 3.2: all its 16 toilets over the 50,001 residents of one of its two communities
    (the other had no population), and the total 3.3 set all 799 toilets against the residents of the areas that had
    any. A rate is now given only where the whole area's residents are known: the total's over those areas only."""
    with populated.cursor() as cur:  # one village without a population
        cur.execute("SELECT code FROM admin_areas WHERE level = 'community' ORDER BY code LIMIT 1")
        village = cur.fetchone()[0]
        cur.execute("UPDATE admin_areas SET population = NULL WHERE code = %s", (village,))
        cur.execute("SELECT d.code, sum(c.population) FROM admin_areas d JOIN admin_areas c ON c.level = 'community' "
                    "AND c.code LIKE d.code || '%%' WHERE d.level = %s GROUP BY d.code", (by,))
        residents = dict(cur.fetchall())
    analysis = registry.load("density")
    args = analysis.parse({"kind": "toilets", "by": by})
    result = analysis.compute(populated, args)
    rows, s = {r["code"]: r for r in result["rows"]}, result["summary"]
    (partial,) = [code for code in rows if village.startswith(code)]
    assert rows[partial]["count"] > 0 and rows[partial]["population"] is None
    assert rows[partial]["per_10k_residents"] is None
    known = [r for code, r in rows.items() if code != partial]
    assert all(r["population"] == residents[r["code"]] for r in known)
    people = sum(residents[r["code"]] for r in known)
    assert s["population"] == people and s["without_population"] == 1
    assert s["per_10k_residents"] == pytest.approx(sum(r["count"] for r in known) / people * 10_000)
    zh, en = analysis.report(result, args, "zh").head[-1], analysis.report(result, args, "en").head[-1]
    assert zh.endswith(f"每万人 {s['per_10k_residents']:.1f} 座（1 个区域人口不详，未计入）"), zh
    assert en.endswith(f"{s['per_10k_residents']:.1f} per 10,000 residents (1 area of unknown population left out)"), en
    # Coverage gives the area the same residents, and no covered share of them: the other village's would stand
    # for all; its total is over the same residents as density's.
    covered = _computed(populated, "coverage", kind="toilets", by=by)
    cover_rows = {r["code"]: r for r in covered["rows"]}
    assert cover_rows[partial]["population"] is None and cover_rows[partial]["covered_pop_pct"] is None
    assert covered["summary"]["population"] == people
    # The area's own figure is its whole population: with one, it has a rate again.
    with populated.cursor() as cur:
        cur.execute("UPDATE admin_areas SET population = 250000 WHERE code = %s", (partial,))
    row = next(r for r in _computed(populated, "density", kind="toilets", by=by)["rows"] if r["code"] == partial)
    assert row["population"] == 250_000
    assert row["per_10k_residents"] == pytest.approx(row["count"] / 250_000 * 10_000)


def test_the_density_table_lists_the_weakest_areas_first(populated):
    """Taipei's villages by density: the table a planner reads (and `--limit` cuts) starts with the villages
    furthest below their band — 莊敬里 below, 東榮里 above, 三民里 above came in code order before."""
    analysis = registry.load("density")
    args = analysis.parse({"kind": "toilets", "by": "community"})
    result = analysis.compute(populated, args)
    table = analysis.report(result, args, "zh").rows
    verdicts = [row[-1] for row in table]
    judged = [v for v in verdicts if v is not None]
    assert judged == sorted(judged, key=["低于标准", "符合标准", "高于标准"].index), verdicts[:10]
    assert "低于标准" in judged and "高于标准" in judged
    shortfall = {r["code"]: r["count"] / r["expected_min"] for r in result["rows"] if r["expected_min"]}
    listed = [shortfall[row[0]] for row in table if row[0] in shortfall]
    assert listed == sorted(listed)


def test_a_kind_without_a_density_band_says_so_on_the_route_too(populated):
    """Garbage points have no planning density: the route's answer said nothing of why every verdict is empty."""
    analysis = registry.load("density")
    args = analysis.parse({"kind": "garbage_points", "by": "district"})
    result = analysis.compute(populated, args)
    served = orjson.loads(analysis.geojson(result, args, "zh"))
    assert served["rules"] == [] and served["basis_note"] == "垃圾收集点：标准未规定设置密度，仅列数量与密度，不作低于/符合/高于判断"
    assert "no standard gives a planning density" in orjson.loads(analysis.geojson(result, args, "en"))["basis_note"]


@pytest.mark.parametrize("by", ["district", "street"])
def test_villages_that_cover_their_district_still_give_its_residents(populated, by):
    """Taipei's villages cover their districts (their outlines, from another office, add up to 98.2 % of 大同區's
    and 99.9–100.9 % of the others'): a district's residents stay its villages' sum, in density and coverage, and
    nothing is said to be partly drawn; a plan's totals there are the city's (全市合计)."""
    from layers.analysis.scope import totals_label
    from layers.analysis.whatif import whatif

    density = _computed(populated, "density", kind="toilets", by=by)
    coverage = _computed(populated, "coverage", kind="toilets", by=by)
    datong = "63006" if by == "district" else "6300600"
    assert {r["code"]: r["population"] for r in density["rows"]}[datong] == 53_280
    assert {r["code"]: r["population"] for r in coverage["rows"]}[datong] == 53_280
    assert all(r["population"] is not None for r in density["rows"] + coverage["rows"])
    assert density["partly_drawn"] == coverage["partly_drawn"] == []
    result = whatif(populated, "toilets", None, [{"op": "add", "lon": 121.507996, "lat": 25.064684}], gaps=False)
    assert result["scope"]["whole_city"] and result["scope"]["areas"] == 456, result["scope"]
    assert totals_label(result["scope"], "zh") == "全市合计"
