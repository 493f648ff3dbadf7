"""New York from nothing, for tests/test_newyork.py: the city built through the `hygiene-map` command from NYC
Open Data's files (outlines, both 311 files, restrooms, litter baskets, markets), served with a token per caller;
each 311 request's community district by shapely (the independent reading); MN03's grids with a roster; a round.
"""

from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.real_city import City, grids_assigned, new_city

NY = ZoneInfo("America/New_York")
SAMPLE, RODENTS = "nyc311_sample_2023-02-28.csv", "nyc311_dohmh_rodent_unsanitary_2018-01.csv"
FILES = ("boundaries/nybb.shp", "boundaries/nycdta2020.shp", "boundaries/nynta2020.shp", SAMPLE, RODENTS,
         "nyc_public_restrooms_20241203.csv", "nyc_dsny_litter_baskets.csv", "nyc_farmers_markets_2023season.csv")
#: Manhattan Community District 3 (Lower East Side, Chinatown): the street office of the walk.
STREET, OTHER = "MN03", "BK04"
#: The 311 statuses as the case statuses they are (STANDARDS §4).
STATUS = {"Closed": "结案", "Pending": "受理", "Open": "受理", "Assigned": "派遣", "In Progress": "处置",
          "Started": "处置"}
#: The 2018 file's Pending requests that carry a Closed Date (months before their Created Date).
PENDING_WITH_CLOSED_DATE = 16
#: The 2023 day's hygiene requests: 474 by their Complaint Type, less its 83 UNSANITARY CONDITION whose Descriptor
#: is MOLD (mould in a flat is no public-hygiene event: not imported).
SAMPLE_WRITTEN = 474 - 83


def rows_of(city: City, name: str) -> list[dict]:
    """The rows of one of the city's CSV files, as the test's own independent reading."""
    with open(city.work / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def local_time(text: str) -> datetime:
    """A 311 time ('02/28/2023 11:41:49 PM', New York's local time) as an aware datetime."""
    return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=NY)


def outlines(city: City) -> None:
    """纽约 set up by `city init` in its own time zone, with its boroughs, community districts (the streets) and
    neighbourhoods (the communities) imported from the shapefiles."""
    city.cli("city", "init", "--name", "纽约", "--code", "NYC", "--name-en", "New York", "--tz", "America/New_York")
    city.cli("import", "admin_areas", "nybb.shp", "--level", "district", "--code-field", "BoroCode",
             "--name-field", "BoroName")
    city.cli("import", "admin_areas", "nycdta2020.shp", "--level", "street", "--code-field", "CDTA2020",
             "--name-field", "CDTAName", "--parent-field", "BoroCode")
    city.cli("import", "admin_areas", "nynta2020.shp", "--level", "community", "--code-field", "NTA2020",
             "--name-field", "NTAName", "--parent-field", "CDTA2020")


@pytest.fixture(scope="module")
def newyork(pg_server, tmp_path_factory):
    """纽约 set up by `city init` in its own time zone, its outlines, 311 files and facilities imported."""
    with new_city(pg_server, tmp_path_factory, "nyc", FILES) as city:
        outlines(city)
        for name in (SAMPLE, RODENTS):
            city.log[name] = city.cli("import", "complaints", name, "--skip-bad")
        city.cli("import", "toilets", "nyc_public_restrooms_20241203.csv", "--skip-bad")
        city.cli("import", "garbage_stations", "nyc_dsny_litter_baskets.csv", "--skip-bad")
        city.cli("import", "markets", "nyc_farmers_markets_2023season.csv", "--skip-bad")
        yield city


@pytest.fixture(scope="module")
def ny_server(newyork, tmp_path_factory):
    """The app over New York, with tokens of an admin, a planner, MN03's and BK04's offices and MN03's inspector."""
    from tests.chromium import serve_app

    city = newyork
    city.tokens = {}
    for who, role, street in (("admin", "admin", None), ("planner", "planner", None), ("street", "street", STREET),
                              ("other", "street", OTHER), ("inspector", "inspector", STREET)):
        scope = ("--street", street) if street else ()
        city.tokens[who] = city.cli("users", "add", f"ny-{who}", "--role", role, *scope).stdout.strip().split()[-1]
    city.token = city.tokens["admin"]
    photos = tmp_path_factory.mktemp("ny-photos")
    with serve_app(city.url, extra_env={"HYGIENE_MAP_PHOTO_DIR": str(photos)}) as base:
        city.base = base
        yield city


def call(city: City, method: str, path: str, who: str | None = None, **kwargs) -> httpx.Response:
    """``method path`` on the served city as ``who`` (a key of ``city.tokens``; None: no credentials)."""
    headers = {"Authorization": f"Bearer {city.tokens[who]}"} if who else {}
    return httpx.request(method, city.base + path, headers=headers, timeout=180, **kwargs)


@pytest.fixture(scope="module")
def districts_of(newyork):
    """{Unique Key: CDTA2020} of every imported 311 request, by shapely: the CSV's point in the shapefile's
    community district outline (read with pyogrio, reprojected from EPSG:2263 by pyproj)."""
    import geopandas as gpd
    import shapely

    outlines = gpd.read_file(newyork.work / "nycdta2020.shp").to_crs(4326)
    keys = {k for (k,) in newyork.sql("SELECT source_id FROM complaints")}
    rows = [r for name in (SAMPLE, RODENTS) for r in rows_of(newyork, name) if r["Unique Key"] in keys]
    points = shapely.points([float(r["Longitude"]) for r in rows], [float(r["Latitude"]) for r in rows])
    inside, outline = shapely.STRtree(outlines.geometry.values).query(points, predicate="within")
    found = {rows[i]["Unique Key"]: outlines.CDTA2020.iat[j] for i, j in zip(inside, outline, strict=True)}
    assert len(found) == len(rows)  # every imported request lies in one district's outline
    return found, {r["Unique Key"]: r for r in rows}


@pytest.fixture(scope="module")
def ny_grids(ny_server):
    """MN03 cut into 400 m grids; the roster filled in by the office (units, managers, phones) and loaded back."""
    return grids_assigned(ny_server, STREET, 400, lambda row: (
        f"DSNY Manhattan 3 Section {row % 3 + 1}", f"Supervisor {row:02d}", f"212-555-{row:04d}"), "first assignment")


@pytest.fixture(scope="module")
def ny_round(ny_server, ny_grids):
    """A week's round over MN03 in the 2023 week (admin) and the inspector's finding at MN03's first grid."""
    city = ny_server
    made = call(city, "POST", "/api/inspections/rounds", "admin", json={
        "name": "曼哈顿第3社区周检查", "kind": "周检查", "streets": [STREET], "starts": "2023-02-27",
        "ends": "2023-03-06"})
    assert made.status_code == 201, made.text
    city.round = made.json()["id"]
    lon, lat = city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                        "WHERE code = %s", (ny_grids[0],))[0]
    found = call(city, "POST", "/api/inspections/findings", "inspector", json={
        "round_id": city.round, "lon": lon, "lat": lat, "item": "GBG-01", "note": "Bags piled by the basket",
        "observed_at": "2023-02-28T10:30", "client_id": "ny-1"})
    assert found.status_code == 201, found.text
    return found.json()
