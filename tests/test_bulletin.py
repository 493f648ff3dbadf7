"""The bulletin's figures against an independent computation, on a copy of the small demo city.

The oracle (tests/bulletin_oracle.py) is plain SQL, one simple query per figure with the period's bounds written out in UTC,
and Python for the medians and the holder of a grid at a time; it shares no code with
layers/reports. The copy is given what the demo lacks: a grid that changes hands inside October,
cases sent back from 核查 (返工), cases closed without being filed (不予立案), and complaints at the
edges of October in China time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from data.db import connect
from data.params import parse_period
from layers.reports.compose import bulletin
from tests.bulletin_oracle import check, check_inspections, figures_of, oracle

NEW_UNIT = "测试接管单位"
CHANGE_AT = "2026-10-15 09:00:00+08"  # the grid changes hands inside October (China time)
# The edges of October in China time: 2026-10-01T00:00+08 is 2026-09-30T16:00Z; 2026-11-01T00:00+08 is
# 2026-10-31T16:00Z (the demo's data time).
EDGES = {"sep_last_second": "2026-09-30 15:59:59+00", "oct_first_moment": "2026-09-30 16:00:00+00",
         "oct_morning_utc_september": "2026-09-30 23:30:00+00", "oct_last_second": "2026-10-31 15:59:59+00"}


@pytest.fixture(scope="module")
def city(module_demo):
    """The demo copy, with the additions the module's docstring lists; yields (url, the grid that changed)."""
    conn = connect(url=module_demo)
    with conn, conn.cursor() as cur:
        cur.execute("""SELECT grid_code FROM complaints
                       WHERE reported_at >= '2026-09-30 16:00+00' AND reported_at < '2026-10-31 16:00+00'
                       GROUP BY grid_code HAVING count(*) FILTER (WHERE reported_at < %(c)s) >= 2
                                             AND count(*) FILTER (WHERE reported_at >= %(c)s) >= 2
                       ORDER BY count(*) DESC, grid_code LIMIT 1""", {"c": CHANGE_AT})
        grid = cur.fetchone()[0]
        cur.execute("SELECT responsible_unit, grid_manager, phone FROM grids WHERE code = %s", (grid,))
        old = cur.fetchone()
        # An assignment made on 15 October: its history row (as grids.assign writes it, at that time) and the row.
        cur.execute("""INSERT INTO grid_assignments (grid_code, responsible_unit, grid_manager, phone, before, reason,
                                                     changed_by, changed_at)
                       VALUES (%s, %s, '李四', '0535-6000000', json_build_object('unit', %s::text, 'manager', %s::text,
                               'phone', %s::text), '测试：网格移交', 'test', %s)""",
                    (grid, NEW_UNIT, *old, CHANGE_AT))
        cur.execute("UPDATE grids SET responsible_unit = %s WHERE code = %s", (NEW_UNIT, grid))
        # Complaints at the edges of October, copies of one of that grid's complaints.
        for name, at in EDGES.items():
            cur.execute("""INSERT INTO complaints (source, source_id, channel, category, reported_at, status, due_at,
                                                   district_code, street_code, community_code, grid_code, geom)
                           SELECT 'test', %s, channel, category, %s, '派遣', %s::timestamptz + interval '24 hours',
                                  district_code, street_code, community_code, grid_code, geom
                           FROM complaints WHERE grid_code = %s ORDER BY id LIMIT 1""", (name, at, at, grid))
        # One closed at the very moment of its time limit: on time.
        cur.execute("""INSERT INTO complaints (source, source_id, channel, category, reported_at, status, due_at,
                                               closed_at, district_code, street_code, community_code, grid_code, geom)
                       SELECT 'test', 'closed_at_deadline', channel, category, '2026-10-10 10:00+08', '结案',
                              '2026-10-11 10:00+08', '2026-10-11 10:00+08', district_code, street_code,
                              community_code, grid_code, geom
                       FROM complaints WHERE grid_code = %s ORDER BY id LIMIT 1""", (grid,))
        # 返工 on four closed October cases, 不予立案 on three others.
        cur.execute("""SELECT id FROM complaints WHERE status = '结案' AND reported_at >= '2026-09-30 16:00+00'
                       AND reported_at < '2026-10-31 16:00+00' ORDER BY id LIMIT 7""")
        ids = [r[0] for r in cur.fetchall()]
        for cid in ids[:4]:
            cur.execute("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
                        "VALUES (%s, '核查', '处置', '核查不合格', 'test', '2026-10-20 10:00+08')", (cid,))
        for cid in ids[4:]:
            cur.execute("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
                        "VALUES (%s, '受理', '结案', '不属于受理范围', 'test', '2026-10-20 10:00+08')", (cid,))
        _add_findings_and_ratings(cur, grid, old[0], ids)
        _add_later_steps(cur, grid)
    conn.close()
    yield module_demo, grid


