"""Import and export behaviour users rely on, against the small demo city in a fresh database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from api.cli.main import main
from data.db import connect, transaction
from data.errors import InvalidInput
from data.migrate import migrate
from geo.coords import wgs84_to_gcj02
from layers.io import fresh as fresh_module
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.import_tools import city_points, empty_complaints, rows, write_csv


@pytest.fixture
def city(writable_demo):
    conn = connect(url=writable_demo)
    yield writable_demo, conn
    conn.close()





def test_all_or_nothing_dry_run_skip_bad_and_reimport(city, tmp_path):
    _, conn = city
    before = rows(conn, "SELECT count(*) FROM toilets")[0][0]
    lon, lat = city_points(conn, 5)
    lines = [[f"T{k}", f"公厕{k}", f"{lon[k]:.6f}", f"{lat[k]:.6f}", "二类"] for k in range(5)]
    lines[2][2] = "abc"
    lines[3][4] = "四类"
    path = write_csv(tmp_path / "toilets.csv", ["编号", "名称", "经度", "纬度", "等级"], lines)
    with pytest.raises(InvalidInput) as caught:
        import_file(conn, path, ImportOptions("toilets"))
    reasons = {(p["row"], p["column"]): p["reason"] for p in caught.value.problems}
    assert "'abc' is not a finite number" in reasons[(4, "经度")]
    assert "'四类' is not an allowed grade" in reasons[(5, "等级")]
    assert rows(conn, "SELECT count(*) FROM toilets")[0][0] == before

    # A dry run says what the import would do: refused the same way, every bad row listed.
    with pytest.raises(InvalidInput, match="2 bad rows; nothing would be written .* write the 3 good rows") as dry, \
            transaction(conn, dry_run=True):
        import_file(conn, path, ImportOptions("toilets", dry_run=True))
    assert {(p["row"], p["column"]) for p in dry.value.problems} == {(4, "经度"), (5, "等级")}
    with transaction(conn, dry_run=True):
        dry = import_file(conn, path, ImportOptions("toilets", dry_run=True, skip_bad=True, rejects=tmp_path / "d.csv"))
    assert dry.rejected == 2 and dry.rows_written == 3 and dry.dry_run
    assert rows(conn, "SELECT count(*) FROM toilets")[0][0] == before

    rejects = tmp_path / "bad.csv"
    with transaction(conn):
        done = import_file(conn, path, ImportOptions("toilets", skip_bad=True, rejects=rejects))
    assert (done.inserted, done.rejected) == (3, 2)
    text = rejects.read_text(encoding="utf-8-sig")
    # The office corrects the rows in Chinese: each reason after its column, in the spreadsheet's words.
    assert "经度：坐标 'abc' 不是有效数字" in text and "等级：'四类' 不是允许的等级（一类 / 二类 / 三类）" in text
    got = rows(conn, "SELECT source, source_id, grade, street_code IS NOT NULL FROM toilets "
               "WHERE source = 'toilets.csv' ORDER BY source_id")
    assert got == [("toilets.csv", "T0", "二类", True), ("toilets.csv", "T1", "二类", True),
                   ("toilets.csv", "T4", "二类", True)]

    with transaction(conn):
        again = import_file(conn, path, ImportOptions("toilets", skip_bad=True, rejects=rejects, lang="en"))
    assert (again.inserted, again.updated) == (0, 3)
    assert "等级: '四类' is not an allowed grade (一类 / 二类 / 三类)" in rejects.read_text(encoding="utf-8-sig")
    assert rows(conn, "SELECT count(*) FROM toilets")[0][0] == before + 3


def test_gbk_csv_and_gcj02_input_is_converted_and_the_shift_is_noticed(city, tmp_path):
    _, conn = city
    lon, lat = city_points(conn, 8)
    glon, glat = wgs84_to_gcj02(lon, lat)
    lines = [[f"G{k}", f"市场{k}", f"{glon[k]:.7f}", f"{glat[k]:.7f}"] for k in range(8)]
    path = write_csv(tmp_path / "markets_gbk.csv", ["id", "市场名称", "lng", "lat"], lines, encoding="gbk")
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("markets", crs="gcj02"))
    assert "read as gb18030" in result.notes
    got = rows(conn, "SELECT name, ST_X(geom), ST_Y(geom) FROM markets WHERE source = 'markets_gbk.csv' "
               "ORDER BY source_id")
    assert got[0][0] == "市场0"
    assert np.allclose([g[1] for g in got], lon, atol=1e-7) and np.allclose([g[2] for g in got], lat, atol=1e-7)

    # Gaode points along the city's east edge, imported as if WGS84: the GCJ-02 shift (east, here)
    # pushes them out, and read back as GCJ-02 they fall inside; the importer says so.
    xmax = rows(conn, "SELECT ST_XMax(ST_Extent(geom)) FROM admin_areas")[0][0]
    edge = rows(conn, "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_DumpPoints(ST_Boundary(ST_Union(geom)))).geom p "
                "FROM admin_areas WHERE level = 'district') x WHERE ST_X(p) > %s", xmax - 0.002)
    elon = np.array([e[0] for e in edge]) - 0.0003  # ~25 m inside the east edge
    elat = np.array([e[1] for e in edge])
    assert len(elon) >= 3
    glon, glat = wgs84_to_gcj02(elon, elat)
    assert (glon - elon).min() > 0.003  # the shift here is several hundred metres east
    lines = [[f"E{k}", f"点{k}", f"{glon[k]:.7f}", f"{glat[k]:.7f}"] for k in range(len(elon))]
    path = write_csv(tmp_path / "gaode.csv", ["id", "名称", "经度", "纬度"], lines)
    with pytest.raises(InvalidInput, match="every one of the .* rows is bad; nothing would be written") as dry, \
            transaction(conn, dry_run=True):
        import_file(conn, path, ImportOptions("markets", dry_run=True, tolerance_m=0))
    assert any("--crs gcj02" in p["reason"] and "Gaode" in p["reason"] for p in dry.value.problems)
    with transaction(conn, dry_run=True):
        fixed = import_file(conn, path, ImportOptions("markets", dry_run=True, tolerance_m=0, crs="gcj02"))
    assert not fixed.errors and not any("--crs" in n for n in fixed.notes)


def test_points_at_sea_that_a_shift_brings_ashore_are_no_sign_of_a_shifted_file(city, tmp_path):
    """A WGS84 file with a few points just off the east edge — which the GCJ-02 reading would bring inside — and
    many just inside the west edge, which that reading would push out: the file is not in GCJ-02 (a wrong system
    moves every point), so the import does not suggest --crs gcj02 (a user's register read so with 4 of 40 points
    at sea)."""
    _, conn = city
    edge = "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_DumpPoints(ST_Boundary(ST_Union(geom)))).geom p " \
           "FROM admin_areas WHERE level = 'district') x WHERE ST_X(p) {} %s"
    xmin, xmax = rows(conn, "SELECT ST_XMin(ST_Extent(geom)), ST_XMax(ST_Extent(geom)) FROM admin_areas")[0]
    east = np.array(rows(conn, edge.format(">"), xmax - 0.002))
    west = np.array(rows(conn, edge.format("<"), xmin + 0.002))
    off_lon, off_lat = wgs84_to_gcj02(east[:, 0] - 0.0003, east[:, 1])  # outside as given, inside as GCJ-02
    assert len(off_lon) >= 3 and len(west) >= 2
    lines = [[f"E{k}", f"点{k}", f"{off_lon[k]:.7f}", f"{off_lat[k]:.7f}"] for k in range(len(off_lon))]
    inside = [(x + 0.0003, y) for x, y in west] * (3 * len(off_lon) // len(west) + 1)  # ~25 m inside the west edge
    lines += [[f"W{k}", f"点W{k}", f"{x:.7f}", f"{y:.7f}"] for k, (x, y) in enumerate(inside)]
    path = write_csv(tmp_path / "register.csv", ["id", "名称", "经度", "纬度"], lines)
    with transaction(conn, dry_run=True):
        result = import_file(conn, path, ImportOptions("markets", dry_run=True, tolerance_m=1000, skip_bad=True))
    assert not any("--crs" in n for n in result.notes), result.notes
    assert result.rows_written == len(lines)  # within the tolerance: all written, none refused


def test_swapped_and_outside_points_are_named(city, tmp_path):
    _, conn = city
    lon, lat = city_points(conn, 3)
    empty_complaints(conn)
    lines = [["S0", "甲", f"{lat[0]:.6f}", f"{lon[0]:.6f}"],           # lat/lon swapped
             ["S1", "乙", f"{lon[1] + 0.2:.6f}", f"{lat[1]:.6f}"],     # ~17 km east of the city
             ["S2", "丙", f"{lon[2]:.6f}", f"{lat[2]:.6f}"]]
    path = write_csv(tmp_path / "swapped.csv", ["id", "名称", "经度", "纬度"], lines)
    with pytest.raises(InvalidInput) as caught:
        import_file(conn, path, ImportOptions("garbage_stations"))
    by_row = {p["row"]: p["reason"] for p in caught.value.problems if p["severity"] == "error"}
    assert set(by_row) == {2, 3}
    assert "swapped" in by_row[2]
    assert "km outside the city's admin areas (tolerance 500 m" in by_row[3]


def test_xlsx_sheet_and_complaints_with_deadlines_and_history(city, tmp_path):
    from openpyxl import Workbook

    _, conn = city
    lon, lat = city_points(conn, 3)
    empty_complaints(conn)
    book = Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("投诉")
    sheet.append(["工单编号", "问题类型", "上报时间", "状态", "经度", "纬度", "来电人"])
    sheet.append(["W1", "垃圾滿溢", "2026-03-01 08:30", "已受理", lon[0], lat[0], "张"])
    sheet.append(["W2", "暴露垃圾", "2026/03/02 09:00:00", "结案", lon[1], lat[1], "李"])
    path = tmp_path / "complaints.xlsx"
    book.save(path)
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("complaints", sheet="投诉", id_field="工单编号"))
    assert result.inserted == 2
    got = rows(conn, "SELECT source_id, category, status, reported_at AT TIME ZONE 'Asia/Shanghai', "
               "due_at - reported_at, grid_code IS NOT NULL, attributes->>'来电人' FROM complaints "
               "WHERE source = 'complaints.xlsx' ORDER BY source_id")
    assert got[0][:3] == ("W1", "垃圾满溢", "受理") and got[0][3].hour == 8
    assert got[0][4].total_seconds() == 12 * 3600 and got[0][5] and got[0][6] == "张"
    history = rows(conn, "SELECT c.source_id, e.from_status, e.to_status FROM complaint_events e "
                   "JOIN complaints c ON c.id = e.complaint_id WHERE c.source = 'complaints.xlsx' ORDER BY 1")
    assert history == [("W1", None, "受理"), ("W2", None, "结案")]
    with pytest.raises(Exception, match="--sheet"):
        import_file(conn, path, ImportOptions("complaints", sheet="Sheet9"))


def test_cli_import_reports_rows_and_one_line_error(city, env_for, tmp_path):
    url, conn = city
    env_for(url)
    lon, lat = city_points(conn, 2)
    path = write_csv(tmp_path / "c.csv", ["id", "名称", "经度", "纬度"],
                     [["A", "甲", f"{lon[0]:.6f}", f"{lat[0]:.6f}"], ["B", "乙", "", f"{lat[1]:.6f}"]])
    runner = CliRunner()
    res = runner.invoke(main, ["import", "markets", str(path), "--lang", "en"])
    assert res.exit_code != 0
    assert "error: c.csv, row 3, column 经度: coordinate missing" in res.output
    res = runner.invoke(main, ["import", "markets", str(path)])  # the office's own language by default
    assert res.exit_code != 0 and "错误：c.csv，第 3 行，经度 列：" in res.output, res.output
    res = runner.invoke(main, ["import", "markets", str(path), "--dry-run", "--lang", "en"])  # refused, as the import
    assert res.exit_code == 2 and "error: c.csv, row 3, column 经度: coordinate missing" in res.output
    res = runner.invoke(main, ["import", "markets", str(path), "--dry-run", "--skip-bad", "--lang", "en"])
    assert res.exit_code == 0 and "would write 1" in res.output
    res = runner.invoke(main, ["import", "markets", str(path), "--dry-run", "--skip-bad"])
    assert res.exit_code == 0 and "将写入 1 行（新增 1，更新 0），拒收 1 行" in res.output, res.output
    assert "说明：没有编号列" not in res.output and "拒收的行及原因：" in res.output, res.output
    flat = write_csv(tmp_path / "flat.csv", ["id", "名称", "地址"], [["A", "甲", "幸福路 1 号"]])
    res = runner.invoke(main, ["import", "markets", str(flat)])  # a refusal of the whole file, in Chinese too
    assert res.exit_code == 2 and "hygiene-map：错误：flat.csv：找不到坐标列；" in res.output, res.output
    assert "现有列：id、名称、地址" in res.output and "Traceback" not in res.output
    res = runner.invoke(main, ["import", "markets", str(flat), "--lang", "en"])
    assert res.exit_code == 2 and "hygiene-map: error: flat.csv: no coordinate columns found" in res.output, res.output
    res = runner.invoke(main, ["import", "markets", str(path), "--crs", "mars"])
    assert res.exit_code != 0 and "--crs" in res.output and "Traceback" not in res.output
    out = tmp_path / "x.zip"
    res = runner.invoke(main, ["export", "markets", "--format", "shp", "--out", str(out)])
    assert res.exit_code == 0 and out.exists()



def test_cli_refusal_of_a_whole_file_is_chinese_unless_english_is_typed(city, env_for, tmp_path):
    """A file that cannot be read at all (not GeoJSON; a shapefile without its .dbf; a --mapping of numbers) is
    refused in one line in the office's language, naming the file; in English with --lang en; nothing written."""
    url, conn = city
    env_for(url)
    before = rows(conn, "SELECT count(*) FROM markets")[0][0]
    bad = tmp_path / "bad.geojson"
    bad.write_text("[1, 2]", encoding="utf-8")
    folder = tmp_path / "shp"
    folder.mkdir()
    for part in ("a.shp", "a.shx"):
        (folder / part).write_bytes(b"\0" * 100)
    mapping = tmp_path / "m.json"
    mapping.write_text('{"名称": 1}', encoding="utf-8")
    runner = CliRunner()
    for words, zh, en in (
            ([str(bad)], "bad.geojson：不是 GeoJSON：文件开头不是 JSON 对象",
             "bad.geojson: not GeoJSON: it does not start with a JSON object"),
            ([str(folder)], "a.shp：旁边没有 a.dbf；shapefile 须有 .shp、.shx 和 .dbf 三个文件放在一起",
             "a.shp: no a.dbf beside it; a shapefile needs .shp, .shx and .dbf together"),
            ([str(bad), "--mapping", str(mapping)], f"--mapping：{mapping}：每个键和值都必须是文本",
             f"--mapping: {mapping}: every key and value must be text")):
        res = runner.invoke(main, ["import", "markets", *words])
        assert res.exit_code == 2 and res.output.strip().splitlines() == [f"hygiene-map：错误：{zh}"], res.output
        res = runner.invoke(main, ["import", "markets", *words, "--lang", "en"])
        assert res.exit_code == 2 and res.output.strip().splitlines() == [f"hygiene-map: error: {en}"], res.output
    assert rows(conn, "SELECT count(*) FROM markets")[0][0] == before

