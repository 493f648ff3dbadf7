"""Which unit answers for an inspection finding: the one that held its grid when it was observed.

A finding is charged when it is recorded (:func:`unit_at`); a grid's first unit, given after a round began,
takes the findings of that round charged to nobody (:func:`charge_first_unit`), so the round's scores and
problem list name a unit that must rectify them.
"""

from __future__ import annotations

from datetime import datetime

from layers.workflow.grids import HOLDERS_SQL


def unit_at(conn, grid_code: str | None, at: datetime, current: str | None, round_ends: datetime) -> str | None:
    """The unit that held ``grid_code`` at ``at`` by the assignment history (:data:`HOLDERS_SQL`: nobody
    before a grid cut by a regrid existed), else ``current`` (no grid). When nobody held it, the first unit
    given it before the round ended (:func:`charge_first_unit`: a roster loaded while the round is under way)."""
    if grid_code is None:
        return current
    with conn.cursor() as cur:
        cur.execute(f"SELECT unit FROM ({HOLDERS_SQL}) h WHERE grid_code = %s AND since <= %s AND until > %s LIMIT 1",
                    (grid_code, at, at))
        row = cur.fetchone()
        if row is not None and row[0] is None:
            cur.execute("""SELECT responsible_unit FROM grid_assignments WHERE grid_code = %s AND changed_at > %s
                             AND changed_at < %s ORDER BY changed_at, seq LIMIT 1""", (grid_code, at, round_ends))
            row = cur.fetchone() or row
    return row[0] if row is not None else current


def charge_first_unit(conn, grid_code: str, unit: str, since: datetime | None = None) -> int:
    """Charge to ``unit``, the first unit ``grid_code`` has, its findings charged to nobody of rounds still under
    way (a city's roster loaded after its first round began): the round's scores and problem list name the unit
    that must rectify them. A round that has ended keeps what it published, except for the findings observed
    from ``since`` on, when the roster says the unit held the grid from then (:data:`HOLDERS_SQL`, as the
    bulletin charges complaints). Returns how many it now answers for."""
    with conn.cursor() as cur:
        cur.execute("""UPDATE inspection_findings f SET responsible_unit = %s, updated_at = now()
                       FROM inspection_rounds r
                       WHERE r.id = f.round_id AND (r.ends > now() OR f.observed_at >= %s::timestamptz)
                         AND coalesce(f.origin_grid_code, f.grid_code) = %s AND f.responsible_unit IS NULL""",
                    (unit, since, grid_code))
        return cur.rowcount
