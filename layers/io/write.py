"""Write checked rows into a layer's table, inside the caller's transaction.

Rows whose source is new to a point table are COPied straight into it (the
common first import: nothing to update). Otherwise they are COPied into a
temporary staging table and upserted by (source, source_id), so a re-import
updates rows instead of duplicating them. Nothing here commits or rolls back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from psycopg2 import sql
from pyproj import Transformer

from data.settings import ImportSettings
from layers.io.batch import ImportResult
from layers.spec.model import LayerSpec

_SQL_TYPES = {"text": "text", "int": "integer", "num": "numeric", "bool": "boolean", "time": "timestamptz",
              "json": "jsonb"}
_COPY_CHUNK_ROWS = 100_000
# Tables whose row trigger projects each point into the city's metric CRS (migration 0300).
_METRIC_TRIGGERS = {"complaints": "complaints_metric_xy_trg"}
# A new complaint starts its history with the status it arrived in.
_FIRST_STATUS = ("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
                 "SELECT id, NULL, status, 'import', 'import', reported_at FROM {rows}")


def write(conn, spec: LayerSpec, out: dict, keep: np.ndarray, result: ImportResult,
          settings: ImportSettings | None = None) -> None:
    """Write the kept rows inside the caller's transaction; counts go to ``result``."""
    settings = settings or ImportSettings.from_env()
    columns = [f.column for f in spec.stored]
    data = {c: np.asarray(out[c], dtype=object)[keep] for c in columns}
    # A column with one value for every row (the file's source, '{}' attributes,
    # an absent field) is not sent row by row.
    constants = {c: (None if pd.isna(data[c][0]) else data[c][0]) for c in columns if _constant(data[c])}
    n = int(keep.sum())
    sources = list(pd.unique(data["source"]))
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(settings.statement_timeout_ms),))
        cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE source = ANY(%s))").format(
            sql.Identifier(spec.table)), (sources,))
        fresh = spec.rules.points and not cur.fetchone()[0]
        rebuild, bulk = [], n >= settings.rebuild_index_rows
        if bulk:
            tables = [spec.table, "complaint_events"] if spec.rules.status_history else [spec.table]
            rebuild = _drop_indexes_and_foreign_keys(cur, tables, n)
        if fresh:
            # A bulk load whose table is locked already (indexes dropped) computes the metric pair once here,
            # not per row: switching the trigger off takes no further lock from other writers.
            metric = _metric_columns(cur, spec, out, keep) if rebuild else None
            _copy_new_rows(cur, conn, spec, columns, data, constants, out, keep, metric)
            inserted = total = n
        else:
            inserted, total = _stage_and_upsert(cur, conn, spec, columns, data, constants, out, keep)
        if rebuild:
            cur.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")
            for statement in rebuild:
                cur.execute(statement)
    result.inserted, result.rows_written = int(inserted), int(total)
    result.updated = result.rows_written - result.inserted


def _constant(values: np.ndarray) -> bool:
    """Whether every value equals the first (None counts as a value); a sample rules most columns out fast."""
    if len(values) == 0:
        return False
    missing = pd.isna(values[: min(len(values), 64)])
    first_missing = bool(missing[0])
    if (missing != first_missing).any():
        return False
    if first_missing:
        return bool(pd.isna(values).all())
    sample = values[:: max(1, len(values) // 64)]
    if not all(v == values[0] for v in sample):
        return False
    return bool((values == values[0]).all())


# COPY's text format: these four characters are escaped, \\N is NULL.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _column_text(values) -> list[str]:
    """One column as COPY text: values as str, specials escaped, NULL as \\N."""
    values = np.asarray(values, dtype=object)
    text = [v if type(v) is str else str(v) for v in values.tolist()]
    # One scan of the joined column decides whether any value needs escaping (rarely).
    joined = "".join(text)
    if any(c in joined for c in "\\\t\n\r"):
        text = [t.translate(_ESCAPES) for t in text]
    for i in np.flatnonzero(pd.isna(values)):
        text[i] = "\\N"
    return text


class _RowStream:
    """A file-like COPY source that formats the rows chunk by chunk: one COPY, the text of one chunk at a time.

    A column is an array (one value per row) or a function of a row slice
    returning that slice's text (geometries made only when sent).
    """

    def __init__(self, columns: list, n: int):
        self._chunks = (self._format(columns, slice(s, s + _COPY_CHUNK_ROWS)) for s in range(0, n, _COPY_CHUNK_ROWS))
        self._chunk, self._at = b"", 0

    @staticmethod
    def _format(columns: list, rows: slice) -> bytes:
        texts = [c(rows) if callable(c) else _column_text(c[rows]) for c in columns]
        return ("\n".join(map("\t".join, zip(*texts))) + "\n").encode()

    def read(self, size: int = -1) -> bytes:
        if self._at >= len(self._chunk):
            self._chunk, self._at = next(self._chunks, b""), 0
        end = len(self._chunk) if size < 0 else self._at + size
        data = self._chunk[self._at:end]
        self._at = end
        return data

    readline = read


def _copy_into(cur, conn, table: str, columns: dict, n: int) -> None:
    """COPY n rows of columns (name → values, or a function of a row slice: see _RowStream), streamed in chunks."""
    names = list(columns)
    if n == 0 or not names:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in names)).as_string(conn)
    cur.copy_expert(statement, _RowStream([columns[c] for c in names], n), size=1 << 20)


