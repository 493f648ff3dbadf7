"""Siting's lazy greedy gives the choice of the plain greedy, written here apart from geo.siting.

The plain greedy recomputes every candidate's gain each round with shapely
(``STRtree.query(dwithin)``) and takes the largest, ties to the first
candidate; it runs on the same demand points and candidates, read by
:func:`geo.siting.siting_places`. On the small demo (all three objectives,
forty sites, so that rounds with tied gains come up) and on New York from
its real files (no population there: area and complaints). The sites must
be the same; their gains and order too for complaints, while residents and
area are reported as coverage measures them, not as the lattice the choice is
made on (tests/test_analysis_api.py), and ranked by those figures
(geo/siting_figures.py): the same sites, each rank adding no more than the one before.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from data.catalog import metric_srid
from data.db import connect
from geo.coverage import resolve
from geo.demand import _complaints
from geo.siting import MIN_GAIN, centre_first, siting, siting_places
from tests.test_real_analyses import BUSY, nyc  # noqa: F401  (the New York fixture)


def plain_greedy(conn, add: int, objective: str, street: str | None = None) -> list[tuple[float, float, float]]:
    """(x, y, gain) of each site the textbook greedy picks on the inputs siting reads."""
    radius = resolve("toilets", None)[1]
    places = siting_places(conn, "toilets", street, objective)
    if places.demand.objective == objective:
        demand = places.demand.points
    else:
        demand = _complaints(conn, {"srid": metric_srid(conn), "prefix": (street or "") + "%"})
    candidates = places.candidates
    if candidates.size == 0:  # no roads: the lattice centres siting uses too
        step = max(50.0, radius / 3.0)
        candidates = (np.unique(np.floor(demand[:, :2] / step), axis=0) + 0.5) * step
        candidates = centre_first(candidates, places.existing, demand)  # ties: nearest the facilities' centre
    weight = np.nan_to_num(demand[:, 2])
    tree = shapely.STRtree(shapely.points(demand[:, :2]))
    covered = np.zeros(len(demand), dtype=bool)
    if len(places.existing):
        covered[tree.query(shapely.points(places.existing), predicate="dwithin", distance=radius)[1]] = True
    reach = [np.sort(tree.query(shapely.Point(c), predicate="dwithin", distance=radius)) for c in candidates]
    sites = []
    for _ in range(add):
        gains = np.array([weight[r][~covered[r]].sum() for r in reach])
        if gains.max() <= MIN_GAIN:
            break
        best = int(np.flatnonzero(gains >= gains.max() * (1 - 1e-12))[0])  # ties: the first candidate
        covered[reach[best]] = True
        sites.append((*candidates[best], gains[best]))
    return sites


def assert_same_choice(conn, add: int, objective: str, street: str | None = None) -> None:
    result = siting(conn, "toilets", add, objective=objective, street=street)
    conn.rollback()
    assert result["objective"] == objective
    ours = [(s["x"], s["y"], s["new_" + result["measure"]]) for s in result["sites"]]
    plain = plain_greedy(conn, add, objective, street)
    conn.rollback()
    assert len(ours) == len(plain) > 0
    if objective != "complaints":  # ranked by coverage's figures, not in the lattice's order: the same sites
        assert sorted(mine[:2] for mine in ours) == sorted(tuple(theirs[:2]) for theirs in plain), objective
        gains = [mine[2] for mine in ours]
        assert all(b <= a * (1 + 1e-9) for a, b in zip(gains, gains[1:])), gains
        return
    for rank, (mine, theirs) in enumerate(zip(ours, plain), 1):  # complaints: counted as points, in choice order
        assert mine[:2] == theirs[:2], f"{objective}: site {rank} differs"
        assert mine[2] == pytest.approx(theirs[2], rel=1e-9)


@pytest.mark.parametrize("objective", ["residents", "area", "complaints"])
def test_lazy_greedy_equals_the_plain_greedy_on_the_demo(demo_db, objective):
    conn = connect(url=demo_db)
    try:
        assert_same_choice(conn, 40, objective)
        assert_same_choice(conn, 10, objective, street="379901001")
    finally:
        conn.close()


def test_lazy_greedy_equals_the_plain_greedy_in_new_york(nyc):
    """New York's real outlines, restrooms and 311 complaints; no roads, so candidates on the lattice."""
    assert_same_choice(nyc, 8, "area", street=BUSY)
    assert_same_choice(nyc, 8, "area", street="MN03")
    assert_same_choice(nyc, 5, "complaints")
    assert_same_choice(nyc, 3, "complaints", street=BUSY)


def test_complaints_objective_sees_a_new_complaint(demo_client, demo_conn):
    """The place part is kept across complaints; the answer is not: a new open complaint is covered next time."""
    request = {"add": 1, "objective": "complaints", "street": "379901001"}
    first = demo_client.get("/api/analysis/siting", params=request).json()
    assert demo_client.get("/api/analysis/siting", params=request).headers["x-analysis-cache"] == "hit"
    site = first["features"][0]["properties"]
    with demo_conn.cursor() as cur:  # five complaints at the proposed site: it now covers five more
        cur.execute("INSERT INTO complaints (source, source_id, category, street_code, reported_at, geom) "
                    "SELECT 'test', 'siting-' || k, (SELECT name FROM event_types LIMIT 1), '379901001', now(), "
                    "ST_SetSRID(ST_MakePoint(%s, %s), 4326) FROM generate_series(1, 5) k", (site["lon"], site["lat"]))
    demo_conn.commit()
    try:
        resp = demo_client.get("/api/analysis/siting", params=request)
        assert resp.headers["x-analysis-cache"] == "miss"
        again = resp.json()
        assert again["features"][0]["properties"]["new_complaints"] == site["new_complaints"] + 5
        assert again["after"]["complaints"] == first["after"]["complaints"] + 5
    finally:
        with demo_conn.cursor() as cur:
            cur.execute("DELETE FROM complaints WHERE source = 'test' AND source_id LIKE 'siting-%'")
        demo_conn.commit()


