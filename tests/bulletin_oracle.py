"""The bulletin's oracle: every figure of a period from plain SQL, for tests/test_bulletin.py.

One simple query per figure with the period's bounds written out in UTC, and Python for the medians and the
holder of a grid at a time; it shares no code with layers/reports, so a figure the bulletin gets wrong cannot
be wrong the same way here. ``check(bulletin, expected)`` compares the two.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime


def _holder(cur, grid: str | None, at: datetime) -> str | None:
    """Who held ``grid`` at ``at``: the latest assignment made at or before it; before any, the earliest
    one's previous holder (its own unit when it had none); the grid's current unit when it has no history."""
    cur.execute("SELECT coalesce(effective_from, changed_at), seq, responsible_unit, before FROM grid_assignments "
                "WHERE grid_code = %s",
                (grid,))
    history = sorted(cur.fetchall(), key=lambda r: (r[0], r[1]))
    made = [r for r in history if r[0] <= at]
    if made:
        return made[-1][2]
    if history:
        first = history[0]
        return first[2] if first[3] is None else first[3].get("unit")
    cur.execute("SELECT responsible_unit FROM grids WHERE code = %s", (grid,))
    row = cur.fetchone()
    return row[0] if row else None


def oracle(conn, start: datetime, end: datetime) -> dict:
    """Every figure per street, unit, category and the city, from plain SQL over ``[start, end)``."""
    with conn.cursor() as cur:
        cur.execute("SELECT data_time FROM city_settings")
        judged = min(end, cur.fetchone()[0])
        cur.execute("SELECT count(*) FROM complaints c, city_settings s WHERE c.reported_at > s.data_time")
        assert cur.fetchone()[0] == 0  # so the reference time is the data time
        # A re-import's step out of 受理 (actor import) stands for the steps before it: neither 不予立案 nor late.
        cur.execute("SELECT DISTINCT complaint_id FROM complaint_events WHERE from_status = '受理' AND to_status = '结案' "
                    "AND actor <> 'import'")
        not_filed = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT DISTINCT complaint_id FROM complaint_events WHERE from_status = '核查' AND to_status = '处置' "
                    "AND at < %s", (end,))
        sent_back = {r[0] for r in cur.fetchall()}
        # As each complaint stood at the end: filed after it (it left 受理 for 立案 or later only then) is not filed
        # then; a case reopened (a step out of 结案) was closed then when its last close before the end came after
        # its last reopening before the end.
        cur.execute("SELECT DISTINCT complaint_id FROM complaint_events WHERE from_status = '受理' "
                    "AND to_status <> '结案' AND at >= %s AND actor <> 'import'", (end,))
        filed_later = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT complaint_id, from_status, to_status, at FROM complaint_events WHERE complaint_id IN "
                    "(SELECT complaint_id FROM complaint_events WHERE from_status = '结案') AND at < %s ORDER BY at",
                    (end,))
        closed_then: dict = {}
        for cid, frm, to, at in cur.fetchall():
            closed_then[cid] = at if to == "结案" else None if frm == "结案" else closed_then.get(cid)
        cur.execute("SELECT DISTINCT complaint_id FROM complaint_events WHERE from_status = '结案'")
        reopened = {r[0] for r in cur.fetchall()}
        cur.execute("""SELECT id, street_code, category, grid_code, reported_at, status, due_at, closed_at
                       FROM complaints WHERE reported_at < %s""", (end,))
        rows = cur.fetchall()
        holders = {}
        for r in rows:
            if r[4] >= start or r[7] is None or r[7] >= end:
                holders[r[0]] = _holder(cur, r[3], r[4])
    out: dict = {}
    for cid, street, category, _grid, reported, status, due, closed in rows:
        if cid in reopened:
            closed = closed_then.get(cid)
        fresh = reported >= start
        open_end = closed is None or closed >= end
        if not (fresh or open_end):
            continue
        filed = fresh and status != "受理" and cid not in not_filed and cid not in filed_later
        closed_by_end = closed is not None and closed < end
        for key in (("streets", street), ("units", holders[cid] or ""), ("categories", category), ("city", None)):
            f = out.setdefault(key, {"received": 0, "filed": 0, "due": 0, "closed": 0, "on_time": 0,
                                     "reworked": 0, "open_at_end": 0, "overdue_at_end": 0, "hours": []})
            f["received"] += fresh
            f["filed"] += filed
            f["due"] += filed and (closed_by_end or (due is not None and due < judged))
            f["closed"] += filed and closed_by_end
            f["on_time"] += filed and closed_by_end and closed <= due
            f["reworked"] += filed and cid in sent_back
            f["open_at_end"] += open_end
            f["overdue_at_end"] += open_end and due is not None and due < judged
            if filed and closed_by_end:
                f["hours"].append((closed - reported).total_seconds() / 3600)
    return out


def held_in(conn, start: datetime, end: datetime) -> set[tuple[str, str]]:
    """{(street, unit)} of every unit that held a grid at some time in [start, end), in Python over the grids and
    their assignment history: each change holds from its time to the next change's; before a grid's first change,
    the unit that change replaced (else the first unit); a grid without history, its unit throughout."""
    with conn.cursor() as cur:
        cur.execute("SELECT code, street_code, responsible_unit FROM grids")
        grids = cur.fetchall()
        cur.execute("SELECT grid_code, responsible_unit, before, coalesce(effective_from, changed_at), seq "
                    "FROM grid_assignments")
        changes = cur.fetchall()
    far_past, far_future = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    out = set()
    for code, street, unit in grids:
        mine = sorted((c for c in changes if c[0] == code), key=lambda c: (c[3], c[4]))
        if not mine:
            spans = [(unit, far_past, far_future)]
        else:
            first = mine[0]
            spans = [(first[2].get("unit") if first[2] else first[1], far_past, first[3])]
            spans += [(c[1], c[3], mine[i + 1][3] if i + 1 < len(mine) else far_future) for i, c in enumerate(mine)]
        out |= {(street, u) for u, since, until in spans if u is not None and since < end and until > start}
    return out


def inspection_oracle(conn, start: datetime, end: datetime, base: float = 100.0) -> tuple[dict, dict]:
    """({street: (findings, deductions, score)}, {unit or "": (...)}) of the period, in Python over plain rows:
    the findings observed in [start, end); the rounds already started whose midpoint lies in it or with such a
    finding, and their streets; the units that held a grid of those streets at some time in the period or are
    charged with such a finding (by the unit stored with it). A score is the mean over the rounds of each one's
    base − what it found in the period (a unit's rounds: those over a street it held, or that charged it)."""
    with conn.cursor() as cur:
        cur.execute("SELECT round_id, street_code, responsible_unit, deduction, observed_at FROM inspection_findings")
        found = [r for r in cur.fetchall() if start <= r[4] < end]
        cur.execute("SELECT id, starts, ends, streets FROM inspection_rounds WHERE starts <= now()")
        rounds = cur.fetchall()
    with_findings = {r[0] for r in found}
    scored = {rid: set(codes) for rid, starts, ends, codes in rounds
              if start <= starts + (ends - starts) / 2 < end or rid in with_findings}
    held = held_in(conn, start, end)
    of_street = {code: {rid for rid, codes in scored.items() if code in codes} for codes in scored.values()
                 for code in codes}
    of_unit: dict = {}
    for street, unit in held:
        of_unit.setdefault(unit, set()).update(of_street.get(street, ()))
    for r in found:
        of_unit.setdefault(r[2], set()).add(r[0])

    def tally(rounds_of: dict, pick) -> dict:
        out = {}
        for key, rids in rounds_of.items():
            if not rids:
                continue
            mine = [r for r in found if pick(r) == key]
            lost = [sum(float(r[3]) for r in mine if r[0] == rid) for rid in rids]
            out[key] = (len(mine), sum(float(r[3]) for r in mine), round(sum(base - x for x in lost) / len(lost), 2))
        return out

    return tally(of_street, lambda r: r[1]), {k or "": v for k, v in tally(of_unit, lambda r: r[2]).items()}


def satisfaction_oracle(conn, start: datetime, end: datetime) -> dict:
    """{street: (share satisfied, rated)}: each report's latest rating given in [start, end)."""
    with conn.cursor() as cur:
        cur.execute("""SELECT r.tracking, r.rating, r.rated_at, c.street_code FROM public_ratings r
                       JOIN complaints c ON c.id = r.complaint_id""")
        latest = {}
        for tracking, rating, at, street in cur.fetchall():
            if start <= at < end and (tracking not in latest or at > latest[tracking][1]):
                latest[tracking] = (rating, at, street)
    out = {}
    for rating, _, street in latest.values():
        good, n = out.get(street, (0, 0))
        out[street] = (good + (rating in ("满意", "基本满意")), n + 1)
    return {k: (round(good / n, 4), n) for k, (good, n) in out.items()}


def figures_of(f: dict) -> dict:
    """The bulletin's figures (rates, the median) from the oracle's counts of one row."""

    def rate(a: int, b: int) -> float | None:
        return round(a / b, 6) if b else None

    return {"received": f["received"], "filed": f["filed"], "due": f["due"], "closed": f["closed"],
            "on_time": f["on_time"], "closed_rate": rate(f["closed"], f["due"]),
            "on_time_rate": rate(f["on_time"], f["due"]), "rework_rate": rate(f["reworked"], f["filed"]),
            "open_at_end": f["open_at_end"], "overdue_at_end": f["overdue_at_end"],
            "median_hours": round(statistics.median(f["hours"]), 2) if f["hours"] else None}


def _figures(row: dict) -> dict:
    keys = ("received", "filed", "due", "closed", "on_time", "closed_rate", "on_time_rate", "rework_rate",
            "open_at_end", "overdue_at_end", "median_hours")
    return {k: row[k] for k in keys}


def check_inspections(b: dict, conn, start: datetime, end: datetime) -> None:
    streets, units = inspection_oracle(conn, start, end)
    assert {r["code"]: (r["findings"], r["deductions"], r["score"]) for r in b["streets"]
            if r["score"] is not None} == streets
    assert all(r["findings"] is None for r in b["streets"] if r["code"] not in streets)
    assert {r["code"] or "": (r["findings"], r["deductions"], r["score"]) for r in b["units"]
            if r["score"] is not None} == units
    rated = satisfaction_oracle(conn, start, end)
    assert {r["code"]: (r["satisfaction"], r["rated"]) for r in b["streets"] if r["rated"]} == rated
    assert b["totals"]["rated"] == sum(n for _, n in rated.values())
    # Ranked by score when the period has findings, as a round is; else by closure rate.
    by_score = any(n for n, _, _ in units.values())
    assert b["ranked_by"] == ("score" if by_score else "closed_rate")
    for table in (b["streets"], b["units"]):
        if by_score:
            scored = [r["score"] for r in table if r["score"] is not None]
            want = [None if r["score"] is None else 1 + sum(o > r["score"] for o in scored) for r in table]
        else:
            keys = [(r["closed_rate"], r["on_time_rate"]) for r in table if r["due"]]
            want = [None if not r["due"] else 1 + sum(o > (r["closed_rate"], r["on_time_rate"]) for o in keys)
                    for r in table]
        assert [r["rank"] for r in table] == want


def check(b: dict, expected: dict) -> None:
    """Bulletin ``b`` equals the oracle's ``expected``: the city, every street, unit and category."""
    assert _figures(b["totals"]) == figures_of(expected[("city", None)])
    nothing = {"received": 0, "filed": 0, "due": 0, "closed": 0, "on_time": 0, "reworked": 0, "open_at_end": 0,
               "overdue_at_end": 0, "hours": []}
    for row in b["streets"]:
        assert _figures(row) == figures_of(expected.get(("streets", row["code"]), nothing)), row["code"]
    got_units = {row["code"] or "": _figures(row) for row in b["units"]}
    want_units = {k[1]: figures_of(v) for k, v in expected.items() if k[0] == "units"}
    # Units that only an inspection names (a holder with no complaint in the period) have nothing received.
    want_units.update({k: figures_of(nothing) for k in set(got_units) - set(want_units)
                       if all(row["score"] is not None for row in b["units"] if (row["code"] or "") == k)})
    assert got_units == want_units
    got_categories = {row["code"]: row["received"] for row in b["categories"] if row["received"]}
    want_categories = {k[1]: v["received"] for k, v in expected.items() if k[0] == "categories" and v["received"]}
    assert got_categories == want_categories
