"""A UTF-8 shapefile whose Chinese headers GDAL or QGIS cut to 10 bytes, made from Taipei's real public toilets.

A .dbf field name holds 10 bytes and a Chinese character 3 in UTF-8, so a header of four or more characters
(公廁名稱, 無障礙廁座數) keeps three characters and a piece of the next. GDAL writes it so (QGIS saves shapefiles
in UTF-8 through GDAL), and reading it back pyogrio could not decode the names: the whole file was refused as
unreadable. Now the piece is dropped and each cut header read as the one it begins, with or without a .cpg.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from data.db import transaction
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.test_import_kml_gbk import conn, datong_toilets, stored  # noqa: F401  (the database fixture)
from tests.test_import_real import load_taipei_areas

HEADERS = ("公廁名稱", "公廁地址", "座數", "管理單位", "無障礙廁座數")


def _shapefile(rows: list[dict], folder, cpg: bool):
    """The ledger's rows written by GDAL as a UTF-8 shapefile (its own 10-byte cut of the names)."""
    folder.mkdir()
    frame = gpd.GeoDataFrame({h: [int(r[h]) if "座數" in h else r[h] for r in rows] for h in HEADERS},
                             geometry=[Point(float(r["經度"]), float(r["緯度"])) for r in rows], crs=4326)
    frame.to_file(folder / "公厕台账.shp", encoding="utf-8", engine="pyogrio")
    names = (folder / "公厕台账.dbf").read_bytes()[32:32 + 32 * len(HEADERS)]
    assert names[:10] == "公廁名稱".encode()[:10]  # GDAL cut it mid-character, as the test means
    if not cpg:
        (folder / "公厕台账.cpg").unlink()
    return folder


@pytest.mark.parametrize("cpg", [True, False], ids=["with-cpg", "without-cpg"])
def test_utf8_shapefile_with_cut_chinese_headers_imports(conn, tmp_path, cpg):  # noqa: F811
    """All 111 of 大同區's toilets stored with their names, addresses, seats, units and accessible stalls; the
    report says which cut headers were read as which."""
    load_taipei_areas(conn, tmp_path)
    rows = datong_toilets(tmp_path)
    folder = _shapefile(rows, tmp_path / "shp", cpg)
    with transaction(conn):
        result = import_file(conn, folder, ImportOptions("toilets"))
    assert result.rows_written == len(rows)
    got = sorted(v[:4] for v in stored(conn).values())
    assert got == sorted((r["公廁名稱"], r["公廁地址"], int(r["座數"]), r["管理單位"]) for r in rows)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE accessible) FROM toilets")
        accessible = cur.fetchone()[0]
    conn.rollback()
    assert accessible == sum(int(r["無障礙廁座數"]) > 0 for r in rows) > 0
    said = " ".join(n.zh for n in result.notes)
    assert "公廁名" in said and "公廁名稱" in said, said
