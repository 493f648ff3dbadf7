"""Yantai's ledgers as its offices keep them (Gaode, GCJ-02), on the city of its 11 real district outlines:

- coordinate headers that name their CRS (高德经度, gcj_lng, lng_gcj02, bd09_lng, 百度经度, wgs84_lon) are the
  coordinates, read in that CRS without --crs, and the report says so; a --crs that contradicts one is refused;
- a file that declares its own CRS: ``--crs gcj02`` over a GeoJSON's EPSG:4326 is honoured and said, over a
  projected GeoPackage (metres) refused;
- the districts imported again as streets with their own codes are refused with how a street gets a code of its own.
"""

from __future__ import annotations

import csv
import json

import pytest
import shapely

from geo import coords
from tests.real_city import yantai  # noqa: F401  (a fixture, used by name)

#: (lon header, lat header, the CRS they name, as the report names it, from GCJ-02 into it)
HEADERS = (
    ("高德经度", "高德纬度", "GCJ-02", None),
    ("gcj_lng", "gcj_lat", "GCJ-02", None),
    ("lng_gcj02", "lat_gcj02", "GCJ-02", None),
    ("bd09_lng", "bd09_lat", "BD-09", coords.gcj02_to_bd09),
    ("百度经度", "百度纬度", "BD-09", coords.gcj02_to_bd09),
    ("wgs84_lon", "wgs84_lat", "WGS84", coords.gcj02_to_wgs84),
)


def _district_points(city) -> dict[str, tuple[float, float]]:
    """adcode → a point inside that district, in GCJ-02 as the Gaode file draws it."""
    data = json.loads((city.work / "yantai_districts_gaode.geojson").read_text(encoding="utf-8"))
    points = {}
    for feature in data["features"]:
        point = shapely.geometry.shape(feature["geometry"]).representative_point()
        points[feature["properties"]["adcode"]] = (point.x, point.y)
    return points


def _ledger(city, name: str, lon_header: str, lat_header: str, convert) -> dict[str, tuple[float, float]]:
    """A toilet ledger with a toilet in every district, its coordinates in the CRS its headers name; adcode →
    where each toilet is in WGS84."""
    points = _district_points(city)
    with (city.work / name).open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["序号", "名称", "地址", lon_header, lat_header])
        for k, (code, (lon, lat)) in enumerate(sorted(points.items()), 1):
            x, y = convert(lon, lat) if convert else (lon, lat)
            writer.writerow([k, f"{code}号公厕", f"烟台市{code}", f"{float(x):.8f}", f"{float(y):.8f}"])
    return {code: tuple(map(float, coords.gcj02_to_wgs84(lon, lat))) for code, (lon, lat) in points.items()}


@pytest.mark.parametrize(("lon_header", "lat_header", "said", "convert"), HEADERS)
def test_a_coordinate_header_naming_its_crs_is_read_in_it(yantai, lon_header, lat_header, said, convert):  # noqa: F811
    """Without --crs the header's CRS is used, and said (unless WGS84): every toilet lands in its district, on the
    point a Gaode map shows, not ~500 m off."""
    source = f"ledger-{lon_header}"
    expected = _ledger(yantai, f"{source}.csv", lon_header, lat_header, convert)
    done = yantai.cli("import", "toilets", f"{source}.csv", "--source", source)
    if said != "WGS84":
        assert f"按列名 {lon_header} 视为 {said}" in done.stdout, done.stdout
    stored = {name.removesuffix("号公厕"): (district, lon, lat) for name, district, lon, lat in yantai.sql(
        "SELECT name, district_code, ST_X(geom), ST_Y(geom) FROM toilets WHERE source = %s", (source,))}
    assert stored.keys() == expected.keys()
    for code, (lon, lat) in expected.items():
        assert stored[code][0] == code, (code, stored[code])
        assert abs(stored[code][1] - lon) < 1e-6 and abs(stored[code][2] - lat) < 1e-6, (code, stored[code], lon, lat)


def test_a_crs_contradicting_the_header_is_refused_naming_both(yantai):  # noqa: F811
    """gcj_lng with --crs bd09: refused naming --crs, bd09 and the header, nothing written; --crs gcj02 agrees."""
    _ledger(yantai, "gcj-ledger.csv", "gcj_lng", "gcj_lat", None)
    refused = yantai.cli("import", "toilets", "gcj-ledger.csv", "--crs", "bd09", "--source", "gcj-ledger",
                         check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert all(w in refused.stderr for w in ("--crs", "bd09", "gcj_lng", "GCJ-02")), refused.stderr
    assert yantai.one("SELECT count(*) FROM toilets WHERE source = 'gcj-ledger'") == 0
    yantai.cli("import", "toilets", "gcj-ledger.csv", "--crs", "gcj02", "--source", "gcj-ledger")
    assert yantai.one("SELECT count(*) FROM toilets WHERE source = 'gcj-ledger'") == 11


def test_crs_over_a_geojson_of_epsg_4326_is_honoured_and_said(yantai):  # noqa: F811
    """Gaode's outlines are stored as EPSG:4326 in the file: --crs gcj02 is the user's word, and the report says
    what the file declared and how it was read."""
    said = yantai.log["import"].stdout
    assert "文件声明 EPSG:4326，按 --crs gcj02 处理" in said, said


def test_crs_in_degrees_over_a_projected_file_is_refused(yantai):  # noqa: F811
    """The outlines in a GeoPackage of CGCS2000 / 3-degree Gauss-Kruger CM 120E (metres): --crs gcj02 (degrees)
    cannot be what it holds: refused naming the file's CRS and --crs, nothing written."""
    import geopandas

    frame = geopandas.read_file(yantai.work / "yantai_districts_gaode.geojson").to_crs("EPSG:4549")
    frame.to_file(yantai.work / "yantai_4549.gpkg", driver="GPKG")
    refused = yantai.cli("import", "admin_areas", "yantai_4549.gpkg", "--crs", "gcj02", "--level", "street",
                         "--code-field", "adcode", "--name-field", "name", "--parent-field", "adcode",
                         "--source", "yt-4549", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "EPSG:4549" in refused.stderr and "--crs gcj02" in refused.stderr, refused.stderr
    assert yantai.one("SELECT count(*) FROM admin_areas WHERE source = 'yt-4549'") == 0


def test_districts_imported_as_streets_are_told_how_a_street_gets_a_code_of_its_own(yantai):  # noqa: F811
    """The refusal itself says what priority's hint says: a code under the district's (370602 → 370602001)."""
    args = ("import", "admin_areas", "yantai_districts_gaode.geojson", "--crs", "gcj02", "--level", "street",
            "--code-field", "adcode", "--name-field", "name", "--parent-field", "adcode", "--source", "yt-streets")
    refused = yantai.cli(*args, check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "code 370602" in refused.stderr and "370602 → 370602001" in refused.stderr, refused.stderr
    assert "街道须有自己的代码" in refused.stderr, refused.stderr
    english = yantai.cli(*args, "--lang", "en", check=False)
    assert "a code of its own under its district's" in english.stderr, english.stderr
    assert yantai.one("SELECT count(*) FROM admin_areas WHERE level = 'street'") == 0
