"""The New York walkthrough's office findings, on New York built from NYC Open Data (tests/new_york.py), through the
served routes and commands.

Phones as offices write them — ``(212) 555-0100``, ``212.555.0100``, ``（0535）6612345`` — were refused on a grid's
assignment, in a roster and on a public report, while the public report took ``123``: now one rule
(layers/workflow/phones.py) everywhere, the report page checking with the server's own pattern. An "after" photo
byte-identical to a "before" one (a finding's, a case's) is refused. A street office filing a complaint outside its
street is told the street, not "grid -". A public photo without its report's challenge is a malformed form (422).
"""

from __future__ import annotations

import io
import json
import re
import subprocess

import httpx
import openpyxl
from PIL import Image

from layers.workflow.phones import phone_problem
from layers.workflow.public_challenges import solve
from tests.new_york import (  # noqa: F401  (pytest fixtures, used by name)
    STREET,
    call,
    newyork,
    ny_grids,
    ny_round,
    ny_server,
)

#: How offices write a phone, and how it is stored (full-width brackets and digits as ASCII).
OFFICE_PHONES = (("(212) 555-0100", "(212) 555-0100"), ("212.555.0100", "212.555.0100"),
                 ("（0535）6612345", "(0535)6612345"), ("(0535)6612345", "(0535)6612345"),
                 ("+1 (212) 555-0100", "+1 (212) 555-0100"))
#: No phone numbers: too few digits (a trunk 0 needs its area code), an open bracket, words.
NOT_PHONES = ("123", "555-010", "0535-61234", "(212 555-0100", "call me")


def _jpeg(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(out, format="JPEG")
    return out.getvalue()


def _refused(answer: httpx.Response, status: int, field: str) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["detail"].startswith(f"{field}:") and body["detail_zh"].startswith(f"{field}："), body
    return body


def _report(city, phone: str | None, lon: float, lat: float) -> httpx.Response:
    """A resident's report at (lon, lat) with ``phone``, its proof-of-work solved as the page does; the answer
    carries the challenge (the report's key) as ``.challenge``."""
    given = httpx.get(city.base + "/api/public/challenge", timeout=30).json()
    body = {"lon": lon, "lat": lat, "category": "暴露垃圾", "description": "Bags piled by the basket",
            "challenge": given["challenge"], "nonce": solve(given["challenge"], given["bits"])}
    answer = httpx.post(city.base + "/api/public/reports", json={**body, **({"phone": phone} if phone else {})},
                        timeout=60)
    answer.challenge = given["challenge"]
    return answer


def _point(city, code: str) -> tuple[float, float]:
    return city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids WHERE code = %s",
                    (code,))[0]


def test_a_grid_takes_its_managers_phone_as_the_office_writes_it(ny_server, ny_grids):
    code = ny_grids[0]
    for written, stored in OFFICE_PHONES:
        put = call(ny_server, "PUT", f"/api/grids/{code}/assignment", "admin", json={
            "unit": "DSNY Manhattan 3", "manager": "J. Smith", "phone": written, "reason": "office phone list"})
        assert put.status_code == 200, (written, put.text)
        assert ny_server.one("SELECT phone FROM grids WHERE code = %s", (code,)) == stored
    for bad in NOT_PHONES:
        put = call(ny_server, "PUT", f"/api/grids/{code}/assignment", "admin", json={
            "unit": "DSNY Manhattan 3", "manager": "J. Smith", "phone": bad, "reason": "office phone list"})
        body = _refused(put, 422, "phone")
        assert repr(bad) in body["detail"] and repr(bad) in body["detail_zh"], body


