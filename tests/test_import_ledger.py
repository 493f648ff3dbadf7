"""A street office's toilet ledger (公厕台账) as offices keep them: a running 序号, the toilets' own 公厕编号, a 类别
of 一类…三类. The toilet's own number is its identity, so the ledger sorted anew and renumbered updates each toilet
with its own row; a number written twice is refused naming both rows; 类别 is read as the grade where its values
are grades (Taipei's own 公廁類別, 公園 and 機關, is not). The points lie in Taipei's villages, its real boundaries
imported with the command line as a user does (tests/real_city.py)."""

from __future__ import annotations

import openpyxl
import pytest

from tests.real_city import TAIPEI_FILES, City, new_city, taipei_areas

HEADER = ["序号", "公厕编号", "公厕名称", "地址", "经度", "纬度", "类别"]
#: (公厕编号, 公厕名称, 类别) of the ledger, in its first order.
TOILETS = [("DT-GC-001", "大同公园公厕", "一类"), ("DT-GC-002", "迪化街公厕", "二类"),
           ("DT-GC-003", "延平北路公厕", "三类"), ("DT-GC-004", "宁夏夜市公厕", "二类")]


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages; its toilet list in the folder, not imported."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:3]) as city:
        taipei_areas(city)
        yield city


def write_ledger(city: City, name: str, rows: list[tuple[str, str, str]], header: list[str] = HEADER) -> str:
    """``rows`` as a ledger in the city's folder, numbered 1, 2 … in the order given; each toilet at its own
    village's inner point (by its number), so a toilet's place follows its number, not its row."""
    points = city.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
                      "WHERE level = 'community' ORDER BY code LIMIT %s) x", (len(TOILETS),))
    place = {number: points[k] for k, (number, _, _) in enumerate(TOILETS)}
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for k, (number, name_, grade) in enumerate(rows, start=1):
        lon, lat = place[number]
        row = {"序号": k, "公厕编号": number, "公厕名称": name_, "地址": f"{name_}旁", "经度": round(lon, 6),
               "纬度": round(lat, 6), "类别": grade}
        sheet.append([row[h] for h in header])
    book.save(city.work / name)
    return name


def stored(city: City, source: str) -> dict[str, tuple]:
    return {sid: (name, grade, round(lon, 6), round(lat, 6)) for sid, name, grade, lon, lat in city.sql(
        "SELECT source_id, name, grade, ST_X(geom), ST_Y(geom) FROM toilets WHERE source = %s", (source,))}


def test_a_ledger_sorted_anew_updates_each_toilet_by_its_own_number(taipei):
    """The office re-sorts its ledger (序号 renumbered) and imports it again: each toilet keeps its name, grade
    and place; nothing is swapped, nothing added."""
    name = write_ledger(taipei, "大同区公厕台账.xlsx", TOILETS)
    first = taipei.cli("import", "toilets", name)
    assert "新增 4，更新 0" in first.stdout, first.stdout
    before = stored(taipei, name)
    assert {sid: v[:2] for sid, v in before.items()} == {n: (nm, g) for n, nm, g in TOILETS}
    again = write_ledger(taipei, "大同区公厕台账_重排.xlsx", list(reversed(TOILETS)))
    done = taipei.cli("import", "toilets", again, "--source", name)
    assert "新增 0，更新 4" in done.stdout, done.stdout
    assert stored(taipei, name) == before
    assert "序号" not in done.stdout  # the toilets' own number is the id: no warning about a running number


def test_a_number_written_twice_is_refused_naming_both_rows(taipei):
    rows = [*TOILETS[:2], ("DT-GC-002", "迪化街二号公厕", "二类")]
    name = write_ledger(taipei, "重号台账.xlsx", rows)
    done = taipei.cli("import", "toilets", name, check=False)
    assert done.returncode != 0
    assert "错误：重号台账.xlsx，第 4 行，公厕编号 列：编号 'DT-GC-002' 重复（首次出现在第 3 行）" in done.stdout, done.stdout
    assert taipei.one("SELECT count(*) FROM toilets WHERE source = %s", (name,)) == 0


def test_a_ledger_numbered_only_by_row_warns_that_sorting_moves_its_data(taipei):
    name = write_ledger(taipei, "只有序号.xlsx", TOILETS[:2], header=["序号", "公厕名称", "经度", "纬度"])
    done = taipei.cli("import", "toilets", name, "--dry-run")
    assert "说明：以“序号”列为编号：表格重新排序或增删行后再次导入，数据会写到别的行上" in done.stdout, done.stdout
    english = taipei.cli("import", "toilets", name, "--dry-run", "--lang", "en")
    assert "note: the '序号' column is taken as the id" in english.stdout, english.stdout


def test_a_class_column_of_grades_is_the_grade_and_an_odd_one_is_named(taipei):
    """类别 of 一类…三类 is read as the grade; a 特级 among them is refused naming its row and column."""
    name = write_ledger(taipei, "类别台账.xlsx", [*TOILETS[:3], ("DT-GC-004", "宁夏夜市公厕", "特级")])
    done = taipei.cli("import", "toilets", name, "--dry-run", check=False)
    errors = [line for line in done.stdout.splitlines() if line.startswith("错误：")]
    assert errors == ["错误：类别台账.xlsx，第 5 行，类别 列：'特级' 不是允许的等级（一类 / 二类 / 三类）"], done.stdout
    fixed = write_ledger(taipei, "类别台账.xlsx", TOILETS)
    taipei.cli("import", "toilets", fixed)
    assert {sid: v[1] for sid, v in stored(taipei, fixed).items()} == {n: g for n, _, g in TOILETS}


def test_taipei_own_toilet_class_is_where_a_toilet_stands_not_its_grade(taipei):
    """Taipei's 公廁類別 (公園, 機關, 交通 …) says what a toilet serves: not read as a grade, kept in attributes."""
    source = TAIPEI_FILES[2]
    taipei.cli("import", "toilets", source, "--skip-bad")
    assert taipei.one("SELECT count(*) FROM toilets WHERE source = %s AND grade IS NOT NULL", (source,)) == 0
    assert taipei.one("SELECT count(*) FROM toilets WHERE source = %s AND attributes->>'公廁類別' = '公園'",
                      (source,)) > 200
