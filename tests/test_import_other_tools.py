"""Ledgers other tools made, from Taipei's real public toilets (大同區): a template's 编号 column left empty in every
row (CSV read in chunks, XLSX, shapefile), and a shapefile whose .dbf cut its headers to 10 bytes (``hours_of_o``,
GBK 無障礙廁座 of 無障礙廁座數).
"""

from __future__ import annotations

import csv
import dataclasses

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from data.db import transaction
from data.errors import InvalidInput
from data.settings import ImportSettings
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.test_import_kml_gbk import conn, datong_toilets, stored  # noqa: F401 (conn: the fixture)
from tests.test_import_real import load_taipei_areas

#: 111 rows in chunks of 40: the third chunk starts at CSV row 82.
CHUNKED = dataclasses.replace(ImportSettings.from_env(), chunk_rows=40)
LEDGER = ("公廁名稱", "公廁地址", "經度", "緯度", "管理單位", "座數")


def ledger_rows(tmp_path, ids: dict[int, str] | None = None) -> list[dict]:
    """大同區's toilets under an empty 编号 column (ids: a few rows' ids, by index)."""
    return [{"编号": (ids or {}).get(i, ""), **{c: r[c] for c in LEDGER}} for i, r in enumerate(datong_toilets(tmp_path))]


def write_csv(path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_csv_with_an_empty_id_column_in_every_chunk_keys_rows_by_row_number(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    rows = ledger_rows(tmp_path)
    path = tmp_path / "公厕台账.csv"
    write_csv(path, rows)
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("toilets"), CHUNKED)
    assert (result.rows_written, result.rejected) == (len(rows), 0)  # not 111 × 编号为空
    assert any("没有编号列" in n.zh for n in result.notes) and any("编号列“编号”全部为空" in n.zh for n in result.notes)
    got = stored(conn)
    assert {k: v[0] for k, v in got.items()} == {f"row-{i}": r["公廁名稱"] for i, r in enumerate(rows, 2)}
    with transaction(conn):  # the same file again updates the same rows
        again = import_file(conn, path, ImportOptions("toilets"), CHUNKED)
    assert (again.inserted, again.rows_written) == (0, len(rows))


def test_csv_whose_ids_start_in_a_later_chunk_is_refused_naming_the_column(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    path = tmp_path / "公厕台账.csv"
    write_csv(path, ledger_rows(tmp_path, ids={99: "DT-100"}))  # CSV row 101, in the third chunk
    with pytest.raises(InvalidInput) as refused, transaction(conn):
        import_file(conn, path, ImportOptions("toilets"), CHUNKED)
    said = refused.value.zh
    assert "编号列“编号”" in said and "第 101 行有编号 'DT-100'" in said and "未写入任何行" in said, said
    assert "'编号'" in str(refused.value) and "row 101" in str(refused.value)
    assert stored(conn) == {}  # no row keyed by its number beside rows keyed by id


def test_xlsx_with_an_empty_id_column_is_keyed_by_row_number(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    rows = ledger_rows(tmp_path)
    path = tmp_path / "公厕台账.xlsx"
    pd.DataFrame(rows).to_excel(path, index=False)
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("toilets"))
    assert (result.rows_written, result.rejected) == (len(rows), 0)
    assert any("没有编号列" in n.zh for n in result.notes)
    assert {k: v[0] for k, v in stored(conn).items()} == {f"row-{i}": r["公廁名稱"] for i, r in enumerate(rows, 2)}


def write_shapefile(folder, columns: dict[str, list], rows: list[dict], encoding: str = "gbk") -> None:
    """A shapefile as other tools write one (GDAL cutting names to 10 bytes; a .cpg naming the encoding)."""
    folder.mkdir()
    frame = gpd.GeoDataFrame(columns, geometry=[Point(float(r["經度"]), float(r["緯度"])) for r in rows], crs=4326)
    frame.to_file(folder / "公厕台账.shp", encoding=encoding, engine="pyogrio")


def test_shapefile_with_an_empty_id_column_is_keyed_by_feature_number(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    rows = datong_toilets(tmp_path)
    folder = tmp_path / "shp"
    write_shapefile(folder, {"编号": [""] * len(rows), "名称": [r["公廁名稱"] for r in rows]}, rows)
    with transaction(conn):
        result = import_file(conn, folder, ImportOptions("toilets"))
    assert (result.rows_written, result.rejected) == (len(rows), 0)
    assert any("没有编号列" in n.zh for n in result.notes)
    assert {k: v[0] for k, v in stored(conn).items()} == {f"row-{i}": r["公廁名稱"] for i, r in enumerate(rows, 1)}


def test_shapefile_headers_cut_to_ten_bytes_feed_their_columns(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    rows = datong_toilets(tmp_path)
    folder = tmp_path / "shp"
    hours = ["全天" if i % 2 else "06:00-22:00" for i in range(len(rows))]
    write_shapefile(folder, {"公廁名稱": [r["公廁名稱"] for r in rows],
                             "無障礙廁座數": [int(r["無障礙廁座數"]) for r in rows],  # GBK: 無障礙廁座 (10 bytes)
                             "hours_of_operation": hours,  # hours_of_o
                             "manager_unit": [r["管理單位"] for r in rows]}, rows)  # manager_un
    with transaction(conn):
        result = import_file(conn, folder, ImportOptions("toilets"))
    assert (result.rows_written, result.rejected) == (len(rows), 0)
    with conn.cursor() as cur:
        cur.execute("SELECT source_id, name, opening_hours, accessible, manager_unit, attributes FROM toilets")
        got = {r[0]: r[1:] for r in cur.fetchall()}
    conn.rollback()
    for i, (r, hour) in enumerate(zip(rows, hours), 1):
        name, opening, accessible, unit, attributes = got[f"row-{i}"]
        assert (name, opening, accessible, unit) == (r["公廁名稱"], hour, int(r["無障礙廁座數"]) > 0, r["管理單位"])
        assert not {"hours_of_o", "無障礙廁座"} & set(attributes)
    assert any("無障礙廁座 → 无障碍厕座数" in n.zh and "hours_of_o → hoursofoperation" in n.zh for n in result.notes)


def test_a_cut_header_beginning_names_of_two_columns_is_not_guessed():
    from layers.io.dbf_names import cut_names

    known = {"manager_unit": ("manager_unit_name",), "manager_phone": ("manager_unit_phone",), "name": ("名称",)}
    found, notes = cut_names(["manager_un", "名称"], "gbk", known)
    assert found == {}
    assert len(notes) == 1 and "'manager_un'" in notes[0].zh and "manager_unit_name、manager_unit_phone" in notes[0].zh
