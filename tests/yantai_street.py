"""Yantai's 向阳街道 as its street office draws it on a Gaode map (GCJ-02), for the tests that walk its paths.

On the city tests/real_city.py builds from its real district outlines (``yantai``): the street and two
communities drawn in GCJ-02 and imported with ``--crs gcj02``, a second street, 250 m grids with a roster
filled in and loaded back, and a token per caller (``city``); the app served over it (``site``). The points
are chosen so that reading GCJ-02 as WGS84 (or the other way round) lands in the other community, under the
other unit. tests/test_yantai_paths.py says why.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook

from tests.real_city import yantai  # noqa: F401  (the city, built once per module that imports this)

STREET, OTHER_STREET = "370602001", "370613001"
WEST, EAST = "370602001001", "370602001002"
WEST_UNIT, EAST_UNIT = "向阳街道环卫一队", "芝罘城管二中队"
#: As drawn on a Gaode map (GCJ-02): the street, its two communities split at 121.390°E, the other street.
DRAWN = {STREET: (121.380, 37.520, 121.400, 37.535), WEST: (121.380, 37.520, 121.390, 37.535),
         EAST: (121.390, 37.520, 121.400, 37.535), OTHER_STREET: (121.425, 37.380, 121.440, 37.392)}
#: A phone's GPS fix (WGS84) in the west community, whose GCJ-02 numbers read as WGS84 lie in the east one.
GPS = (121.382, 37.526)
#: A place in the east community, tapped on the Gaode map (the page sends its GCJ-02 numbers).
TAPPED = (121.390, 37.530)
#: Where the inspector stands (WGS84 GPS), in the west community.
INSPECTED = (121.379, 37.522)
PHONE, WORDS, ZONE = "13912345678", "楼下垃圾桶旁堆了三天的垃圾", ZoneInfo("Asia/Shanghai")
CALLERS = ("anonymous", "other", "planner", "street", "admin")


def _box(x0, y0, x1, y1) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _areas(path, rows) -> None:
    features = [{"type": "Feature", "properties": {"code": code, "name": name, "parent": parent, "pop": pop},
                 "geometry": _box(*DRAWN[code])} for code, name, parent, pop in rows]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")


@pytest.fixture(scope="module")
def city(yantai):
    """向阳街道 with grids and a roster, 黄海路街道, and a token per caller (`users add`)."""
    _areas(yantai.work / "streets.geojson", [(STREET, "向阳街道", "370602", None),
                                              (OTHER_STREET, "黄海路街道", "370613", None)])
    _areas(yantai.work / "communities.geojson", [(WEST, "西山社区", STREET, 6000), (EAST, "东海社区", STREET, 5000)])
    common = ["--crs", "gcj02", "--code-field", "code", "--name-field", "name", "--parent-field", "parent"]
    yantai.cli("import", "admin_areas", "streets.geojson", "--level", "street", *common)
    yantai.cli("import", "admin_areas", "communities.geojson", "--level", "community", *common,
               "--population-field", "pop")
    yantai.cli("grids", "generate", "--street", STREET, "--size", "250")
    yantai.cli("grids", "roster", "--street", STREET, "--out", "roster.xlsx")
    book = load_workbook(yantai.work / "roster.xlsx")
    sheet = book.active
    head = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        west = row[head.index("社区编码")].value == WEST
        row[head.index("责任单位")].value = WEST_UNIT if west else EAST_UNIT
        row[head.index("网格长")].value = "张网格" if west else "李网格"
        row[head.index("联系电话")].value = "13800000001" if west else "13800000002"
    book.save(yantai.work / "roster.xlsx")
    yantai.cli("grids", "assign", "roster.xlsx", "--reason", "首次分配")
    users = {"admin": ["--role", "admin"], "street": ["--role", "street", "--street", STREET],
             "other": ["--role", "street", "--street", OTHER_STREET], "planner": ["--role", "planner"],
             "inspector": ["--role", "inspector", "--street", STREET]}
    yantai.tokens = {who: yantai.cli("users", "add", f"yt-{who}", *role).stdout.strip().splitlines()[-1]
                     for who, role in users.items()}
    yantai.tokens["anonymous"] = None
    return yantai


@pytest.fixture(scope="module")
def site(city, tmp_path_factory):
    from tests.chromium import serve_app

    photos = tmp_path_factory.mktemp("photos")
    # The tracking page asks again every 2 s here (60 by default), so that a test sees it follow the case.
    with serve_app(city.url, extra_env={"HYGIENE_MAP_PUBLIC_POW_BITS": "8", "HYGIENE_MAP_PUBLIC_FOLLOW_SECONDS": "2",
                                        "HYGIENE_MAP_PHOTO_DIR": str(photos)}) as base:
        city.base = base
        yield city


def call(city, method, path, who=None, **kwargs) -> httpx.Response:
    """``method path`` on the served city as ``who`` (a caller of ``city.tokens``; None: no credentials)."""
    token = city.tokens.get(who) if who else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, city.base + path, headers=headers, timeout=120, **kwargs)


def grid_at(city, lon, lat) -> tuple[str, str, str]:
    """(grid, community, unit) whose stored (WGS84) outline holds the WGS84 point."""
    return city.sql("SELECT code, community_code, responsible_unit FROM grids "
                    "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (lon, lat))[0]
