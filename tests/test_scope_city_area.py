"""The city's area an answer's totals are measured against (layers/analysis/scope.py) is kept between what-if
edits, and follows the admin areas: a district removed or redrawn changes it at once, in every database."""

from __future__ import annotations

import pytest

from data.db import connect
from layers.analysis.scope import scope


def _city_m2(cur) -> float:
    cur.execute("SELECT sum(ST_Area(geom::geography)) FROM admin_areas WHERE level = 'district'")
    return float(cur.fetchone()[0])


def test_the_city_area_follows_a_district_taken_away(writable_demo, demo_db):
    conn = connect(url=writable_demo)
    try:
        with conn.cursor() as cur:
            whole = _city_m2(cur)
            assert scope(conn, "community", 3, whole / 2)["city_pct"] == pytest.approx(50.0)
            assert scope(conn, "community", 3, whole / 4)["city_pct"] == pytest.approx(25.0)  # kept: same answer
            cur.execute("DELETE FROM admin_areas WHERE code = (SELECT code FROM admin_areas WHERE level = "
                        "'district' ORDER BY code LIMIT 1)")
            smaller = _city_m2(cur)
            assert smaller < whole
            # The same transaction sees its own change: the share is of the city as it now is.
            assert scope(conn, "community", 3, whole / 2)["city_pct"] == pytest.approx(50.0 * whole / smaller)
        conn.rollback()
        other = connect(url=demo_db)  # another database of the same city: its own area, not the one kept above
        try:
            assert scope(other, "community", 3, whole / 2)["city_pct"] == pytest.approx(50.0)
        finally:
            other.close()
    finally:
        conn.close()
