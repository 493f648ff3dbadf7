"""A file read in chunks imports exactly as when read whole: the same rows, problems, rejects and counts.

Real files (New York 311, Taipei) imported twice into one database, once in a
single chunk and once in chunks of a few hundred rows (HYGIENE_MAP_IMPORT_CHUNK_ROWS),
under two sources; every stored value is compared. A bad row in a later chunk
names its own row and leaves nothing written.
"""

from __future__ import annotations

import dataclasses
from contextlib import closing

import pytest

from data.db import connect, transaction
from data.errors import InvalidInput
from data.migrate import migrate
from data.settings import ImportSettings
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import real_data
from tests.test_import_real import load_taipei_areas

WHOLE = dataclasses.replace(ImportSettings.from_env(), chunk_rows=1_000_000)
CHUNKED = dataclasses.replace(ImportSettings.from_env(), chunk_rows=333)


@pytest.fixture
def conn(fresh_db):
    """An empty database, migrated."""
    with closing(connect(url=fresh_db)) as c:
        migrate(c)
        yield c


def stored(conn, table: str, source: str, skip: tuple[str, ...] = ()) -> list[tuple]:
    """Every stored value of a source's rows but the row's own id, source and timestamps, by source_id."""
    with conn.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                    (table,))
        columns = [c for (c,) in cur.fetchall()
                   if c not in ("id", "source", "created_at", "updated_at", "geom", *skip)]
        cur.execute(f"SELECT {', '.join(columns)}, ST_AsEWKB(geom) FROM {table} WHERE source = %s "
                    "ORDER BY source_id", (source,))
        out = cur.fetchall()
    conn.rollback()
    return out


def problems(result) -> list[tuple]:
    return [(p.row, p.column, p.reason, p.severity) for p in result.problems]


def import_twice(conn, path, layer: str, **options):
    """The file imported whole (source 'whole') and in chunks (source 'chunked'); both results."""
    results = []
    for source, settings in (("whole", WHOLE), ("chunked", CHUNKED)):
        opts = ImportOptions(layer, source=source, skip_bad=True, rejects=path.with_name(f"{source}.rejects.csv"),
                             **options)
        with transaction(conn):
            results.append(import_file(conn, path, opts, settings))
    return results


def assert_same(whole, chunked, path) -> None:
    assert (chunked.rows_read, chunked.rows_written, chunked.inserted, chunked.rejected) == \
        (whole.rows_read, whole.rows_written, whole.inserted, whole.rejected)
    assert problems(chunked) == problems(whole)
    assert chunked.notes == whole.notes
    if whole.rejected:
        assert path.with_name("chunked.rejects.csv").read_bytes() == path.with_name("whole.rejects.csv").read_bytes()


def test_new_york_311_in_chunks_equals_one_pass(conn, tmp_path):
    nta = real_data("nyc/boundaries/nynta2020.shp", tmp_path)
    with transaction(conn):
        import_file(conn, nta, ImportOptions("admin_areas", level="district", code_field="NTA2020",
                                             name_field="NTAName"))
    path = real_data("nyc/nyc311_sample_2023-02-28.csv", tmp_path)
    whole, chunked = import_twice(conn, path, "complaints", timezone="America/New_York")
    # The day's hygiene requests: 474 by Complaint Type, less the 83 UNSANITARY CONDITION whose Descriptor is MOLD.
    assert whole.rows_read == 4999 and whole.rows_written == 474 - 83 and whole.rejected > 1000
    assert_same(whole, chunked, path)
    assert stored(conn, "complaints", "chunked") == stored(conn, "complaints", "whole")
    with conn.cursor() as cur:
        cur.execute("SELECT c.source, count(*), min(e.at), max(e.at), count(DISTINCT e.to_status) FROM complaint_events e "
                    "JOIN complaints c ON c.id = e.complaint_id GROUP BY 1 ORDER BY 1")
        chunked_events, whole_events = cur.fetchall()
    conn.rollback()
    assert chunked_events[1:] == whole_events[1:]
    # Re-imported in chunks: every row updated, none doubled.
    with transaction(conn):
        again = import_file(conn, path, ImportOptions("complaints", source="chunked", skip_bad=True,
                                                      timezone="America/New_York",
                                                      rejects=tmp_path / "again.rejects.csv"), CHUNKED)
    assert (again.inserted, again.updated) == (0, whole.rows_written)
    assert stored(conn, "complaints", "chunked") == stored(conn, "complaints", "whole")


