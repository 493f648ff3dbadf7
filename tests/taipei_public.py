"""The public channel's Taipei (tests/test_public_real_city.py): the app over Taipei from the real files, and a
resident's report made as the report page makes it."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.real_city import TAIPEI_STREET


@pytest.fixture(scope="module")
def site(taipei, taipei_grids, tmp_path_factory):
    """The app over Taipei (default proof-of-work), photos in a folder of the test's, and a 大同區 staff token."""
    from tests.chromium import serve_app

    taipei.token = taipei.cli("users", "add", "datong-staff", "--role", "street",
                              "--street", TAIPEI_STREET).stdout.strip().splitlines()[-1]
    photos = tmp_path_factory.mktemp("photos")
    # The tests here report and rate from one address more often than a resident would in an hour.
    with serve_app(taipei.url, extra_env={"HYGIENE_MAP_PHOTO_DIR": str(photos),
                                          "HYGIENE_MAP_PUBLIC_REPORTS_PER_HOUR": "100"}) as base:
        taipei.base = base
        taipei.photos = photos
        yield taipei


def solve(challenge: str, bits: int) -> str:
    n = 0
    while int.from_bytes(hashlib.sha256(f"{challenge}:{n}".encode()).digest(), "big") >> (256 - bits):
        n += 1
    return str(n)


def stop(city, offset: int) -> tuple[float, float]:
    """The ``offset``-th garbage-truck stop of 大同區 (by its source id): a real place for a test's report."""
    return city.sql("SELECT ST_X(geom), ST_Y(geom) FROM garbage_stations WHERE street_code = %s "
                    "ORDER BY source_id OFFSET %s LIMIT 1", (TAIPEI_STREET, offset))[0]


def post_report(city, lon: float, lat: float, category: str, **extra) -> tuple[httpx.Response, str]:
    """A report as the page sends it, with a solved challenge; the answer and the challenge (the report's key)."""
    challenge = httpx.get(city.base + "/api/public/challenge", timeout=30).json()
    answer = httpx.post(city.base + "/api/public/reports", timeout=30, json={
        "lon": lon, "lat": lat, "category": category, "challenge": challenge["challenge"],
        "nonce": solve(challenge["challenge"], challenge["bits"]), **extra})
    return answer, challenge["challenge"]


def reported_and_closed(city, index: int, words: str) -> tuple[str, str, int]:
    """A resident's report at the ``index``-th garbage-truck stop of 大同區, taken to 结案 by its staff; the
    tracking number, the report's key (its challenge) and the case."""
    made, key = post_report(city, *stop(city, index), "暴露垃圾", description=words)
    assert made.status_code == 201, made.text
    tracking = made.json()["tracking"]
    complaint_id = city.sql("SELECT complaint_id FROM public_reports WHERE tracking = %s", (tracking,))[0][0]
    staff = {"Authorization": f"Bearer {city.token}"}
    for status in ("立案", "派遣", "处置", "核查", "结案"):
        moved = httpx.patch(city.base + f"/api/complaints/{complaint_id}", headers=staff, timeout=30,
                            json={"status": status, "note": "大同區清潔隊已清運"})
        assert moved.status_code == 200, moved.text
    return tracking, key, complaint_id
