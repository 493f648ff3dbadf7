"""Photos of findings: multipart upload, before/after by the right users, EXIF read then removed, stored by
content hash, size and type limits, and read as personally as the finding's description."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import UTC, datetime

import pytest
from PIL import Image

from tests.inspecting import auth, city_fixture, client_fixture, new_round, photo_bytes, post_finding, upload  # noqa: F401 (fixtures)


@pytest.fixture()
def finding(client, city):
    return post_finding(client, city, new_round(client, city)["id"]).json()


def test_photo_is_stored_by_hash_without_exif_after_reading_time_and_place(client, city, finding):
    sent = photo_bytes()
    assert b"SERIAL-XYZ-123" in sent and Image.open(io.BytesIO(sent)).getexif()
    answer = upload(client, city, finding["id"], "before", "inspector1", sent)
    assert answer.status_code == 201, answer.text
    photo = answer.json()
    # EXIF times have no zone: the city's (Asia/Shanghai for the demo).
    assert datetime.fromisoformat(photo["taken_at"]) == datetime(2026, 11, 29, 1, 30, tzinfo=UTC)
    assert photo["taken_lat"] == pytest.approx(37 + 29 / 60 + 24 / 3600)
    assert photo["taken_lon"] == pytest.approx(121 + 22 / 60 + 48 / 3600)
    stored = city["photos"] / photo["sha256"][:2] / f"{photo['sha256']}.jpg"
    data = stored.read_bytes()
    assert hashlib.sha256(data).hexdigest() == photo["sha256"] and len(data) == photo["bytes"]
    assert not Image.open(io.BytesIO(data)).getexif()
    for secret in (b"SERIAL-XYZ-123", b"PhoneMaker", "张三".encode(), b"Exif"):
        assert secret not in data
    again = upload(client, city, finding["id"], "before", "inspector1", sent)
    assert again.status_code == 200 and again.json()["id"] == photo["id"]
    assert len(list(city["photos"].rglob("*.jpg"))) >= 1
    image = client.get(photo["url"], headers=auth(city, "admin1"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg" and image.content == data


def test_who_may_add_which_photo(client, city, finding):
    fid = finding["id"]
    assert upload(client, city, fid, "before", "street1").status_code == 403
    assert upload(client, city, fid, "before", "inspector3").status_code == 403  # another street's inspector
    assert upload(client, city, fid, "after", "inspector1").status_code == 403  # the street rectifies
    assert upload(client, city, fid, "after", "street2").status_code == 403
    assert upload(client, city, fid, "after", "street1").status_code == 201
    assert upload(client, city, fid, "before", None).status_code == 401
    assert upload(client, city, fid, "sideways", "admin1").status_code == 422


def test_type_and_size_limits(client, city, finding, monkeypatch):
    fid = finding["id"]
    text = upload(client, city, fid, "before", "inspector1", b"not a picture at all", name="x.jpg")
    assert text.status_code == 422 and "file" in text.json()["detail"]
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    refused = upload(client, city, fid, "before", "inspector1", gif.getvalue(), name="x.gif", media_type="image/gif")
    assert refused.status_code == 422 and "GIF" in refused.json()["detail"]
    png = upload(client, city, fid, "before", "inspector1", photo_bytes(fmt="PNG", exif=False), name="p.png",
                 media_type="image/png")
    assert png.status_code == 201 and png.json()["media_type"] == "image/png"
    monkeypatch.setenv("HYGIENE_MAP_PHOTO_MAX_KB", "1")
    noisy = io.BytesIO()
    Image.frombytes("L", (100, 100), random.Random(1).randbytes(10_000)).save(noisy, format="JPEG")
    assert len(noisy.getvalue()) > 1000
    big = upload(client, city, fid, "before", "inspector1", noisy.getvalue())
    assert big.status_code == 422 and "HYGIENE_MAP_PHOTO_MAX_KB" in big.json()["detail"]
    missing = client.post(f"/api/inspections/findings/{fid}/photos", data={"stage": "before"},
                          headers=auth(city, "inspector1"))
    assert missing.status_code == 422


def test_a_small_file_holding_a_huge_image_is_refused_by_its_pixels(client, city, finding):
    """10000×10000 pixels in about 100 kB, and 20000×10000: refused naming the pixels and the limit (it was called
    unreadable, naming a Pillow warning), before the image is decoded."""
    fid = finding["id"]
    for width, said in ((10_000, "has 10000×10000 pixels; at most 40,000,000 (HYGIENE_MAP_PHOTO_MAX_MEGAPIXELS)"),
                        (20_000, "has far more pixels than an image may have; at most 40,000,000")):
        huge = io.BytesIO()
        Image.new("1", (width, 10_000)).save(huge, format="PNG")
        assert len(huge.getvalue()) < 300_000
        refused = upload(client, city, fid, "before", "inspector1", huge.getvalue(), name="huge.png",
                         media_type="image/png")
        assert refused.status_code == 422 and said in refused.json()["detail"], refused.text


def test_photos_are_read_like_the_description(client, city, finding):
    fid = finding["id"]
    photo = upload(client, city, fid, "before", "inspector1").json()
    assert "photos" not in client.get(f"/api/inspections/findings/{fid}").json()
    assert client.get(photo["url"]).status_code == 404
    assert client.get(photo["url"], headers=auth(city, "street2")).status_code == 404
    assert client.get(photo["url"], headers=auth(city, "planner1")).status_code == 404
    assert client.get(photo["url"], headers=auth(city, "street1")).status_code == 200
    shown = client.get(f"/api/inspections/findings/{fid}", headers=auth(city, "inspector1")).json()
    assert [p["id"] for p in shown["photos"]] == [photo["id"]]
