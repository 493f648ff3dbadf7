"""Importing the real open-data files of ../shared/real-data (copied, never edited).

Credits: data.taipei (Open Government Data License, Taiwan 1.0); NYC Open Data
and NYC Department of City Planning.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from data.db import connect, transaction
from data.errors import InvalidInput
from data.migrate import migrate
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.conftest import real_data


@pytest.fixture
def conn(fresh_db):
    c = connect(url=fresh_db)
    migrate(c)
    yield c
    c.close()


def count(conn, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        n = cur.fetchone()[0]
    conn.rollback()
    return n


def load_taipei_areas(conn, tmp_path) -> None:
    with transaction(conn):
        import_file(conn, real_data("taipei/taipei_districts_town.geojson", tmp_path),
                    ImportOptions("admin_areas", level="district", code_field="CPTID", name_field="TNAME"))
    with transaction(conn):
        villages = import_file(conn, real_data("taipei/taipei_villages_li.geojson", tmp_path),
                               ImportOptions("admin_areas", level="community", code_field="CPTVID", name_field="VNAME",
                                             parent_field="CPTID"))
    assert villages.rows_written == 456
    # Two village polygons self-intersect: repaired and reported, not refused.
    assert {p.row for p in villages.warnings if "ST_MakeValid" in p.reason} == {102, 128}


def test_taipei_toilets_report_the_row_outside_taipei_and_write_nothing(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    toilets = real_data("taipei/taipei_public_toilets.csv", tmp_path)
    with pytest.raises(InvalidInput) as caught:
        import_file(conn, toilets, ImportOptions("toilets"))
    errors = [p for p in caught.value.problems if p["severity"] == "error"]
    assert len(errors) == 1
    assert errors[0]["row"] == 951  # spreadsheet row of 古亭地政事務所 (header is row 1)
    assert "2.7 km outside" in errors[0]["reason"] and "tolerance 500 m" in errors[0]["reason"]
    assert count(conn, "toilets") == 0

    with transaction(conn):
        result = import_file(conn, toilets, ImportOptions("toilets", skip_bad=True))
    assert result.rows_written == 1544 and result.rejected == 1
    # 行政區 says one district, the coordinates another: a warning, not a refusal.
    stated = [p for p in result.warnings if p.reason.startswith("states district")]
    assert stated and all(p.column == "行政區" for p in stated)
    assert any(p.row == 1130 and "松山區" in p.reason and "大安區" in p.reason for p in stated)
    rejects = result.rejects_path.read_text(encoding="utf-8-sig")
    assert "古亭地政事務所" in rejects and "2.7 km" in rejects
    with conn.cursor() as cur:
        cur.execute("SELECT name, manager_unit, seats, district_code, community_code, attributes->>'公廁類別' "
                    "FROM toilets WHERE name = '捷運劍潭站(淡水信義線)'")
        name, unit, seats, district, community, kind = cur.fetchone()
    assert (unit, seats, kind) == ("捷運劍潭站(夜)", 5, "交通")
    assert district == "6301100" and community.startswith("63011")  # 士林區 and one of its villages
    # 無障礙廁座數 counts accessible seats: a toilet with one or more is accessible, with none is not.
    with open(toilets, encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["公廁名稱"] != "古亭地政事務所"]  # the row refused above
    with conn.cursor() as cur:
        cur.execute("SELECT accessible, count(*) FROM toilets GROUP BY 1")
        stored = dict(cur.fetchall())
        cur.execute("SELECT accessible FROM toilets WHERE name = '蘭雅公園地下停車場'")  # 1 accessible seat
        assert cur.fetchone()[0] is True
    expected = sum(int(r["無障礙廁座數"]) > 0 for r in rows)
    assert stored == {True: expected, False: len(rows) - expected} and expected == 630, stored

    with transaction(conn):
        again = import_file(conn, toilets, ImportOptions("toilets", skip_bad=True))
    assert (again.inserted, again.updated) == (0, 1544)
    assert count(conn, "toilets") == 1544


def _refused_at_then_written(conn, path, row: int):
    """Taipei's toilets in another form: refused whole, naming 古亭地政事務所 (outside the city) by its ``row``;
    with --skip-bad the 1,544 others written. The second import's result."""
    with pytest.raises(InvalidInput) as caught:
        import_file(conn, path, ImportOptions("toilets"))
    (error,) = [p for p in caught.value.problems if p["severity"] == "error"]
    assert error["row"] == row and "2.7 km outside" in error["reason"], error
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("toilets", skip_bad=True))
    assert (result.rows_written, result.rejected) == (1544, 1)
    return result


