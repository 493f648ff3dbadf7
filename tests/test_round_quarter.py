"""A campaign office's quarter of inspections on Taipei (findings_cycle items 0, 1, 3, 8, 11): rounds over 大同區
in each month of last quarter and one over a second street; a rectification and a failed re-check entered
afterwards from paper records; a 暗访 planned for next week; a regrid of 大同區 at the end.

- a quarter's score is the mean of its rounds' scores, so the street inspected three times is not ranked below
  the one inspected once for that alone (streets and units);
- a round not yet started is scored for no one (the bulletin would reveal an unannounced visit);
- a step of a finding can be dated when it happened (``at``), bounded, and a past bulletin follows it;
- after a regrid, past bulletins and an ended round's problem list name the grid a finding was found in;
- errors about a round's times say them in the city's zone.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest

from tests.inspecting import photo_bytes
from tests.real_city import TAIPEI_STREET, taipei, taipei_grids, taipei_server  # noqa: F401  (fixtures)


def _call(city, method: str, path: str, token: str | None, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, city.base + path, headers=headers, timeout=120, **kw)


def _last_quarter(zone: ZoneInfo) -> tuple[str, list[datetime]]:
    """Last quarter's label (2026-Q3) and the 8th of each of its months at 00:00 in the city's zone."""
    today = datetime.now(zone)
    first = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (first - timedelta(days=1)).replace(day=1)
    start = start.replace(month=3 * ((start.month - 1) // 3) + 1)
    months = [start.replace(month=start.month + i, day=8) for i in range(3)]
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}", months


@pytest.fixture(scope="module")
def quarter(taipei_server):
    """Three weekly rounds over 大同區 (one per month of last quarter), the first also over a second street; one
    2-point finding in 大同區 per round (in three grids) and two in the second street in the first round."""
    city = taipei_server
    zone = ZoneInfo(city.one("SELECT time_zone FROM city_settings"))
    label, months = _last_quarter(zone)
    other, olon, olat = city.sql(
        "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM admin_areas "
        "WHERE level = 'street' AND code <> %s ORDER BY code LIMIT 1", (TAIPEI_STREET,))[0]
    points = city.sql("SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                      "WHERE street_code = %s ORDER BY code", (TAIPEI_STREET,))
    rounds, found = [], []
    for i, day in enumerate(months):
        streets = [TAIPEI_STREET, other] if i == 0 else [TAIPEI_STREET]
        made = _call(city, "POST", "/api/inspections/rounds", city.token,
                     json={"name": f"第{i + 1}月周检查", "kind": "周检查", "streets": streets,
                           "starts": day.strftime("%Y-%m-%d %H:%M"),
                           "ends": (day + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")})
        assert made.status_code == 201, made.text
        rounds.append(made.json()["id"])
        code, lon, lat = points[(3 * i + 2) % len(points)]
        spots = [(lon, lat)] + ([(olon, olat)] * 2 if i == 0 else [])
        for j, (x, y) in enumerate(spots):
            post = _call(city, "POST", "/api/inspections/findings", city.token,
                         json={"round_id": rounds[-1], "lon": x, "lat": y, "item": "TLT-01",
                               "observed_at": (day + timedelta(days=1, hours=10)).strftime("%Y-%m-%d %H:%M"),
                               "client_id": f"quarter-{i}-{j}"})
            assert post.status_code == 201, post.text
            found.append(post.json())
    return {"zone": zone, "label": label, "months": months, "rounds": rounds, "other": other,
            "datong": [f for f in found if f["street_code"] == TAIPEI_STREET]}


def test_a_quarters_score_is_the_mean_of_its_rounds(taipei_server, quarter):
    """大同區 lost 2 points in each of three rounds (6 in all), the other street 4 in its one round: per round
    大同區 did better (98 vs 96) and ranks first; the unit charged in the three rounds scores 98, not 94."""
    city = taipei_server
    b = _call(city, "GET", "/api/reports/bulletin", None, params={"period": "quarter", "date": quarter["label"]})
    assert b.status_code == 200, b.text
    b = b.json()
    rows = {r["code"]: r for r in b["streets"]}
    datong, other = rows[TAIPEI_STREET], rows[quarter["other"]]
    assert (datong["findings"], datong["deductions"], datong["score"], datong["rank"]) == (3, 6, 98, 1)
    assert (other["findings"], other["deductions"], other["score"], other["rank"]) == (2, 4, 96, 2)
    assert b["ranked_by"] == "score"
    units = {f["unit"] for f in quarter["datong"]}
    charged = [r for r in b["units"] if r["code"] in units]
    assert charged and all(r["score"] == round(100 - 2 * r["findings"] / 3, 2) for r in charged), charged
    # One month: one round, its own score as before.
    first = quarter["months"][0].strftime("%Y-%m")
    m = _call(city, "GET", "/api/reports/bulletin", None, params={"period": "month", "date": first}).json()
    assert {r["code"]: r["score"] for r in m["streets"] if r["score"] is not None} == {
        TAIPEI_STREET: 98, quarter["other"]: 96}


def test_a_round_not_yet_started_is_scored_for_no_one(taipei_server, quarter):
    """A 暗访 over 大同區 planned for next week: that week's bulletin, for the public, the street office and the
    campaign office alike (JSON and workbook), scores no street — it would tell 大同區 it is to be visited."""
    city = taipei_server
    street_token = city.cli("users", "add", "quarter-street", "--role", "street", "--street",
                            TAIPEI_STREET).stdout.strip().splitlines()[-1]
    starts = datetime.now(UTC) + timedelta(days=8)
    made = _call(city, "POST", "/api/inspections/rounds", city.token,
                 json={"name": "下周月度暗访", "kind": "月度暗访", "streets": [TAIPEI_STREET],
                       "starts": starts.isoformat(), "ends": (starts + timedelta(days=2)).isoformat()})
    assert made.status_code == 201 and made.json()["unannounced"], made.text
    year, week, _ = (starts + timedelta(days=1)).astimezone(quarter["zone"]).isocalendar()
    params = {"period": "week", "date": f"{year}-W{week:02d}"}
    for token in (None, street_token, city.token):
        b = _call(city, "GET", "/api/reports/bulletin", token, params=params)
        assert b.status_code == 200, b.text
        b = b.json()
        assert b["inspections"] is None, b["inspections"]
        assert all(r["score"] is None for r in b["streets"]), [r for r in b["streets"] if r["score"] is not None]
    book = _call(city, "GET", "/reports/bulletin.xlsx", None, params=params)
    assert book.status_code == 200, book.text
    for sheet in openpyxl.load_workbook(io.BytesIO(book.content)).worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        heads = [i for i, row in enumerate(rows) if "得分" in row]
        for h in heads:
            col = rows[h].index("得分")
            datong = [row for row in rows[h + 1:] if "大同區" in row]
            assert all(row[col] in (None, "") for row in datong), (sheet.title, datong)


def _names_at(answer: httpx.Response) -> bool:
    return answer.status_code == 422 and ("at：" in answer.text or "at: " in answer.text)


def _rectify(city, finding: dict, at: datetime) -> httpx.Response:
    path = f"/api/inspections/findings/{finding['id']}"
    photo = _call(city, "POST", path + "/photos", city.token, data={"stage": "after"},
                  files={"file": ("after.jpg", photo_bytes(), "image/jpeg")})
    assert photo.status_code in (200, 201), photo.text  # the same photo again: the one stored
    return _call(city, "PATCH", path, city.token, json={"status": "已整改", "note": "纸质记录", "at": at})


def test_a_rectification_is_entered_when_it_happened(taipei_server, quarter):
    """Paper records: 大同區's first-month finding (due the next day 10:00) was fixed at 09:00 that day and passed
    its re-check that afternoon: the month's bulletin does not list it 逾期. The third month's failed its re-check
    two days after it was found: the new deadline counts from then. ``at`` before the finding's last step (or its
    observation), or in the future, is refused naming ``at``."""
    city, zone = taipei_server, quarter["zone"]
    inspector = city.cli("users", "add", "quarter-inspector", "--role", "inspector", "--street",
                         TAIPEI_STREET).stdout.strip().splitlines()[-1]
    first, third = quarter["datong"][0], quarter["datong"][2]
    observed = datetime.fromisoformat(first["observed_at"])
    path = f"/api/inspections/findings/{first['id']}"
    for bad in (observed - timedelta(hours=1), datetime.now(UTC) + timedelta(days=1)):
        assert _names_at(_rectify(city, first, bad.isoformat()))
    fixed = (observed + timedelta(hours=23)).astimezone(zone)
    moved = _rectify(city, first, fixed.strftime("%Y-%m-%d %H:%M"))  # zone-less: the city's time
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["events"][-1]["at"]) == fixed
    assert _names_at(_call(city, "PATCH", path, inspector, json={"status": "复查通过", "at": observed.isoformat()}))
    passed = _call(city, "PATCH", path, inspector, json={"status": "复查通过",
                                                         "at": (fixed + timedelta(hours=6)).isoformat()})
    assert passed.status_code == 200, passed.text
    month = observed.astimezone(zone).strftime("%Y-%m")
    b = _call(city, "GET", "/api/reports/bulletin", None, params={"period": "month", "date": month})
    assert b.status_code == 200, b.text
    assert first["id"] not in {r["id"] for r in b.json()["rectification"]["items"]}

    seen = datetime.fromisoformat(third["observed_at"])
    assert _rectify(city, third, (seen + timedelta(hours=1)).isoformat()).status_code == 200
    rechecked = seen + timedelta(days=2)
    failed = _call(city, "PATCH", f"/api/inspections/findings/{third['id']}", inspector,
                   json={"status": "复查未通过", "note": "仍脏", "at": rechecked.isoformat()})
    assert failed.status_code == 200, failed.text
    assert datetime.fromisoformat(failed.json()["due_at"]) == rechecked + timedelta(days=1)


def test_an_error_about_a_rounds_times_says_them_in_the_citys_zone(taipei_server, quarter):
    """A finding outside the round: the round's span is said as it was planned, 00:00 in Taipei (not UTC)."""
    city = taipei_server
    day = quarter["months"][0]
    lon, lat = city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                        "WHERE street_code = %s LIMIT 1", (TAIPEI_STREET,))[0]
    answer = _call(city, "POST", "/api/inspections/findings", city.token,
                   json={"round_id": quarter["rounds"][0], "lon": lon, "lat": lat, "item": "TLT-01",
                         "observed_at": (day + timedelta(days=20)).strftime("%Y-%m-%d %H:%M"),
                         "client_id": "quarter-outside"})
    assert answer.status_code == 422, answer.text
    span = f"{day:%Y-%m-%d} 00:00 至 {day + timedelta(days=7):%Y-%m-%d} 00:00"
    assert span in answer.text and "+00:00" not in answer.text, answer.text


