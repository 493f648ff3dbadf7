"""Coverage from maintained state (geo.coverage_fast) against the exact PostGIS answer, on the demo and real cities.

The PostGIS engine is the answer coverage gave before (tested against exact
circles in tests/test_analysis_coverage.py); the shapely engine must agree
with it within 0.01 percentage points, also after facilities are added, moved
and removed while the state is kept.
"""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape

from data.db import connect
from geo.coverage import coverage
from layers.analysis.coverage_state import MaintainedState
from tests import test_real_analyses as real

TOLERANCE_PP = 0.01
nyc, taipei = real.nyc, real.taipei  # the real cities, imported from their files


def assert_same(conn, kind: str = "toilets", by: str = "community", store=None, **kw) -> dict:
    """The shapely answer (from ``store``), checked against the PostGIS engine's; returns it."""
    ours = coverage(conn, kind, by=by, store=store, **kw)
    ref = coverage(conn, kind, by=by, engine="postgis", **kw)
    assert [r["code"] for r in ours["rows"]] == [r["code"] for r in ref["rows"]]
    for a, b in zip(ours["rows"], ref["rows"]):
        assert a["population"] == b["population"] and a["population_spread"] == b["population_spread"], a["code"]
        for key in ("covered_area_pct", "covered_pop_pct"):
            if b[key] is None:
                assert a[key] is None, (a["code"], key)
            else:
                assert a[key] == pytest.approx(b[key], abs=TOLERANCE_PP), (a["code"], key)
        assert (a["gaps"] is None) == (b["gaps"] is None)
        if b["gaps"]:  # the same gap polygon: its area within 0.01 % of the area's (both rounded to 6 decimals)
            ga, gb = shape(_json(a["gaps"])), shape(_json(b["gaps"]))
            assert ga.area == pytest.approx(gb.area, abs=1e-4 * shape(_json(b["geometry"])).area)
    for key in ("covered_area_pct", "covered_pop_pct"):
        if ref["summary"][key] is not None:
            assert ours["summary"][key] == pytest.approx(ref["summary"][key], abs=TOLERANCE_PP)
    assert ours["summary"]["population"] == ref["summary"]["population"]
    return ours


def _json(text: str) -> dict:
    import json

    return json.loads(text)


@pytest.mark.parametrize("by,kw", [("community", {"gaps": True}), ("street", {}), ("district", {}),
                                   ("grid", {"code_prefix": "379901001", "gaps": True}), ("urban_village", {})])
def test_demo_equals_postgis(demo_conn, by, kw):
    result = assert_same(demo_conn, by=by, **kw)
    assert any(r["covered_area_pct"] < 90 for r in result["rows"])  # real gaps, not all covered


def test_demo_other_kinds_and_radius(demo_conn):
    assert_same(demo_conn, "garbage_points", gaps=True)
    assert_same(demo_conn, "markets", radius_m=800.0)
    assert_same(demo_conn, "toilets", by="street", population=False)


def test_new_york_equals_postgis(nyc):
    """NTAs valid in WGS84, invalid in UTM 18N: both engines repair them the same way."""
    for by in ("community", "street", "district"):
        rows = assert_same(nyc, by=by, gaps=by == "community")["rows"]
        assert len(rows) >= 5 and any(0 < r["covered_area_pct"] < 100 for r in rows)


def test_taipei_equals_postgis(taipei):
    result = assert_same(taipei, by="community", gaps=True)
    assert len(result["rows"]) == 456
    assert_same(taipei, "garbage_points", by="district")


