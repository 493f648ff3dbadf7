"""Rows of a source new to a point table, COPied straight into it (nothing to update), with their first history.

The rows go in binary when every column can (:mod:`layers.io.pgcopy`), sent
while the next chunk is made (:func:`layers.io.copying.copy_overlapped`). A
bulk load of complaints gives the rows their ids itself (:class:`IdRun`), so
their history rows follow in binary too, every few hundred thousand rows,
instead of one INSERT … SELECT over the new complaints at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
from psycopg2 import sql
from pyproj import Transformer

from data.errors import Conflict
from geo.coords import point_ewkb_hex
from layers.io import pgcopy
from layers.io.copying import COPY_CHUNK_ROWS, copy_into, copy_overlapped, copy_statement, kept_frames
from layers.spec.model import LayerSpec

# Tables whose row trigger projects each point into the city's metric CRS (migration 0300).
_METRIC_TRIGGERS = {"complaints": "complaints_metric_xy_trg"}
# A new complaint starts its history with the status it arrived in.
FIRST_STATUS = ("INSERT INTO complaint_events (complaint_id, from_status, to_status, note, actor, at) "
                "SELECT id, NULL, status, 'import', 'import', reported_at FROM {rows}")
# The same first history rows, sent by the client: (id, status, 'import', 'import', reported_at) of each complaint.
_EVENT_COLUMNS = ["complaint_id", "to_status", "note", "actor", "at"]
_HISTORY_ROWS = 400_000  # rows whose history rows wait for their rows' statement to end (≈ 55 bytes each)


class IdRun:
    """The ids a bulk load gives its new rows itself: the identity's next run, drawn by nobody else meanwhile.

    The table is locked against other writers until the import's transaction
    ends (SHARE ROW EXCLUSIVE: their inserts wait), so no insert draws from
    the identity meanwhile. The first id is drawn from it, the rest follow in
    the file's order, and at the end the identity is set to go on after the
    last. Should a session have drawn from the sequence itself meanwhile, the
    import is refused (the caller rolls everything back).
    """

    def __init__(self, cur, table: str):
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.Identifier(table)))
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
        self.sequence = cur.fetchone()[0]
        cur.execute("SELECT nextval(%s)", (self.sequence,))
        self.first = self.next = cur.fetchone()[0]

    def take(self, n: int) -> np.ndarray:
        """The ids of the next ``n`` rows."""
        ids = np.arange(self.next, self.next + n, dtype=np.int64)
        self.next += n
        return ids

    def close(self, cur) -> None:
        """Set the identity to go on after the last id given (the first again when none was)."""
        cur.execute("SELECT pg_sequence_last_value(%s::regclass)", (self.sequence,))
        if cur.fetchone()[0] != self.first:
            raise Conflict(f"{self.sequence} was drawn from by another session during the import; "
                           "nothing written, import the file again",
                           f"导入期间另一会话也从 {self.sequence} 取了编号；未写入任何内容，请重新导入该文件")
        cur.execute("SELECT setval(%s, %s, false)", (self.sequence, self.next))


def copy_new_rows(cur, conn, spec: LayerSpec, columns: list[str], batches, source: str, *, bulk: bool) -> int:
    """COPY straight into the layer table (every row is new); complaints get their first history row.

    ``bulk`` (the table is locked for a bulk load): the metric pair is sent
    with the rows and the trigger that would compute it row by row is off
    for the COPY; complaints' ids and history rows are sent by the client.
    Returns the rows written.
    """
    srid = _metric_srid(cur, spec) if bulk else None
    cur.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(spec.table)))
    before = cur.fetchone()[0]
    counter = [0]
    names = [*columns, "geom", *(("metric_srid", "metric_x", "metric_y") if srid else ())]
    types = _binary_types(cur, spec.table, names)
    frames = _point_frames(kept_frames(columns, batches, counter), columns, srid, binary=types is not None)
    table, trigger = sql.Identifier(spec.table), sql.Identifier(_METRIC_TRIGGERS.get(spec.table, ""))
    if srid:
        cur.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(table, trigger))
    ids = IdRun(cur, spec.table) if types and bulk and spec.rules.status_history else None
    if types:
        copy_overlapped(cur, _binary_parts(conn, spec.table, names, types, frames, ids))
    else:
        copy_into(cur, conn, spec.table, names, frames)
    if ids is not None:
        ids.close(cur)
    # New ids are above the old maximum; the source test keeps out complaints filed meanwhile.
    rows = sql.SQL("{} WHERE id > %s AND source = %s").format(table)
    if srid:
        cur.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(table, trigger))
        _check_metric(cur, spec.table, rows, (before, source))
    if spec.rules.status_history and ids is None:
        cur.execute(sql.SQL(FIRST_STATUS).format(rows=rows), (before, source))
    return counter[0]


def _binary_parts(conn, table: str, names: list[str], types: dict[str, str], frames: Iterator[dict],
                  ids: IdRun | None) -> Iterator:
    """The COPY statements and their binary input (:func:`copy_overlapped`): the rows, with their ids and history.

    The rows go in one statement; with ``ids``, the history rows of about
    _HISTORY_ROWS rows follow after each such run (a statement's triggers
    then see many rows at once, and the history waiting is bounded). The
    bytes are made by the sending thread (functions here), the history rows
    with their rows'.
    """
    statement = copy_statement(conn, table, ["id", *names] if ids else names, binary=True)
    history = copy_statement(conn, "complaint_events", _EVENT_COLUMNS, binary=True)
    types = types | {"id": "bigint"}
    events: list[bytes] = []
    waiting = 0
    for frame in frames:
        n = len(frame[names[0]])
        if ids is not None:
            frame = {"id": ids.take(n)} | frame
        if waiting == 0:
            yield statement
            yield pgcopy.HEADER
        for start in range(0, n, COPY_CHUNK_ROWS):
            part = {name: values[start:start + COPY_CHUNK_ROWS] for name, values in frame.items()}
            yield partial(_rows, part, types, events if ids is not None else None)
        waiting += n
        if ids is None or waiting < _HISTORY_ROWS:
            continue
        yield pgcopy.TRAILER
        yield from _statement(history, partial(b"".join, events))
        events, waiting = [], 0
    if waiting:
        yield pgcopy.TRAILER
        if ids is not None:
            yield from _statement(history, partial(b"".join, events))


def _rows(part: dict, types: dict[str, str], events: list | None) -> bytes:
    """The binary rows of a part of a chunk; with ``events``, their first history rows appended to it."""
    encoded = {name: pgcopy.encode(types[name], values) for name, values in part.items()}
    if events is not None:
        note = pgcopy.encode("text", np.full(len(encoded["id"][0]), "import", dtype=object))
        events.append(pgcopy.rows([encoded["id"], encoded["status"], note, note, encoded["reported_at"]]))
    return pgcopy.rows(list(encoded.values()))


def _statement(statement: str, rows) -> Iterator:
    """A binary COPY statement and its input (made when sent)."""
    yield statement
    yield pgcopy.HEADER
    yield rows
    yield pgcopy.TRAILER


def _binary_types(cur, table: str, names: list[str]) -> dict[str, str] | None:
    """The SQL types of the columns, when every one of them goes in binary (:mod:`layers.io.pgcopy`), else None."""
    cur.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (table,))
    types = dict(cur.fetchall())
    return types if all(pgcopy.supported(types[name]) for name in names) else None


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
    """metric_srid/x/y of points, as the table's trigger would compute them (as text: floats as their repr)."""
    x, y = project.transform(lon, lat)
    return {"metric_srid": np.full(len(x), srid, dtype=np.int64), "metric_x": np.asarray(x, dtype=np.float64),
            "metric_y": np.asarray(y, dtype=np.float64)}


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