def test_taipei_toilets_as_an_office_exports_them_a_title_above_the_header(conn, tmp_path):
    """The same file as a workbook the way offices fill one in: a sheet of notes first, then the data under a title
    in a merged cell and a date line, a blank row and a line of totals below the rows, cells formatted past the
    table's edge. The data's sheet and header are found, the rows are the CSV's, and a refused row is named by
    its row in the sheet (two further down); the totals are no row."""
    from openpyxl import Workbook

    load_taipei_areas(conn, tmp_path)
    with open(real_data("taipei/taipei_public_toilets.csv", tmp_path), encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    book = Workbook()
    notes = book.active
    notes.title = "填表說明"  # a sheet of notes before the data, as templates have
    notes.append(["本表由各區清潔隊填報，請勿修改表頭。"])
    notes.append(["座數以實際可使用者為準。"])
    sheet = book.create_sheet("公廁")
    sheet.append(["臺北市公廁清冊"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(table[0]))
    sheet.append(["資料日期：2024-12-03", None, None, "單位：座"])
    for row in table:
        sheet.append(row)
    sheet.append([])
    sheet.append([f"合计：{len(table) - 1}座"])
    sheet.cell(5, len(table[0]) + 2).number_format = "0.00"  # formatted, empty: no column
    path = tmp_path / "臺北市公廁清冊.xlsx"
    book.save(path)
    result = _refused_at_then_written(conn, path, 951 + 2)  # 古亭地政事務所, two rows further down than in the CSV
    assert "the header is row 3: the 2 rows above it (a title) were not read" in result.notes, result.notes
    assert "the 2 last rows (a total: 合计：1545座) were not read" in result.notes, result.notes
    assert "sheet '公廁' read (the workbook's sheets: 填表說明, 公廁; --sheet reads another)" in result.notes
    with conn.cursor() as cur:
        cur.execute("SELECT name, manager_unit, seats, accessible FROM toilets WHERE name = '蘭雅公園地下停車場'")
        assert cur.fetchone() == ("蘭雅公園地下停車場", "蘭雅公園地下停車場", 3, True)
        cur.execute("SELECT count(*) FROM toilets WHERE attributes ?| array['Unnamed: 14', 'Unnamed: 15']")
        assert cur.fetchone()[0] == 0


def test_taipei_toilets_in_the_old_excel_format_offices_still_export(conn, tmp_path):
    """An .xls (Excel 97–2003) of 201 of Taipei's toilets under a title (tests/data/make_office_xls.py): read like
    the .xlsx, numbers written as numbers read as the CSV's text, the row outside Taipei named by its sheet row."""
    import shutil
    from pathlib import Path

    load_taipei_areas(conn, tmp_path)
    path = tmp_path / "臺北市公廁清冊.xls"
    shutil.copy(Path(__file__).parent / "data" / "office" / path.name, path)
    with pytest.raises(InvalidInput) as caught:
        import_file(conn, path, ImportOptions("toilets"))
    (error,) = [p for p in caught.value.problems if p["severity"] == "error"]
    assert error["row"] == 3 + 201 and "古亭地政事務所" not in error["reason"] and "km outside" in error["reason"]
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("toilets", skip_bad=True))
    assert (result.rows_written, result.rejected) == (200, 1)
    assert "the header is row 3: the 2 rows above it (a title) were not read" in result.notes
    with conn.cursor() as cur:
        cur.execute("SELECT seats, accessible, ST_X(geom), ST_Y(geom), attributes->>'特優級' FROM toilets "
                    "WHERE name = '捷運劍潭站(淡水信義線)'")
        assert cur.fetchone() == (5, False, 121.525078, 25.084873, "5")
    misnamed = tmp_path / "misnamed.xls"  # a web page an "export to Excel" button gave
    misnamed.write_text("<html><table><tr><td>公廁名稱</td></tr></table></html>", encoding="utf-8")
    with pytest.raises(InvalidInput, match="misnamed.xls: a web page or XML saved with a spreadsheet's name"):
        import_file(conn, misnamed, ImportOptions("toilets"))


def test_taipei_toilets_as_a_csv_saved_from_such_a_workbook_in_gbk(conn, tmp_path):
    """The workbook saved as CSV by a desktop spreadsheet (GBK, the title's cells as empty fields, a blank line,
    the line of totals): the header is found below them, rows are named as the file shows them, the totals are
    no row."""
    load_taipei_areas(conn, tmp_path)
    lines = real_data("taipei/taipei_public_toilets.csv", tmp_path).read_text(encoding="utf-8-sig").splitlines()
    width = lines[0].count(",")
    path = tmp_path / "公廁清冊.csv"
    path.write_text("\r\n".join(["臺北市公廁清冊" + "," * width, "資料日期：2024-12-03,,,單位：座" + "," * (width - 3), "",
                                  *lines, "合計：1545座" + "," * width]) + "\r\n", encoding="gb18030")
    result = _refused_at_then_written(conn, path, 951 + 3)
    assert "the header is row 4: the 3 rows above it (a title) were not read" in result.notes, result.notes
    assert "the last row (a total: 合計：1545座) was not read" in result.notes, result.notes
    assert "read as gb18030" in result.notes


@pytest.mark.parametrize("blank, chunk_rows", [(False, 773), (True, 221), (True, 773)])
def test_taipei_toilets_closing_total_is_no_row_wherever_the_chunks_end(conn, tmp_path, blank, chunk_rows):
    """The 1,545 toilets, a blank row (empty fields) or not, then the line of totals, read in chunks that end just
    after the totals (773 + 773, 7 × 221) or just after the blank row (773 + 773 + the totals alone): the totals
    and the blank row are no rows, whichever chunk holds them."""
    import dataclasses

    from data.settings import ImportSettings

    load_taipei_areas(conn, tmp_path)
    lines = real_data("taipei/taipei_public_toilets.csv", tmp_path).read_text(encoding="utf-8-sig").splitlines()
    width = lines[0].count(",")
    path = tmp_path / "公廁清冊.csv"
    path.write_text("\n".join([*lines, *(["," * width] if blank else []), "合計：1545座" + "," * width]) + "\n",
                    encoding="utf-8")
    settings = dataclasses.replace(ImportSettings.from_env(), chunk_rows=chunk_rows)
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("toilets", skip_bad=True), settings)
    assert (result.rows_written, result.rejected) == (1544, 1), result.notes
    told = "the 2 last rows (a total: 合計：1545座) were not read" if blank else \
        "the last row (a total: 合計：1545座) was not read"
    assert told in result.notes, result.notes


