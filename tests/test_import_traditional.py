"""A 12345 hotline export written in traditional characters (工單編號, 工單狀態 已辦結, 辦結時間 …) is read as the
same export in simplified ones: headers and constrained values are matched through one traditional → simplified
folding (layers/io/traditional.py), and what is stored stays simplified. The points lie in Taipei's villages,
its real boundaries imported with the command line as a user does (tests/real_city.py)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest

from layers.io.columns import normalise_header
from tests.real_city import TAIPEI_FILES, City, new_city, taipei_areas

HEADER = ["工單編號", "來電時間", "一級分類", "二級分類", "工單狀態", "辦結時間", "經度", "緯度"]
#: (number, 一級分類, 二級分類, 工單狀態, hours from the call to 辦結時間 or None) → (category, status) stored.
CASES = [
    (("TW001", "市容環境", "垃圾清運不及時", "已派單", None), ("垃圾满溢", "派遣")),
    (("TW002", "城鄉建設", "亂貼小廣告", "辦理中", None), ("非法小广告", "处置")),
    (("TW003", "市容環衛", "垃圾滿溢", "已辦結", 7.5), ("垃圾满溢", "结案")),
    (("TW004", "城鄉建設", "佔道擺攤", "已回訪", 26), ("占道经营", "结案")),
]


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages, and nothing else."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        taipei_areas(city)
        yield city


def write_export(city: City, name: str, closing_shift: dict[str, timedelta] | None = None) -> str:
    """CASES as a traditional-character 12345 export in the city's folder, one point in each of the first villages;
    ``closing_shift`` moves a case's 辦結時間. Times are local, as the hotline writes them (no zone)."""
    points = city.sql("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_areas "
                      "WHERE level = 'community' ORDER BY code LIMIT %s) x", (len(CASES),))
    called = datetime.now(UTC).replace(microsecond=0, tzinfo=None) - timedelta(days=10)
    with (city.work / name).open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for k, ((number, first, second, status, hours), _) in enumerate(CASES):
            reported = called + timedelta(hours=k)
            closed = "" if hours is None else str(reported + timedelta(hours=hours)
                                                   + (closing_shift or {}).get(number, timedelta()))
            writer.writerow([number, str(reported), first, second, status, closed, f"{points[k][0]:.6f}",
                             f"{points[k][1]:.6f}"])
    return name


def test_traditional_headers_and_values_fold_to_the_simplified_ones():
    """The hotline's words and the headers of the bug report match their simplified spellings."""
    for traditional, simplified in [("辦結時間", "办结时间"), ("工單狀態", "工单状态"), ("已辦結", "已办结"),
                                    ("已派單", "已派单"), ("已回訪", "已回访"), ("辦理中", "办理中"),
                                    ("一級分類", "一级分类"), ("級別", "级别"), ("區", "区"), ("一類", "一类")]:
        assert normalise_header(traditional) == normalise_header(simplified), traditional


def test_a_traditional_12345_export_reads_its_statuses_and_closing_times(taipei):
    """已派單, 辦理中, 已辦結, 已回訪 are the statuses their simplified spellings are; 辦結時間 is the closing time,
    so a closed case keeps the hours it took (not 0 h at its report time); categories fold the same way."""
    name = write_export(taipei, "12345工單匯出.csv")
    done = taipei.cli("import", "complaints", name)
    assert "没有结案时间" not in done.stdout, done.stdout  # neither the note nor a warning of a closing time lost
    got = taipei.sql("SELECT source_id, category, status, extract(epoch FROM closed_at - reported_at) / 3600 "
                     "FROM complaints WHERE source = %s ORDER BY source_id", (name,))
    expected = [(case[0], *stored, case[4]) for case, stored in CASES]
    assert [(s, c, st, None if h is None else float(h)) for s, c, st, h in got] == expected
    # Every case's history starts at the status the file gives, stored simplified.
    assert taipei.sql("SELECT DISTINCT e.to_status FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id "
                      "WHERE c.source = %s ORDER BY 1", (name,)) == [("处置",), ("派遣",), ("结案",)]


def test_a_traditional_closing_time_in_the_future_is_refused_naming_its_row(taipei):
    """A 辦結時間 a year ahead (a typo in the export) is refused with its row and the file's column, and nothing of
    the file is written: it was never read before, so the case would have closed at its report time."""
    name = write_export(taipei, "12345工單_錯誤.csv", {"TW003": timedelta(days=365)})
    done = taipei.cli("import", "complaints", name, check=False)
    assert done.returncode != 0
    errors = [line for line in done.stdout.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1 and errors[0].startswith(f"错误：{name}，第 4 行，辦結時間 列：结案时间 "), done.stdout
    assert errors[0].endswith("晚于现在"), errors
    assert taipei.one("SELECT count(*) FROM complaints WHERE source = %s", (name,)) == 0
