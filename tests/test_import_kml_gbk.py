"""The files a Chinese office has besides its spreadsheets, made from Taipei's real public toilets (data.taipei):
KML saved by Google My Maps and 奥维互动地图 (placemarks without ids, Chinese ExtendedData names), a shapefile
whose .dbf is GBK with no .cpg and no language-driver byte (ArcGIS 9/10, MapGIS, 南方CASS), and the GBK export
that cannot hold one address's character.
"""

from __future__ import annotations

import csv
from html import escape

import geopandas as gpd
import pytest
from shapely.geometry import Point

from data.db import connect, transaction
from data.errors import InvalidParameter
from data.migrate import migrate
from layers.io.export import export_layer
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import real_data
from tests.test_import_real import load_taipei_areas


@pytest.fixture
def conn(fresh_db):
    c = connect(url=fresh_db)
    migrate(c)
    yield c
    c.close()


def datong_toilets(tmp_path) -> list[dict]:
    """The real ledger's toilets of 大同區 (111 rows), their values as the import keeps them (without the spaces
    some names end in)."""
    with open(real_data("taipei/taipei_public_toilets.csv", tmp_path), encoding="utf-8-sig", newline="") as f:
        return [{k: v.strip() for k, v in r.items()} for r in csv.DictReader(f) if r["行政區"] == "大同區"]


def stored(conn) -> dict[str, tuple]:
    """source_id → (name, address, seats, manager_unit, attributes) of the toilets (names repeat in the ledger)."""
    with conn.cursor() as cur:
        cur.execute("SELECT source_id, name, address, seats, manager_unit, attributes FROM toilets")
        out = {row[0]: row[1:] for row in cur.fetchall()}
    conn.rollback()
    return out


def placemark(r: dict, extended: bool) -> str:
    data = "".join(f'<Data name="{k}"><value>{escape(v)}</value></Data>'
                   for k, v in (("地址", r["公廁地址"]), ("座位數", r["座數"]), ("管理單位", r["管理單位"])))
    return (f"<Placemark><name>{escape(r['公廁名稱'])}</name>"
            f"<description><![CDATA[{'地址: ' + r['公廁地址']}]]></description>"
            + (f"<ExtendedData>{data}</ExtendedData>" if extended else "")
            + f"<Point><coordinates>{r['經度']},{r['緯度']},0</coordinates></Point></Placemark>")


def kml(rows: list[dict], extended: bool) -> str:
    """A KML as Google My Maps (ExtendedData) or 奥维互动地图 (name and description) saves it: no placemark ids."""
    marks = "\n".join(placemark(r, extended) for r in rows)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
            f"<Document><name>大同區公廁巡查</name><Folder><name>公廁</name>\n{marks}\n</Folder></Document></kml>")


def test_google_my_maps_kml_imports_names_and_chinese_extended_data(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    rows = datong_toilets(tmp_path)
    path = tmp_path / "大同區公廁.kml"
    path.write_text(kml(rows, extended=True), encoding="utf-8")
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("toilets"))
    assert (result.rows_written, result.rejected) == (len(rows), 0)
    assert any("没有编号列" in note.zh for note in result.notes)  # keyed by feature number, as a CSV without ids
    got = stored(conn)
    assert len(got) == len(rows)
    for i, r in enumerate(rows, 1):  # 座位數 and 管理單位 are the ledger's columns, not laundered to underscores
        name, address, seats, unit, attributes = got[f"row-{i}"]
        assert (name, address, seats, unit) == (r["公廁名稱"], r["公廁地址"], int(r["座數"]), r["管理單位"])
        assert not any(set(key) <= {"_"} for key in attributes)
    # The same file again updates the same rows.
    with transaction(conn):
        again = import_file(conn, path, ImportOptions("toilets"))
    assert (again.inserted, again.rows_written) == (0, len(rows))


def test_ovital_kml_with_names_and_descriptions_only(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    rows = datong_toilets(tmp_path)[:20]
    path = tmp_path / "奥维收藏.kml"
    path.write_text(kml(rows, extended=False), encoding="utf-8")
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("toilets"))
    assert (result.rows_written, result.rejected) == (20, 0)
    got = stored(conn)
    assert {k: v[0] for k, v in got.items()} == {f"row-{i}": r["公廁名稱"] for i, r in enumerate(rows, 1)}


# A .dbf field name holds 10 bytes: the ledger's headers in GBK (8 bytes), shorter ones in UTF-8 (3 a character).
@pytest.mark.parametrize("encoding,headers", [("gbk", ("公廁名稱", "公廁地址", "座數", "管理單位")),
                                              ("utf-8", ("名稱", "地址", "座數", "manager"))])
def test_shapefile_without_cpg_or_language_driver_is_read_in_its_encoding(conn, tmp_path, encoding, headers):
    load_taipei_areas(conn, tmp_path)
    rows = datong_toilets(tmp_path)
    folder = tmp_path / "shp"
    folder.mkdir()
    columns = ("公廁名稱", "公廁地址", "座數", "管理單位")
    frame = gpd.GeoDataFrame({h: [int(r[c]) if c == "座數" else r[c] for r in rows] for h, c in zip(headers, columns)},
                             geometry=[Point(float(r["經度"]), float(r["緯度"])) for r in rows], crs=4326)
    frame.to_file(folder / "公厕台账.shp", encoding=encoding, engine="pyogrio")
    (folder / "公厕台账.cpg").unlink(missing_ok=True)
    dbf = folder / "公厕台账.dbf"
    data = bytearray(dbf.read_bytes())
    data[29] = 0  # no language driver, as old desktop GIS leaves it
    dbf.write_bytes(bytes(data))
    with transaction(conn):
        result = import_file(conn, folder, ImportOptions("toilets"))
    assert result.rows_written == len(rows)
    got = sorted(v[:4] for v in stored(conn).values())  # not °Ùýg×ó°¶ (GDAL's ISO-8859-1)
    assert got == sorted((r["公廁名稱"], r["公廁地址"], int(r["座數"]), r["管理單位"]) for r in rows)
    said = "GBK/GB18030" if encoding == "gbk" else "UTF-8"
    assert any(f"按文字内容判断为 {said} 编码读取" in n.zh and "--encoding" in n.zh for n in result.notes), result.notes
    if encoding == "gbk":  # --encoding wins over the judgement, and says so as before
        with transaction(conn):
            again = import_file(conn, folder, ImportOptions("toilets", encoding="gbk"))
        assert again.rows_written == len(rows) and not any("判断" in n.zh for n in again.notes)
        assert sorted(v[0] for v in stored(conn).values()) == sorted(r["公廁名稱"] for r in rows)


def test_gbk_export_refusal_names_the_row_and_column(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    with transaction(conn):
        import_file(conn, real_data("taipei/taipei_public_toilets.csv", tmp_path), ImportOptions("toilets", skip_bad=True))
    with pytest.raises(InvalidParameter) as refused:
        export_layer(conn, "toilets", "shp", tmp_path / "toilets.zip", encoding="gbk")
    # 吉祥路19號‧21號 (CSV row 1171): the office finds it by its 编号.
    assert "address 列 1 行（首个：" in refused.value.reason_zh and "编号 'row-1171'：'‧'" in refused.value.reason_zh
    assert "source_id 'row-1171'" in refused.value.reason
    assert not (tmp_path / "toilets.zip").exists()