def test_taipei_toilets_rejects_corrected_and_read_back_are_the_files_rows(conn, tmp_path):
    """--skip-bad sets 古亭地政事務所 aside (its point lies outside Taipei) in a rejects file headed in Chinese. Its
    point corrected, the rejects file read back adds it as row 951 of the original file — not as row 2 of another
    file — with no 行号/原因 among its attributes, so that importing the original again finds every row."""
    load_taipei_areas(conn, tmp_path)
    toilets = real_data("taipei/taipei_public_toilets.csv", tmp_path)
    with transaction(conn):
        first = import_file(conn, toilets, ImportOptions("toilets", skip_bad=True))
    with open(first.rejects_path, encoding="utf-8-sig", newline="") as f:
        rejected = list(csv.DictReader(f))
    assert [(r["行号"], r["公廁名稱"]) for r in rejected] == [("951", "古亭地政事務所")]
    assert "在本市行政区以外 2.7 km（容差 500 m，--tolerance）" in rejected[0]["原因"]
    rejected[0]["經度"], rejected[0]["緯度"] = "121.5410", "25.0005"  # 萬隆街, 文山區: inside the city
    with open(first.rejects_path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rejected[0]))
        out.writeheader()
        out.writerows(rejected)
    with transaction(conn):
        back = import_file(conn, first.rejects_path, ImportOptions("toilets"))
    assert (back.inserted, back.rejected) == (1, 0)
    assert "the rows refused from taipei_public_toilets.csv (its rejects): kept as taipei_public_toilets.csv's rows" \
        in back.notes, back.notes
    with conn.cursor() as cur:
        cur.execute("SELECT source, source_id, district_code, attributes ? '行号' OR attributes ? '原因' FROM toilets "
                    "WHERE name = '古亭地政事務所'")
        assert cur.fetchall() == [("taipei_public_toilets.csv", "row-951", "6300800", False)]
    with transaction(conn):
        again = import_file(conn, toilets, ImportOptions("toilets", skip_bad=True))
    assert (again.inserted, again.updated, again.rejected) == (0, 1544, 1)
    assert count(conn, "toilets") == 1545


