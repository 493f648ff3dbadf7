"""Yantai's 12345 hotline export and toilet ledger as its offices have them (Gaode, GCJ-02), on the city built from
its real district outlines with 向阳街道 drawn and a user per role (tests/yantai_street.py).

- The export's headers are the hotline's own: 诉求类别 (or 诉求分类, 问题分类, 事项分类) is the event type.
- Its 来电人 / 联系电话 are kept (personal) and a caller's case is found by them (``GET /api/complaints?q=``), the
  number typed with spaces or dashes too — only by staff who may read them: for anyone else (the public, a planner,
  another street's office) the caller fields are not searched, so ``q`` says nothing about who has called.
- A toilet export names its coordinates' CRS (经度(WGS84)); loaded back the office's way (``--crs gcj02``) it is
  refused, naming ``--crs`` and the header, and loaded back without it no toilet moves.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import openpyxl
import pytest

from tests.yantai_street import EAST, OTHER_STREET, STREET, WEST, ZONE, call, city, site, yantai  # noqa: F401

# GCJ-02 points (as picked on a Gaode map) in 西山社区, 东海社区 and 黄海路街道 (tests/yantai_street.py's DRAWN).
WEST_PT, EAST_PT, OTHER_PT = (121.3835, 37.5255), (121.3955, 37.5285), (121.4320, 37.3860)
HEADER = ["工单编号", "来电时间", "诉求内容", "诉求类别", "地址", "经纬度", "办理状态", "来电人", "联系电话"]
# (number, category, where, caller, phone as the hotline wrote it, days ago): 吴先生 called twice, his number
# written two ways; 李女士 gave a landline.
CALLS = (("YT12345-2026-00001", "垃圾满溢", WEST_PT, "吴先生", "13528640858", 6),
         ("YT12345-2026-00002", "暴露垃圾", EAST_PT, "李女士", "0535-6623456", 5),
         ("YT12345-2026-00003", "道路不洁", WEST_PT, "吴先生", "135 2864 0858", 4),
         ("YT12345-2026-00004", "乱倒污水", OTHER_PT, "张先生", "13912340000", 3))


def _hotline_sheet(path, category_header: str = "诉求类别") -> None:
    """The export as the hotline writes it: a merged title, an 导出时间 line, then the table."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["烟台市12345政务服务便民热线工单明细"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(["导出时间：2026年12月1日 09:00"])
    sheet.append([category_header if h == "诉求类别" else h for h in HEADER])
    now = datetime.now(ZONE).replace(second=0, microsecond=0)
    for number, category, (lon, lat), caller, phone, days in CALLS:
        sheet.append([number, (now - timedelta(days=days)).strftime("%Y年%m月%d日 %H:%M"), "路边垃圾无人清理，请尽快处理",
                      category, "烟台市芝罘区幸福路", f"{lon},{lat}", "办理中", caller, phone])
    book.save(path)


@pytest.fixture(scope="module")
def hotline(site):  # noqa: F811
    """The export imported as an office does (`--crs gcj02 --channel 12345`); hotline number → complaint id."""
    _hotline_sheet(site.work / "12345工单.xlsx")
    site.cli("import", "complaints", "12345工单.xlsx", "--crs", "gcj02", "--channel", "12345")
    return dict(site.sql("SELECT source_id, id FROM complaints WHERE source_id LIKE 'YT12345-%%'"))


def test_the_hotline_s_own_category_headers_are_the_event_type(site, hotline):  # noqa: F811
    stored = {r[0]: r[1:] for r in site.sql("SELECT source_id, category, channel, street_code FROM complaints "
                                            "WHERE source_id LIKE 'YT12345-%%'")}
    assert stored == {number: (category, "12345", OTHER_STREET if at == OTHER_PT else STREET)
                      for number, category, at, *_ in CALLS}
    assert {site.one("SELECT community_code FROM complaints WHERE id = %s", (hotline[n],))
            for n in ("YT12345-2026-00001", "YT12345-2026-00002")} == {WEST, EAST}
    for header in ("诉求分类", "问题分类", "事项分类"):
        _hotline_sheet(site.work / f"{header}.xlsx", header)
        done = site.cli("import", "complaints", f"{header}.xlsx", "--crs", "gcj02", "--dry-run", check=False)
        assert done.returncode == 0 and "将写入 4 行" in done.stdout, (header, done.stdout, done.stderr)


