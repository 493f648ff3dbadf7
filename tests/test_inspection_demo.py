"""The demo city's inspection rounds: findings in every state, routed to the grids holding them, scored."""

from __future__ import annotations

from data.vocab import FINDING_STATUSES, RECHECK_FAILED, TO_RECTIFY


def test_demo_rounds_show_findings_in_every_state(demo_client, demo_conn):
    rounds = demo_client.get("/api/inspections/rounds").json()["items"]
    assert {r["kind"] for r in rounds} == {"月度暗访", "周检查", "复审模拟"}
    assert sum(r["findings"] for r in rounds) == 100 and all(r["to_rectify"] for r in rounds)
    with demo_conn.cursor() as cur:
        cur.execute("SELECT DISTINCT status FROM inspection_findings")
        # 复查未通过 is a step, never a resting state.
        assert {r[0] for r in cur.fetchall()} == set(FINDING_STATUSES) - {RECHECK_FAILED}
        cur.execute("SELECT count(DISTINCT place_type) FROM inspection_findings")
        assert cur.fetchone()[0] == 8
        # Each finding lies in the grid it names, in one of its round's streets.
        cur.execute("""SELECT count(*) FROM inspection_findings f JOIN inspection_rounds r ON r.id = f.round_id
                       LEFT JOIN grids g ON g.code = f.grid_code
                       WHERE g.code IS NULL OR NOT ST_Intersects(g.geom, f.geom) OR NOT f.street_code = ANY (r.streets)
                          OR f.responsible_unit IS DISTINCT FROM g.responsible_unit""")
        assert cur.fetchone()[0] == 0
        # Histories chain: each step starts where the previous ended, and ends in the finding's status.
        cur.execute("""SELECT f.id, f.status, array_agg(e.from_status ORDER BY e.seq), array_agg(e.to_status ORDER BY e.seq)
                       FROM inspection_findings f JOIN inspection_events e ON e.finding_id = f.id GROUP BY f.id""")
        histories = cur.fetchall()
    assert len(histories) == 100
    for _, status, froms, tos in histories:
        assert froms[0] is None and froms[1:] == tos[:-1] and tos[-1] == status
    assert any(RECHECK_FAILED in tos and tos[-1] == TO_RECTIFY for *_, tos in histories)
    overdue = demo_client.get("/api/inspections/findings?status=待整改&limit=1000").json()["items"]
    assert any(f["overdue"] for f in overdue) and not all(f["overdue"] for f in overdue)
    monthly = next(r for r in rounds if r["kind"] == "月度暗访")
    scores = demo_client.get(f"/api/inspections/rounds/{monthly['id']}/scores").json()
    assert sum(s["findings"] for s in scores["streets"]) == 60
    assert min(s["score"] for s in scores["streets"]) < 100 and scores["units"][0]["rank"] == 1
