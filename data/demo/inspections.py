"""Demo inspection rounds (明察暗访): findings at the demo's own places, in every rectification state.

Three rounds before the demo's data time (2026-11-01): a monthly unannounced
round over every street, a weekly check and a mock review over two. Each
finding is a checklist item of the place it was seen at (a market's items at
a market, a back lane's on a 背街小巷 road, 病媒生物 and 门前三包 anywhere in
a grid), routed to the grid holding it. States cycle so that the maps,
scores and lists show each: waiting (some past their deadline), rectified,
re-check passed, and re-check failed then waiting again. Written with SQL
like the demo's complaints (no photos: the demo has no files).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from data import checklist
from data.demo.model import DATA_END
from data.settings import InspectionSettings
from data.vocab import RECHECK_FAILED, RECHECK_PASSED, RECTIFIED, TO_RECTIFY, UNANNOUNCED_KINDS

# Where each place type is seen: the SQL giving (lon, lat) of such places, in a stable order.
_PLACES = {
    "农贸市场": "SELECT ST_X(geom), ST_Y(geom) FROM markets ORDER BY id",
    "公厕": "SELECT ST_X(geom), ST_Y(geom) FROM toilets ORDER BY id",
    "垃圾收集点/转运站": "SELECT ST_X(geom), ST_Y(geom) FROM garbage_stations ORDER BY id",
    "城中村/城乡结合部": "SELECT ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) p FROM urban_villages) s ORDER BY id",
    "健康步道/公园": "SELECT ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) p FROM health_trails) s ORDER BY id",
    "背街小巷": "SELECT ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) p FROM roads "
                "WHERE class = '背街小巷') s ORDER BY id",
    "单位与门店门前三包": "SELECT ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) p FROM grids) s ORDER BY id",
    "病媒生物": "SELECT ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) p FROM grids) s ORDER BY id",
}
# name, kind, first day, days, how many streets (None: all), findings
_ROUNDS = (("2026年10月月度暗访", "月度暗访", datetime(2026, 10, 8), 14, None, 60),
           ("2026年第43周周检查", "周检查", datetime(2026, 10, 19), 7, 2, 20),
           ("复审模拟（城区）", "复审模拟", datetime(2026, 10, 26), 5, 2, 20))
# Rectification states, cycled over a round's findings.
_STATES = ("waiting", "rectified", "passed", "waiting", "failed_then_waiting", "passed", "rectified")


def _route(cur, lon: float, lat: float):
    cur.execute("""SELECT code, community_code, street_code, district_code, responsible_unit FROM grids
                   WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1""",
                (lon, lat))
    return cur.fetchone()


def _insert_round(cur, name, kind, start, days, n_streets) -> tuple[int, list[str], datetime, datetime]:
    cur.execute("SELECT code FROM admin_areas WHERE level = 'street' ORDER BY code")
    streets = [r[0] for r in cur.fetchall()][:n_streets]
    starts = start.replace(tzinfo=DATA_END.tzinfo)
    ends = starts + timedelta(days=days)
    cur.execute("""INSERT INTO inspection_rounds (name, kind, unannounced, starts, ends, streets, created_by, created_at)
                   VALUES (%s, %s, %s, %s, %s, %s, 'demo', %s) RETURNING id""",
                (name, kind, kind in UNANNOUNCED_KINDS, starts, ends, streets, starts))
    return cur.fetchone()[0], streets, starts, ends


def _steps(state: str, observed: datetime, due: datetime, days: int) -> list[tuple[str, str, datetime, datetime | None]]:
    """The history after the first step: (from, to, at, new deadline)."""
    # Rectified within the deadline's span and re-checked after, all before the demo's data time.
    fixed = observed + (min(DATA_END, observed + timedelta(days=days)) - observed) / 2
    check = fixed + (DATA_END - fixed) / 2
    if state == "waiting":
        return []
    if state == "rectified":
        return [(TO_RECTIFY, RECTIFIED, fixed, None)]
    if state == "passed":
        return [(TO_RECTIFY, RECTIFIED, fixed, None), (RECTIFIED, RECHECK_PASSED, check, None)]
    again = check + timedelta(days=days)
    return [(TO_RECTIFY, RECTIFIED, fixed, None), (RECTIFIED, RECHECK_FAILED, check, None),
            (RECHECK_FAILED, TO_RECTIFY, check, again)]


def _insert_finding(cur, round_id: int, n: int, item, place, routed, observed: datetime, state: str) -> None:
    grid, community, street, district, unit = routed
    due = observed + timedelta(days=item.due_days)
    steps = _steps(state, observed, due, item.due_days)
    status = steps[-1][1] if steps else TO_RECTIFY
    final_due = next((d for *_, d in reversed(steps) if d), due)
    rectified_by = f"demo-street-{street}" if steps else None
    cur.execute(
        """INSERT INTO inspection_findings (round_id, client_id, inspector, item_code, place_type, item_text, deduction,
               due_days, description, observed_at, status, due_at, rectified_by, district_code, street_code,
               community_code, grid_code, responsible_unit, source, source_id, geom, created_at, updated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'demo', %s,
                   ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s) RETURNING id""",
        (round_id, f"demo-{round_id}-{n}", f"demo-inspector-{n % 3 + 1}", item.code, item.place_type, item.text_zh,
         item.deduction, item.due_days, f"演示：{item.text_zh}", observed, status, final_due, rectified_by,
         district, street, community, grid, unit, f"demo-{round_id}-{n}", place[0], place[1], observed,
         steps[-1][2] if steps else observed),
    )
    finding_id = cur.fetchone()[0]
    cur.execute("""INSERT INTO inspection_events (finding_id, from_status, to_status, note, due_at, actor, at)
                   VALUES (%s, NULL, %s, '演示数据', %s, %s, %s)""",
                (finding_id, TO_RECTIFY, due, f"demo-inspector-{n % 3 + 1}", observed))
    for frm, to, at, new_due in steps:
        actor = rectified_by if to == RECTIFIED else f"demo-inspector-{(n + 1) % 3 + 1}"
        cur.execute("""INSERT INTO inspection_events (finding_id, from_status, to_status, note, due_at, actor, at)
                       VALUES (%s, %s, %s, '演示数据', %s, %s, %s)""", (finding_id, frm, to, new_due, actor, at))


def load_inspections(cur, seed: int = 15) -> int:
    """Write the demo rounds and their findings (the checklist as shipped); returns how many findings."""
    rng = random.Random(seed)
    items = checklist.load(InspectionSettings.from_env({}))
    by_type = {t: [i for i in items.values() if i.place_type == t] for t in _PLACES}
    places = {}
    for place_type, query in _PLACES.items():
        cur.execute(query)
        places[place_type] = cur.fetchall()
    count = 0
    for name, kind, start, days, n_streets, n_findings in _ROUNDS:
        round_id, streets, starts, ends = _insert_round(cur, name, kind, start, days, n_streets)
        n = 0
        for attempt in range(n_findings * 20):
            if n == n_findings:
                break
            place_type = list(_PLACES)[attempt % len(_PLACES)]
            if not places[place_type]:
                continue
            place = rng.choice(places[place_type])
            routed = _route(cur, *place)
            if routed is None or routed[2] not in streets:
                continue
            observed = starts + timedelta(minutes=rng.randrange(int((ends - starts).total_seconds() // 60) - 60))
            _insert_finding(cur, round_id, n, rng.choice(by_type[place_type]), place, routed, observed,
                            _STATES[n % len(_STATES)])
            n += 1
        count += n
    return count