#: Findings the copy adds in the grid that changed hands: (source_id, observed at, deduction), all charged to the
#: new holder (the unit stored with a finding is the one holding the grid when it was observed).
FINDINGS = (("after_change", "2026-10-20 10:00+08", 2.5), ("oct_last_second", "2026-10-31 15:59:59+00", 1),
            ("sep_last_second", "2026-09-30 15:59:59+00", 4))  # in September: charged to the old holder
#: Ratings the copy adds on closed October cases: (tracking, case index, rating, rated at); RATED_TWICE's
#: later rating is the one that counts.
RATINGS = (("TESTRATE01", 0, "满意", "2026-10-21 09:00+08"), ("TESTRATE01", 0, "不满意", "2026-10-22 09:00+08"),
           ("TESTRATE02", 1, "基本满意", "2026-10-01 00:00+08"), ("TESTRATE03", 2, "满意", "2026-10-31 23:59+08"),
           ("TESTRATE04", 3, "满意", "2026-11-01 00:00+08"), ("TESTRATE05", 4, "不满意", "2026-10-05 12:00+08"))


def _add_findings_and_ratings(cur, grid: str, old_unit: str, cases: list[int]) -> None:
    for source_id, at, deduction in FINDINGS:
        cur.execute("""INSERT INTO inspection_findings (round_id, client_id, inspector, item_code, place_type, item_text,
                           deduction, due_days, observed_at, due_at, district_code, street_code, community_code,
                           grid_code, responsible_unit, source, source_id, geom)
                       SELECT (SELECT min(id) FROM inspection_rounds), %(s)s, 'test', 'T1', '病媒生物', '测试', %(d)s, 3,
                              %(at)s, %(at)s::timestamptz + interval '3 days', district_code, street_code,
                              community_code, code, CASE WHEN %(at)s::timestamptz < %(c)s::timestamptz THEN %(old)s ELSE %(unit)s END,
                              'test', %(s)s, ST_PointOnSurface(geom)
                       FROM grids WHERE code = %(g)s""", {"s": source_id, "d": deduction, "at": at, "unit": NEW_UNIT,
                                                          "g": grid, "c": CHANGE_AT, "old": old_unit})
    for k, (tracking, case, rating, at) in enumerate(RATINGS):
        cur.execute("""INSERT INTO public_reports (tracking, complaint_id, channel, geom)
                       SELECT %s, id, '网上', geom FROM complaints WHERE id = %s ON CONFLICT DO NOTHING""",
                    (tracking, cases[case]))
        cur.execute("""INSERT INTO public_ratings (tracking, complaint_id, closed_at, rating, reason, rated_at)
                       VALUES (%s, %s, %s::timestamptz - interval '1 day' + %s * interval '1 minute', %s,
                               CASE WHEN %s = '不满意' THEN '测试' END, %s)""",
                    (tracking, cases[case], at, k, rating, rating, at))


