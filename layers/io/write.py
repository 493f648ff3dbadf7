"""Write checked rows into a layer's table, inside the caller's transaction.

Rows whose source is new to a point table are COPied straight into it (the
common first import: nothing to update). Otherwise they are COPied into a
temporary staging table and upserted by (source, source_id), so a re-import
updates rows instead of duplicating them. Nothing here commits or rolls back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import shapely
from psycopg2 import sql

from data.said import Note
from data.settings import ImportSettings
from layers.io.batch import ImportResult
from layers.io.copying import copy_into, kept_frames
from layers.io.fresh import FIRST_STATUS, copy_new_rows
from layers.io.hooks import AFTER_WRITE
from layers.spec.model import LayerSpec

_SQL_TYPES = {"text": "text", "int": "integer", "num": "numeric", "bool": "boolean", "time": "timestamptz",
              "json": "jsonb"}


def write(conn, spec: LayerSpec, batches: Iterator[tuple[dict, np.ndarray]], result: ImportResult,
          settings: ImportSettings | None = None, *, source: str | None, estimate: int) -> None:
    """Write the kept rows of each chunk, as the chunks come, inside the caller's transaction.

    ``batches`` yields (values by column, mask of the rows to write) per
    chunk; ``source`` is the file's one source (None when a column states
    it per row); ``estimate``, about how many rows come, decides a bulk load
    before the first row is sent. Counts go to ``result``.
    """
    settings = settings or ImportSettings.from_env()
    columns = [f.column for f in spec.stored]
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(settings.statement_timeout_ms),))
        fresh = False
        if spec.rules.points and source is not None:
            cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE source = %s)").format(
                sql.Identifier(spec.table)), (source,))
            fresh = not cur.fetchone()[0]
        rebuild = []
        if estimate >= settings.rebuild_index_rows:
            tables = [spec.table, "complaint_events"] if spec.rules.status_history else [spec.table]
            # Rows of a new source cannot clash on (source, source_id) with the table's (the file's own
            # duplicates are refused already): keys too are built once, unless an upsert needs them meanwhile.
            rebuild = _drop_indexes_and_foreign_keys(cur, tables, estimate, unique=fresh)
        if fresh:
            # A bulk load (its table locked for it) computes the metric pair itself, not per row, and gives
            # complaints their ids and history rows (layers.io.fresh).
            inserted = total = copy_new_rows(cur, conn, spec, columns, batches, source, bulk=bool(rebuild))
        else:
            inserted, total = _stage_and_upsert(cur, conn, spec, columns, batches, result)
        if rebuild:
            cur.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")
            for statement in rebuild:
                cur.execute(statement)
        for step in spec.rules.after_write:
            result.notes.extend(AFTER_WRITE[step](cur))
    result.inserted, result.rows_written = int(inserted), int(total)
    result.updated = result.rows_written - result.inserted


def _stage(cur, conn, spec: LayerSpec, columns, batches) -> int:
    """The rows, as text, in a temporary table import_stage (point layers: lon, lat; others: EWKB hex)."""
    if spec.rules.points:
        geom_cols = [("lon", "float8"), ("lat", "float8")]
    else:
        geom_cols = [("geom", "text")]
    stage_cols = [(c, "text") for c in columns] + geom_cols
    cur.execute(sql.SQL("CREATE TEMP TABLE import_stage ({}) ON COMMIT DROP").format(
        sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in stage_cols)))
    counter = [0]

    def staged(frame: dict) -> dict:
        sent = {c: frame[c] for c in columns}
        if spec.rules.points:
            # repr of a float64 is its shortest exact decimal: nothing lost on the way.
            return sent | {"lon": frame["lon"].astype(str), "lat": frame["lat"].astype(str)}
        geoms = shapely.set_srid(frame["geom"], 4326)
        return sent | {"geom": shapely.to_wkb(geoms, hex=True, include_srid=True)}

    frames = (staged(frame) for frame in kept_frames(columns, batches, counter))
    copy_into(cur, conn, "import_stage", [c for c, _ in stage_cols], frames)
    return counter[0]


def _geometry_expression(spec: LayerSpec) -> str:
    """The staged geometry as the table stores it: polygons repaired and multi, lines as given."""
    if spec.rules.points:
        return "ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)"
    if spec.rules.geometry == ("LineString",):
        return "ST_GeomFromEWKB(decode(s.geom, 'hex'))"
    repaired = ("CASE WHEN ST_IsValid(g) THEN g ELSE ST_CollectionExtract(ST_MakeValid(g), "
                "CASE WHEN ST_Dimension(g) = 2 THEN 3 ELSE 2 END) END")
    expr = f"(SELECT {repaired} FROM (SELECT ST_GeomFromEWKB(decode(s.geom, 'hex')) AS g) AS one)"
    if spec.rules.geometry == ("Polygon",):
        return f"ST_Multi({expr})"
    return expr


def _stage_and_upsert(cur, conn, spec: LayerSpec, columns, batches, result: ImportResult) -> tuple[int, int]:
    """COPY into a temporary table, then INSERT … ON CONFLICT (source, source_id) DO UPDATE."""
    if _stage(cur, conn, spec, columns, batches) == 0:
        cur.execute("DROP TABLE import_stage")
        return 0, 0
    if spec.rules.status_history:
        _keep_handled(cur, spec, columns, result)
    types = {f.column: _SQL_TYPES[f.kind] for f in spec.stored}
    select = [sql.SQL("s.{}::{}").format(sql.Identifier(c), sql.SQL(types[c])) for c in columns]
    select.append(sql.SQL(_geometry_expression(spec)))
    target = [*columns, "geom"]
    updates = [c for c in target if c not in ("source", "source_id")]
    history = spec.rules.status_history
    if history:
        # Status changes by re-import are history, like any other change.
        cur.execute(sql.SQL("""
            INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor)
            SELECT c.id, c.status, s.status, 'import: ' || s.source, 'import'
            FROM import_stage s JOIN {table} c ON c.source = s.source AND c.source_id = s.source_id
            WHERE c.status IS DISTINCT FROM s.status""").format(table=sql.Identifier(spec.table)))
    returning = "id, (xmax = 0) AS inserted" + (", status, reported_at" if history else "")
    upsert = sql.SQL(
        "INSERT INTO {table} ({cols}) SELECT {select} FROM import_stage s "
        "ON CONFLICT (source, source_id) DO UPDATE SET {updates}, updated_at = now() RETURNING " + returning
    ).format(table=sql.Identifier(spec.table), cols=sql.SQL(", ").join(sql.Identifier(c) for c in target),
             select=sql.SQL(", ").join(select),
             updates=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates))
    first = sql.SQL(", ev AS ({})").format(sql.SQL(FIRST_STATUS).format(rows=sql.SQL("up WHERE inserted")))
    cur.execute(sql.SQL("WITH up AS ({upsert}){history} SELECT count(*) FILTER (WHERE inserted), count(*) "
                        "FROM up").format(upsert=upsert, history=first if history else sql.SQL("")))
    counts = cur.fetchone()
    # Dropped now, not at commit: the caller may import another file in the same transaction.
    cur.execute("DROP TABLE import_stage")
    return counts


#: The staged cases whose file still says the status their last import wrote, while the case has moved on here.
_HANDLED_HERE = """
    FROM {table} c
    WHERE c.source = s.source AND c.source_id = s.source_id AND c.status IS DISTINCT FROM s.status
      AND s.status IS NOT DISTINCT FROM (SELECT e.to_status FROM complaint_events e
                                         WHERE e.complaint_id = c.id AND e.actor = 'import'
                                         ORDER BY e.at DESC, e.id DESC LIMIT 1)"""


def _keep_handled(cur, spec: LayerSpec, columns, result: ImportResult) -> None:
    """Keep the status (and closing time) of cases handled here since their last import, where the file still says
    what that import said.

    A hotline export read again says what the hotline system last knew: a case the street office has moved on
    here (处置 → 核查) would otherwise be sent back (核查 → 处置), which the bulletin counts as 返工. Where the
    file's status has changed since its last import, the source moved the case, and the file is followed.
    """
    sets = ["status = c.status"] + (["closed_at = c.closed_at::text"] if "closed_at" in columns else [])
    cur.execute(sql.SQL("UPDATE import_stage s SET " + ", ".join(sets) + _HANDLED_HERE + " RETURNING c.status")
                .format(table=sql.Identifier(spec.table)))
    kept = [status for (status,) in cur.fetchall()]
    if kept:
        counted = sorted(Counter(kept).items())
        result.notes.append(Note(f"{len(kept):,} 件案件保留上次导入后在本系统中办理到的状态（"
                                 f"{'，'.join(f'{s} {n} 件' for s, n in counted)}）：文件所写仍是上次导入时的状态",
                                 f"{len(kept):,} cases keep the status they were moved to here since their last import "
                                 f"({', '.join(f'{n} {s}' for s, n in counted)}): the file still says what that "
                                 "import did"))


def _drop_indexes_and_foreign_keys(cur, tables: list[str], incoming: int, *, unique: bool) -> list[sql.Composable]:
    """Drop the secondary indexes and the foreign keys of tables no bigger than the import.

    With ``unique`` (a load of new rows only: no upsert needs the key, no
    history row needs the step index of an earlier one) the unique
    constraints and indexes and the primary keys go too, except those other
    tables' foreign keys point at. Returns the statements that restore them
    (indexes built in one pass, constraints re-added, which checks every row
    again in one pass). This is PostgreSQL's advice for populating a
    database; it happens inside the import's transaction, so a failure rolls
    the drop back too. The tables are locked for the import's length (a bulk
    load, not a trickle).
    """
    indexes: list[sql.Composable] = []
    keys: list[sql.Composable] = []
    foreign_keys: list[sql.Composable] = []
    for table in tables:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,))
        if cur.fetchone()[0] > incoming:
            continue
        cur.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                       WHERE x.indrelid = %s::regclass AND (%s OR NOT x.indisunique) AND NOT EXISTS (
                           SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid
                           AND c.contype IN ('p', 'u', 'x'))""", (table, unique))
        for name, definition in cur.fetchall():
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            indexes.append(sql.SQL(definition))
        cur.execute("""SELECT conname, pg_get_constraintdef(oid), contype = 'f' FROM pg_constraint c
                       WHERE conrelid = %s::regclass AND (contype = 'f' OR (%s AND contype IN ('p', 'u') AND NOT EXISTS (
                           SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid)))""",
                    (table, unique))
        for name, definition, foreign in cur.fetchall():
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table),
                                                                          sql.Identifier(name)))
            (foreign_keys if foreign else keys).append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)))
    return indexes + keys + foreign_keys  # a foreign key needs the key it points at
