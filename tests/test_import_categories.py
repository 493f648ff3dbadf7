"""A complaint's event type from the most specific level of its categories: 12345 hotline exports
(一级/二级/三级分类, 问题大类/问题小类). The real-data proof of the levels is NYC 311's Complaint Type and
Descriptor (tests/test_import_real.py)."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from data.db import connect, transaction
from data.errors import InvalidInput
from layers.io.importing import import_file
from layers.io.options import ImportOptions
from tests.import_tools import city_points, empty_complaints, rows, write_csv

HEADER = ["编号", "一级分类", "二级分类", "三级分类", "受理时间", "投诉内容", "经度", "纬度"]
#: (id, the three levels, the event type the finest level naming one gives; None: no level names one).
CASES = [
    ("G1", ("城乡建设", "市容环境", "垃圾清运不及时"), "垃圾满溢"),
    ("G2", ("城乡建设", "市容环境", "乱贴小广告"), "非法小广告"),
    ("G3", ("城乡建设", "占道经营", "其他"), "占道经营"),           # the third level names none: the second decides
    ("G4", ("城乡建设", "道路不洁", "污水乱排"), "乱倒污水"),       # the finer level wins over the coarser
    ("G5", ("卫生健康", "病媒生物防制", "老鼠"), "病媒生物"),
    ("G6", ("城乡建设", "市容环境", "其他"), None),                 # no level names a hygiene event
]


@pytest.fixture
def conn(writable_demo):
    c = connect(url=writable_demo)
    empty_complaints(c)
    yield c
    c.close()


def write_hotline(conn, path, header=HEADER, cases=CASES):
    """A 12345 export of the cases, one point each inside the demo city, as CSV or XLSX (by the suffix)."""
    lon, lat = city_points(conn, len(cases))
    lines = [[key, *levels, f"2026-03-0{k + 1} 08:30", "群众来电反映", f"{lon[k]:.6f}", f"{lat[k]:.6f}"]
             for k, (key, levels, _) in enumerate(cases)]
    if path.suffix == ".csv":
        return write_csv(path, header, lines)
    book = Workbook()
    book.active.append(header)
    for line in lines:
        book.active.append(line)
    book.save(path)
    return path


def categories(conn, source: str) -> dict[str, str]:
    return dict(rows(conn, "SELECT source_id, category FROM complaints WHERE source = %s", source))


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_hotline_levels_decide_by_the_most_specific_one(conn, tmp_path, suffix):
    path = write_hotline(conn, tmp_path / f"12345工单{suffix}")
    with pytest.raises(InvalidInput) as caught:
        import_file(conn, path, ImportOptions("complaints"))
    errors = [p for p in caught.value.problems if p["severity"] == "error"]
    assert [(p["row"], p["column"]) for p in errors] == [(7, "一级分类")]  # G6, the header being row 1
    assert errors[0]["reason"].startswith("category '城乡建设' / 二级分类 '市容环境' / 三级分类 '其他' is not a hygiene "
                                          "event type")
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("complaints", skip_bad=True))
    assert (result.inserted, result.rejected) == (5, 1)
    expected = {key: name for key, _, name in CASES if name}
    assert categories(conn, path.name) == expected
    # The levels are kept as the file gives them; the description is its own column.
    assert rows(conn, "SELECT attributes->>'二级分类', attributes->>'三级分类', description FROM complaints "
                "WHERE source_id = 'G3'") == [("占道经营", "其他", "群众来电反映")]
    with transaction(conn):
        again = import_file(conn, path, ImportOptions("complaints", skip_bad=True))
    assert (again.inserted, again.updated) == (0, 5)
    assert categories(conn, path.name) == expected


def test_hotline_major_and_minor_classes(conn, tmp_path):
    """问题大类 / 问题小类: the minor class decides; the major alone when the minor names no event type."""
    cases = [("D1", ("市容环卫", "垃圾桶满溢"), "垃圾满溢"), ("D2", ("暴露垃圾", "其他"), "暴露垃圾")]
    header = ["编号", "问题大类", "问题小类", "受理时间", "投诉内容", "经度", "纬度"]
    path = write_hotline(conn, tmp_path / "hotline.csv", header, cases)
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("complaints"))
    assert result.inserted == 2
    assert categories(conn, path.name) == {"D1": "垃圾满溢", "D2": "暴露垃圾"}


def test_category_map_applies_at_any_level(conn, tmp_path):
    """A --category-map spelling counts at whichever level it stands, and the finest level still decides."""
    path = write_hotline(conn, tmp_path / "12345.csv")
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("complaints", category_map={"其他": "道路不洁"}))
    assert result.inserted == len(CASES)
    got = categories(conn, path.name)
    assert got["G6"] == got["G3"] == "道路不洁" and got["G1"] == "垃圾满溢"


def test_a_12345_export_with_its_own_column_names_lands_in_every_column(conn, tmp_path):
    """The columns a 12345 work-order export is written with (工单编号, 来电时间, 诉求内容, 事发地址, 工单状态,
    办理时限, 办结时间) are read as the complaint's number, time, words, place, status, deadline and closing."""
    lon, lat = city_points(conn, 2)
    header = ["工单编号", "来电时间", "诉求内容", "事发地址", "一级分类", "二级分类", "三级分类", "工单状态",
              "办理时限", "办结时间", "经度", "纬度"]
    lines = [["GD20260301001", "2026-03-01 08:30", "小区门口垃圾桶满了没人清", "幸福路12号", "城乡建设", "市容环境",
              "垃圾清运不及时", "已办结", "2026-03-02 08:30", "2026-03-01 16:00", f"{lon[0]:.6f}", f"{lat[0]:.6f}"],
             ["GD20260301002", "2026-03-01 09:10", "路边有人摆摊卖菜", "建设路5号", "城乡建设", "占道经营", "",
              "已派单", "2026-03-02 09:10", "", f"{lon[1]:.6f}", f"{lat[1]:.6f}"]]
    path = write_csv(tmp_path / "12345工单导出.csv", header, lines)
    with transaction(conn):
        result = import_file(conn, path, ImportOptions("complaints"))
    assert (result.inserted, result.rejected) == (2, 0)
    got = rows(conn, "SELECT source_id, category, status, description, address, "
                     "to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'MM-DD HH24:MI'), "
                     "to_char(due_at AT TIME ZONE 'Asia/Shanghai', 'MM-DD HH24:MI'), "
                     "to_char(closed_at AT TIME ZONE 'Asia/Shanghai', 'MM-DD HH24:MI') "
                     "FROM complaints WHERE source = %s ORDER BY source_id", path.name)
    assert got == [("GD20260301001", "垃圾满溢", "结案", "小区门口垃圾桶满了没人清", "幸福路12号", "03-01 08:30",
                    "03-02 08:30", "03-01 16:00"),
                   ("GD20260301002", "占道经营", "派遣", "路边有人摆摊卖菜", "建设路5号", "03-01 09:10",
                    "03-02 09:10", None)]