#: Complaints whose October changed after October's end (a past bulletin printed again must not change):
#: one still at 受理 at the end and filed (立案) in November; one closed in October and reopened in November by a
#: 不满意 rating (结案 → 处置, which clears closed_at).
LATER = {"filed_in_november": ("立案", None, (("受理", "立案", "2026-11-05 09:00+08"),)),
         "reopened_in_november": ("处置", None, (("受理", "立案", "2026-10-12 09:00+08"),
                                                 ("核查", "结案", "2026-10-14 09:00+08"),
                                                 ("结案", "处置", "2026-11-03 09:00+08")))}


def _add_later_steps(cur, grid: str) -> None:
    for source_id, (status, closed_at, steps) in LATER.items():
        cur.execute("""INSERT INTO complaints (source, source_id, channel, category, reported_at, status, due_at,
                                               closed_at, district_code, street_code, community_code, grid_code, geom)
                       SELECT 'test', %s, channel, category, '2026-10-11 09:00+08', %s, '2026-10-16 09:00+08', %s,
                              district_code, street_code, community_code, grid_code, geom
                       FROM complaints WHERE grid_code = %s ORDER BY id LIMIT 1 RETURNING id""",
                    (source_id, status, closed_at, grid))
        cid = cur.fetchone()[0]
        cur.execute("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
                    "VALUES (%s, NULL, '受理', NULL, 'test', '2026-10-11 09:00+08')", (cid,))
        for frm, to, at in steps:
            cur.execute("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
                        "VALUES (%s, %s, %s, 'test', 'test', %s)", (cid, frm, to, at))


# -- the tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "day", "start_utc", "end_utc"), [
    ("month", "2026-10", "2026-09-30T16:00:00", "2026-10-31T16:00:00"),
    ("month", "2026-09-15", "2026-08-31T16:00:00", "2026-09-30T16:00:00"),
    ("week", "2026-10-01", "2026-09-27T16:00:00", "2026-10-04T16:00:00"),
    ("quarter", "2026-Q3", "2026-06-30T16:00:00", "2026-09-30T16:00:00"),
    ("year", "2025", "2024-12-31T16:00:00", "2025-12-31T16:00:00"),
])
def test_every_figure_equals_plain_sql(city, kind, day, start_utc, end_utc):
    url, _ = city
    start, end = (datetime.fromisoformat(t).replace(tzinfo=UTC) for t in (start_utc, end_utc))
    conn = connect(url=url)
    try:
        period = parse_period(kind, day)
        assert (period.start, period.end) == (start, end)  # China time: midnight is 16:00 UTC the day before
        b = bulletin(conn, period)
        check(b, oracle(conn, start, end))
        check_inspections(b, conn, start, end)
        assert b["totals"]["received"] > 0 and len(b["streets"]) == 4
    finally:
        conn.close()


def test_period_edges_in_china_time(city):
    """A complaint at 00:00 on 1 October China time, and one at 07:30 (still 30 September in UTC), count in
    October; one a second earlier counts in September."""
    url, grid = city
    conn = connect(url=url)
    try:
        october = bulletin(conn, parse_period("month", "2026-10"))
        september = bulletin(conn, parse_period("month", "2026-09"))
        with conn.cursor() as cur:
            cur.execute("SELECT street_code FROM grids WHERE code = %s", (grid,))
            street = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM complaints WHERE street_code = %s AND source <> 'test' "
                        "AND reported_at >= '2026-09-30 16:00+00' AND reported_at < '2026-10-31 16:00+00'", (street,))
            demo_october = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM complaints WHERE street_code = %s AND source <> 'test' "
                        "AND reported_at >= '2026-08-31 16:00+00' AND reported_at < '2026-09-30 16:00+00'", (street,))
            demo_september = cur.fetchone()[0]
    finally:
        conn.close()
    row = {r["code"]: r for r in october["streets"]}[street]
    # oct_first_moment, oct_morning_utc_september, oct_last_second, closed_at_deadline, and the LATER ones
    assert row["received"] == demo_october + 4 + len(LATER)
    assert {r["code"]: r for r in september["streets"]}[street]["received"] == demo_september + 1