def test_an_empty_add_is_a_parameter_error(demo_client):
    """Found by the fuzzer (seed 6344357092195933635): ``add=`` was a 500."""
    resp = demo_client.get("/api/analysis/siting", params={"add": ""})
    assert resp.status_code == 422 and "add" in resp.json()["detail"]


def test_demand_lattice_kept_in_the_database_follows_land_use(writable_demo):
    """The lattice is laid once for the city and kept (migration 0760); a street's is the city's rows of its
    communities; a land-use edit makes the part stale and the next request lays it again from the edit."""
    from geo.demand import _lay, place_demand

    conn = connect(url=writable_demo)
    try:
        srid = metric_srid(conn)

        def laid() -> np.ndarray:
            return np.vstack([points for _, points in sorted(_lay(conn, "area", srid).items())])

        city = place_demand(conn, "area", {"srid": srid, "prefix": "%"}).points
        with conn.cursor() as cur:
            cur.execute("SELECT stamp, built_at FROM kept_parts WHERE part = %s", (f"siting demand area {srid}",))
            kept = cur.fetchone()
        assert kept is not None and np.array_equal(city, laid())
        street = place_demand(conn, "area", {"srid": srid, "prefix": "379901001%"}).points
        assert 0 < len(street) < len(city) and {tuple(p) for p in street} <= {tuple(p) for p in city}
        with conn.cursor() as cur:
            cur.execute("SELECT stamp, built_at FROM kept_parts WHERE part = %s", (f"siting demand area {srid}",))
            assert cur.fetchone() == kept  # read, not laid again
            cur.execute("UPDATE land_use SET class = 'B' WHERE id = (SELECT min(id) FROM land_use WHERE class = 'R')")
        conn.commit()
        edited = place_demand(conn, "area", {"srid": srid, "prefix": "%"}).points
        assert not np.array_equal(edited, city) and np.array_equal(edited, laid())
        with conn.cursor() as cur:
            cur.execute("SELECT stamp FROM kept_parts WHERE part = %s", (f"siting demand area {srid}",))
            assert cur.fetchone()[0] != kept[0]
    finally:
        conn.close()


def _residential_covered(conn, street: str) -> tuple[float, float]:
    """(residential m² of the street's communities, the part of it within 300 m of a toilet), computed in PostGIS
    apart from geo: land-use class R cut by each community, cut by the union of the toilets' equal-area discs."""
    from geo.coverage import AREA_FACTOR
    from geo.metric import metric_polygon

    with conn.cursor() as cur:
        cur.execute(f"""
            WITH c AS (SELECT {metric_polygon("geom")} AS g FROM admin_areas
                       WHERE level = 'community' AND code LIKE %(prefix)s),
            r AS (SELECT ST_Intersection(c.g, {metric_polygon("l.geom")}) AS g FROM c JOIN land_use l
                  ON l.class = 'R' AND ST_Intersects(c.g, ST_Transform(l.geom, %(srid)s))),
            d AS (SELECT ST_Union(ST_Buffer(ST_Transform(geom, %(srid)s), %(r)s, 'quad_segs=16')) AS u FROM toilets)
            SELECT sum(ST_Area(r.g)), sum(ST_Area(ST_Intersection(r.g, d.u))) FROM r, d""",
                    {"srid": metric_srid(conn), "prefix": street + "%", "r": 300 * AREA_FACTOR})
        return cur.fetchone()


def test_area_figures_count_the_residential_land_of_areas_without_population(writable_demo):
    """The area objective in a city with land use but no population (the street's communities' population erased):
    the residential land is what the lattice covers, and what the figures measure — before, after (the sites
    inserted as toilets) and the total equal to PostGIS's cut of the land by the discs, not the areas whole."""
    street = "379901001"
    conn = connect(url=writable_demo)
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE admin_areas SET population = NULL WHERE code LIKE %s", (street + "%",))
        conn.commit()
        result = siting(conn, "toilets", 4, street=street, objective="area")
        land, before = _residential_covered(conn, street)
        assert result["area_m2"] == pytest.approx(land, rel=1e-9)
        assert result["before"]["area_m2"] == pytest.approx(before, rel=1e-9)
        with conn.cursor() as cur:
            for s in result["sites"]:
                cur.execute("INSERT INTO toilets (name, geom) VALUES ('proposed', ST_SetSRID(ST_MakePoint(%s, %s), "
                            "4326))", (s["lon"], s["lat"]))
        after = _residential_covered(conn, street)[1]
        assert result["after"]["area_m2"] == pytest.approx(after, rel=1e-9)
        assert sum(s["new_area_m2"] for s in result["sites"]) == pytest.approx(after - before, rel=1e-9)
        conn.rollback()
    finally:
        conn.close()
