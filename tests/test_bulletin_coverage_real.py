"""The bulletin's coverage section on real data: Taipei's 1,544 public toilets imported with the command line
(tests/real_city.py's fixture, run again for this module), recorded by the facility history; then toilets
removed and moved in a month, the shares checked against the PostGIS coverage engine."""

from __future__ import annotations

import pytest

from data.db import connect
from data.params import parse_period
from layers.reports.compose import bulletin
from tests.real_city import TAIPEI_STREET, taipei  # noqa: F401  (a pytest fixture, used by name)
from tests.test_bulletin_coverage import _share


def _toilets(conn, month: str) -> dict:
    c = bulletin(conn, parse_period("month", month))["coverage"]
    assert c["available"], c["reason"]
    return {k["kind"]: k for k in c["kinds"]}["toilets"]


def test_taipei_history_and_covered_share(taipei):
    conn = connect(url=taipei.url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE c.op = 'added' AND c.at > l.since), "
                        "(SELECT count(*) FROM toilets) FROM facility_changes c JOIN facility_log l USING (table_name) "
                        "WHERE table_name = 'toilets'")
            assert cur.fetchone() == (1544, 1544)  # every imported toilet recorded, after the history began
        now = bulletin(conn, parse_period("month", "2026-11"))["coverage"]
        assert not now["available"] and "无法得出" in now["reason"]  # the history began this month, after its start
        with conn, conn.cursor() as cur:  # as if the history began in January and the import happened then
            cur.execute("UPDATE facility_log SET since = '2026-01-01 00:00+08'")
            cur.execute("UPDATE facility_changes SET at = '2026-01-02 10:00+08'")
        before = _share(conn)
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM toilets WHERE id IN (SELECT id FROM toilets WHERE street_code = %s "
                        "ORDER BY id LIMIT 10)", (TAIPEI_STREET,))
            cur.execute("UPDATE toilets SET geom = ST_Translate(geom, 0.01, 0) WHERE id = (SELECT max(id) FROM toilets)")
            cur.execute("UPDATE facility_changes SET at = '2026-10-10 10:00+08' WHERE at > '2026-01-02 10:00+08'")
        after = _share(conn)
        october = _toilets(conn, "2026-10")
        january = _toilets(conn, "2026-01")
    finally:
        conn.close()
    assert (october["added"], october["removed"], october["moved"]) == (0, 10, 1)
    assert all(x["street"] == TAIPEI_STREET and x["street_name"] for x in october["removed_list"])
    assert before - after > 1e-3
    assert october["share_start"] == pytest.approx(before, abs=0.01)
    assert october["share_end"] == pytest.approx(after, abs=0.01)
    assert (january["added"], january["removed"]) == (1544, 0) and len(january["added_list"]) == 20
    assert january["share_start"] == 0 and january["share_end"] == pytest.approx(before, abs=0.01)
