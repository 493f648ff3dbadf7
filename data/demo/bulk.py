"""The demo's bulk path for complaints: indexes built once and derived tables filled once, after the COPY.

Maintained row by row during a COPY of a million complaints, the secondary
indexes, the foreign-key checks and the insert triggers cost most of the load
(measured in bench/RESULTS.md, "Demo city load"). Inside the demo's own
transaction, on tables it has just emptied, this drops them and turns those
triggers off, and afterwards builds the same indexes and constraints again
(their definitions as the catalog states them) and fills what the triggers
would have written, by set-based SQL:

- ``complaints_metric_xy_trg`` (migration 0300): the loader sends the metric
  pair, projected with PROJ as the trigger would (:func:`check_metric` compares
  a sample with PostGIS and projects again on the server if one differs);
- ``complaint_cells_insert`` (0200/0201): the cells counted from the table, as
  the migrations count them;
- ``hotspot_counts_insert`` (0750): a statement of more than 5,000 rows makes
  the kept hot-spot grids forgotten (``hotspot_counts_forget``);
- ``complaints_data_change`` (0500): one stamp, as for the one COPY statement.

The facility layers' history rows (migration 0730, a row trigger) are written
the same way, by one INSERT after the COPY (:func:`facility_history_once`).
Any other trigger stays on. Nothing is undone by hand on an error: the
caller's transaction rolls back the DDL with the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg2 import sql

# The complaints' insert triggers whose work is done once afterwards (module docstring).
REPLACED_TRIGGERS = ("complaints_metric_xy_trg", "complaint_cells_insert", "hotspot_counts_insert",
                     "complaints_data_change")
# The row's fields a facility history row keeps (category, name, address, street_code).
_HISTORY_FIELDS = ("kind", "name", "address", "street_code")
# How many new rows a sample check compares with PostGIS's projection.
_METRIC_SAMPLE = 1000


@contextmanager
def bulk_tables(cur, tables: tuple[str, ...], triggers: tuple[str, ...] = ()) -> Iterator[None]:
    """Within the block ``tables`` have only their primary key and ``triggers`` (of any of them) are off.

    The block's writes must leave the rows valid for the constraints: they are
    checked when the constraints are added again (one query each).
    """
    cur.execute("""SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                   WHERE t.tgrelid = ANY(%s::regclass[]) AND t.tgname = ANY(%s) AND t.tgenabled <> 'D'""",
                (list(tables), list(triggers)))
    off = cur.fetchall()
    redo = [_drop_secondary(cur, table) for table in tables]
    for table, trigger in off:
        cur.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(sql.Identifier(table), sql.Identifier(trigger)))
    yield
    for table, trigger in off:
        cur.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(sql.Identifier(table), sql.Identifier(trigger)))
    for statements in redo:
        for statement in statements:
            cur.execute(statement)


def _drop_secondary(cur, table: str) -> list[sql.Composable]:
    """Drop ``table``'s foreign keys and indexes other than its primary key; return the statements that add them back.

    An index a foreign key of another table relies on is kept.
    """
    cur.execute("""SELECT con.conname, pg_get_constraintdef(con.oid), i.indexrelid::regclass::text,
                          pg_get_indexdef(i.indexrelid)
                   FROM pg_index i
                   LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                        AND con.contype IN ('u', 'x')
                   WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
                   UNION ALL
                   SELECT conname, pg_get_constraintdef(oid), NULL, NULL FROM pg_constraint
                   WHERE conrelid = %s::regclass AND contype = 'f'
                   ORDER BY 3 NULLS LAST, 1""", (table, table))
    redo = []
    target = sql.Identifier(table)
    for constraint, condef, index, indexdef in cur.fetchall():
        if constraint is not None:
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(target, sql.Identifier(constraint)))
            redo.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(target, sql.Identifier(constraint))
                        + sql.SQL(condef))
        else:
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(index)))
            redo.append(sql.SQL(indexdef))
    return redo


def fill_derived(cur, rows: int) -> None:
    """What the replaced insert triggers write for one statement of ``rows`` complaints into an emptied table."""
    cur.execute("SELECT to_regclass('complaint_cells'), to_regclass('hotspot_grids'), to_regclass('data_changes')")
    cells, hotspots, stamps = cur.fetchone()
    if cells:
        # The TRUNCATE emptied the cells: the count of the table is the sum of the statements' counts.
        cur.execute("""INSERT INTO complaint_cells (cx, cy, n)
                       SELECT complaint_cell_x(geom), complaint_cell_y(geom), count(*) FROM complaints GROUP BY 1, 2""")
    if hotspots:
        cur.execute("SELECT EXISTS (SELECT 1 FROM hotspot_grids) AND NOT hotspot_counts_forget(%s)", (rows,))
        if cur.fetchone()[0]:
            cur.execute("""INSERT INTO hotspot_counts (grid, month, category, q, r, n)
                           SELECT k.grid, k.month, k.category, k.q, k.r, count(*)
                           FROM complaints w,
                                hm_hotspot_keys(w.reported_at, w.category, w.metric_srid, w.metric_x, w.metric_y, w.geom) k
                           GROUP BY 1, 2, 3, 4, 5""")
    if stamps:
        cur.execute("INSERT INTO data_changes (table_name) VALUES ('complaints')")


def check_metric(cur, rows: int) -> bool:
    """Compare a sample of the ``rows`` complaints' metric pair with PostGIS's projection; if one differs, project
    all again. Returns whether the sample agreed (PROJ gives the same doubles in both places for UTM)."""
    # The load restarted the ids: they are 1..rows.
    cur.execute("""SELECT count(*) FROM (SELECT metric_x, metric_y, ST_Transform(geom, metric_srid) AS p
                                         FROM complaints WHERE id = ANY(%s)) s
                   WHERE metric_x IS DISTINCT FROM ST_X(p) OR metric_y IS DISTINCT FROM ST_Y(p)""",
                (list(range(1, rows + 1, max(1, rows // _METRIC_SAMPLE))),))
    if cur.fetchone()[0] == 0:
        return True
    cur.execute("UPDATE complaints SET metric_x = ST_X(ST_Transform(geom, metric_srid)), "
                "metric_y = ST_Y(ST_Transform(geom, metric_srid))")
    return False


@contextmanager
def facility_history_once(cur, table: str) -> Iterator[None]:
    """Rows inserted into the emptied facility ``table`` within the block get their history rows (``added``) by
    one statement afterwards, in the order of their ids, as ``hm_note_facility_change`` writes them one by one."""
    trigger = f"{table}_history"
    cur.execute("SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s "
                "AND tgenabled <> 'D')", (table, trigger))
    if not cur.fetchone()[0]:
        yield
        return
    target = sql.Identifier(table)
    cur.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(target, sql.Identifier(trigger)))
    yield
    cur.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(target, sql.Identifier(trigger)))
    # r->>'col' of the trigger's to_jsonb(row), column by column (NULL for a column the table lacks): the
    # whole row would turn each geometry into GeoJSON only to drop it.
    cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attname = ANY(%s)", (table, list(_HISTORY_FIELDS)))
    present = {r[0] for r in cur.fetchall()}
    fields = [sql.SQL("to_jsonb(t.{}) #>> '{{}}'").format(sql.Identifier(c)) if c in present else sql.SQL("NULL")
              for c in _HISTORY_FIELDS]
    cur.execute(sql.SQL("""INSERT INTO facility_changes (table_name, facility_id, op, category, name, address,
                                                         street_code, geom, geom_before)
                           SELECT %s, t.id, 'added', {}, t.geom, NULL FROM {} t ORDER BY t.id""").format(
        sql.SQL(", ").join(fields), target), (table,))
