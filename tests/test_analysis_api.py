"""The analysis surfaces: HTTP routes, CLI, density, priority and siting on the small demo."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from api.cli.main import main
from data.db import connect


def test_coverage_route_properties_rule_and_gaps(demo_client):
    resp = demo_client.get("/api/analysis/coverage", params={"kind": "toilets", "by": "street", "gaps": 1})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    body = resp.json()
    assert body["rule"]["id"] == "toilet_radius_mandatory" and "GB 55013-2021" in body["rule"]["text"]
    areas = [f for f in body["features"] if f["properties"]["feature_type"] == "area"]
    gaps = [f for f in body["features"] if f["properties"]["feature_type"] == "gap"]
    assert len(areas) == 4 and gaps
    for f in areas:
        p = f["properties"]
        assert {"code", "name", "covered_area_pct", "covered_pop_pct"} <= set(p)
        assert 0 <= p["covered_area_pct"] <= 100 and 0 <= p["covered_pop_pct"] <= 100
        assert f["geometry"]["type"] == "MultiPolygon"
    assert 0 < body["summary"]["covered_area_pct"] < 100


def test_coverage_route_walking_reports_its_method(demo_client):
    body = demo_client.get("/api/analysis/coverage", params={"by": "district", "method": "walk"}).json()
    assert body["method"].startswith("walking along roads (pgRouting")
    bad = demo_client.get("/api/analysis/coverage", params={"method": "fly"})
    assert bad.status_code == 422 and "method" in bad.json()["detail"]


def test_coverage_route_secondary_rule_is_labelled(demo_client):
    body = demo_client.get("/api/analysis/coverage", params={"kind": "transfer_stations", "by": "district",
                                                             "lang": "en"}).json()
    assert body["rule"]["label"] == "S" and "secondary source" in body["rule"]["text"]


def test_coverage_route_grid_population_is_null(demo_client):
    body = demo_client.get("/api/analysis/coverage", params={"by": "grid", "street": "379901001"}).json()
    assert body["features"] and all(f["properties"]["covered_pop_pct"] is None for f in body["features"])


@pytest.mark.parametrize("params,word", [({"kind": "fountains"}, "kind"), ({"by": "moon"}, "by"),
                                         ({"radius": -5}, "radius"), ({"radius": 5e-324}, "radius"),
                                         ({"radius": 0.5}, "radius"), ({"kind": "markets"}, "radius"),
                                         ({"street": "37%"}, "street")])
def test_coverage_route_bad_parameters_are_422(demo_client, params, word):
    resp = demo_client.get("/api/analysis/coverage", params=params)
    assert resp.status_code == 422 and word in resp.json()["detail"]


def test_hotspots_route(demo_client, demo_conn):
    resp = demo_client.get("/api/analysis/hotspots", params={"since": "2025-01-01", "cell": 200})
    assert resp.status_code == 200
    body = resp.json()
    props = [f["properties"] for f in body["features"]]
    assert {"count", "gi_z", "gi_p", "gi_bin"} <= set(props[0])
    with demo_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE reported_at >= '2025-01-01T00:00:00+08:00'")
        assert sum(p["count"] for p in props) == cur.fetchone()[0]
    assert any(p["count"] == 0 for p in props)
    assert any(p["gi_bin"] == 3 for p in props)
    assert all(p["gi_bin"] in (-3, -2, -1, 0, 1, 2, 3) for p in props)
    assert "FDR" in body["statistic"]


def test_hotspots_route_emerging_and_categories(demo_client):
    body = demo_client.get("/api/analysis/hotspots",
                           params={"emerging": 1, "category": "暴露垃圾,垃圾满溢", "cell": 250}).json()
    patterns = {f["properties"]["pattern"] for f in body["features"]}
    assert "none" in patterns and len(patterns) > 1


@pytest.mark.parametrize("params,word", [({"since": "last week"}, "since"), ({"cell": 2}, "cell"),
                                         ({"category": "火星"}, "category"),
                                         ({"since": "2026-05-01", "until": "2026-01-01"}, "since")])
def test_hotspots_route_bad_parameters(demo_client, params, word):
    resp = demo_client.get("/api/analysis/hotspots", params=params)
    assert resp.status_code == 422 and word in resp.json()["detail"]


def test_analysis_size_limits_are_settings(demo_client, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_HOTSPOT_MAX_CELLS", "50")
    resp = demo_client.get("/api/analysis/hotspots", params={"cell": 200})
    assert resp.status_code == 422
    assert "limit 50" in resp.json()["detail"] and "HYGIENE_MAP_HOTSPOT_MAX_CELLS" in resp.json()["detail"]
    # Below the bounding-box pre-check but above the cells that touch the city: the exact count is named.
    monkeypatch.setenv("HYGIENE_MAP_HOTSPOT_MAX_CELLS", "100")
    resp = demo_client.get("/api/analysis/hotspots", params={"cell": 200})
    assert resp.status_code == 422 and " cells (limit 100," in resp.json()["detail"]
    monkeypatch.setenv("HYGIENE_MAP_SITING_MAX_ADD", "3")
    resp = demo_client.get("/api/analysis/siting", params={"add": 4})
    assert resp.status_code == 422 and "between 1 and 3" in resp.json()["detail"]


def test_hotspots_window_without_complaints_is_404(demo_client):
    resp = demo_client.get("/api/analysis/hotspots", params={"since": "2001-01-01", "until": "2001-02-01"})
    assert resp.status_code == 404 and "no complaints" in resp.json()["detail"]


def test_density_route(demo_client):
    body = demo_client.get("/api/analysis/density", params={"kind": "toilets", "by": "community"}).json()
    statuses = {f["properties"]["status"] for f in body["features"]}
    assert statuses <= {"below", "within", "above"} and "below" in statuses
    assert {r["id"] for r in body["rules"]} >= {"toilet_density_residential"}
    for f in body["features"]:
        p = f["properties"]
        assert p["per_km2"] == pytest.approx(p["count"] / p["area_km2"])
        verdict = "below" if p["count"] < p["expected_min"] else "above" if p["count"] > p["expected_max"] else "within"
        assert p["status"] == verdict


def test_density_and_priority_refuse_a_pattern_as_street(demo_client):
    for path in ("/api/analysis/density", "/api/analysis/priority"):
        resp = demo_client.get(path, params={"street": "_%"})
        assert resp.status_code == 422 and "street" in resp.json()["detail"]


def test_priority_route_components_add_up(demo_client):
    body = demo_client.get("/api/analysis/priority", params={"street": "379901001"}).json()
    rows = [f["properties"] for f in body["features"]]
    assert rows and all(r["code"].startswith("379901001") for r in rows)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    for r in rows:
        assert set(r["components"]) == set(body["weights"])
        assert sum(c["weighted"] for c in r["components"].values()) == pytest.approx(r["score"], abs=0.05)
    assert rows[0]["score"] > rows[-1]["score"]


def test_siting_figures_are_coverage_with_the_sites_built(writable_demo):
    """Insert the proposed sites one by one: the covered population coverage() computes rises by each site's
    `new_residents` every time, from `before` to `after`. (The 50 m lattice's figures were not coverage's: city-wide
    the first site "covered" 6,233 residents for 5,359, a community's 847 m² of housing counted whole.)"""
    from geo.coverage import coverage
    from geo.siting import siting

    conn = connect(url=writable_demo)
    try:
        street = "379901001"
        result = siting(conn, "toilets", 60, street=street)
        sites = result["sites"]
        assert 0 < len(sites) < 60, "with 60 asked the greedy must stop when nothing new can be covered"
        assert all(s["new_residents"] > 0 for s in sites)

        def covered_people() -> float:
            rows = coverage(conn, "toilets", by="community", code_prefix=street)["rows"]
            return sum(r["population"] * r["covered_pop_pct"] / 100 for r in rows)

        previous = covered_people()
        assert previous == pytest.approx(result["before"]["residents"], rel=1e-9)
        with conn.cursor() as cur:
            for s in sites:
                cur.execute("INSERT INTO toilets (name, geom) VALUES ('proposed', ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                            (s["lon"], s["lat"]))
                now = covered_people()
                assert now - previous == pytest.approx(s["new_residents"], rel=1e-6, abs=1e-6), f"site {s['rank']}"
                previous = now
        assert previous == pytest.approx(result["after"]["residents"], rel=1e-9)
        conn.rollback()
    finally:
        conn.close()


def test_cli_tables_and_files(demo_db, env_for, tmp_path):
    env_for(demo_db)
    runner = CliRunner()
    out = tmp_path / "cov.geojson"
    res = runner.invoke(main, ["analyze", "coverage", "--by", "street", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "公厕服务半径 300 m" in res.output and "覆盖面积" in res.output
    assert len(json.loads(out.read_text())["features"]) == 4
    res = runner.invoke(main, ["analyze", "hotspots", "--cell", "200", "--out", str(tmp_path / "h.csv")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "h.csv").read_text(encoding="utf-8-sig").startswith("q,r,count,gi_z,gi_p,gi_bin")
    res = runner.invoke(main, ["analyze", "priority", "--street", "379901001", "--out", str(tmp_path / "p.xlsx")])
    assert res.exit_code == 0, res.output
    import pandas as pd

    frame = pd.read_excel(tmp_path / "p.xlsx")
    assert {"排名", "代码", "得分", "投诉热点·原值", "逾期投诉·加权分"} <= set(frame.columns)
    res = runner.invoke(main, ["analyze", "density", "--lang", "en"])
    assert res.exit_code == 0 and "secondary source" in res.output
    res = runner.invoke(main, ["analyze", "siting", "--add", "2", "--street", "379901001"])
    assert res.exit_code == 0 and "现状" in res.output and "新增后" in res.output


ANALYSIS_RUNS = {"coverage": [], "density": [], "hotspots": ["--cell", "200"], "priority": ["--street", "379901001"],
                 "siting": ["--add", "2", "--street", "379901001"]}


@pytest.mark.parametrize("name", list(ANALYSIS_RUNS))
def test_cli_workbook_headers_in_chinese_numbers_as_numbers(demo_db, env_for, tmp_path, name):
    """Every column of an analysis's workbook has a Chinese header (English with --lang en); figures are numbers."""
    import pandas as pd

    env_for(demo_db)
    runner = CliRunner()
    books = {}
    for lang in ("zh", "en"):
        out = tmp_path / f"{name}-{lang}.xlsx"
        res = runner.invoke(main, ["analyze", name, *ANALYSIS_RUNS[name], "--lang", lang, "--out", str(out)])
        assert res.exit_code == 0, res.output
        books[lang] = pd.read_excel(out)
    zh, en = books["zh"], books["en"]
    assert len(zh) > 0 and len(zh) == len(en) and len(zh.columns) == len(en.columns)
    assert all(re.search("[\u4e00-\u9fff]", c) for c in zh.columns), list(zh.columns)
    assert not any(re.search("[\u4e00-\u9fff]", c) or "_" in c for c in en.columns), list(en.columns)
    numeric = {"coverage": "覆盖面积占比（%）", "density": "每平方公里", "hotspots": "Gi* z 值", "priority": "得分",
               "siting": "新增覆盖人口"}[name]
    assert zh[numeric].dtype.kind in "fi"


def test_cli_bad_input_is_one_line(demo_db, env_for, tmp_path):
    env_for(demo_db)
    runner = CliRunner()
    for args, word in ((["analyze", "coverage", "--kind", "fountains"], "kind"),
                       (["analyze", "hotspots", "--since", "soon"], "--since"),
                       (["analyze", "coverage", "--out", str(tmp_path / "x.shp")], "--out"),
                       (["analyze", "siting", "--add", "0"], "add")):
        res = runner.invoke(main, [*args, "--lang", "en"])
        assert res.exit_code == 2
        assert "Traceback" not in res.output
        lines = [line for line in res.output.splitlines() if line.strip()]
        assert lines[-1].startswith(("hygiene-map：错误：", "hygiene-map: error:")) and word in lines[-1]
        res = runner.invoke(main, [*args, "--lang", "en"])  # typed --lang en: the refusal in English
        assert res.exit_code == 2 and res.output.strip().splitlines()[-1].startswith("hygiene-map: error:"), res.output


def test_cli_refusal_is_chinese_unless_english_is_typed(demo_db, env_for, tmp_path):
    """A planner typing a bad option reads the refusal in Chinese (the command's default), in English with
    --lang en; the same one line either way, naming the option and the file."""
    env_for(demo_db)
    runner = CliRunner()
    words = ["analyze", "coverage", "--kind", "toilets", "--out", str(tmp_path / "gaps.shp")]
    for extra, said in (([], "hygiene-map：错误：--out：gaps.shp：扩展名须为 .geojson、.csv 或 .xlsx"),
                        (["--lang", "zh"], "hygiene-map：错误：--out：gaps.shp：扩展名须为 .geojson、.csv 或 .xlsx"),
                        (["--lang", "en"], "hygiene-map: error: --out: gaps.shp: the extension must be .geojson, "
                                           ".csv or .xlsx")):
        res = runner.invoke(main, [*words, *extra])
        assert res.exit_code == 2 and res.output.strip().splitlines() == [said], res.output
    missing = tmp_path / "nowhere" / "gaps.csv"
    res = runner.invoke(main, ["analyze", "coverage", "--kind", "toilets", "--out", str(missing)])
    assert res.exit_code == 2 and res.output.strip() == f"hygiene-map：错误：--out：{missing}：文件夹 {missing.parent} 不存在"


@pytest.mark.parametrize("path,params,status,detail,detail_zh", [
    ("hotspots", {"cell": 2}, 422, "cell: must be between 25 and 5000 metres, not 2", "cell：须在 25 至 5000 米之间，不能是 2"),
    ("coverage", {"kind": "toilets", "method": "fly"}, 422, "method: must be straight or walk, not 'fly'",
     "method：须为 straight 或 walk，不能是 'fly'"),
    ("coverage", {"kind": "markets"}, 422, "radius: no standard gives a service radius for markets: give --radius / "
     "radius=", "radius：没有标准规定农贸市场的服务半径：请给出 --radius / radius="),
    ("hotspots", {"category": "火星"}, 422, "category: unknown event type(s): 火星; known: ",
     "category：未知的事件类型：火星；已有："),
    ("siting", {"kind": "toilets", "objective": "votes"}, 422,
     "objective: 'votes' is not one of residents, area, complaints", "objective：'votes' 不是 residents、area、complaints 之一"),
])
def test_analysis_route_refusal_carries_chinese_beside_english(demo_client, path, params, status, detail, detail_zh):
    """An analysis route's refusal answers the English ``detail`` as before and, beside it, ``detail_zh`` for the
    Chinese pages (the planner's what-if and analysis pages show it)."""
    resp = demo_client.get(f"/api/analysis/{path}", params=params)
    body = resp.json()
    assert resp.status_code == status, body
    assert body["detail"].startswith(detail) and body["detail_zh"].startswith(detail_zh), body
    if not detail.endswith("known: "):  # whole, but for the list of the known event types
        assert body["detail"] == detail and body["detail_zh"] == detail_zh, body


def test_analysis_before_any_city_is_loaded_is_404(fresh_db, env_for):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from data.migrate import migrate

    conn = connect(url=fresh_db)
    migrate(conn)
    conn.close()
    env_for(fresh_db)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        for path in ("/api/analysis/coverage", "/api/analysis/hotspots", "/api/analysis/density",
                     "/api/analysis/priority"):
            resp = client.get(path)
            assert resp.status_code == 404, (path, resp.text)
            assert "no city is loaded" in resp.json()["detail"]


def test_siting_objective_is_chosen_or_given_and_said(demo_client):
    """The demo has population: residents by default; area and complaints when asked, each said in the answer."""
    body = demo_client.get("/api/analysis/siting", params={"add": 2, "street": "379901001", "lang": "en"}).json()
    assert body["objective"] == "residents" and body["objective_label"] == "objective: newly covered residents"
    area = demo_client.get("/api/analysis/siting", params={"add": 2, "street": "379901001", "objective": "area"}).json()
    assert area["objective"] == "area" and area["measure"] == "area_m2" and area["objective_label"].startswith("目标")
    gains = [f["properties"]["new_area_m2"] for f in area["features"]]
    assert len(gains) == 2 and gains[0] >= gains[1] > 0
    assert area["after"]["area_m2"] == pytest.approx(area["before"]["area_m2"] + sum(gains))
    open_ = demo_client.get("/api/analysis/siting", params={"add": 2, "objective": "complaints"}).json()
    assert open_["objective"] == "complaints" and all(f["properties"]["new_complaints"] >= 1 for f in open_["features"])
    bad = demo_client.get("/api/analysis/siting", params={"add": 2, "objective": "votes"})
    assert bad.status_code == 422 and "objective" in bad.json()["detail"] and "residents" in bad.json()["detail"]


def test_demand_lattice_areas_add_up_to_the_polygon():
    """Whole cells inside, cut cells on the outline: the weights add up to the polygon's area (a concave one)."""
    import shapely

    from geo.demand import lattice

    ring = shapely.Polygon([(0, 0), (1000, 0), (1000, 1000), (500, 400), (0, 1000)])
    points = lattice(ring, 50.0)
    assert points[:, 2].sum() == pytest.approx(ring.area)
    assert shapely.contains_xy(ring.buffer(1e-6), points[:, 0], points[:, 1]).all()


@pytest.mark.parametrize("name", ["coverage", "density", "priority", "siting"])
def test_a_street_no_area_has_is_404_naming_it(demo_client, name):
    # Codes filter by prefix: a mistyped one used to answer an empty ranking, as if all were well.
    extra = "" if name == "priority" else "&kind=toilets"
    resp = demo_client.get(f"/api/analysis/{name}?street=ZZZ9{extra}")
    assert resp.status_code == 404, resp.text
    assert "street" in resp.json()["detail"] and "'ZZZ9'" in resp.json()["detail"]
    assert demo_client.get(f"/api/analysis/{name}?street=379901001{extra}").status_code == 200