def test_state_follows_facility_changes(writable_demo):
    """Kept while nothing changes; after a toilet is moved, added or removed only the areas near it are
    measured again, and the answer still equals the exact one."""
    conn = connect(url=writable_demo)
    store = MaintainedState()
    try:
        first = assert_same(conn, store=store)
        conn.commit()
        assert store.last == ["built"]
        assert coverage(conn, "toilets", store=store)["rows"] == first["rows"]
        assert store.last[-1] == "kept"
        steps = [("UPDATE toilets SET geom = ST_Translate(geom, 0.002, 0.001) WHERE id = (SELECT min(id) FROM toilets)",),
                 ("INSERT INTO toilets (name, geom) SELECT 'draft', ST_Centroid(geom) FROM admin_areas "
                  "WHERE level = 'community' ORDER BY code LIMIT 1",),
                 ("DELETE FROM toilets WHERE id = (SELECT max(id) FROM toilets WHERE name <> 'draft')",)]
        changed = []
        for (statement,) in steps:
            with conn.cursor() as cur:
                cur.execute(statement)
            conn.commit()
            changed.append(assert_same(conn, store=store))
            conn.commit()
            assert store.last[-1].startswith("updated ")
            assert 0 < int(store.last[-1].split()[1]) < len(first["rows"]) / 2  # only areas near the change
        assert changed[0]["rows"] != first["rows"]
        assert changed[1]["summary"]["covered_area_pct"] > changed[0]["summary"]["covered_area_pct"]
    finally:
        conn.close()


def test_areas_rebuilt_when_land_use_changes(writable_demo):
    conn = connect(url=writable_demo)
    store = MaintainedState()
    try:
        before = coverage(conn, "toilets", store=store)
        conn.commit()
        with conn.cursor() as cur:  # all residential land becomes commercial: population spread over the areas
            cur.execute("UPDATE land_use SET class = 'B' WHERE class = 'R'")
        conn.commit()
        after = assert_same(conn, store=store)
        assert store.last[-1] == "built"  # new areas state, so a new cover over it
        assert {r["population_spread"] for r in after["rows"]} == {"area"}
        assert before["summary"]["covered_area_pct"] == pytest.approx(after["summary"]["covered_area_pct"])
    finally:
        conn.close()


