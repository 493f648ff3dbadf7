"""A 12345 case found by part of its caller's number or name, as a street office asks (尾号 0858, 姓吴的), on Yantai
built from its real district outlines with 向阳街道 drawn and a user per role (tests/yantai_street.py).

- 4 digits or more of a number find it (the last 4, or any run inside it); 3 digits do not find a number, and a date
  in another column (派单时间 2026-12-01) is no number: 尾号 1201 does not find it.
- A surname alone finds the names beginning with it; 2 characters or more find a name holding them.
- Only for staff who may read the case's caller: another street's office, a planner and the public get nothing,
  whatever part they type. ``%`` and ``_`` are literal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import openpyxl
import pytest

from tests.yantai_street import STREET, ZONE, call, city, site, yantai  # noqa: F401

WEST_PT, OTHER_PT = (121.3835, 37.5255), (121.4320, 37.3860)  # 西山社区 (向阳街道), 黄海路街道 (GCJ-02)
HEADER = ["工单编号", "来电时间", "诉求内容", "诉求类别", "地址", "经纬度", "办理状态", "来电人", "联系电话", "回访日期"]
# (number, where, caller, phone as the hotline wrote it, days ago)
CALLS = (("YTP-2026-00001", WEST_PT, "吴先生", "13528640858", 6),
         ("YTP-2026-00002", WEST_PT, "吴女士", "0535-6623456", 5),
         ("YTP-2026-00003", WEST_PT, "吴先生", "135 2864 0858", 4),
         ("YTP-2026-00004", WEST_PT, "胡吴明", "18605351201", 3),
         ("YTP-2026-00005", OTHER_PT, "张先生", "13912340000", 2))


@pytest.fixture(scope="module")
def hotline(site):  # noqa: F811
    """The export imported as an office does; the complaint ids in CALLS' order."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    now = datetime.now(ZONE).replace(second=0, microsecond=0)
    for number, (lon, lat), caller, phone, days in CALLS:
        sheet.append([number, (now - timedelta(days=days)).strftime("%Y-%m-%d %H:%M"), "路边垃圾无人清理", "垃圾满溢",
                      "烟台市芝罘区幸福路", f"{lon},{lat}", "办理中", caller, phone, "2026-12-01"])
    book.save(site.work / "12345部分.xlsx")
    site.cli("import", "complaints", "12345部分.xlsx", "--crs", "gcj02", "--channel", "12345")
    ids = dict(site.sql("SELECT source_id, id FROM complaints WHERE source_id LIKE 'YTP-%%'"))
    return [ids[c[0]] for c in CALLS]


def _found(site, who, q, **params) -> list[int]:  # noqa: F811
    answer = call(site, "GET", "/api/complaints", who, params={"q": q, "limit": 20, **params})
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["items"]]


def test_the_last_four_digits_or_a_run_inside_find_the_caller_s_cases(site, hotline):  # noqa: F811
    first, landline, again, hu, _ = hotline
    for typed in ("0858", "2864", "28640858", "2864-0858", "０８５８"):
        assert _found(site, "admin", typed) == [again, first], typed  # his number, however it was written
        assert _found(site, "street", typed) == [again, first], typed
    assert _found(site, "admin", "3456") == [landline] == _found(site, "admin", "6623")
    assert _found(site, "admin", "1201") == [hu]  # his 尾号, not every case with a 回访日期 of 2026-12-01
    assert _found(site, "admin", "858") == [] == _found(site, "admin", "286")  # 3 digits: no number
    assert _found(site, "admin", "08580") == []  # the digits must run on, in order


def test_a_surname_or_part_of_a_name_finds_the_caller_s_cases(site, hotline):  # noqa: F811
    first, landline, again, hu, _ = hotline
    assert _found(site, "admin", "吴") == [again, landline, first]  # 姓吴的: not 胡吴明
    assert _found(site, "street", "吴") == [again, landline, first]
    assert _found(site, "admin", "吴明") == [hu] == _found(site, "admin", "胡吴")
    assert _found(site, "admin", "吴先") == [again, first]
    assert _found(site, "admin", "吴 0858") == [again, first]  # every word: the surname and the 尾号
    assert _found(site, "admin", "先") == []  # one character is a surname only
    # Paged like any list: a surname finds many.
    page = call(site, "GET", "/api/complaints", "admin", params={"q": "吴", "limit": 2}).json()
    assert [c["id"] for c in page["items"]] == [again, landline] and page["next_offset"] == 2
    page = call(site, "GET", "/api/complaints", "admin", params={"q": "吴", "limit": 2, "offset": 2}).json()
    assert [c["id"] for c in page["items"]] == [first] and page["next_offset"] is None


def test_only_staff_who_may_read_the_caller_find_a_case_by_part_of_it(site, hotline):  # noqa: F811
    first, landline, again, hu, other = hotline
    assert _found(site, "admin", "0000") == [other] == _found(site, "other", "0000")
    assert _found(site, "other", "张") == [other]
    # Another street's office learns nothing of a caller outside its street, nor the public or a planner.
    assert _found(site, "street", "0000") == [] == _found(site, "street", "张")
    assert _found(site, "other", "0858") == [] == _found(site, "other", "吴")
    for who in ("anonymous", "planner"):
        for typed in ("0858", "2864", "吴", "吴先", "0000", "张"):
            assert _found(site, who, typed) == [], (who, typed)
    assert _found(site, "street", "0858", street=STREET) == [again, first]  # with the other filters


def test_wildcards_typed_are_literal(site, hotline):  # noqa: F811
    first, _, again, _, _ = hotline
    assert _found(site, "admin", "0858") == [again, first]
    for typed in ("08_8", "%0858", "0%58", "_858", "吴%", "吴_生", "%", "_"):
        assert _found(site, "admin", typed) == [], typed