def test_bulk_mode_restores_indexes_and_foreign_keys(fresh_db, tmp_path, monkeypatch):
    """Bulk imports drop secondary indexes and foreign keys in their transaction and restore them."""
    monkeypatch.setenv("HYGIENE_MAP_IMPORT_REBUILD_INDEX_ROWS", "1")
    conn = connect(url=fresh_db)
    migrate(conn)
    schema = ("SELECT (SELECT array_agg(indexname ORDER BY indexname) FROM pg_indexes "
              "WHERE tablename IN ('complaints', 'complaint_events')), "
              "(SELECT array_agg(conname ORDER BY conname) FROM pg_constraint WHERE contype = 'f' "
              "AND conrelid IN ('complaints'::regclass, 'complaint_events'::regclass))")
    before = rows(conn, schema)
    path = write_csv(tmp_path / "c.csv", ["编号", "事件类型", "上报时间", "经度", "纬度"],
                     [[k, "暴露垃圾", "2026-03-01 08:00", 121.38 + k / 1000, 37.49] for k in range(5)])
    with transaction(conn):
        assert import_file(conn, path, ImportOptions("complaints")).inserted == 5
    assert rows(conn, schema) == before
    assert rows(conn, "SELECT count(*) FROM complaint_events")[0][0] == 5
    # Re-import (the staging + upsert path) in bulk mode, then another source (straight COPY) again.
    with transaction(conn):
        again = import_file(conn, path, ImportOptions("complaints"))
    assert (again.inserted, again.updated) == (0, 5)
    with transaction(conn):
        assert import_file(conn, path, ImportOptions("complaints", source="other")).inserted == 5
    assert rows(conn, schema) == before
    assert rows(conn, "SELECT count(*) FROM complaints")[0][0] == 10
    conn.close()