def test_a_count_of_accessible_seats_that_is_no_count_is_named(conn, tmp_path):
    """Two of Taipei's toilets, one with 無障礙廁座數 written 有 (yes) instead of a count: the row and the value
    are named, nothing is written."""
    load_taipei_areas(conn, tmp_path)
    lines = real_data("taipei/taipei_public_toilets.csv", tmp_path).read_text(encoding="utf-8-sig").splitlines()
    head = lines[0].split(",")
    second = lines[2].split(",")
    second[head.index("無障礙廁座數")] = "有"
    path = tmp_path / "two.csv"
    path.write_text("\n".join([lines[0], lines[1], ",".join(second)]) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        import_file(conn, path, ImportOptions("toilets"))
    (problem,) = [p for p in caught.value.problems if p["severity"] == "error"]
    assert problem["row"] == 3 and problem["column"] == "無障礙廁座數", problem
    assert "'有' is not a count" in problem["reason"], problem
    assert count(conn, "toilets") == 0


def test_taipei_districts_with_populations_as_statistics_tables_write_them(conn, tmp_path):
    """Taipei's 12 districts with a 人口 written as statistics tables and Excel write numbers (thousands with
    commas, full-width digits): stored as the numbers they are; a comma in the wrong place is named."""
    import json

    districts = json.loads(real_data("taipei/taipei_districts_town.geojson", tmp_path).read_text(encoding="utf-8"))
    written = {}
    for k, feature in enumerate(districts["features"]):
        people = 100_000 + 12_345 * k
        written[feature["properties"]["CPTID"]] = people
        text = f"{people:,}"
        feature["properties"]["人口"] = text.translate(str.maketrans("0123456789,", "０１２３４５６７８９，")) if k % 2 else text
    path = tmp_path / "districts_people.geojson"
    path.write_text(json.dumps(districts, ensure_ascii=False), encoding="utf-8")
    options = ImportOptions("admin_areas", level="district", code_field="CPTID", name_field="TNAME",
                            population_field="人口")
    with transaction(conn):
        import_file(conn, path, options)
    with conn.cursor() as cur:
        cur.execute("SELECT code, population FROM admin_areas")
        assert dict(cur.fetchall()) == written and len(written) == 12
    conn.rollback()
    districts["features"][3]["properties"]["人口"] = "12,34"
    path.write_text(json.dumps(districts, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        import_file(conn, path, options)
    (problem,) = [p for p in caught.value.problems if p["severity"] == "error"]
    assert problem["row"] == 4 and "'12,34' is not a number" in problem["reason"], problem


def test_taipei_garbage_stops_outside_taipei_are_reported(conn, tmp_path):
    load_taipei_areas(conn, tmp_path)
    with transaction(conn):
        result = import_file(conn, real_data("taipei/taipei_garbage_truck_stops.csv", tmp_path),
                             ImportOptions("garbage_stations", skip_bad=True))
    outside = [p for p in result.errors if "outside the city" in p.reason]
    far = [p for p in outside if " km outside" in p.reason]
    # The data's README counts 16 stops outside Taipei; one more lies 602 m out, beyond the 500 m tolerance.
    assert len(far) == 16 and len(outside) == 17
    assert result.rows_written == 4041 - 17
    assert count(conn, "garbage_stations") == 4024


@pytest.fixture
def nyc(conn, tmp_path):
    nta = real_data("nyc/boundaries/nynta2020.shp", tmp_path)
    with transaction(conn):
        result = import_file(conn, nta, ImportOptions("admin_areas", level="district", code_field="NTA2020",
                                                      name_field="NTAName"))
    assert result.rows_written == 262
    assert any("EPSG:2263" in n for n in result.notes)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e "
                    "FROM admin_areas) x")
        xmin, ymin, xmax, ymax = cur.fetchone()
    conn.rollback()
    # US feet converted to degrees: the five boroughs.
    assert -74.27 < xmin < -74.24 and 40.49 < ymin < 40.50 and -73.71 < xmax < -73.69 and 40.91 < ymax < 40.92
    return conn


def test_nyc_farmers_markets_two_broken_rows(nyc, tmp_path):
    markets = real_data("nyc/nyc_farmers_markets_2023season.csv", tmp_path)
    with pytest.raises(InvalidInput) as caught:
        import_file(nyc, markets, ImportOptions("markets"))
    errors = [p for p in caught.value.problems if p["severity"] == "error"]
    assert sorted(p["row"] for p in errors) == [4, 67]
    assert "both 40.8546" in errors[0]["reason"]
    assert "outside the city" in errors[1]["reason"]
    with transaction(nyc):
        result = import_file(nyc, markets, ImportOptions("markets", skip_bad=True))
    assert result.rows_written == 161


def test_nyc_restrooms_and_litter_baskets(nyc, tmp_path):
    with transaction(nyc):
        restrooms = import_file(nyc, real_data("nyc/nyc_public_restrooms_20241203.csv", tmp_path),
                                ImportOptions("toilets"))
    assert restrooms.rows_written == 1047 and not restrooms.errors
    with transaction(nyc):
        baskets = import_file(nyc, real_data("nyc/nyc_dsny_litter_baskets.csv", tmp_path),
                              ImportOptions("garbage_stations"))
    assert baskets.rows_written == 24681
    # Neither file says whether a toilet is free or what a basket is: the report says what every row became.
    assert "not in the file, every row taken as: Free = yes" in restrooms.notes
    assert "文件没有这些列，各行按默认值记录：是否免费＝是" in [n.zh for n in restrooms.notes]
    assert any("收集点" in n.zh and "not in the file" in n for n in baskets.notes), baskets.notes
    with nyc.cursor() as cur:
        cur.execute("SELECT source_id, attributes->>'basketType', district_code FROM garbage_stations "
                    "WHERE source_id = '10720061'")
        assert cur.fetchone() == ("10720061", "H", "MN0702")  # Upper West Side NTA
        cur.execute("SELECT count(*) FROM garbage_stations WHERE district_code IS NULL")
        assert cur.fetchone()[0] < 250  # basket on piers/parks just outside an NTA: still within 500 m


def test_a_closing_time_in_the_future_is_named_and_nothing_written(nyc, tmp_path):
    """Two of New York's 311 requests, the second closed "next year" (a typo in the export): its row and column
    are named, as a report time in the future is, and nothing is written — bulletins would count it closed."""
    sample = real_data("nyc/nyc311_sample_2023-02-28.csv", tmp_path)
    with open(sample, encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Complaint Type"] == "Dirty Condition" and r["Closed Date"]][:2]
    assert len(rows) == 2
    future = datetime.now().year + 1
    rows[1]["Closed Date"] = rows[1]["Closed Date"].replace("/2023 ", f"/{future} ")
    path = tmp_path / "two.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(InvalidInput) as caught:
        import_file(nyc, path, ImportOptions("complaints", timezone="America/New_York"))
    (problem,) = [p for p in caught.value.problems if p["severity"] == "error"]
    assert problem["row"] == 3 and problem["column"] == "Closed Date", problem
    assert "lies in the future" in problem["reason"] and str(future) in problem["reason"], problem
    assert count(nyc, "complaints") == 0


def test_nyc_311_hygiene_categories_mapped_and_the_rest_reported(nyc, tmp_path):
    with transaction(nyc):
        result = import_file(nyc, real_data("nyc/nyc311_sample_2023-02-28.csv", tmp_path),
                             ImportOptions("complaints", skip_bad=True, timezone="America/New_York"))
    unknown = [p for p in result.errors if "is not a hygiene event type" in p.reason]
    assert any("'Noise - Residential'" in p.reason for p in unknown)
    assert all(p.column == "Complaint Type" for p in unknown)
    with nyc.cursor() as cur:
        cur.execute("SELECT category, count(*) FROM complaints GROUP BY 1")
        by_type = dict(cur.fetchall())
        cur.execute("SELECT count(*) FROM complaint_events")
        events = cur.fetchone()[0]
        cur.execute("SELECT reported_at AT TIME ZONE 'America/New_York', status FROM complaints "
                    "WHERE source_id = (SELECT min(source_id) FROM complaints WHERE category = '病媒生物')")
        local_time, status = cur.fetchone()
    # Rodent + UNSANITARY CONDITION's PESTS + Unsanitary Animal Pvt Property (every one has coordinates); the
    # condition's mould, refuse storage and sewage are no pests (see the next test).
    assert by_type["病媒生物"] == 78 + 122 + 7
    assert by_type["道路不洁"] >= 40 and by_type["暴露垃圾"] >= 20
    assert sum(by_type.values()) == result.rows_written == events
    assert local_time.year == 2023 and status in ("受理", "派遣", "处置", "结案")


def _chinese_time(text: str, k: int) -> str:
    """A 311 time (02/28/2023 11:45:00 PM) as offices write one, in turn: 2023年2月28日 下午11点45分, 2023年2月28日
    23时45分00秒, 2023年02月28日 23:45:00, and as people type one: 晚上11点45分 (a time after midnight as the
    evening before: 3月1日 0:30 is 2月28日 晚上12点30分), 下午23:45 (the part of the day only repeating it)."""
    if not text:
        return text
    t = datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")
    day = f"{t.year}年{t.month}月{t.day}日"
    half = f"{'下午' if t.hour >= 12 else '上午'}{(t.hour - 1) % 12 + 1}点{t.minute:02d}分{t.second:02d}秒"
    evening = t - timedelta(days=1) if t.hour == 0 else t
    late = (f"{evening.year}年{evening.month}月{evening.day}日晚上{(t.hour - 1) % 12 + 1}点{t.minute:02d}分{t.second:02d}秒"
            if t.hour >= 18 or t.hour == 0 else f"{day} {half}")
    return [f"{day} {half}", f"{day}{t.hour}时{t.minute:02d}分{t.second:02d}秒",
            f"{t.year}年{t.month:02d}月{t.day:02d}日 {t:%H:%M:%S}", late,
            f"{day} {'下午' if t.hour >= 12 else ''}{t:%H:%M:%S}"][k % 5]


def test_nyc_311_with_times_written_the_chinese_way_stores_the_same_times(nyc, tmp_path):
    """New York's 311 rows with 报告/结案 times rewritten as offices write them (年月日, 时分秒, 上午/下午): stored
    with the very times the file as published gives."""
    source = real_data("nyc/nyc311_sample_2023-02-28.csv", tmp_path)
    with open(source, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    for k, row in enumerate(rows):
        row["Created Date"], row["Closed Date"] = _chinese_time(row["Created Date"], k), _chinese_time(row["Closed Date"], k + 1)
    written = tmp_path / "311_中文时间.csv"
    with open(written, "w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)
    assert rows[0]["Created Date"] == "2023年2月28日 下午11点45分00秒"
    stored, results = {}, {}
    for path in (source, written):
        with transaction(nyc):
            results[path.name] = import_file(nyc, path, ImportOptions("complaints", skip_bad=True,
                                                                      timezone="America/New_York"))
        with nyc.cursor() as cur:
            cur.execute("SELECT source_id, reported_at, closed_at FROM complaints WHERE source = %s ORDER BY 1",
                        (path.name,))
            stored[path.name] = cur.fetchall()
        nyc.rollback()
    assert results[written.name].rejected == results[source.name].rejected
    assert len(stored[source.name]) > 200 and stored[written.name] == stored[source.name]
    assert sum(closed is not None for _, _, closed in stored[written.name]) > 100


@pytest.mark.parametrize("closing", ["no column", "some cells empty"])
def test_nyc_311_closed_cases_without_a_closing_time_are_closed_in_the_bulletin(nyc, tmp_path, closing):
    """An export that gives each case's status but not when it was closed (no Closed Date column, or empty cells):
    its 结案 cases are closed at their report time, as their history row says, and the month's bulletin counts
    as open at its end only the cases still open — not every closed one, open and overdue for ever."""
    from zoneinfo import ZoneInfo

    from data.params import period_of
    from layers.reports.bulletin import period_figures

    rows = sample_311(tmp_path)
    if closing == "no column":
        for row in rows:
            del row["Closed Date"]
    else:
        for row in rows[::7]:
            row["Closed Date"] = ""
    result = import_311(nyc, rows, tmp_path / "311_无办结时间.csv")
    with nyc.cursor() as cur:
        cur.execute("SELECT time_zone FROM city_settings")
        month = period_of("month", datetime(2023, 2, 28).date(), ZoneInfo(cur.fetchone()[0]))
        cur.execute("SELECT count(*) FILTER (WHERE status = '结案' AND closed_at < %(end)s), "
                    "count(*) FILTER (WHERE status <> '结案' OR closed_at >= %(end)s), "
                    "count(*) FILTER (WHERE status = '结案' AND closed_at = reported_at), "
                    "count(*) FILTER (WHERE status = '结案' AND closed_at IS NULL) FROM complaints", {"end": month.end})
        closed, open_at_end, at_report, unknown = cur.fetchone()
    figures = period_figures(nyc, month)["city"][None]
    nyc.rollback()
    # The sample's hygiene events (the rest of 311 is refused); many of its cases closed in March.
    assert closed > 100 and unknown == 0
    assert (figures.closed, figures.open_at_end) == (closed, open_at_end)
    if closing == "no column":
        assert at_report == closed
        assert any(n.startswith("no closing-time column: cases whose status is 结案") for n in result.notes)
    else:
        said = [p for p in result.warnings if "no closing time: closed at its report time" in p.reason]
        assert at_report >= len(said) > 30 and {p.column for p in said} == {"Closed Date"}
        assert all((p.row - 2) % 7 == 0 and rows[p.row - 2]["Status"] == "Closed" for p in said)  # the emptied cells


def test_nyc_311_closed_before_it_was_reported_is_closed_at_its_report_time(nyc, tmp_path):
    """Three closed Dirty Condition requests given a Closed Date a day before their Created Date (a typo in an
    export): each is named by row and column, and closed at its report time, so no case takes a negative time to
    close (a bulletin's median of a street with one such case was -1.04 h)."""
    rows = sample_311(tmp_path)
    dirty = [n for n, r in enumerate(rows) if r["Complaint Type"] == "Dirty Condition" and r["Status"] == "Closed"
             and r["Latitude"]][:3]
    for n in dirty:
        created = datetime.strptime(rows[n]["Created Date"], "%m/%d/%Y %I:%M:%S %p")
        rows[n]["Closed Date"] = (created - timedelta(days=1)).strftime("%m/%d/%Y %I:%M:%S %p")
    result = import_311(nyc, rows, tmp_path / "311_结案早于上报.csv")
    said = [p for p in result.warnings if "is before the report time: not kept, closed at its report time" in p.reason]
    assert sorted(p.row for p in said) == [n + 2 for n in dirty] and {p.column for p in said} == {"Closed Date"}
    keys = [rows[n]["Unique Key"] for n in dirty]
    with nyc.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE closed_at < reported_at")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM complaints WHERE source_id = ANY(%s) AND status = '结案' "
                    "AND closed_at = reported_at", (keys,))
        assert cur.fetchone()[0] == 3
    nyc.rollback()


#: What 311's UNSANITARY CONDITION is, by its Descriptor (None: mould in a flat, no public-hygiene event).
UNSANITARY = {"PESTS": "病媒生物", "GARBAGE/RECYCLING STORAGE": "积存垃圾渣土", "SEWAGE": "乱倒污水", "MOLD": None}


def test_nyc_311_unsanitary_condition_follows_its_descriptor(nyc, tmp_path):
    """Each UNSANITARY CONDITION request is the event its Descriptor names; its mould is refused as no hygiene
    event, the row named with type and descriptor; Rodent stays 病媒生物; a second import changes nothing."""
    path = real_data("nyc/nyc311_sample_2023-02-28.csv", tmp_path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = {r["Unique Key"]: (n + 2, r) for n, r in enumerate(csv.DictReader(f))}  # row 1: the header
    located = {key: r for key, (_, r) in rows.items() if r["Latitude"] and r["Longitude"]}
    unsanitary = {key: r["Descriptor"] for key, r in located.items() if r["Complaint Type"] == "UNSANITARY CONDITION"}
    rodents = {key for key, r in located.items() if r["Complaint Type"] == "Rodent"}
    with transaction(nyc):
        result = import_file(nyc, path, ImportOptions("complaints", skip_bad=True, timezone="America/New_York"))
    stored = stored_categories(nyc)
    expected = Counter(UNSANITARY[d] for d in unsanitary.values() if UNSANITARY[d])
    assert Counter(stored[key] for key in unsanitary if key in stored) == expected
    assert expected["病媒生物"] == 122 and expected["积存垃圾渣土"] == 24 and expected["乱倒污水"] == 11
    assert all(stored[key] == UNSANITARY[d] for key, d in unsanitary.items() if UNSANITARY[d])
    assert {stored[key] for key in rodents} == {"病媒生物"} and len(rodents) == 78
    mould = {rows[key][0] for key, d in unsanitary.items() if d == "MOLD"}
    assert len(mould) == 83 and not mould & {rows[key][0] for key in stored}
    # Each mould row is in the rejects file, with its reason (the report lists the first rows only).
    with result.rejects_path.open(encoding="utf-8-sig", newline="") as f:
        rejected = {int(r["行号"]): r["原因"] for r in csv.DictReader(f)}
    assert mould <= set(rejected)
    assert all("'UNSANITARY CONDITION' / Descriptor 'MOLD' 不属于公共卫生事件（已声明不对应任何类型），未导入"
               in rejected[row] for row in mould)
    assert sum("Descriptor 'MOLD'" in reason for reason in rejected.values()) == 83
    # The report's note counts them first, then the most frequent other types.
    note = next(n for n in result.notes if n.startswith("rows refused as no hygiene event, by category: "))
    assert note.split(": ", 1)[1].startswith("83 × 'UNSANITARY CONDITION' / Descriptor 'MOLD' (declared none"), note
    with transaction(nyc):
        again = import_file(nyc, path, ImportOptions("complaints", skip_bad=True, timezone="America/New_York"))
    assert (again.inserted, again.updated) == (0, result.rows_written)
    assert stored_categories(nyc) == stored


def stored_categories(conn) -> dict[str, str]:
    """Each stored complaint's category, by its source id."""
    with conn.cursor() as cur:
        cur.execute("SELECT source_id, category FROM complaints")
        got = dict(cur.fetchall())
    conn.rollback()
    return got


def test_a_problem_on_every_row_is_listed_for_the_first_rows_and_counted_for_the_rest(nyc, tmp_path):
    """311 with every closing time cleared: each closed case is warned of, but the report lists the first 100 rows
    and counts the rest in one note (in both languages), so a million-row file does not fill memory and the
    screen; the summary still counts every warning, and every case is still written."""
    from layers.io.batch import LISTED_PER_COLUMN

    rows = sample_311(tmp_path)
    closed = [n + 2 for n, row in enumerate(rows) if row["Status"] == "Closed"]
    for row in rows:
        row["Closed Date"] = ""
    result = import_311(nyc, rows, tmp_path / "311_全部无办结时间.csv")
    with nyc.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints WHERE status = '结案' AND closed_at = reported_at")
        closed_at_report = cur.fetchone()[0]
    nyc.rollback()
    said = [p for p in result.warnings if p.row is not None and p.column == "Closed Date"]
    warned = {p.row for p in said}
    assert len(said) == LISTED_PER_COLUMN == 100 and warned <= set(closed)
    rest = [p for p in result.warnings if p.row is None and p.column == "Closed Date"]
    assert len(rest) == 1, [p.reason for p in result.warnings if p.row is None]
    n_rest = int(rest[0].reason.split(" ", 1)[0].replace(",", ""))
    assert n_rest > 100 and rest[0].reason.endswith("not listed (the first 100 are)")
    assert rest[0].reason_zh.startswith(f"另有 {n_rest:,} 行（Closed Date列）同类警告未逐行列出")
    # One warning per case closed at its report time, listed or counted, and one for row 4159, a closed case
    # then refused for having no coordinates; the summary counts all.
    assert 100 + n_rest == closed_at_report + 1 and rows[4159 - 2]["Latitude"] == ""
    assert f", {result.warning_count:,} warnings" in result.summary()
    assert result.warning_count >= 100 + n_rest
    assert result.problems[-1] is rest[0] or rest[0] in result.problems[-len(result.unlisted):]


def sample_311(tmp_path) -> list[dict]:
    """The rows of New York's 311 day (2023-02-28), to be changed and written back by :func:`import_311`."""
    with open(real_data("nyc/nyc311_sample_2023-02-28.csv", tmp_path), encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def import_311(conn, rows: list[dict], written):
    """``rows`` written as the CSV ``written`` and imported as complaints (--skip-bad, New York's time zone)."""
    with open(written, "w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)
    with transaction(conn):
        return import_file(conn, written, ImportOptions("complaints", skip_bad=True, timezone="America/New_York"))


def test_nyc_311_read_again_keeps_the_steps_taken_here_unless_the_hotline_moved_the_case(nyc, tmp_path):
    """311's day imported, two 处置 (In Progress) cases moved on here to 核查 by the street office, then the export
    read again: where it still says In Progress, the case stays at 核查 (no step back to 处置, which the bulletin
    would count as 返工) and the report says so; where the hotline has closed the case since, it is closed as the
    file says; every other case is as the file says."""
    from layers.workflow.complaints import transition

    rows = sample_311(tmp_path)
    written = tmp_path / "311.csv"
    import_311(nyc, rows, written)
    with nyc.cursor() as cur:
        cur.execute("SELECT id, source_id FROM complaints WHERE status = '处置' ORDER BY source_id LIMIT 2")
        (kept_id, kept_key), (moved_id, moved_key) = cur.fetchall()
    with transaction(nyc):
        for case in (kept_id, moved_id):
            transition(nyc, case, "核查", "已处置，请核查", "mn03-office")
    for row in rows:
        if row["Unique Key"] == moved_key:
            assert row["Status"] == "In Progress"
            row["Status"], row["Closed Date"] = "Closed", "03/01/2023 09:30:00 AM"
    again = import_311(nyc, rows, written)
    with nyc.cursor() as cur:
        cur.execute("SELECT id, status, closed_at FROM complaints WHERE id IN %s", ((kept_id, moved_id),))
        now = {i: (s, c) for i, s, c in cur.fetchall()}
        cur.execute("SELECT complaint_id, from_status, to_status FROM complaint_events WHERE actor = 'import' "
                    "AND from_status IS NOT NULL")
        steps = cur.fetchall()
        cur.execute("SELECT source_id, status FROM complaints WHERE id NOT IN %s", ((kept_id, moved_id),))
        others = dict(cur.fetchall())
    nyc.rollback()
    assert now[kept_id] == ("核查", None)
    assert now[moved_id][0] == "结案" and now[moved_id][1] == datetime(2023, 3, 1, 14, 30, tzinfo=UTC)
    assert steps == [(moved_id, "核查", "结案")]
    assert "1 cases keep the status they were moved to here since their last import (1 核查)" in " ".join(again.notes)
    statuses = {"Closed": "结案", "Pending": "受理", "Open": "受理", "Assigned": "派遣", "In Progress": "处置",
                "Started": "处置"}
    assert others and all(statuses[r["Status"]] == others[r["Unique Key"]] for r in rows if r["Unique Key"] in others)
