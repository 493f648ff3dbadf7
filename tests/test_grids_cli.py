"""`hygiene-map grids …` and `users add` against a real PostGIS: roster round trip, regeneration, balance."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from api.cli.main import main
from data.db import connect
from data.vocab import city_tz
from layers.workflow.access import user_for_token

STREET = "379901001"


@pytest.fixture
def city_db(writable_demo, env_for):
    env_for(writable_demo)
    return writable_demo


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _numbers(text: str) -> Counter:
    """The numbers and codes a command printed, whatever its language."""
    return Counter(re.findall(r"[+-]?\d+(?:[.,:]\d+)*%?", text))


def _query(url, sql, params=()):
    conn = connect(url=url)
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.close()
    return rows


def test_users_add_prints_a_working_token_once(city_db):
    code, out = run("users", "add", "街道甲", "--role", "street", "--street", STREET)
    assert code == 0, out
    assert out.startswith(f"已添加用户 街道甲（street，街道 {STREET}）；令牌如下（只显示这一次，请妥善保管）：\n"), out
    token = out.strip().splitlines()[-1]
    conn = connect(url=city_db)
    user = user_for_token(conn, token)
    conn.close()
    assert user.name == "街道甲" and user.role == "street" and user.street_code == STREET
    # In English with --lang en; the token is still the last word of the last line.
    code, out = run("users", "add", "planner-b", "--role", "planner", "--lang", "en")
    assert code == 0 and out.startswith("user planner-b (planner, read only) added; token (shown once, keep it "
                                        "safe):\n"), out
    conn = connect(url=city_db)
    assert user_for_token(conn, out.strip().splitlines()[-1].split()[-1]).name == "planner-b"
    conn.close()
    assert _query(city_db, "SELECT count(*) FROM users WHERE token_sha256 = %s", (token,))[0][0] == 0
    code, out = run("users", "disable", "街道甲")
    assert code == 0 and out == "已停用用户 街道甲\n", out
    conn = connect(url=city_db)
    assert user_for_token(conn, token) is None
    conn.close()
    assert run("users", "disable", "街道甲")[0] != 0
    # Bad scopes are one-line errors, in Chinese.
    for args, word in [(("users", "add", "x", "--role", "street"), "--street：街道用户须用 --street CODE 指定街道"),
                       (("users", "add", "y", "--role", "street", "--street", "379999999"), "379999999"),
                       (("users", "add", "z", "--role", "inspector", "--grids", "1234"), "--grids：没有编码为 1234 的网格"),
                       (("users", "add", "街道甲", "--role", "planner"), "已有名为 '街道甲' 的用户")]:
        code, out = run(*args)
        assert code != 0 and word in out and "Traceback" not in out and len(out.strip().splitlines()) == 1


def test_roster_round_trip(city_db, tmp_path):
    out = tmp_path / "roster.xlsx"
    code, text = run("grids", "roster", "--street", STREET, "--out", str(out))
    assert code == 0, text
    n_grids = _query(city_db, "SELECT count(*) FROM grids WHERE street_code = %s", (STREET,))[0][0]
    assert text == f"{out}：街道 {STREET} 的网格 {n_grids} 个\n", text  # said in Chinese by default
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("网格编码", "社区编码", "社区", "责任单位", "网格长", "联系电话")
    db_rows = _query(city_db, "SELECT code, responsible_unit, grid_manager, phone FROM grids "
                              "WHERE street_code = %s ORDER BY code", (STREET,))
    assert [(r[0], r[3], r[4], r[5]) for r in rows[1:]] == [tuple(r) for r in db_rows]
    open_counts = dict(_query(city_db, "SELECT grid_code, count(*) FROM complaints WHERE street_code = %s "
                                       "AND status <> '结案' GROUP BY 1", (STREET,)))
    assert {r[0]: r[7] for r in rows[1:]} == {r[0]: open_counts.get(r[0], 0) for r in db_rows}
    assert sum(r[6] for r in rows[1:]) > 0  # facilities counted
    # Load the unchanged roster: nothing changes, nothing is recorded.
    before = _query(city_db, "SELECT count(*) FROM grid_assignments")[0][0]
    code, text = run("grids", "assign", str(out), "--lang", "en")
    assert code == 0 and "changed 0" in text, text
    code, text = run("grids", "assign", str(out), "--dry-run")
    assert code == 0 and text == f"roster.xlsx：{n_grids} 行均有效；将变更网格 0 个，未变 {n_grids} 个\n", text
    assert _query(city_db, "SELECT count(*) FROM grid_assignments")[0][0] == before
    # Edit two rows and load again: exactly those change, with the reason given.
    book = load_workbook(out)
    sheet = book.active
    sheet["D2"], sheet["E2"], sheet["J2"] = "新责任单位", "新网格长", "年度调整"
    sheet["F3"] = "13900001111"
    book.save(out)
    code, text = run("grids", "assign", str(out), "--reason", "名册更新")
    assert code == 0 and text == f"roster.xlsx：{n_grids} 行均有效；变更网格 2 个，未变 {n_grids - 2} 个\n", text
    first, second = db_rows[0][0], db_rows[1][0]
    assert _query(city_db, "SELECT responsible_unit, grid_manager FROM grids WHERE code = %s", (first,))[0] == (
        "新责任单位", "新网格长")
    reasons = dict(_query(city_db, "SELECT grid_code, reason FROM grid_assignments WHERE grid_code IN (%s, %s) "
                                   "AND changed_by LIKE 'cli:%%'", (first, second)))
    assert reasons == {first: "年度调整", second: "名册更新"}
    # The English roster reads back too.
    en = tmp_path / "roster_en.xlsx"
    code, text = run("grids", "roster", "--street", STREET, "--out", str(en), "--lang", "en")
    assert code == 0 and text == f"{en}: {n_grids} grids of street {STREET}\n", text
    assert load_workbook(en).active["A1"].value == "grid_code"
    code, text = run("grids", "assign", str(en), "--lang", "en")
    assert code == 0 and "changed 0" in text


def test_a_roster_with_bad_rows_changes_nothing_and_names_each_row(city_db, tmp_path):
    grid = _query(city_db, "SELECT code FROM grids WHERE street_code = %s ORDER BY code LIMIT 1", (STREET,))[0][0]
    book = Workbook()
    sheet = book.active
    sheet.append(["网格编码", "责任单位", "网格长", "联系电话"])
    sheet.append([grid, "好单位", "好人", "0535-6000000"])
    sheet.append(["37990100199999", "单位", "人", "0535-6000000"])
    sheet.append([grid, "", "人", "not a phone"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    before = _query(city_db, "SELECT responsible_unit FROM grids WHERE code = %s", (grid,))[0][0]
    code, text = run("grids", "assign", str(path))  # said in Chinese by default, each row named
    assert code != 0 and text.startswith("hygiene-map：错误：4 处问题，未做任何修改："), text
    assert "bad.xlsx 第 3 行：网格编码：没有编码为 37990100199999 的网格" in text, text
    assert f"bad.xlsx 第 4 行：网格编码：{grid} 已在第 2 行给出" in text, text
    assert "bad.xlsx 第 4 行：责任单位：不能为空" in text and "bad.xlsx 第 4 行：联系电话：'not a phone' 不是电话号码" in text
    code, text = run("grids", "assign", str(path), "--lang", "en")
    assert code != 0 and "nothing was changed" in text
    assert "row 3" in text and "37990100199999" in text and "row 4" in text and "phone" in text and "unit" in text
    assert _query(city_db, "SELECT responsible_unit FROM grids WHERE code = %s", (grid,))[0][0] == before
    code, text = run("grids", "assign", str(tmp_path / "missing.xlsx"))
    assert code != 0 and "missing.xlsx" in text and "Traceback" not in text


def test_regenerating_reports_changes_and_never_drops_an_assignment_silently(city_db):
    grids_before = dict(_query(city_db, "SELECT code, responsible_unit FROM grids WHERE street_code = %s", (STREET,)))
    # Same size and fishnet: nothing changes.
    code, text = run("grids", "generate", "--street", STREET, "--size", "250", "--lang", "en")
    assert code == 0, text
    assert f"{len(grids_before)} grids" in text and f"{len(grids_before)} unchanged" in text
    # Coarser grids merge cells: some assignments would be inherited by no grid → refused, nothing written.
    code, text = run("grids", "generate", "--street", STREET, "--size", "500")
    assert code != 0 and f"重新划分街道 {STREET} 会丢掉" in text and "加 --force 重新运行" in text, text
    assert dict(_query(city_db, "SELECT code, responsible_unit FROM grids WHERE street_code = %s",
                       (STREET,))) == grids_before
    code, text = run("grids", "generate", "--street", STREET, "--size", "500", "--dry-run", "--lang", "en")
    assert code == 0 and "dry run" in text and "inherited by no new grid" in text
    english = text
    # In Chinese by default: every line, with the same numbers and codes.
    code, text = run("grids", "generate", "--street", STREET, "--size", "500", "--dry-run")
    assert code == 0 and text.endswith("\n试运行：未写入任何内容\n"), text
    assert re.match(rf"街道 {STREET}：网格 \d+ 个（正方形 500 米）：未变 \d+ 个，形状调整 \d+ 个，移位 \d+ 个，新增 \d+ 个，"
                    r"删除 \d+ 个；无新网格继承的原责任分配 [1-9]\d* 项\n", text), text
    assert "  无新网格继承的原责任分配：" in text and "  删除（连同历史记录归档）：" in text, text
    assert re.search(r"^  (移位|新增)：\d+ 继承 \d+ 的责任分配（重叠 \d+%）$", text, re.M), text
    assert not re.search(r"\b(street|grids|unchanged|assignment|removed|moved|new|inherits|dry run)\b", text), text
    assert _numbers(text) == _numbers(english)
    code, text = run("grids", "generate", "--street", STREET, "--size", "500", "--force")
    assert code == 0, text
    assert re.search(r"^已写入：责任分配历史记录 \d+ 条；\d+ 件投诉和 \d+ 条暗访问题已改挂到新网格$", text, re.M), text
    after = dict(_query(city_db, "SELECT code, responsible_unit FROM grids WHERE street_code = %s", (STREET,)))
    assert len(after) < len(grids_before)
    removed = set(grids_before) - set(after)
    # Removed grids are archived, and their history is still readable.
    archived = {r[0] for r in _query(city_db, "SELECT code FROM grid_archive")}
    assert archived == removed
    from layers.workflow.grids import history

    conn = connect(url=city_db)
    for code_ in removed:
        retired = history(conn, code_)
        assert retired["current"] is False and retired["retired_at"] and len(retired["history"]) >= 1
    # A kept code that now lies over another old grid took that grid's assignment, and its history says so.
    changed = [c for c in after if after[c] != grids_before.get(c)]
    assert changed
    entry = history(conn, changed[0])["history"][-1]
    assert "继承自" in entry["reason"] and entry["changed_by"].startswith("cli:")
    assert entry["before"] is None or entry["before"]["unit"] == grids_before[changed[0]]
    conn.close()
    # Every new grid carries an assignment inherited from an old one, and says so in its history.
    assert all(unit for unit in after.values())
    assert set(after.values()) <= set(grids_before.values())
    # The grids still tile the street's communities, and complaints follow them.
    diff = _query(city_db, """SELECT ST_Area(ST_SymDifference(
                                  (SELECT ST_Union(geom) FROM grids WHERE street_code = %(s)s),
                                  (SELECT ST_Union(geom) FROM admin_areas WHERE parent_code = %(s)s))::geography),
                                 ST_Area((SELECT ST_Union(geom) FROM admin_areas WHERE code = %(s)s)::geography)""",
                  {"s": STREET})[0]
    assert diff[0] < 1e-3 * diff[1]
    stray = _query(city_db, """SELECT count(*) FROM complaints c WHERE c.street_code = %s AND NOT EXISTS
                                 (SELECT 1 FROM grids g WHERE g.code = c.grid_code AND ST_Intersects(g.geom, c.geom))""",
                   (STREET,))[0][0]
    assert stray == 0
    audit = _query(city_db, "SELECT detail->>'forced' FROM audit_log WHERE action = 'grids.generate'")
    assert audit == [("false",), ("true",)]


def test_hex_grids_and_numbering(city_db):
    street = "379901002"
    code, text = run("grids", "generate", "--street", street, "--size", "250", "--shape", "hex", "--force")
    assert code == 0, text
    rows = _query(city_db, """SELECT code, community_code, (attributes->>'row')::int, (attributes->>'col')::int,
                                     attributes->>'shape', ST_NPoints(geom) FROM grids WHERE street_code = %s""",
                  (street,))
    assert rows and all(r[4] == "hex" and r[0].startswith(r[1]) and len(r[0]) == 14 for r in rows)
    by_comm: dict[str, list] = {}
    for r in rows:
        by_comm.setdefault(r[1], []).append(r)
    for grids in by_comm.values():
        assert [g[0] for g in sorted(grids)] == [g[0] for g in sorted(grids, key=lambda g: (-g[2], g[3]))]
    # A second run with the same settings changes nothing.
    code, text = run("grids", "generate", "--street", street, "--size", "250", "--shape", "hex", "--lang", "en")
    assert code == 0 and f"{len(rows)} unchanged" in text
    code, text = run("grids", "generate", "--street", street, "--size", "250", "--shape", "hex", "--dry-run")
    assert code == 0 and f"网格 {len(rows)} 个（六边形 250 米）：未变 {len(rows)} 个，" in text, text


def test_generate_errors_are_one_line(city_db):
    for args, word in [(("--street", "379999999", "--size", "250"), "379999999"),
                       (("--street", STREET, "--size", "1"), "--size"),
                       (("--street", STREET, "--size", "250", "--origin", "x"), "--origin")]:
        code, text = run("grids", "generate", *args)
        assert code != 0 and word in text and len(text.strip().splitlines()) == 1, text


def test_balance_proposes_contiguous_zones_and_reports_imbalance(city_db, tmp_path):
    out = tmp_path / "zones.csv"
    code, text = run("grids", "balance", "--street", STREET, "--zones", "4", "--out", str(out), "--lang", "en")
    assert code == 0, text
    assert "imbalance" in text and text.count("zone ") >= 4
    english = text
    code, text = run("grids", "balance", "--street", STREET, "--zones", "4", "--out", str(out))  # Chinese by default
    assert code == 0 and re.match(rf"街道 {STREET}：网格 \d+ 个，分为 4 个分区；工作量 = 截至 [\d :-]+ 的 365 天内的投诉 \+ 设施\n",
                                  text), text
    assert len(re.findall(r"^  分区 [1-4]：网格 \d+ 个，工作量 \d+（投诉 \d+ 件，设施 \d+ 处）：\d+", text, re.M)) == 4, text
    assert re.search(r"^不均衡度：最大分区高于平均值 [+-][\d.]+%；极差（最大−最小）/平均值 [\d.]+%$", text, re.M), text
    assert text.endswith(f"已写入：{out}\n") and _numbers(text) == _numbers(english), (text, english)
    import csv

    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    n_grids = _query(city_db, "SELECT count(*) FROM grids WHERE street_code = %s", (STREET,))[0][0]
    assert len(rows) == n_grids and {r["zone"] for r in rows} == {"1", "2", "3", "4"}
    # Each zone is one contiguous piece.
    for zone in "1234":
        codes = [r["grid_code"] for r in rows if r["zone"] == zone]
        parts = _query(city_db, "SELECT ST_NumGeometries(ST_Union(ST_Buffer(geom::geography, 0.5)::geometry)) "
                                "FROM grids WHERE code = ANY(%s)", (codes,))[0][0]
        assert parts == 1, zone
    code, text = run("grids", "balance", "--street", STREET, "--zones", "0")
    assert code != 0 and "--zones" in text


def test_balance_counts_the_last_days_of_a_frozen_extract_not_of_today(city_db, tmp_path):
    """The demo is a snapshot to its data time: "the last 30 days" are its last 30 days, whatever today is."""
    out = tmp_path / "zones.csv"
    code, text = run("grids", "balance", "--street", STREET, "--zones", "2", "--days", "30", "--out", str(out),
                     "--lang", "en")
    assert code == 0, text
    import csv

    with out.open(encoding="utf-8") as fh:
        counted = sum(int(r["complaints"]) for r in csv.DictReader(fh))
    expected, data_time = _query(
        city_db, "SELECT count(*), max(s.data_time) FROM complaints c, city_settings s WHERE c.street_code = %s "
                 "AND c.grid_code IS NOT NULL AND c.reported_at >= s.data_time - interval '30 days'", (STREET,))[0]
    assert counted == expected > 0
    assert f"complaints of the 30 days to {data_time.astimezone(city_tz()):%Y-%m-%d %H:%M}" in text, text