def test_bulk_complaints_keep_text_exactly_and_the_metric_pair_postgis_computes(city, tmp_path, monkeypatch):
    """A bulk load projects the points itself (trigger off meanwhile): the pair equals PostGIS's; text survives COPY."""
    monkeypatch.setenv("HYGIENE_MAP_IMPORT_REBUILD_INDEX_ROWS", "1")
    _, conn = city
    lon, lat = city_points(conn, 6)
    empty_complaints(conn)
    tricky = ["tab\there", "back\\slash", "line\nbreak", "\\N", "", "引号\"和,逗号"]
    frame = [{"编号": f"bulk-{k}", "事件类型": "暴露垃圾", "上报时间": "2026-03-01 08:00", "经度": lon[k],
              "纬度": lat[k], "描述": tricky[k]} for k in range(6)]
    path = tmp_path / "bulk.xlsx"
    pd.DataFrame(frame).to_excel(path, index=False)
    cells_before = rows(conn, "SELECT coalesce(sum(n), 0) FROM complaint_cells")[0][0]
    with transaction(conn):
        assert import_file(conn, path, ImportOptions("complaints", source="bulk")).inserted == 6
    got = rows(conn, "SELECT source_id, description, metric_srid = (SELECT metric_srid FROM city_settings), "
               "metric_x = ST_X(ST_Transform(geom, metric_srid)), metric_y = ST_Y(ST_Transform(geom, metric_srid)) "
               "FROM complaints WHERE source = 'bulk' ORDER BY source_id")
    assert [g[1] for g in got] == [t or None for t in tricky]
    assert all(g[2] and g[3] and g[4] for g in got), got
    assert rows(conn, "SELECT tgenabled FROM pg_trigger WHERE tgname = 'complaints_metric_xy_trg'")[0][0] == "O"
    assert rows(conn, "SELECT sum(n) FROM complaint_cells")[0][0] == cells_before + 6