def _found(site, who, q) -> list[int]:  # noqa: F811
    answer = call(site, "GET", "/api/complaints", who, params={"q": q, "limit": 20})
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["items"]]


def test_staff_find_a_caller_s_cases_by_the_number_or_name_the_hotline_gave(site, hotline):  # noqa: F811
    first, landline, again, other = (hotline[c[0]] for c in CALLS)
    for typed in ("13528640858", "135 2864 0858", "135-2864-0858", "１３５２８６４０８５８"):
        assert _found(site, "admin", typed) == [again, first], typed  # both of his calls, newest first
        assert _found(site, "street", typed) == [again, first], typed  # its own street's cases
    for typed in ("05356623456", "0535-6623456", "0535 662 3456"):
        assert _found(site, "admin", typed) == [landline], typed
    assert _found(site, "admin", "吴先生") == [again, first] == _found(site, "street", "吴先生")
    assert _found(site, "admin", "%") == []  # no words: not every caller's case
    assert _found(site, "other", "13912340000") == [other] == _found(site, "admin", "张先生")
    # Not an oracle: whoever may not read a case's caller learns nothing of it from `q`.
    assert _found(site, "street", "13912340000") == [] == _found(site, "street", "张先生")  # another street's
    for who in ("anonymous", "planner", "other"):
        for typed in ("13528640858", "135-2864-0858", "吴先生", "05356623456"):
            assert _found(site, who, typed) == [], (who, typed)


def _toilets(site) -> dict:  # noqa: F811
    return {r[0]: (r[1], r[2]) for r in site.sql("SELECT source_id, ST_X(geom), ST_Y(geom) FROM toilets")}


def _unmoved(before: dict, after: dict) -> None:
    assert after.keys() == before.keys()
    moved = {k: (before[k], after[k]) for k in before
             if abs(before[k][0] - after[k][0]) > 1e-7 or abs(before[k][1] - after[k][1]) > 1e-7}
    assert moved == {}


def test_a_toilet_export_says_wgs84_and_loads_back_without_moving(site):  # noqa: F811
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "名称", "地址", "经度", "纬度"])  # the office's Gaode ledger
    for k, (lon, lat) in enumerate((WEST_PT, EAST_PT, OTHER_PT, (121.3870, 37.5310)), 1):
        sheet.append([k, f"幸福路{k}号公厕", f"芝罘区幸福路{k}号", lon, lat])
    book.save(site.work / "公厕台账.xlsx")
    site.cli("import", "toilets", "公厕台账.xlsx", "--crs", "gcj02")
    before = _toilets(site)
    assert len(before) == 4
    site.cli("export", "toilets", "--format", "xlsx", "--out", "toilets.xlsx")
    header = next(openpyxl.load_workbook(site.work / "toilets.xlsx").active.iter_rows(values_only=True))
    assert header[-2:] == ("经度(WGS84)", "纬度(WGS84)"), header
    site.cli("export", "toilets", "--format", "csv", "--out", "toilets.csv")
    with (site.work / "toilets.csv").open(encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh))[-2:] == ["lon (WGS84)", "lat (WGS84)"]
    for name, column in (("toilets.xlsx", "经度(WGS84)"), ("toilets.csv", "lon (WGS84)")):
        refused = site.cli("import", "toilets", name, "--crs", "gcj02", check=False)
        assert refused.returncode == 2 and "--crs" in refused.stderr and column in refused.stderr, refused.stderr
        _unmoved(before, _toilets(site))
        site.cli("import", "toilets", name)
        _unmoved(before, _toilets(site))