def test_units_credited_by_who_held_the_grid_when_reported(city):
    """The grid changed hands on 15 October: the new unit answers for its complaints from then on only, the
    old one keeps those reported before, though the old one no longer holds the grid."""
    url, grid = city
    conn = connect(url=url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT before->>'unit' FROM grid_assignments WHERE grid_code = %s AND changed_by = 'test'",
                        (grid,))
            old_unit = cur.fetchone()[0]
            cur.execute("SELECT count(*) FILTER (WHERE reported_at >= %(c)s), count(*) FILTER (WHERE reported_at < %(c)s) "
                        "FROM complaints WHERE grid_code = %(g)s AND reported_at >= '2026-09-30 16:00+00' "
                        "AND reported_at < '2026-10-31 16:00+00'", {"g": grid, "c": CHANGE_AT})
            after, before = cur.fetchone()
            cur.execute("SELECT count(*) FROM complaints c JOIN grids g ON g.code = c.grid_code "
                        "WHERE g.responsible_unit = %s AND c.grid_code <> %s AND reported_at >= '2026-09-30 16:00+00' "
                        "AND reported_at < '2026-10-31 16:00+00'", (old_unit, grid))
            old_elsewhere = cur.fetchone()[0]
        units = {r["code"]: r for r in bulletin(conn, parse_period("month", "2026-10"))["units"]}
        september = {r["code"]: r for r in bulletin(conn, parse_period("month", "2026-09"))["units"]}
    finally:
        conn.close()
    assert after >= 2 and before >= 2
    assert units[NEW_UNIT]["received"] == after
    assert units[old_unit]["received"] == before + old_elsewhere
    # It held nothing in September (its first grid came on 15 October): it is not in September's tables at all,
    # neither with a complaint nor in the scores with the base score.
    assert NEW_UNIT not in september
    assert units[NEW_UNIT]["findings"] == 2  # after the change, and the last second
    assert units[NEW_UNIT]["deductions"] == 3.5


def test_rework_and_not_filed(city):
    """Cases sent back from 核查 count as rework; cases closed from 受理 are neither filed nor due."""
    url, _ = city
    conn = connect(url=url)
    try:
        totals = bulletin(conn, parse_period("month", "2026-10"))["totals"]
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM complaints WHERE reported_at >= '2026-09-30 16:00+00' "
                        "AND reported_at < '2026-10-31 16:00+00' AND status <> '受理'")
            past_received = cur.fetchone()[0]
    finally:
        conn.close()
    # Not filed: the three closed from 受理, and the one filed only in November.
    assert totals["filed"] == past_received - 4
    assert totals["rework_rate"] == round(4 / totals["filed"], 6)


def test_a_past_period_printed_again_is_as_it_was(city):
    """October printed in December: a case filed in November was not filed in October, and a case closed in
    October and reopened in November by a resident's 不满意 was closed at October's end (not open)."""
    url, grid = city
    conn = connect(url=url)
    try:
        b = bulletin(conn, parse_period("month", "2026-10"))
        with conn.cursor() as cur:
            cur.execute("SELECT street_code FROM grids WHERE code = %s", (grid,))
            street = cur.fetchone()[0]
            # The history as it stood at October's end (the history is append-only: its guard is off for this
            # transaction, which is rolled back).
            cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute("DELETE FROM complaint_events WHERE at >= '2026-10-31 16:00+00' AND actor = 'test'")
            cur.execute("UPDATE complaints SET status = '受理' WHERE source_id = 'filed_in_november'")
            cur.execute("UPDATE complaints SET status = '结案', closed_at = '2026-10-14 09:00+08' "
                        "WHERE source_id = 'reopened_in_november'")
            as_printed_then = bulletin(conn, parse_period("month", "2026-10"))
    finally:
        conn.rollback()
        conn.close()
    row = next(r for r in b["streets"] if r["code"] == street)
    then = next(r for r in as_printed_then["streets"] if r["code"] == street)
    for figure in ("received", "filed", "due", "closed", "on_time", "open_at_end", "overdue_at_end", "median_hours"):
        assert row[figure] == then[figure], figure
    assert b["totals"]["filed"] == as_printed_then["totals"]["filed"]


