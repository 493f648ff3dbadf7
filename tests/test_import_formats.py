"""Less common inputs: mapping files, JSON records with a "lat,lon" column, shapefile folders with a
given encoding, GeoPackages with several layers, CGCS2000 Gauss–Krüger coordinates, admin-area populations."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from data.db import connect, transaction
from data.errors import InvalidParameter
from data.migrate import migrate
from geo.coords import from_wgs84
from layers.io.importing import import_file
from layers.io.options import ImportOptions, load_mapping
from tests.conftest import real_data


@pytest.fixture
def conn(fresh_db):
    c = connect(url=fresh_db)
    migrate(c)
    yield c
    c.close()


def rows(conn, query, *params):
    with conn.cursor() as cur:
        cur.execute(query, params)
        out = cur.fetchall()
    conn.rollback()
    return out


def test_hong_kong_toilets_json_records_with_a_lat_lon_column_and_a_mapping_file(conn, tmp_path):
    """FEHD via DATA.GOV.HK: the field `latitude` holds "lat,lon"; names come through a mapping file."""
    source = real_data("hongkong/hk_fehd_public_toilets.json", tmp_path)
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"nameSC": "name", "addressSC": "address", "openHourSC": "opening_hours",
                                   "mapID": "source_id"}, ensure_ascii=False), encoding="utf-8")
    with transaction(conn):
        result = import_file(conn, source, ImportOptions("toilets", mapping=load_mapping(mapping), skip_bad=True))
    assert result.rows_written + result.rejected == 810
    assert result.rows_written > 700
    got = rows(conn, "SELECT name, opening_hours, ST_X(geom), ST_Y(geom), attributes->>'nameEN' FROM toilets "
               "WHERE source_id = '1300'")
    name, hours, lon, lat, name_en = got[0]
    assert name == "军地(北)公厕" and hours == "24 小时" and name_en.strip() == "Kwan Tei (North) Public Toilet"
    assert (round(lon, 6), round(lat, 6)) == (114.158611, 22.512778)  # "22.512778,114.158611" is lat,lon


def test_mapping_to_an_unknown_column_is_refused(conn, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("名字,lng,lat\n甲,121.4,37.5\n", encoding="utf-8")
    with pytest.raises(InvalidParameter, match="--mapping: 'colour' is not a column of toilets"):
        import_file(conn, path, ImportOptions("toilets", mapping={"名字": "colour"}))


def test_shapefile_folder_in_gbk_without_cpg_needs_and_honours_encoding(conn, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    frame = gpd.GeoDataFrame({"编号": ["1", "2"], "名称": ["东门菜市场", "西关农贸市场"], "类型": ["农贸市场", "集贸市场"]},
                             geometry=[Point(121.38, 37.49), Point(121.39, 37.50)], crs=4326)
    frame.to_file(folder / "markets.shp", encoding="gbk", engine="pyogrio")
    (folder / "markets.cpg").unlink(missing_ok=True)
    with transaction(conn):
        result = import_file(conn, folder, ImportOptions("markets", encoding="gbk"))
    assert result.inserted == 2
    assert rows(conn, "SELECT name, kind FROM markets ORDER BY source_id") == [("东门菜市场", "农贸市场"),
                                                                          ("西关农贸市场", "集贸市场")]


def test_geopackage_with_two_layers_asks_for_one(conn, tmp_path):
    path = tmp_path / "city.gpkg"
    gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(121.38, 37.49)], crs=4326).to_file(path, layer="toilets")
    gpd.GeoDataFrame({"name": ["乙村"]}, geometry=[box(121.37, 37.48, 121.38, 37.49)], crs=4326).to_file(
        path, layer="villages")
    with pytest.raises(InvalidParameter, match="--layer.*toilets, villages"):
        import_file(conn, path, ImportOptions("toilets"))
    with transaction(conn):
        assert import_file(conn, path, ImportOptions("urban_villages", gis_layer="villages")).inserted == 1
    assert rows(conn, "SELECT name, GeometryType(geom) FROM urban_villages") == [("乙村", "MULTIPOLYGON")]


def test_cgcs2000_gauss_kruger_columns(conn, tmp_path):
    # CGCS2000 3-degree zone 40 (central meridian 120°E) with zone prefix: EPSG:4528.
    lon, lat = np.array([121.38, 121.39]), np.array([37.49, 37.50])
    x, y = from_wgs84(lon, lat, "EPSG:4528")
    path = tmp_path / "gk.csv"
    path.write_text("id,名称,X,Y\n" + "".join(f"{k},点{k},{x[k]:.3f},{y[k]:.3f}\n" for k in range(2)),
                    encoding="utf-8")
    with transaction(conn):
        import_file(conn, path, ImportOptions("garbage_stations", crs="EPSG:4528"))
    got = rows(conn, "SELECT ST_X(geom), ST_Y(geom) FROM garbage_stations ORDER BY source_id")
    assert np.allclose(np.array(got), np.column_stack([lon, lat]), atol=1e-7)


def test_admin_areas_with_population_and_a_missing_street_level(conn, tmp_path):
    path = tmp_path / "districts.geojson"
    gpd.GeoDataFrame({"code": ["379901", "379902"], "名称": ["东区", "西区"], "人口": ["120000", "80000"]},
                     geometry=[box(121.38, 37.48, 121.40, 37.50), box(121.36, 37.48, 121.38, 37.50)],
                     crs=4326).to_file(path, driver="GeoJSON")
    with transaction(conn):
        import_file(conn, path, ImportOptions("admin_areas", level="district", code_field="code", name_field="名称",
                                              population_field="人口"))
    assert rows(conn, "SELECT code, name, population, level FROM admin_areas ORDER BY code") == [
        ("379901", "东区", 120000, "district"), ("379902", "西区", 80000, "district")]
    points = tmp_path / "p.csv"
    points.write_text("id,名称,经度,纬度\n1,甲,121.39,37.49\n", encoding="utf-8")
    with transaction(conn):
        import_file(conn, points, ImportOptions("toilets"))
    assert rows(conn, "SELECT district_code, street_code, community_code FROM toilets") == [("379901", None, None)]