def test_bulk_complaints_whose_pair_differs_from_postgis_are_projected_again(city, tmp_path, monkeypatch):
    """Should PROJ on the two sides ever disagree, the stored pair is still PostGIS's."""
    monkeypatch.setenv("HYGIENE_MAP_IMPORT_REBUILD_INDEX_ROWS", "1")
    real = fresh_module._metric_columns

    def off_by_a_millimetre(*args):
        metric = real(*args)
        metric["metric_x"] = (metric["metric_x"].astype(float) + 0.001).astype(str)
        return metric

    monkeypatch.setattr(fresh_module, "_metric_columns", off_by_a_millimetre)
    _, conn = city
    lon, lat = city_points(conn, 3)
    empty_complaints(conn)
    path = write_csv(tmp_path / "off.csv", ["编号", "事件类型", "上报时间", "经度", "纬度"],
                     [[k, "暴露垃圾", "2026-03-01 08:00", lon[k], lat[k]] for k in range(3)])
    with transaction(conn):
        assert import_file(conn, path, ImportOptions("complaints", source="off")).inserted == 3
    assert rows(conn, "SELECT bool_and(metric_x = ST_X(ST_Transform(geom, metric_srid))) FROM complaints "
                "WHERE source = 'off'")[0][0] is True


def test_times_in_several_formats_are_each_read_and_a_bad_one_named(city, tmp_path):
    """The first row's format is not the others': each row still reads as written, in the city's zone."""
    _, conn = city
    lon, lat = city_points(conn, 4)
    times = ["2026/03/01 08:30", "2026-03-02 09:15:30", "2026-03-03T10:00", "下周三"]
    lines = [[f"M{k}", "暴露垃圾", times[k], f"{lon[k]:.6f}", f"{lat[k]:.6f}"] for k in range(4)]
    path = write_csv(tmp_path / "mixed_times.csv", ["编号", "事件类型", "上报时间", "经度", "纬度"], lines)
    with pytest.raises(InvalidInput) as caught, transaction(conn):
        import_file(conn, path, ImportOptions("complaints"))
    bad = [p for p in caught.value.problems if p["column"] == "上报时间"]
    assert [(p["file"], p["row"]) for p in bad] == [("mixed_times.csv", 5)]
    assert "'下周三' is not a date/time" in bad[0]["reason"]
    path = write_csv(tmp_path / "mixed_times.csv", ["编号", "事件类型", "上报时间", "经度", "纬度"], lines[:3])
    with transaction(conn):
        assert import_file(conn, path, ImportOptions("complaints")).inserted == 3
    got = rows(conn, "SELECT to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') "
               "FROM complaints WHERE source = 'mixed_times.csv' ORDER BY source_id")
    assert [g[0] for g in got] == ["2026-03-01 08:30:00", "2026-03-02 09:15:30", "2026-03-03 10:00:00"]