def test_empty_city_parts(fresh_db):
    """No toilets: nothing covered, every gap the whole area; no land use: population over the area."""
    from data.migrate import migrate

    conn = connect(url=fresh_db)
    migrate(conn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO city_settings (code, name, metric_srid) VALUES ('1', 'x', 32651)")
        cur.execute("INSERT INTO admin_areas (level, code, name, population, geom) VALUES ('community', '1', 'a', 10, "
                    "ST_Multi(ST_MakeEnvelope(121, 31, 121.01, 31.01, 4326)))")
    conn.commit()
    result = assert_same(conn, gaps=True)
    assert result["rows"][0]["covered_area_pct"] == 0
    assert shapely.area(shape(_json(result["rows"][0]["gaps"]))) > 0
    conn.close()


def _kept(conn, like: str) -> dict:
    """part → (stamp, built_at) of the kept parts (migration 0760) whose name is LIKE ``like``."""
    with conn.cursor() as cur:
        cur.execute("SELECT part, stamp, built_at FROM kept_parts WHERE part LIKE %s", (like,))
        return {part: (stamp, built) for part, stamp, built in cur.fetchall()}


def _kept_land(conn, code: str) -> float:
    with conn.cursor() as cur:
        cur.execute("SELECT coalesce(sum(ST_Area(piece)), 0) FROM kept_land WHERE part LIKE 'coverage areas community %%' "
                    "AND code = %s", (code,))
        return cur.fetchone()[0]


def test_cold_runs_read_the_kept_land_and_follow_edits(writable_demo):
    """A cold run (no state in the process) keeps the communities' residential land in the database and
    the next one reads it; editing a land-use polygon or an area's outline makes that part stale: the next
    run builds it again from the edited tables, and the answer follows the edit (still the exact one)."""
    conn = connect(url=writable_demo)
    try:
        first = assert_same(conn)
        conn.rollback()
        (part, (stamp, built)), = _kept(conn, "coverage areas community %").items()
        assert coverage(conn, "toilets")["rows"] == first["rows"]
        assert _kept(conn, part)[part] == (stamp, built)  # read, not built again
        partly = {r["code"] for r in first["rows"] if 0 < (r["covered_pop_pct"] or 0) < 100}
        with conn.cursor() as cur:  # the largest residential polygon in a partly covered community becomes commercial
            cur.execute("SELECT l.id, a.code FROM land_use l JOIN admin_areas a ON a.level = 'community' "
                        "AND a.population > 0 AND ST_Intersects(l.geom, a.geom) WHERE l.class = 'R' "
                        "AND a.code = ANY(%s) ORDER BY ST_Area(ST_Intersection(l.geom, a.geom)) DESC LIMIT 1",
                        (sorted(partly),))
            land_id, code = cur.fetchone()
        land_before = _kept_land(conn, code)
        with conn.cursor() as cur:
            cur.execute("UPDATE land_use SET class = 'B' WHERE id = %s", (land_id,))
        conn.commit()
        edited = assert_same(conn)
        conn.rollback()
        assert _kept(conn, part)[part][0] != stamp and _kept_land(conn, code) < land_before
        row = {r["code"]: r for r in edited["rows"]}[code]
        assert row["covered_pop_pct"] != {r["code"]: r for r in first["rows"]}[code]["covered_pop_pct"]
        stamp = _kept(conn, part)[part][0]
        with conn.cursor() as cur:  # one community's outline moves ~200 m east
            cur.execute("UPDATE admin_areas SET geom = ST_Translate(geom, 0.002, 0) WHERE code = %s", (code,))
        conn.commit()
        moved = assert_same(conn)
        conn.rollback()
        assert _kept(conn, part)[part][0] != stamp
        assert {r["code"]: r for r in moved["rows"]}[code]["geometry"] != row["geometry"]
        with conn.cursor() as cur:
            cur.execute("SELECT ST_Distance(ST_Centroid(k.geom), ST_Centroid(ST_Transform(a.geom, ST_SRID(k.geom)))) "
                        "FROM kept_areas k JOIN admin_areas a ON a.code = k.code AND a.level = 'community' "
                        "WHERE k.part = %s AND k.code = %s", (part, code))
            assert cur.fetchone()[0] < 0.01  # the kept outline is the moved one
    finally:
        conn.close()


def test_uncommitted_edits_are_answered_but_never_kept(writable_demo):
    """A transaction's own edits count in its answer; the kept part stays that of the committed tables."""
    conn = connect(url=writable_demo)
    try:
        coverage(conn, "toilets")
        conn.rollback()
        kept = _kept(conn, "coverage areas %")
        with conn.cursor() as cur:
            cur.execute("UPDATE land_use SET class = 'B' WHERE class = 'R'")
        inside = assert_same(conn)
        assert {r["population_spread"] for r in inside["rows"]} == {"area"}
        assert _kept(conn, "coverage areas %") == kept
        conn.rollback()
        assert "residential" in {r["population_spread"] for r in coverage(conn, "toilets")["rows"]}
        assert _kept(conn, "coverage areas %") == kept
    finally:
        conn.close()


def test_cold_runs_keep_the_cover_and_follow_facility_edits(writable_demo):
    """At the standard radius a cold run keeps the cover in the database (migration 0760); after a toilet is
    moved, added or removed (committed, or only in the transaction) the next cold run gives the exact answer,
    and a committed edit moves the kept part to the new stamp."""
    conn = connect(url=writable_demo)
    try:
        first = assert_same(conn, gaps=True)
        conn.rollback()
        (part, (stamp, _)), = _kept(conn, "coverage cover community % toilets 300.0 people").items()
        assert coverage(conn, "toilets", gaps=True)["rows"] == first["rows"]
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM kept_cover_areas WHERE part = %s", (part,))
            assert cur.fetchone()[0] == len(first["rows"])
        for statement in ("UPDATE toilets SET geom = ST_Translate(geom, 0.002, 0.001) WHERE id = (SELECT min(id) FROM toilets)",
                          "INSERT INTO toilets (name, geom) SELECT 'draft', ST_Centroid(geom) FROM admin_areas "
                          "WHERE level = 'community' ORDER BY code LIMIT 1",
                          "DELETE FROM toilets WHERE id = (SELECT max(id) FROM toilets WHERE name <> 'draft')"):
            with conn.cursor() as cur:
                cur.execute(statement)
            inside = assert_same(conn, gaps=True)  # the transaction's own edit: answered, not kept
            assert _kept(conn, part)[part][0] == stamp
            conn.commit()
            assert coverage(conn, "toilets", gaps=True)["rows"] == inside["rows"]
            conn.rollback()
            assert _kept(conn, part)[part][0] != stamp
            stamp = _kept(conn, part)[part][0]
            assert_same(conn, gaps=True)  # now read from the updated part
            conn.rollback()
            assert _kept(conn, part)[part][0] == stamp
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM kept_cover_areas WHERE part = %s", (part,))
            assert cur.fetchone()[0] == len(first["rows"])
            cur.execute("SELECT count(*) = (SELECT count(*) FROM toilets) FROM kept_cover_facilities WHERE part = %s",
                        (part,))
            assert cur.fetchone()[0]
    finally:
        conn.close()


def test_a_point_disc_is_the_buffer_of_the_point_to_the_bit():
    """Point discs are one disc about the origin moved to each point: the same coordinates as GEOS's buffer."""
    import numpy as np

    from geo import coverage_fast as fast
    from geo.coverage import AREA_FACTOR

    rng = np.random.default_rng(7)
    geoms = np.concatenate([shapely.points(rng.uniform(-3e6, 3e6, (2000, 2))),
                            [shapely.LineString([(0, 0), (10, 5)]), shapely.box(1, 1, 50, 60)]])
    for radius in (0.5, 300.0, 812.25, 9999.0):
        radii = np.where(shapely.get_type_id(geoms) == 0, radius * AREA_FACTOR, radius)
        expected = shapely.to_wkb(shapely.buffer(geoms, radii, quad_segs=16))
        assert list(shapely.to_wkb(fast.discs(geoms, radius, AREA_FACTOR))) == list(expected)


def test_a_toilet_moved_and_moved_back_gives_the_answer_before_to_the_bit(writable_demo):
    """At a planner's own radius (kept in the process only), at the standard's, and cold (from the part kept
    in the database, updated after each move): after a toilet is moved and moved back the answer is the one
    before, to the last bit, though the moved facility's disc now comes last among the discs kept (the discs
    are unioned in facility-id order)."""
    conn = connect(url=writable_demo)
    store = MaintainedState()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, geom::text FROM toilets ORDER BY id LIMIT 1")
            toilet, was = cur.fetchone()
        for radius in (260.0, None):
            first = coverage(conn, "toilets", radius, store=store, gaps=True)
            conn.commit()
            cold_first = coverage(conn, "toilets", gaps=True)  # nothing kept in the process
            conn.rollback()
            for statement, value in (("ST_Translate(geom, 0.003, 0)", None), ("%s::geometry", was)):
                with conn.cursor() as cur:  # moved ~270 m east, then back exactly where it was
                    cur.execute(f"UPDATE toilets SET geom = {statement} WHERE id = %s",
                                (value, toilet) if value else (toilet,))
                conn.commit()
                moved = assert_same(conn, store=store, radius_m=radius, gaps=True)
                conn.commit()
                assert store.last[-1].startswith("updated ")
                cold = coverage(conn, "toilets", gaps=True)  # updates the part kept in the database
                conn.rollback()
            assert moved["rows"] == first["rows"] and moved["summary"] == first["summary"]
            assert cold["rows"] == cold_first["rows"]
    finally:
        conn.close()