def test_ranks_and_rank_change(city):
    """With inspection findings in the month, streets rank by score (as a round does); in a month without, by
    closure rate then on-time rate. rank_change is last month's rank minus this one's. The summary names the
    black list: the worst min(3, half the ranked) streets, by what they are ranked on."""
    url, _ = city
    conn = connect(url=url)
    try:
        now = bulletin(conn, parse_period("month", "2026-10"))
        before = bulletin(conn, parse_period("month", "2026-09"))
        no_inspection = bulletin(conn, parse_period("month", "2025-10"))
    finally:
        conn.close()
    ranked = [r for r in now["streets"] if r["rank"] is not None]
    assert now["ranked_by"] == "score" and len(ranked) == 4
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    was = {r["code"]: r["rank"] for r in before["streets"]}
    for r in ranked:
        assert r["rank_change"] == was[r["code"]] - r["rank"]
    assert f"{100 * now['totals']['closed_rate']:.1f}%" in now["summary_zh"]
    assert str(now["totals"]["received"]) in now["summary_en"]
    # Four ranked streets: two on the black list, named worst first; the third-worst is not named.
    assert f"检查得分排名后2位的街道是{ranked[-1]['name']}（{ranked[-1]['score']:g}分）、{ranked[-2]['name']}" in now["summary_zh"]
    assert ranked[-3]["name"] not in now["summary_zh"].split("排名后")[1].split("。")[0]
    old = [r for r in no_inspection["streets"] if r["rank"] is not None]
    assert no_inspection["ranked_by"] == "closed_rate" and no_inspection["inspections"] is None
    keys = [(-r["closed_rate"], -r["on_time_rate"]) for r in old]
    assert keys == sorted(keys) and old[0]["rank"] == 1
    assert f"结案率排名后2位的街道是{old[-1]['name']}" in no_inspection["summary_zh"]


@pytest.mark.parametrize(("kind", "day", "start", "end"), [
    ("week", "2026-W53", "2026-12-28", "2027-01-04"),     # ISO week 53, across the new year
    ("week", "2027-01-01", "2026-12-28", "2027-01-04"),   # a Friday: its week began on Monday
    ("quarter", "2026-11", "2026-10-01", "2027-01-01"),   # a month names its quarter
    ("quarter", "2026-11-30", "2026-10-01", "2027-01-01"),
    ("year", "2026-Q2", "2026-01-01", "2027-01-01"),
    ("month", "2024-02-29", "2024-02-01", "2024-03-01"),
])
def test_period_forms(kind, day, start, end):
    from data.vocab import set_city_tz

    set_city_tz("Asia/Shanghai")  # the zone the demo city names (connections set it; this test opens none)
    period = parse_period(kind, day)
    assert (period.start.date().isoformat(), period.end.date().isoformat()) == (start, end)
    assert period.start.utcoffset() == period.end.utcoffset() == timedelta(hours=8)  # the city's zone (demo default)


def test_previous_period_and_a_city_with_summer_time():
    from zoneinfo import ZoneInfo

    from data.params import period_of

    january = parse_period("month", "2026-01")
    assert january.previous().start.date().isoformat() == "2025-12-01" and january.previous().end == january.start
    assert parse_period("week", "2026-01-01").previous().start.date().isoformat() == "2025-12-22"
    # New York: November begins in summer time and ends in winter time; the bounds are local midnights.
    november = period_of("month", datetime(2026, 11, 15).date(), ZoneInfo("America/New_York"))
    assert november.start.isoformat() == "2026-11-01T00:00:00-04:00"
    assert november.end.isoformat() == "2026-12-01T00:00:00-05:00"