def test_after_a_regrid_past_lists_name_the_grid_a_finding_was_found_in(taipei_server, quarter):
    """Last: 大同區 cut again at 350 m. The second month's bulletin lists its overdue finding, and the second
    round's problem list names it, under the grid it was found in, not today's grid at that place; the list's map
    draws the grids of then."""
    from data.db import connect
    from layers.printing.problems_data import load_problems

    city = taipei_server
    finding = quarter["datong"][1]
    then = city.one("SELECT count(*) FROM grids WHERE street_code = %s", (TAIPEI_STREET,))
    city.cli("grids", "generate", "--street", TAIPEI_STREET, "--size", "350", "--force", timeout=600)
    now = city.one("SELECT grid_code FROM inspection_findings WHERE id = %s", (finding["id"],))
    assert now != finding["grid_code"], "the regrid should have renamed the finding's place"
    month = quarter["months"][1].strftime("%Y-%m")
    b = _call(city, "GET", "/api/reports/bulletin", None, params={"period": "month", "date": month}).json()
    listed = {r["id"]: r["grid_code"] for r in b["rectification"]["items"]}
    assert listed[finding["id"]] == finding["grid_code"]
    book = _call(city, "GET", f"/api/inspections/rounds/{quarter['rounds'][1]}/problems.xlsx", city.token)
    assert book.status_code == 200, book.text
    cells = {str(c) for s in openpyxl.load_workbook(io.BytesIO(book.content)).worksheets
             for row in s.iter_rows(values_only=True) for c in row if c is not None}
    assert any(finding["grid_code"] in c for c in cells) and not any(now in c for c in cells), cells
    conn = connect(url=city.url)
    try:
        drawn = load_problems(conn, quarter["rounds"][1]).grids
    finally:
        conn.close()
    assert len(drawn) == then != city.one("SELECT count(*) FROM grids WHERE street_code = %s", (TAIPEI_STREET,))
