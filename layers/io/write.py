"""Write checked rows into a layer's table, inside the caller's transaction.

Rows whose source is new to a point table are COPied straight into it (the
common first import: nothing to update). Otherwise they are COPied into a
temporary staging table and upserted by (source, source_id), so a re-import
updates rows instead of duplicating them. Nothing here commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import numpy as np
import pandas as pd
import shapely
from psycopg2 import sql
from pyproj import Transformer

from data.settings import ImportSettings
from geo.coords import point_ewkb_hex
from layers.io import pgcopy
from layers.io.batch import ImportResult
from layers.io.values import utc_text
from layers.spec.model import LayerSpec

_SQL_TYPES = {"text": "text", "int": "integer", "num": "numeric", "bool": "boolean", "time": "timestamptz",
              "json": "jsonb"}
_COPY_CHUNK_ROWS = 20_000  # rows formatted as COPY text at a time (its memory)
# Tables whose row trigger projects each point into the city's metric CRS (migration 0300).
_METRIC_TRIGGERS = {"complaints": "complaints_metric_xy_trg"}
# A new complaint starts its history with the status it arrived in.
_FIRST_STATUS = ("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
                 "SELECT id, NULL, status, 'import', 'import', reported_at FROM {rows}")


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
            # A bulk load whose table is locked already (indexes dropped) computes the metric pair itself,
            # not per row: switching the trigger off takes no further lock from other writers.
            srid = _metric_srid(cur, spec) if rebuild else None
            inserted = total = _copy_new_rows(cur, conn, spec, columns, batches, source, srid)
        else:
            inserted, total = _stage_and_upsert(cur, conn, spec, columns, batches)
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
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":  # UTC times (values._time)
        return ["\\N" if t is None else t for t in utc_text(values)]
    values = np.asarray(values, dtype=object)
    if len(values) > 1 and _constant(values):  # the file's source, '{}' attributes, an absent field: one text for every row
        one = "\\N" if pd.isna(values[0]) else _column_text(values[:1])[0]
        return [one] * len(values)
    text = [v if type(v) is str else str(v) for v in values.tolist()]
    # One scan of the joined column decides whether any value needs escaping (rarely).
    joined = "".join(text)
    if any(c in joined for c in "\\\t\n\r"):
        text = [t.translate(_ESCAPES) for t in text]
    for i in np.flatnonzero(pd.isna(values)):
        text[i] = "\\N"
    return text


class _RowStream:
    """A file-like COPY source reading byte chunks as they are made: the text of one slice of rows at a time."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._chunk, self._at = chunks, b"", 0
        self.error: BaseException | None = None  # raised by the caller once COPY ends

    def read(self, size: int = -1) -> bytes:
        if self._at >= len(self._chunk):
            try:
                self._chunk, self._at = next(self._chunks, b""), 0
            except Exception as exc:  # psycopg2 would turn it into "error in .read() call": kept as it is
                self.error, self._chunk, self._at = exc, b"", 0
        end = len(self._chunk) if size < 0 else self._at + size
        data = self._chunk[self._at:end]
        self._at = end
        return data

    readline = read


def _copy_text(columns: dict) -> Iterator[bytes]:
    """Rows (columns: name → one value per row) as COPY text, _COPY_CHUNK_ROWS rows at a time."""
    n = len(next(iter(columns.values()))) if columns else 0
    for start in range(0, n, _COPY_CHUNK_ROWS):
        texts = [_column_text(values[start:start + _COPY_CHUNK_ROWS]) for values in columns.values()]
        yield ("\n".join(map("\t".join, zip(*texts))) + "\n").encode()


def _copy_binary(columns: dict, types: dict[str, str]) -> Iterator[bytes]:
    """Rows (columns: name → one value per row) in binary COPY format, _COPY_CHUNK_ROWS rows at a time."""
    n = len(next(iter(columns.values())))
    for start in range(0, n, _COPY_CHUNK_ROWS):
        yield pgcopy.rows([pgcopy.encode(types[name], values[start:start + _COPY_CHUNK_ROWS])
                           for name, values in columns.items()])


def _copy_into(cur, conn, table: str, names: list[str], frames: Iterator[dict],
               types: dict[str, str] | None = None) -> None:
    """COPY the rows of each frame (column name → values, in ``names``' order) as the frames come.

    One COPY statement for the whole file: the server stores one chunk while
    the next is read and checked (its look-ups were made for the first chunk,
    :meth:`FileState.once`: a connection in COPY answers no other query).
    With ``types`` (column → SQL type) the rows go in binary, else as text.
    """
    statement = sql.SQL("COPY {} ({}) FROM STDIN" + (" WITH (FORMAT binary)" if types else "")).format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in names)).as_string(conn)
    if types:
        parts = chain([pgcopy.HEADER], (b for frame in frames for b in _copy_binary(frame, types)), [pgcopy.TRAILER])
    else:
        parts = (text for frame in frames for text in _copy_text(frame))
    stream = _RowStream(parts)
    try:
        cur.copy_expert(statement, stream, size=1 << 20)
    finally:
        if stream.error is not None:  # the file's problem, not what the server made of the rows cut short
            raise stream.error


def _binary_types(cur, table: str, names: list[str]) -> dict[str, str] | None:
    """The SQL types of the columns, when every one of them goes in binary (:mod:`layers.io.pgcopy`), else None."""
    cur.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (table,))
    types = dict(cur.fetchall())
    return types if all(pgcopy.supported(types[name]) for name in names) else None


