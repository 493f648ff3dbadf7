"""The binary COPY rows a bulk import sends (layers.io.pgcopy) store exactly what the text of each value says."""

from __future__ import annotations

import io

import numpy as np
import pytest

from data.db import connect
from layers.io import pgcopy

COLUMNS = {"t": "text", "j": "jsonb", "i": "integer", "b": "bigint", "f": "double precision", "ok": "boolean",
           "at": "timestamp with time zone", "g": "geometry(Point,4326)"}


LON = [121.3614185, -73.9857, 0.5, 180.0, -180.0, 1e-9]
LAT = [37.4444116, 40.7484, -0.5, 90.0, -90.0, 0.1 + 0.2]


def copy_back(url: str, columns: dict) -> list[tuple]:
    """COPY the columns in binary into a table of COLUMNS' types, and read the rows back as text."""
    conn = connect(url=url)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            cur.execute("CREATE TEMP TABLE t (n serial, " + ", ".join(f"{c} {COLUMNS[c]}" for c in COLUMNS) + ")")
            body = pgcopy.rows([pgcopy.encode(COLUMNS[c], values) for c, values in columns.items()])
            cur.copy_expert(f"COPY t ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)",
                            io.BytesIO(pgcopy.HEADER + body + pgcopy.TRAILER))
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("SELECT t, j::text, i, b, f, ok, at::text, ST_X(g), ST_Y(g), ST_SRID(g) FROM t ORDER BY n")
            return cur.fetchall()
    finally:
        conn.rollback()
        conn.close()


def test_every_type_and_null_round_trips(fresh_db):
    """Text (ASCII, Chinese, empty, specials), JSON, integers, floats, yes/no, times and points; None is NULL."""
    texts = np.array(["c-1", "餐厨垃圾遗撒", "", "tab\there \\N", None, "引号\"和,逗号\n"], dtype=object)
    times = np.array(["2024-11-25T02:05:20", "NaT", "1999-12-31T23:59:59.999999", "2000-01-01T00:00:00",
                      "2026-03-01T08:00:00.5", "1970-01-01T00:00:00"], dtype="datetime64[us]")
    got = copy_back(fresh_db, {
        "t": texts,
        "j": np.array(["{}", '{"名": "值"}', None, '{"a": [1, 2]}', "{}", "{}"], dtype=object),
        "i": np.array(["12", None, "-3", "0", "2147483647", "7"], dtype=object),
        "b": np.array([32651, 1, None, 5, 6, 7], dtype=object),
        "f": np.array([355053.1584733339, -0.0, 1e-300, np.nan, 4145434.590952605, 2.5]),
        "ok": np.array(["true", "false", None, "true", "false", "true"], dtype=object),
        "at": times,
        "g": np.column_stack([LON, LAT]),
    })
    assert [r[0] for r in got] == list(texts)
    assert [r[1] for r in got] == ["{}", '{"名": "值"}', None, '{"a": [1, 2]}', "{}", "{}"]
    assert [r[2] for r in got] == [12, None, -3, 0, 2147483647, 7]
    assert [r[3] for r in got] == [32651, 1, None, 5, 6, 7]
    # NaN is NULL, as in the text COPY of other imports.
    assert [r[4] for r in got] == [355053.1584733339, -0.0, 1e-300, None, 4145434.590952605, 2.5]
    assert [r[5] for r in got] == [True, False, None, True, False, True]
    assert [r[6] for r in got] == ["2024-11-25 02:05:20+00", None, "1999-12-31 23:59:59.999999+00",
                                   "2000-01-01 00:00:00+00", "2026-03-01 08:00:00.5+00", "1970-01-01 00:00:00+00"]
    assert [(r[7], r[8]) for r in got] == list(zip(LON, LAT))  # the very doubles
    assert {r[9] for r in got} == {4326}


def test_text_with_and_without_nulls_and_numbers_given_as_numbers(fresh_db):
    """A text column with no NULL, one all NULL, one holding a number; integers and doubles given as arrays."""
    got = copy_back(fresh_db, {
        "t": np.array(["", "餐厨", "a"], dtype=object),
        "j": np.array([None, None, None], dtype=object),
        "i": np.array([3, -2, 2147483647], dtype=np.int64),
        "b": np.array([1, 2**40, -7], dtype=np.int64),
        "f": np.array([0.1 + 0.2, np.nan, -1e300]),
    })
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in got] == [
        ("", None, 3, 1, 0.1 + 0.2), ("餐厨", None, -2, 2**40, None), ("a", None, 2147483647, -7, -1e300)]
    assert [r[0] for r in copy_back(fresh_db, {"t": np.array([12, "b", 1.5], dtype=object)})] == ["12", "b", "1.5"]


def test_times_given_as_text_with_their_offset(fresh_db):
    """A time column may also come as ISO 8601 text with an offset (None for NULL)."""
    got = copy_back(fresh_db, {"at": np.array(["2024-11-25T02:05:20.000000+00", None, "2024-11-25T10:05:20+08:00"],
                                              dtype=object)})
    assert [r[6] for r in got] == ["2024-11-25 02:05:20+00", None, "2024-11-25 02:05:20+00"]


def test_a_nul_in_text_is_refused_by_the_server_not_misplaced(fresh_db):
    """PostgreSQL text holds no NUL: the row is refused with the server's message, no value shifted into another."""
    import psycopg2

    with pytest.raises(psycopg2.errors.CharacterNotInRepertoire):
        copy_back(fresh_db, {"t": np.array(["名\x00字", "b"], dtype=object)})


def test_a_failure_while_a_later_chunk_is_read_is_raised_as_itself_and_nothing_stays(writable_demo, tmp_path,
                                                                                        monkeypatch):
    """The one COPY of a file is cut short by a later chunk's failure: that failure is what the caller sees."""
    import dataclasses

    from data.db import transaction
    from data.errors import InvalidInput
    from data.settings import ImportSettings
    from layers.io import hooks
    from layers.io.importing import import_file
    from layers.io.options import ImportOptions

    conn = connect(url=writable_demo)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM complaints LIMIT 1")
        lon, lat = cur.fetchone()
        cur.execute("SELECT count(*) FROM complaints")
        before = cur.fetchone()[0]
    conn.rollback()
    path = tmp_path / "c.csv"
    path.write_text("编号,事件类型,上报时间,经度,纬度\n" + "".join(
        f"k{k},暴露垃圾,2026-03-01 08:00,{lon},{lat}\n" for k in range(50)), encoding="utf-8")
    real, calls = hooks.HOOKS["deadlines"], []

    def fails_on_the_third_chunk(conn, batch):
        calls.append(batch.n)
        if len(calls) == 3:
            raise InvalidInput("c.csv: the third chunk fails")
        real(conn, batch)

    monkeypatch.setitem(hooks.HOOKS, "deadlines", fails_on_the_third_chunk)
    monkeypatch.setenv("HYGIENE_MAP_IMPORT_REBUILD_INDEX_ROWS", "1")  # the binary COPY of a bulk load
    settings = dataclasses.replace(ImportSettings.from_env(), chunk_rows=10)
    with pytest.raises(InvalidInput, match="the third chunk fails"), transaction(conn):
        import_file(conn, path, ImportOptions("complaints", source="cut"), settings)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints")
        assert cur.fetchone()[0] == before
    conn.close()
