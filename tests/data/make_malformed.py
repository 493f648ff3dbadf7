"""Write the malformed-file corpus (run once; the files are committed).

Coordinates are near the small demo city (121.38 E, 37.49 N) so that only
the intended fault makes a file bad. EXPECTED.json maps each file to the
layer it is imported into and a phrase its error must contain.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import shapely
from shapely.geometry import LineString, Point, Polygon

HERE = Path(__file__).parent / "malformed"
P = "121.380000,37.490000"
H = "编号,名称,经度,纬度\n"
EXPECTED: dict[str, list] = {}


def put(name: str, data, layer: str, phrase: str) -> None:
    path = HERE / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    EXPECTED[name] = [layer, phrase]


def feature_collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


def feature(geom, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": None if geom is None else shapely.geometry.mapping(geom)}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    put("empty.csv", b"", "toilets", "the file is empty")
    put("blank_lines.csv", "\n  \n\n", "toilets", "no text")
    put("header_only.csv", H, "toilets", "header but no data rows")
    put("space_delimited.csv", "名称 经度 纬度\n甲 121.38 37.49\n", "toilets", "is the delimiter")
    put("mixed_encoding.csv", (H + "1,公厕甲," + P + "\n").encode("utf-8") + ("2,公厕乙," + P + "\n").encode("gbk"),
        "toilets", "mixed text encodings")
    put("binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "toilets", "binary file")
    put("ragged_row.csv", H + f"1,甲,{P}\n2,乙,{P},多余\n", "toilets", "has 5 fields but the header has 4")
    put("no_coordinates.csv", "编号,名称,地址\n1,甲,某路1号\n", "toilets", "no coordinate columns found")
    put("swapped_latlon.csv", H + "1,甲,37.490000,121.380000\n", "toilets", "swapped")
    put("metres_as_degrees.csv", H + "1,甲,500123.5,4150321.2\n", "toilets", "look like metres")
    put("huge_1e308.csv", H + "1,甲,1e308,37.49\n", "toilets", "outside ±180")
    put("nan.csv", H + "1,甲,NaN,37.49\n", "toilets", "is not a finite number")
    put("infinity.csv", H + "1,甲,121.38,inf\n", "toilets", "is not a finite number")
    put("text_in_coordinate.csv", H + "1,甲,东经121度,37.49\n", "toilets", "is not a finite number")
    put("missing_coordinate.csv", H + "1,甲,,37.49\n", "toilets", "coordinate missing")
    put("zero_zero.csv", H + "1,甲,0,0\n", "toilets", "0,0")
    put("lon_equals_lat.csv", H + "1,甲,40.85,40.85\n", "toilets", "one column copied into the other")
    put("outside_city.csv", H + "1,甲,116.397,39.909\n", "toilets", "outside the city's admin areas")
    put("duplicate_ids.csv", H + f"1,甲,{P}\n1,乙,{P}\n", "toilets", "duplicate id '1' (first on row 2)")
    # One row with an id, one without: a column empty in every row is no id column (rows keyed by row number).
    put("empty_id.csv", H + f"1,甲,{P}\n,乙,{P}\n", "toilets", "id is empty")
    put("bad_grade.csv", "编号,名称,经度,纬度,等级\n1,甲," + P + ",四类\n", "toilets", "is not an allowed grade")
    put("negative_seats.csv", "编号,名称,经度,纬度,厕位数\n1,甲," + P + ",-3\n", "toilets", "is negative")
    put("fractional_seats.csv", "编号,名称,经度,纬度,厕位数\n1,甲," + P + ",2.5\n", "toilets", "not a whole number")
    put("bad_boolean.csv", "编号,名称,经度,纬度,是否免费\n1,甲," + P + ",也许\n", "toilets", "is not yes/no")
    put("empty_name.csv", H + f"1,,{P}\n", "markets", "name is empty")
    put("bad_time.csv", "编号,事件类型,上报时间,经度,纬度\n1,暴露垃圾,昨天下午," + P + "\n", "complaints",
        "is not a date/time")
    put("future_time.csv", "编号,事件类型,上报时间,经度,纬度\n1,暴露垃圾,2099-01-01 08:00," + P + "\n", "complaints",
        "lies in the future")
    put("unknown_category.csv", "编号,事件类型,上报时间,经度,纬度\n1,噪音扰民,2026-01-01 08:00," + P + "\n",
        "complaints", "is not a hygiene event type")
    put("missing_required_column.csv", "编号,上报时间,经度,纬度\n1,2026-01-01 08:00," + P + "\n", "complaints",
        "no column for the required category")
    put("bad_attributes_json.csv", H.strip() + ",attributes\n1,甲," + P + ",[1\n", "toilets",
        "attributes is not a JSON object")
    put("bad_wkt.csv", "编号,名称,wkt\n1,甲,POINT (121.38\n", "toilets", "is not WKT")
    put("latlon_pair_garbage.csv", "编号,名称,坐标\n1,甲,north-east\n", "toilets", "is not a \"lat,lon\" pair")
    put("not_geojson.geojson", "hello, world", "toilets", "not GeoJSON: it does not start with a JSON object")
    put("json_not_geojson.geojson", json.dumps({"name": "x", "rows": [1, 2]}), "toilets", "no GeoJSON \"type\"")
    full = feature_collection(feature(Point(121.38, 37.49), name="甲"))
    put("truncated.geojson", full[: len(full) // 2], "toilets", "invalid JSON")
    put("features_not_list.geojson", json.dumps({"type": "FeatureCollection", "features": {"a": 1}}), "toilets",
        "\"features\" is not a list")
    put("wrong_geometry_type.geojson", feature_collection(
        feature(LineString([(121.38, 37.49), (121.381, 37.491)]), name="甲")), "toilets", "geometry is a LineString")
    put("point_for_polygon_layer.geojson", feature_collection(feature(Point(121.38, 37.49), name="甲")),
        "urban_villages", "geometry is a Point")
    put("null_geometry.geojson", feature_collection(feature(None, name="甲"), feature(Point(121.38, 37.49), name="乙")),
        "toilets", "no geometry")
    bowtie = Polygon([(121.375, 37.485), (121.385, 37.495), (121.385, 37.485), (121.375, 37.495)])
    put("self_intersecting.geojson", feature_collection(feature(bowtie, name="城中村甲"), feature(bowtie, name="")),
        "urban_villages", "name is required")
    put("multipoint_many_parts.geojson", feature_collection(
        feature(shapely.MultiPoint([(121.38, 37.49), (121.381, 37.491)]), name="甲")), "toilets", "of 2 parts")
    put("projected_without_crs.geojson", feature_collection(feature(Point(500123.5, 4150321.2), name="甲")),
        "toilets", "look like metres")
    put("not_a_zip.zip", b"this is not a zip archive", "toilets", "not a readable zip archive")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "nothing here")
    put("zip_without_gis.zip", buf.getvalue(), "toilets", "holds no .shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.shp", b"\x00" * 100)
        z.writestr("a.shx", b"\x00" * 100)
    put("shapefile_without_dbf.zip", buf.getvalue(), "toilets", "needs .shp, .shx and .dbf together")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("bomb.shp", bytes(300 * 2**20))
        z.writestr("bomb.shx", b"")
        z.writestr("bomb.dbf", b"")
    put("zip_bomb.zip", buf.getvalue(), "toilets", "zip bomb")
    # A real shapefile cut short: write one, then truncate its .shp.
    import geopandas as gpd

    tmp = HERE / "_tmp"
    tmp.mkdir(exist_ok=True)
    gpd.GeoDataFrame({"name": ["甲", "乙"]}, geometry=[Point(121.38, 37.49), Point(121.381, 37.491)],
                     crs=4326).to_file(tmp / "t.shp", engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for part in ("shp", "shx", "dbf", "prj"):
            data = (tmp / f"t.{part}").read_bytes()
            z.writestr(f"t.{part}", data[:120] if part == "shp" else data)
    put("truncated_shapefile.zip", buf.getvalue(), "toilets", "no geometry")
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    put("not_xlsx.xlsx", b"PK\x03\x04 broken workbook", "toilets", "not a readable XLSX workbook")
    put("old_excel.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "toilets", "not a readable XLS workbook")
    put("web_page.xls", "<html><body><table><tr><td>编号</td></tr></table></body></html>", "toilets",
        "a web page or XML saved with a spreadsheet's name")
    put("drawing.dwg", b"AC1032" + bytes(50), "toilets", "unknown file type")
    put("broken.kml", '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
        "<name>甲</name><Point><coordinates>121.38,37.4", "toilets", "cannot be")
    (HERE / "EXPECTED.json").write_text(json.dumps(EXPECTED, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(len(EXPECTED), "files")


if __name__ == "__main__":
    main()