def point_ewkb_hex(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """Points in WGS84 as hex EWKB (SRID 4326), exactly the doubles given, without building geometries."""
    xy = np.column_stack([np.asarray(lon, dtype="<f8"), np.asarray(lat, dtype="<f8")])
    digits = xy.tobytes().hex().upper()
    head = "0101000020E6100000"  # little-endian, point, with SRID, 4326
    return [head + digits[k:k + 32] for k in range(0, len(digits), 32)]


def _metric_columns(cur, spec: LayerSpec, out: dict, keep: np.ndarray) -> dict | None:
    """metric_srid/x/y of the kept points in the city's metric CRS, for a table whose trigger would compute them.

    None when the table has no such trigger or the city has no metric CRS yet
    (the trigger's own fallback, the point's UTM zone, then applies).
    """
    if spec.table not in _METRIC_TRIGGERS:
        return None
    cur.execute("SELECT metric_srid FROM city_settings LIMIT 1")
    row = cur.fetchone()
    if not row or row[0] is None:
        return None
    x, y = Transformer.from_crs(4326, row[0], always_xy=True).transform(out["lon"][keep], out["lat"][keep])
    # Floats are sent as repr, their shortest exact decimal.
    return {"metric_srid": np.full(len(x), row[0], dtype=object), "metric_x": np.asarray(x, dtype=object),
            "metric_y": np.asarray(y, dtype=object)}


def _copy_with_metric(cur, conn, table: str, frame: dict, metric: dict, new_rows: sql.Composable, args) -> None:
    """COPY with the trigger that projects each row switched off, then check the pair against PostGIS.

    PROJ computes the same pair in both places (bit for bit for UTM); a
    sample of the new rows proves it, else every new row is projected again
    by PostGIS, so the stored pair is always what the trigger would store.
    """
    trigger = sql.Identifier(_METRIC_TRIGGERS[table])
    cur.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(sql.Identifier(table), trigger))
    _copy_into(cur, conn, table, {**frame, **metric}, len(metric["metric_x"]))
    cur.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(sql.Identifier(table), trigger))
    cur.execute(sql.SQL("SELECT count(*) FROM (SELECT metric_x, metric_y, ST_Transform(geom, metric_srid) AS p "
                        "FROM {rows} LIMIT 1000) s WHERE metric_x <> ST_X(p) OR metric_y <> ST_Y(p)").format(
        rows=new_rows), args)
    if cur.fetchone()[0]:
        cur.execute(sql.SQL("UPDATE {} SET metric_x = ST_X(ST_Transform(geom, metric_srid)), "
                            "metric_y = ST_Y(ST_Transform(geom, metric_srid)) WHERE id IN (SELECT id FROM {rows})"
                            ).format(sql.Identifier(table), rows=new_rows), args)


def _copy_new_rows(cur, conn, spec: LayerSpec, columns, data, constants, out, keep, metric=None) -> None:
    """COPY straight into the layer table (every row is new); complaints get their first history row."""
    # Columns that are NULL (or '{}' attributes) throughout are left to the table's defaults.
    sent = [c for c in columns if not (c in constants and constants[c] in (None, "{}"))]
    frame = {c: data[c] for c in sent}
    lon, lat = out["lon"][keep], out["lat"][keep]
    frame["geom"] = lambda rows: point_ewkb_hex(lon[rows], lat[rows])
    cur.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(spec.table)))
    before = cur.fetchone()[0]
    # New ids are above the old maximum; the source test keeps out complaints filed meanwhile.
    rows = sql.SQL("{} WHERE id > %s AND source = ANY(%s)").format(sql.Identifier(spec.table))
    args = (before, list(pd.unique(data["source"])))
    if metric:
        _copy_with_metric(cur, conn, spec.table, frame, metric, rows, args)
    else:
        _copy_into(cur, conn, spec.table, frame, len(lon))
    if spec.rules.status_history:
        cur.execute(sql.SQL(_FIRST_STATUS).format(rows=rows), args)


