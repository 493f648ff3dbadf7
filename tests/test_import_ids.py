"""A bulk load of complaints gives its rows their ids itself (layers.io.fresh.IdRun) and sends their history rows.

The ids are the identity's next run: the history rows point at exactly the
complaints they describe, other writers wait for the import and then get the
ids after it, and a session drawing from the identity meanwhile makes the
import refuse (nothing written) rather than share an id.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from data.db import connect, transaction
from data.errors import Conflict, InvalidInput
from data.settings import ImportSettings
from layers.io import hooks
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.import_tools import city_points, empty_complaints, rows, write_csv

HEADER = ["编号", "事件类型", "上报时间", "状态", "经度", "纬度"]
INSERT_ONE = ("INSERT INTO complaints (source, source_id, category, reported_at, geom) VALUES "
              "('api', %s, '暴露垃圾', now(), ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id")


@pytest.fixture
def city(writable_demo, monkeypatch):
    """The small demo without complaints: a few rows are then a bulk load (indexes dropped, ids given)."""
    monkeypatch.setenv("HYGIENE_MAP_IMPORT_REBUILD_INDEX_ROWS", "1")
    conn = connect(url=writable_demo)
    empty_complaints(conn)
    yield writable_demo, conn
    conn.close()


def chunks_of_7() -> ImportSettings:
    """The settings of the environment (a bulk load from one row), reading 7 rows at a time."""
    return dataclasses.replace(ImportSettings.from_env(), chunk_rows=7)


def complaints_csv(conn, tmp_path, n: int, name: str = "c.csv"):
    lon, lat = city_points(conn, 5)
    statuses = ["受理", "立案", "派遣", "处置", "结案"]
    lines = [[f"k{k}", "暴露垃圾", f"2026-03-{1 + k % 28:02d} 08:{k % 60:02d}", statuses[k % 5],
              f"{lon[k % 5]:.6f}", f"{lat[k % 5]:.6f}"] for k in range(n)]
    return write_csv(tmp_path / name, HEADER, lines), (float(lon[0]), float(lat[0]))


def insert_one(url: str, key: str, lon: float, lat: float, got: list) -> None:
    with connect(url=url) as other, other.cursor() as cur:
        cur.execute(INSERT_ONE, (key, lon, lat))
        got.append(cur.fetchone()[0])
        other.commit()


def test_ids_run_on_from_the_identity_and_each_history_row_names_its_complaint(city, tmp_path):
    url, conn = city
    path, (lon, lat) = complaints_csv(conn, tmp_path, 40)
    earlier: list = []
    insert_one(url, "before", lon, lat, earlier)  # drawn before the import: the import's ids come after it
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("complaints", source="ids"), chunks_of_7())
    assert result.inserted == 40
    ids = [r[0] for r in rows(conn, "SELECT id FROM complaints WHERE source = 'ids' ORDER BY source_id::text")]
    by_key = dict(rows(conn, "SELECT source_id, id FROM complaints WHERE source = 'ids'"))
    assert [by_key[f"k{k}"] for k in range(40)] == list(range(earlier[0] + 1, earlier[0] + 41))  # the file's order
    assert sorted(ids) == list(range(earlier[0] + 1, earlier[0] + 41))
    history = rows(conn, "SELECT c.source_id, count(e.id), bool_and(e.from_status IS NULL AND e.to_status = c.status "
                   "AND e.note = 'import' AND e.actor = 'import' AND e.at = c.reported_at AND e.seq = 1) "
                   "FROM complaints c LEFT JOIN complaint_events e ON e.complaint_id = c.id "
                   "WHERE c.source = 'ids' GROUP BY 1")
    assert len(history) == 40 and all(n == 1 and same for _, n, same in history)
    after: list = []
    insert_one(url, "after", lon, lat, after)
    assert after == [earlier[0] + 41]
    constraints = rows(conn, "SELECT conname, convalidated FROM pg_constraint WHERE conrelid IN "
                       "('complaints'::regclass, 'complaint_events'::regclass) AND contype IN ('p', 'u', 'f')")
    assert {c for c, _ in constraints} >= {"complaints_pkey", "complaints_source_source_id_key",
                                          "complaints_category_fkey", "complaint_events_pkey",
                                          "complaint_events_complaint_id_fkey"}
    assert all(valid for _, valid in constraints)


def test_a_writer_during_the_import_waits_and_gets_the_next_id(city, tmp_path):
    url, conn = city
    path, (lon, lat) = complaints_csv(conn, tmp_path, 30)
    got: list = []
    writer = threading.Thread(target=insert_one, args=(url, "meanwhile", lon, lat, got))
    with transaction(conn), connect(url=url) as watcher:
        import_file(conn, path, ImportOptions("complaints", source="ids"), chunks_of_7())
        writer.start()  # the import holds its lock until the commit: the writer's insert waits for it
        for _ in range(200):
            waiting = rows(watcher, "SELECT count(*) FROM pg_locks WHERE NOT granted "
                           "AND relation = 'complaints'::regclass")[0][0]
            if waiting:
                break
            time.sleep(0.05)
        assert waiting == 1 and not got
    writer.join()
    last = rows(conn, "SELECT max(id) FROM complaints WHERE source = 'ids'")[0][0]
    assert got == [last + 1]
    assert rows(conn, "SELECT count(*) FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id "
                "WHERE c.source = 'ids'")[0][0] == 30


def test_a_session_drawing_from_the_identity_meanwhile_makes_the_import_refuse(city, tmp_path, monkeypatch):
    url, conn = city
    path, _ = complaints_csv(conn, tmp_path, 30)
    real, calls = hooks.HOOKS["deadlines"], []

    def draws_on_the_second_chunk(conn_, batch):
        calls.append(batch.n)
        if len(calls) == 2:  # while the import's COPY runs
            with connect(url=url) as other, other.cursor() as cur:
                cur.execute("SELECT nextval(pg_get_serial_sequence('complaints', 'id'))")
                other.commit()
        real(conn_, batch)

    monkeypatch.setitem(hooks.HOOKS, "deadlines", draws_on_the_second_chunk)
    with pytest.raises(Conflict, match="drawn from by another session"), transaction(conn):
        import_file(conn, path, ImportOptions("complaints", source="ids"), chunks_of_7())
    assert rows(conn, "SELECT count(*) FROM complaints")[0][0] == 0
    assert rows(conn, "SELECT count(*) FROM complaint_events")[0][0] == 0


def test_a_bad_row_in_a_later_chunk_refuses_the_file_and_writes_nothing(city, tmp_path):
    _, conn = city
    path, _ = complaints_csv(conn, tmp_path, 30)
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[24].split(",")  # row 25 of the sheet: the fourth chunk of 7
    cells[2] = "not a time"
    lines[24] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught, transaction(conn):
        import_file(conn, path, ImportOptions("complaints", source="ids"), chunks_of_7())
    assert "1 bad rows; nothing written" in caught.value.message and path.name in caught.value.message
    errors = [p for p in caught.value.problems if p["severity"] == "error"]
    assert [(p["file"], p["row"], p["column"]) for p in errors] == [(path.name, 25, "上报时间")]
    assert "not a time" in errors[0]["reason"]
    assert rows(conn, "SELECT count(*) FROM complaints")[0][0] == 0
    assert rows(conn, "SELECT count(*) FROM complaint_events")[0][0] == 0
