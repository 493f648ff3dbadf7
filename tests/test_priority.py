"""geo.priority judges "overdue" at the one reference time (data.clock), whoever calls it."""

from __future__ import annotations

from data.clock import reference_time
from geo.priority import priority


def _street_overdue(conn) -> tuple[str, int, int]:
    """(street, open complaints past due at the reference time, past due at now()) of the street they differ most in."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT street, at_ref, at_now FROM (
                   SELECT g.street_code AS street, count(*) FILTER (WHERE c.due_at < %(ref)s) AS at_ref,
                          count(*) FILTER (WHERE c.due_at < now()) AS at_now
                   FROM complaints c JOIN grids g ON g.code = c.grid_code
                   WHERE c.status <> '结案' GROUP BY 1) s
               ORDER BY at_now - at_ref DESC, street LIMIT 1""",
            {"ref": reference_time(conn)})
        return cur.fetchone()


def test_priority_by_default_judges_overdue_at_the_reference_time(demo_conn):
    street, at_reference, at_now = _street_overdue(demo_conn)
    assert at_now > at_reference > 0  # the demo is a snapshot: judging at now() would count more
    result = priority(demo_conn, street=street)  # no as_of: as a script or another module would call it
    demo_conn.rollback()
    assert sum(r["components"]["overdue"]["value"] for r in result["rows"]) == at_reference
    assert result == priority(demo_conn, street=street, as_of=reference_time(demo_conn))
    demo_conn.rollback()