def test_trend_of_the_last_12_months_equals_plain_sql(city):
    """The trend's 12 months, the bulletin's last, each with the figures the oracle gives for that month alone."""
    url, _ = city
    conn = connect(url=url)
    try:
        b = bulletin(conn, parse_period("month", "2026-10"))
        points = b["trend"]
        assert len(points) == 12 and points[-1]["start"] == b["period"]["start"]
        assert points[0]["start"] == "2025-11-01T00:00:00+08:00" and points[0]["label"] == "11月\n2025"
        for p in points:
            start, end = datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"])
            want = figures_of(oracle(conn, start, end)[("city", None)])
            assert (p["received"], p["filed"], p["due"], p["closed"], p["closed_rate"]) == (
                want["received"], want["filed"], want["due"], want["closed"], want["closed_rate"]), p["start"]
        assert (points[-1]["received"], points[-1]["closed_rate"]) == (b["totals"]["received"], b["totals"]["closed_rate"])
    finally:
        conn.close()


def test_trend_is_one_statement(city):
    """All 12 periods come from one SQL statement, not one query per period."""
    import psycopg2.extensions

    from layers.reports.trend import trend

    class Counting(psycopg2.extensions.cursor):
        executed: list = []

        def execute(self, query, vars=None):
            Counting.executed.append(query)
            return super().execute(query, vars)

    url, _ = city
    conn = connect(url=url)
    try:
        conn.cursor_factory = Counting
        points = trend(conn, parse_period("week", "2026-10-30"))
    finally:
        conn.close()
    assert len(points) == 12 and len(Counting.executed) == 1


def test_hotspots_that_became_or_grew_in_the_month(city):
    """The emerging-hotspot analysis over the 12 months ending with October (China time): the cells whose pattern
    is new, consecutive or intensifying, each in the street holding its centre (plain SQL); a month with fewer
    than 4 months of complaints before it says why there is none."""
    from geo.hotspots import emerging

    url, _ = city
    conn = connect(url=url)
    try:
        h = bulletin(conn, parse_period("month", "2026-10"))["hotspots"]
        since, until = (datetime.fromisoformat(t) for t in ("2025-11-01T00:00:00+08:00", "2026-11-01T00:00:00+08:00"))
        assert h["available"] and (h["window"]["since"], h["window"]["until"]) == (since.isoformat(), until.isoformat())
        whole, patterns, _ = emerging(conn, since=since, until=until, tz="Asia/Shanghai")
        want = {}
        with conn.cursor() as cur:
            for i, p in enumerate(patterns):
                if p in ("new", "consecutive", "intensifying"):
                    cur.execute("""SELECT a.code FROM admin_areas a WHERE a.level = 'street'
                                   AND ST_Contains(a.geom, ST_Centroid(ST_GeomFromGeoJSON(%s)))""", (whole.geojson[i],))
                    row = cur.fetchone()
                    want[(int(whole.q[i]), int(whole.r[i]))] = (p, row[0] if row else None, int(whole.count[i]))
        assert {(c["q"], c["r"]): (c["pattern"], c["street"], c["count"]) for c in h["cells"]} == want
        assert want and sum(h["counts"].values()) == len(want)  # the demo's October has one: the test can fail
        early = bulletin(conn, parse_period("month", "2024-01"))["hotspots"]
        assert not early["available"] and "月份不足4个" in early["reason"] and early["cells"] == []
        assert "4 months" in bulletin(conn, parse_period("month", "2024-01"), "en")["hotspots"]["reason"]
    finally:
        conn.close()


