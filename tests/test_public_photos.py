"""Photos on public reports (issue 17): the reporter's (only the client that made the report, a short while,
at most 3), staff's before/after, served by an unguessable key without EXIF, Open311 media_url; nothing personal
in any answer."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from data.db import connect
from layers.workflow import public_challenges
from tests.inspecting import photo_bytes
from tests.test_public import MAIN_LINE, PHONE, _auth, _complaint_id, _move, _shift, public_city

STAFF = "王街道员"


@pytest.fixture(scope="module")
def city(module_demo):
    return public_city(module_demo)


@pytest.fixture
def client(city, env_for, monkeypatch, tmp_path):
    from api.app import create_app

    env_for(city["url"])
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_POW_BITS", "8")
    monkeypatch.setenv("HYGIENE_MAP_PHOTO_DIR", str(tmp_path / "photos"))
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _made(client, lon, lat, **extra):
    """A report as the page makes it; its tracking number and the challenge it was made with."""
    ch = client.get("/api/public/challenge").json()
    r = client.post("/api/public/reports", json={
        "lon": lon, "lat": lat, "category": "暴露垃圾", "challenge": ch["challenge"],
        "nonce": public_challenges.solve(ch["challenge"], ch["bits"]), **extra})
    assert r.status_code == 201, r.text
    return r.json()["tracking"], ch["challenge"]


def _attach(client, tracking, challenge, data=None, media_type="image/jpeg"):
    files = {"file": ("p.jpg", data if data is not None else photo_bytes(), media_type)}
    return client.post(f"/api/public/reports/{tracking}/photos", data={"challenge": challenge or ""}, files=files)


def _staff_photo(client, city, complaint_id, stage, data, who=STAFF):
    return client.post(f"/api/complaints/{complaint_id}/photos", data={"stage": stage},
                       files={"file": ("s.jpg", data, "image/jpeg")}, headers=_auth(city, who))


def test_reporter_adds_up_to_three_photos_cleaned_of_exif(client, city):
    tracking, challenge = _made(client, *_shift(city, 600), phone=PHONE, description="门口垃圾")
    sent = photo_bytes()
    assert b"SERIAL-XYZ-123" in sent
    r = _attach(client, tracking.lower(), challenge, sent)
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    key = url.rsplit("/", 1)[1]
    assert len(key) >= 22 and tracking not in url  # the key tells nothing of the report
    image = client.get(url)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert not Image.open(io.BytesIO(image.content)).getexif()
    for secret in (b"SERIAL-XYZ-123", b"PhoneMaker", "张三".encode(), b"Exif"):
        assert secret not in image.content
    # The same photo again is the same photo; two more make three; a fourth is refused.
    again = _attach(client, tracking, challenge, sent)
    assert again.status_code == 200 and again.json()["url"] == url
    for color in ((10, 200, 10), (10, 10, 200)):
        assert _attach(client, tracking, challenge, photo_bytes(color)).status_code == 201
    fourth = _attach(client, tracking, challenge, photo_bytes((90, 90, 90)))
    assert fourth.status_code == 409 and "3 photos" in fourth.text
    assert client.get(f"/api/public/reports/{tracking}").json()["photos"] == []  # hers, as her words are
    followed = client.get(f"/api/public/reports/{tracking}", headers={"X-Report-Key": challenge}).json()
    assert [p["stage"] for p in followed["photos"]] == ["before"] * 3 and followed["photos"][0]["url"] == url
    assert client.get("/api/public/photos/" + "A" * 32).status_code == 404


def test_only_the_client_that_made_the_report_adds_photos_and_only_for_a_while(client, city):
    tracking, challenge = _made(client, *_shift(city, 700))
    other, other_challenge = _made(client, *_shift(city, 800))
    alone = _attach(client, tracking, None)  # the tracking number alone is not enough: the form lacks the challenge
    assert alone.status_code == 422 and alone.json()["detail"].startswith("challenge:"), alone.text
    refused = _attach(client, tracking, other_challenge)  # another report's challenge
    assert refused.status_code == 403 and "challenge" in refused.text
    unused = client.get("/api/public/challenge").json()["challenge"]
    assert _attach(client, tracking, unused).status_code == 403
    bad = _attach(client, tracking, challenge, b"%PDF-1.4 not a photo", "application/pdf")
    assert bad.status_code == 422 and "file" in bad.text
    assert _attach(client, "0000000000", challenge).status_code == 404
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("UPDATE public_reports SET created_at = created_at - interval '31 minutes' WHERE tracking = %s",
                    (tracking,))
    conn.commit()
    conn.close()
    late = _attach(client, tracking, challenge)
    assert late.status_code == 409 and "HYGIENE_MAP_PUBLIC_PHOTO_MINUTES" in late.text
    assert _attach(client, other, other_challenge).status_code == 201


def test_photo_uploads_are_rate_limited_per_client(client, city, monkeypatch):
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR", "1")
    tracking, challenge = _made(client, *_shift(city, 900))
    codes = [_attach(client, tracking, challenge, photo_bytes((c, 0, 0))).status_code for c in (1, 2, 3, 4)]
    assert codes[:3] == [201, 201, 201] and codes[3] == 429


def test_staff_before_and_after_photos_show_on_the_tracking_page_without_names(client, city):
    tracking, challenge = _made(client, *city["street_points"][0], phone=PHONE)
    complaint_id = _complaint_id(city, tracking)
    assert _attach(client, tracking, challenge).status_code == 201
    assert _staff_photo(client, city, complaint_id, "before", photo_bytes((1, 100, 1))).status_code == 201
    assert _staff_photo(client, city, complaint_id, "before", photo_bytes(), who="李外街员").status_code == 403
    early = _staff_photo(client, city, complaint_id, "after", photo_bytes((1, 1, 100)))
    assert early.status_code == 409 and "核查" in early.text
    assert _staff_photo(client, city, complaint_id, "during", photo_bytes()).status_code == 422
    _move(client, city, complaint_id, MAIN_LINE, who=STAFF)
    after = _staff_photo(client, city, complaint_id, "after", photo_bytes((1, 1, 100)))
    assert after.status_code == 201 and after.json()["uploaded_by"] == STAFF
    followed = client.get(f"/api/public/reports/{tracking}")
    assert [p["stage"] for p in followed.json()["photos"]] == ["before", "after"]  # the unit's, to anyone
    own = client.get(f"/api/public/reports/{tracking}", headers={"X-Report-Key": challenge})
    assert [p["stage"] for p in own.json()["photos"]] == ["before", "before", "after"]  # and hers, to her
    seen = client.get(f"/api/complaints/{complaint_id}/photos", headers=_auth(city, STAFF)).json()["photos"]
    assert {p["uploaded_by"] for p in seen} == {"公众", STAFF} and seen[0]["tracking"] == tracking
    assert client.get(f"/api/complaints/{complaint_id}/photos", headers=_auth(city, "李外街员")).status_code == 403
    # Every public answer about the report and its photos: no contact, no staff name.
    answers = [followed.text, client.get(f"/report/{tracking}").text,
               _attach(client, tracking, challenge).text]
    answers += [client.get(p["url"]).content.decode("latin-1") for p in followed.json()["photos"]]
    answers += [client.get(f"/open311/v2/requests/{tracking}.{f}").text for f in ("json", "xml")]
    for text in answers:
        assert PHONE not in text and STAFF not in text and "公众" not in text, text[:200]


def test_open311_media_url_is_the_units_first_photo_never_the_residents(client, city):
    """A resident's photo is hers, as her words are: Open311 (which lists every report) gives none; the unit's
    photo of the work, absolute, once there is one."""
    tracking, challenge = _made(client, *_shift(city, 1100))
    plain = client.get(f"/open311/v2/requests/{tracking}.json").json()[0]
    assert plain["media_url"] is None
    _attach(client, tracking, challenge)
    _attach(client, tracking, challenge, photo_bytes((5, 5, 5)))
    assert client.get(f"/open311/v2/requests/{tracking}.json").json()[0]["media_url"] is None
    staff = _staff_photo(client, city, _complaint_id(city, tracking), "before", photo_bytes((9, 90, 9)), who="赵管理员")
    assert staff.status_code == 201, staff.text
    first = staff.json()["url"]
    got = client.get(f"/open311/v2/requests/{tracking}.json").json()[0]
    assert got["media_url"] == "http://testserver" + first
    xml = client.get(f"/open311/v2/requests.xml?service_request_id={tracking}").text
    assert f"<media_url>http://testserver{first}</media_url>" in xml
    assert client.get(got["media_url"].removeprefix("http://testserver")).status_code == 200