def _stage(cur, conn, spec: LayerSpec, columns, constants, data, out, keep) -> None:
    """The rows, as text, in a temporary table import_stage (point layers: lon, lat; others: EWKB hex)."""
    sent = [c for c in columns if c not in constants]
    frame = {c: data[c] for c in sent}
    if spec.rules.points:
        # repr of a float64 is its shortest exact decimal: nothing lost on the way.
        frame["lon"] = out["lon"][keep].astype(str)
        frame["lat"] = out["lat"][keep].astype(str)
        geom_cols = [("lon", "float8"), ("lat", "float8")]
    else:
        geoms = shapely.set_srid(out["geom"][keep], 4326)
        frame["geom"] = shapely.to_wkb(geoms, hex=True, include_srid=True)
        geom_cols = [("geom", "text")]
    stage_cols = [(c, "text") for c in sent] + geom_cols
    cur.execute(sql.SQL("CREATE TEMP TABLE import_stage ({}) ON COMMIT DROP").format(
        sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in stage_cols)))
    _copy_into(cur, conn, "import_stage", frame, int(keep.sum()))


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


def _stage_and_upsert(cur, conn, spec: LayerSpec, columns, data, constants, out, keep) -> tuple[int, int]:
    """COPY into a temporary table, then INSERT … ON CONFLICT (source, source_id) DO UPDATE."""
    _stage(cur, conn, spec, columns, constants, data, out, keep)
    types = {f.column: _SQL_TYPES[f.kind] for f in spec.stored}

    def value(c: str) -> sql.Composable:
        return sql.Literal(constants[c]) if c in constants else sql.SQL("s.{}").format(sql.Identifier(c))

    select = [sql.SQL("{}::{}").format(value(c), sql.SQL(types[c])) for c in columns]
    select.append(sql.SQL(_geometry_expression(spec)))
    target = [*columns, "geom"]
    updates = [c for c in target if c not in ("source", "source_id")]
    history = spec.rules.status_history
    if history:
        # Status changes by re-import are history, like any other change.
        cur.execute(sql.SQL("""
            INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor)
            SELECT c.id, c.status, {status}, 'import: ' || {source}, 'import'
            FROM import_stage s JOIN {table} c ON c.source = {source} AND c.source_id = {source_id}
            WHERE c.status IS DISTINCT FROM {status}""").format(
            table=sql.Identifier(spec.table), status=value("status"), source=value("source"),
            source_id=value("source_id")))
    returning = "id, (xmax = 0) AS inserted" + (", status, reported_at" if history else "")
    upsert = sql.SQL(
        "INSERT INTO {table} ({cols}) SELECT {select} FROM import_stage s "
        "ON CONFLICT (source, source_id) DO UPDATE SET {updates}, updated_at = now() RETURNING " + returning
    ).format(table=sql.Identifier(spec.table), cols=sql.SQL(", ").join(sql.Identifier(c) for c in target),
             select=sql.SQL(", ").join(select),
             updates=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates))
    first = sql.SQL(", ev AS ({})").format(sql.SQL(_FIRST_STATUS).format(rows=sql.SQL("up WHERE inserted")))
    cur.execute(sql.SQL("WITH up AS ({upsert}){history} SELECT count(*) FILTER (WHERE inserted), count(*) "
                        "FROM up").format(upsert=upsert, history=first if history else sql.SQL("")))
    counts = cur.fetchone()
    # Dropped now, not at commit: the caller may import another file in the same transaction.
    cur.execute("DROP TABLE import_stage")
    return counts


def _drop_indexes_and_foreign_keys(cur, tables: list[str], incoming: int) -> list[sql.Composable]:
    """Drop the non-unique indexes and the foreign keys of tables no bigger than the import.

    Returns the statements that restore them (indexes rebuilt in one pass,
    foreign keys re-added, which checks every row again in one join). This is
    PostgreSQL's advice for populating a database; it happens inside the
    import's transaction, so a failure rolls the drop back too. The tables are
    locked for the import's length (a bulk load, not a trickle).
    """
    restore: list[sql.Composable] = []
    foreign_keys: list[sql.Composable] = []
    for table in tables:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,))
        if cur.fetchone()[0] > incoming:
            continue
        cur.execute("""SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                       WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary""", (table,))
        for name, definition in cur.fetchall():
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            restore.append(sql.SQL(definition))
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'", (table,))
        for name, definition in cur.fetchall():
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table),
                                                                          sql.Identifier(name)))
            foreign_keys.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)))
    return restore + foreign_keys