def test_coverage_says_what_the_data_cannot_tell(city):
    """Facilities added or removed in a period are not recorded: the section says so and gives nothing in their
    place; it counts the facilities written in the period (updated_at) and the writes to their table."""
    url, _ = city
    conn = connect(url=url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE toilets SET updated_at = '2026-10-20 10:00+08' WHERE id = (SELECT min(id) FROM toilets)")
        october = bulletin(conn, parse_period("month", "2026-10"))["coverage"]
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE updated_at >= '2026-09-30 16:00+00' "
                        "AND updated_at < '2026-10-31 16:00+00') FROM toilets")
            now, written = cur.fetchone()
            cur.execute("SELECT date_trunc('month', max(changed_at) AT TIME ZONE 'Asia/Shanghai') FROM data_changes "
                        "WHERE table_name = 'toilets'")
            last_write = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM data_changes WHERE table_name = 'toilets' AND "
                        "date_trunc('month', changed_at AT TIME ZONE 'Asia/Shanghai') = %s", (last_write,))
            writes = cur.fetchone()[0]
        that_month = bulletin(conn, parse_period("month", last_write.strftime("%Y-%m")))["coverage"]
    finally:
        conn.close()
    assert not october["available"] and october["added"] is None and october["removed"] is None
    assert october["covered_share_change"] is None and "无法得出" in october["reason"]
    toilets = {k["kind"]: k for k in october["kinds"]}["toilets"]
    assert (toilets["now"], toilets["written"]) == (now, written) and written == 1
    assert {k["kind"]: k for k in that_month["kinds"]}["toilets"]["table_writes"] == writes > 0


def test_each_summary_names_streets_and_problems_in_its_own_language(city):
    """An English bulletin's Chinese summary (and a Chinese bulletin's English one) names the streets and the
    problems in its own language, as the bulletin of that language does."""
    url, _ = city
    conn = connect(url=url)
    try:
        zh, en = (bulletin(conn, parse_period("month", "2026-10"), lang=lang) for lang in ("zh", "en"))
    finally:
        conn.close()
    assert zh["summary_zh"] == en["summary_zh"] and zh["summary_en"] == en["summary_en"]
    top_zh, top_en = zh["categories"][0]["name"], en["categories"][0]["name"]
    assert top_zh != top_en and top_zh in zh["summary_zh"] and top_en in zh["summary_en"]
    assert top_en not in en["summary_zh"] and top_zh not in en["summary_en"]


def test_a_problem_without_a_case_in_the_period_is_not_among_the_most_reported(city):
    """Hong Kong's December bulletin said 反映最多的问题是暴露垃圾（4件…）、垃圾满溢（2件…）、乱倒污水（0件，较上月减少6件）:
    a type listed only for last period's cases is not among the most reported; a period without any says so."""
    url, _ = city
    conn = connect(url=url)
    october = "reported_at >= '2026-09-30 16:00+00' AND reported_at < '2026-10-31 16:00+00'"
    try:
        with conn.cursor() as cur:  # every October case of one type: September's other types have none in October
            cur.execute(f"SELECT category FROM complaints WHERE {october} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
            kept = cur.fetchone()[0]
            cur.execute(f"UPDATE complaints SET category = %s WHERE {october}", (kept,))
        month = bulletin(conn, parse_period("month", "2026-10"))
        english = bulletin(conn, parse_period("month", "2026-10"), lang="en")
        empty = bulletin(conn, parse_period("month", "2026-11"))
    finally:
        conn.rollback()
        conn.close()
    gone = [r for r in month["categories"] if r["received"] == 0]
    assert gone and all(r["previous"] > 0 for r in gone), month["categories"]
    named_zh = month["summary_zh"].split("反映最多的问题是")[1]
    named_en = month["summary_en"].split("Most reported: ")[1]
    assert named_zh.startswith(month["categories"][0]["name"]) and named_zh.count("件，") == 1, named_zh
    assert named_en.startswith(english["categories"][0]["name"]) and named_en.count(" on last month") == 1, named_en
    for zh, en in zip(gone, (r for r in english["categories"] if r["received"] == 0), strict=True):
        assert zh["name"] not in named_zh and en["name"] not in named_en
    # November: no case of any type (October's are listed with their change), so none is named.
    assert empty["totals"]["received"] == 0 and empty["categories"], empty["categories"]
    assert "反映最多" not in empty["summary_zh"] and empty["summary_zh"].endswith("本月各类问题均无投诉。")
    assert "Most reported" not in empty["summary_en"] and empty["summary_en"].endswith(" No problem was reported this month.")