@pytest.mark.parametrize(("name", "layer"), [("taipei_public_toilets.csv", "toilets"),
                                             ("taipei_garbage_truck_stops.csv", "garbage_stations")])
def test_taipei_in_chunks_equals_one_pass(conn, tmp_path, name, layer):
    load_taipei_areas(conn, tmp_path)
    path = real_data(f"taipei/{name}", tmp_path)
    whole, chunked = import_twice(conn, path, layer)
    assert whole.rejected > 0 and whole.rows_written > 1000
    assert_same(whole, chunked, path)
    assert stored(conn, layer, "chunked") == stored(conn, layer, "whole")


def bad_copy(path, tmp_path, line_no: int, edit) -> tuple:
    """The file with one line changed (``edit`` of the line's text); the row it is, as a spreadsheet numbers it."""
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    lines[line_no - 1] = edit(lines[line_no - 1])
    out = tmp_path / ("bad_" + path.name)
    out.write_text("".join(lines), encoding="utf-8")
    return out


def test_a_bad_row_in_a_later_chunk_is_named_and_nothing_is_written(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    path = real_data("taipei/taipei_garbage_truck_stops.csv", tmp_path)
    header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    lon = next(i for i, h in enumerate(header) if h.strip() in ("經度", "longitude", "lng", "經度(WGS84)"))

    def break_lon(line: str) -> str:
        cells = line.split(",")
        cells[lon] = "not-a-number"
        return ",".join(cells)

    bad = bad_copy(path, tmp_path, 3001, break_lon)  # chunk 10 of 333 rows
    with pytest.raises(InvalidInput) as caught, transaction(conn):
        import_file(conn, bad, ImportOptions("garbage_stations"), CHUNKED)
    errors = [p for p in caught.value.problems if p["severity"] == "error"]
    assert {(p["row"], p["column"]) for p in errors if "not a finite number" in p["reason"]} == \
        {(3001, header[lon].strip())}
    assert all(p["file"] == bad.name for p in errors)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM garbage_stations")
        assert cur.fetchone()[0] == 0
    conn.rollback()


def test_a_broken_line_or_duplicate_id_in_a_later_chunk(conn, tmp_path):
    """A line with a field too many, far into the file, refuses it by its line; ids repeated across chunks too."""
    load_taipei_areas(conn, tmp_path)
    path = real_data("taipei/taipei_public_toilets.csv", tmp_path)
    broken = bad_copy(path, tmp_path, 1201, lambda line: line.rstrip("\r\n") + ",extra\n")
    with pytest.raises(InvalidInput) as caught, transaction(conn):
        import_file(conn, broken, ImportOptions("toilets", skip_bad=True), CHUNKED)
    assert "row 1201 has" in caught.value.message and broken.name in caught.value.message
    assert not (tmp_path / (broken.stem + ".rejects.csv")).exists()
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    doubled = tmp_path / "doubled.csv"
    doubled.write_text("".join(lines + lines[1:3]), encoding="utf-8")  # rows 2 and 3 again, at the end
    with pytest.raises(InvalidInput) as caught, transaction(conn):
        import_file(conn, doubled, ImportOptions("toilets", id_field="公廁名稱"), CHUNKED)
    duplicates = [p for p in caught.value.problems if p["reason"].startswith("duplicate id")]
    assert [(p["row"], p["reason"][-16:]) for p in duplicates if p["row"] > 1546] == \
        [(1547, "(first on row 2)"), (1548, "(first on row 3)")]
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM toilets")
        assert cur.fetchone()[0] == 0
    conn.rollback()