@pytest.mark.parametrize("order", ["zoneless_first", "zoned_first"])
def test_times_with_and_without_a_zone_in_one_file_each_keep_their_instant(city, tmp_path, order):
    """A time with an offset is that instant; one without is the city's time — in either order, no traceback."""
    _, conn = city
    lon, lat = city_points(conn, 3)
    times = {"Z1": "2026-03-02 09:15", "Z2": "2026-03-03T10:00:00+08:00", "Z3": "2026-03-04T01:30:00Z"}
    ids = list(times) if order == "zoneless_first" else list(times)[::-1]
    lines = [[i, "暴露垃圾", times[i], f"{lon[k]:.6f}", f"{lat[k]:.6f}"] for k, i in enumerate(ids)]
    path = write_csv(tmp_path / f"zones_{order}.csv", ["编号", "事件类型", "上报时间", "经度", "纬度"], lines)
    with transaction(conn, dry_run=True):
        result = import_file(conn, path, ImportOptions("complaints", dry_run=True))
    assert result.errors == [] and result.inserted == 3
    with transaction(conn):
        assert import_file(conn, path, ImportOptions("complaints")).inserted == 3
    got = rows(conn, "SELECT source_id, to_char(reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
               "FROM complaints WHERE source = %s ORDER BY source_id", path.name)
    assert got == [("Z1", "2026-03-02 01:15:00"), ("Z2", "2026-03-03 02:00:00"), ("Z3", "2026-03-04 01:30:00")]