def _kept_frames(columns: list[str], batches: Iterator[tuple[dict, np.ndarray]], counter: list[int]) -> Iterator[dict]:
    """Each chunk's kept rows as column → values; ``counter[0]`` counts them."""
    for out, keep in batches:
        kept = int(keep.sum())
        counter[0] += kept
        rows = slice(None) if kept == len(keep) else keep  # the common chunk keeps every row: no copies
        yield {c: _column(out[c])[rows] for c in columns} | {
            "lon": np.asarray(out["lon"])[rows], "lat": np.asarray(out["lat"])[rows],
            "geom": np.asarray(out["geom"], dtype=object)[rows] if out.get("geom") is not None else None}


def _column(values) -> np.ndarray:
    """A column's values as an array: times stay datetime64, the rest are objects."""
    values = np.asarray(values)
    return values if values.dtype.kind == "M" else values.astype(object, copy=False)


def _metric_srid(cur, spec: LayerSpec) -> int | None:
    """The city's metric CRS, for a table whose trigger would project each point into it.

    None when the table has no such trigger or the city has no metric CRS yet
    (the trigger's own fallback, the point's UTM zone, then applies).
    """
    if spec.table not in _METRIC_TRIGGERS:
        return None
    cur.execute("SELECT metric_srid FROM city_settings LIMIT 1")
    row = cur.fetchone()
    return row[0] if row else None


def _point_frames(frames: Iterator[dict], columns: list[str], srid: int | None, binary: bool) -> Iterator[dict]:
    """Each chunk's rows as the table takes them: the columns, the point, the metric pair.

    The point goes as its lon/lat pair to a binary COPY (:mod:`layers.io.pgcopy`), else as hex EWKB.
    """
    project = Transformer.from_crs(4326, srid, always_xy=True) if srid else None
    for frame in frames:
        lon, lat = frame["lon"], frame["lat"]
        point = np.column_stack([lon, lat]) if binary else point_ewkb_hex(lon, lat)
        sent = {c: frame[c] for c in columns} | {"geom": point}
        if project is not None:
            sent |= _metric_columns(project, srid, lon, lat)
        yield sent


def _metric_columns(project: Transformer, srid: int, lon: np.ndarray, lat: np.ndarray) -> dict:
    """metric_srid/x/y of points, as the table's trigger would compute them (floats sent as their repr)."""
    x, y = project.transform(lon, lat)
    return {"metric_srid": np.full(len(x), srid, dtype=object), "metric_x": np.asarray(x, dtype=object),
            "metric_y": np.asarray(y, dtype=object)}


def _check_metric(cur, table: str, new_rows: sql.Composable, args) -> None:
    """Compare a sample of the new rows' metric pair with PostGIS's; if any differs, project every new row again.

    PROJ computes the same pair in both places (bit for bit for UTM); the
    stored pair is thus always what the row trigger would store.
    """
    cur.execute(sql.SQL("SELECT count(*) FROM (SELECT metric_x, metric_y, ST_Transform(geom, metric_srid) AS p "
                        "FROM {rows} LIMIT 1000) s WHERE metric_x <> ST_X(p) OR metric_y <> ST_Y(p)").format(
        rows=new_rows), args)
    if cur.fetchone()[0]:
        cur.execute(sql.SQL("UPDATE {} SET metric_x = ST_X(ST_Transform(geom, metric_srid)), "
                            "metric_y = ST_Y(ST_Transform(geom, metric_srid)) WHERE id IN (SELECT id FROM {rows})"
                            ).format(sql.Identifier(table), rows=new_rows), args)


def _copy_new_rows(cur, conn, spec: LayerSpec, columns, batches, source: str, srid: int | None) -> int:
    """COPY straight into the layer table (every row is new); complaints get their first history row.

    With ``srid`` (a bulk load), the metric pair is sent with the rows and
    the trigger that would compute it row by row is off for the COPY.
    """
    cur.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(spec.table)))
    before = cur.fetchone()[0]
    counter = [0]
    names = [*columns, "geom", *(("metric_srid", "metric_x", "metric_y") if srid else ())]
    types = _binary_types(cur, spec.table, names)
    frames = _point_frames(_kept_frames(columns, batches, counter), columns, srid, binary=types is not None)
    table, trigger = sql.Identifier(spec.table), sql.Identifier(_METRIC_TRIGGERS.get(spec.table, ""))
    if srid:
        cur.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(table, trigger))
    _copy_into(cur, conn, spec.table, names, frames, types)
    # New ids are above the old maximum; the source test keeps out complaints filed meanwhile.
    rows = sql.SQL("{} WHERE id > %s AND source = %s").format(table)
    if srid:
        cur.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(table, trigger))
        _check_metric(cur, spec.table, rows, (before, source))
    if spec.rules.status_history:
        cur.execute(sql.SQL(_FIRST_STATUS).format(rows=rows), (before, source))
    return counter[0]


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

    frames = (staged(frame) for frame in _kept_frames(columns, batches, counter))
    _copy_into(cur, conn, "import_stage", [c for c, _ in stage_cols], frames)
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


def _stage_and_upsert(cur, conn, spec: LayerSpec, columns, batches) -> tuple[int, int]:
    """COPY into a temporary table, then INSERT … ON CONFLICT (source, source_id) DO UPDATE."""
    if _stage(cur, conn, spec, columns, batches) == 0:
        cur.execute("DROP TABLE import_stage")
        return 0, 0
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
    first = sql.SQL(", ev AS ({})").format(sql.SQL(_FIRST_STATUS).format(rows=sql.SQL("up WHERE inserted")))
    cur.execute(sql.SQL("WITH up AS ({upsert}){history} SELECT count(*) FILTER (WHERE inserted), count(*) "
                        "FROM up").format(upsert=upsert, history=first if history else sql.SQL("")))
    counts = cur.fetchone()
    # Dropped now, not at commit: the caller may import another file in the same transaction.
    cur.execute("DROP TABLE import_stage")
    return counts


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