def test_a_roster_filled_from_an_office_phone_list_loads_whole(ny_server, ny_grids):
    """`grids assign` changes nothing when one row is wrong: a list written "(212) 555-0100" failed row by row."""
    ny_server.cli("grids", "roster", "--street", STREET, "--out", "office.xlsx")
    book = openpyxl.load_workbook(ny_server.work / "office.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    code_col, phone_col = header.index("网格编码") + 1, header.index("联系电话") + 1
    expected = {}
    for row in range(2, sheet.max_row + 1):
        written, stored = OFFICE_PHONES[row % len(OFFICE_PHONES)]
        written, stored = written.replace("0100", f"01{row:02d}"), stored.replace("0100", f"01{row:02d}")
        written, stored = (written.replace("612345", f"6123{row:02d}"), stored.replace("612345", f"6123{row:02d}"))
        sheet.cell(row, phone_col, written)
        expected[sheet.cell(row, code_col).value] = stored
    book.save(ny_server.work / "office-filled.xlsx")
    ny_server.cli("grids", "assign", "office-filled.xlsx", "--reason", "office phone list")
    stored = dict(ny_server.sql("SELECT code, phone FROM grids WHERE code = ANY(%s)", (list(expected),)))
    assert stored == expected and len(set(expected.values())) > 1


def test_a_residents_phone_follows_the_rosters_rule_and_the_page_checks_it_so(ny_server, ny_grids):
    lon, lat = _point(ny_server, ny_grids[3])
    for written, stored in (OFFICE_PHONES[0], OFFICE_PHONES[2]):
        made = _report(ny_server, written, lon, lat)
        assert made.status_code == 201, (written, made.text)
        kept = ny_server.one("SELECT phone FROM public_contacts WHERE tracking = %s", (made.json()["tracking"],))
        assert kept == stored
    for bad in ("123", "0535-61234"):  # "123" was taken as a phone by the public channel
        _refused(_report(ny_server, bad, lon, lat), 422, "phone")
    # The page's check before sending is the server's rule, in JavaScript: it agrees on every example.
    page = httpx.get(ny_server.base + "/report", timeout=30).text
    config = json.loads(re.search(r'<script[^>]*id="rp-config"[^>]*>(.*?)</script>', page, re.S).group(1))
    examples = [w for w, _ in OFFICE_PHONES] + list(NOT_PHONES) + ["１３８６３５５００００", "1" * 33]
    script = ("const [p, xs] = JSON.parse(process.argv[1]); const r = new RegExp(p);"
              "console.log(JSON.stringify(xs.map(x => r.test(x.normalize('NFKC').trim()))));")
    judged = subprocess.run(["node", "-e", script, json.dumps([config["phone_pattern"], examples])],
                            capture_output=True, text=True, check=True, timeout=30).stdout
    assert json.loads(judged) == [phone_problem(x) is None for x in examples]


def test_an_after_photo_the_same_as_the_findings_before_photo_is_refused(ny_server, ny_round):
    finding = ny_round["id"]
    picture = _jpeg((150, 40, 40))
    url = f"/api/inspections/findings/{finding}/photos"
    before = call(ny_server, "POST", url, "inspector", data={"stage": "before"},
                  files={"file": ("p.jpg", picture, "image/jpeg")})
    assert before.status_code == 201, before.text
    same = call(ny_server, "POST", url, "street", data={"stage": "after"}, files={"file": ("p.jpg", picture, "image/jpeg")})
    body = _refused(same, 422, "file")
    assert "same picture as a before photo" in body["detail"] and "与一张整改前照片完全相同" in body["detail_zh"], body
    assert ny_server.one("SELECT count(*) FROM inspection_photos WHERE finding_id = %s AND stage = 'after'",
                         (finding,)) == 0
    done = call(ny_server, "PATCH", f"/api/inspections/findings/{finding}", "street", json={"status": "已整改"})
    assert done.status_code == 409 and "stage=after" in done.text, done.text  # still no after photo: not rectified
    new = call(ny_server, "POST", url, "street", data={"stage": "after"},
               files={"file": ("q.jpg", _jpeg((40, 160, 60)), "image/jpeg")})
    assert new.status_code == 201, new.text


def test_a_cases_after_photo_the_same_as_a_before_photo_is_refused(ny_server, ny_grids):
    """The street's own before photo, or the resident's photo of the report, sent back as the result."""
    made = _report(ny_server, None, *_point(ny_server, ny_grids[5]))
    assert made.status_code == 201, made.text
    resident = _jpeg((20, 20, 200))
    sent = httpx.post(ny_server.base + f"/api/public/reports/{made.json()['tracking']}/photos", timeout=60,
                      data={"challenge": made.challenge}, files={"file": ("r.jpg", resident, "image/jpeg")})
    assert sent.status_code == 201, sent.text
    case = ny_server.one("SELECT complaint_id FROM public_reports WHERE tracking = %s", (made.json()["tracking"],))
    staff = _jpeg((200, 200, 20))
    url = f"/api/complaints/{case}/photos"
    added = call(ny_server, "POST", url, "street", data={"stage": "before"}, files={"file": ("s.jpg", staff, "image/jpeg")})
    assert added.status_code == 201, added.text
    for step in ("立案", "派遣", "处置", "核查"):
        moved = call(ny_server, "PATCH", f"/api/complaints/{case}", "street", json={"status": step})
        assert moved.status_code == 200, moved.text
    for picture in (staff, resident):
        same = call(ny_server, "POST", url, "street", data={"stage": "after"},
                    files={"file": ("a.jpg", picture, "image/jpeg")})
        _refused(same, 422, "file")
    new = call(ny_server, "POST", url, "street", data={"stage": "after"},
               files={"file": ("a.jpg", _jpeg((20, 200, 20)), "image/jpeg")})
    assert new.status_code == 201, new.text


def test_a_street_office_filing_outside_its_street_is_told_the_street_not_a_grid_placeholder(ny_server, ny_grids):
    """-73.95, 40.65 lies in Brooklyn's BK17, which has no grids: "not in grid - of street BK17" named nothing."""
    street = ny_server.one("SELECT code FROM admin_areas WHERE level = 'street' AND "
                           "ST_Contains(geom, ST_SetSRID(ST_Point(-73.95, 40.65), 4326))")
    assert street and street != STREET
    assert ny_server.one("SELECT count(*) FROM grids WHERE street_code = %s", (street,)) == 0
    answer = call(ny_server, "POST", "/api/complaints", "street", json={
        "lon": -73.95, "lat": 40.65, "category": "暴露垃圾", "source": "311", "description": "outside"})
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert body["detail"].endswith(f"may file complaints in street {STREET}, not in street {street}"), body
    assert body["detail_zh"].endswith(f"不包括街道 {street}"), body


def test_a_public_photo_without_the_reports_challenge_is_a_malformed_form(ny_server, ny_grids):
    made = _report(ny_server, None, *_point(ny_server, ny_grids[6]))
    assert made.status_code == 201, made.text
    url = ny_server.base + f"/api/public/reports/{made.json()['tracking']}/photos"
    photo = {"file": ("r.jpg", _jpeg((90, 90, 90)), "image/jpeg")}
    _refused(httpx.post(url, files=photo, timeout=60), 422, "challenge")
    assert httpx.post(url, data={"challenge": "not-the-reports"}, files=photo, timeout=60).status_code == 403
    assert httpx.post(url, data={"challenge": made.challenge}, files=photo, timeout=60).status_code == 201
