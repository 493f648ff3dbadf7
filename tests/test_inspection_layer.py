"""The findings layer (issue 15) on the map, OGC API, tiles and exports, read by the column classes as
complaints are; and refused as an import target (findings are made in the field). Real PostGIS, a module
copy of the small demo city."""

from __future__ import annotations

import csv
import io

import mapbox_vector_tile
from click.testing import CliRunner

from api.cli.main import main
from tests.inspecting import (  # noqa: F401 (fixtures)
    OWN_STREET,
    auth,
    city_fixture,
    client_fixture,
    new_round,
    post_finding,
    query,
)

NOTE = "公厕门口 王某某 13800000000"  # what post_finding writes as the inspector's description


def _finding(client, city) -> int:
    response = post_finding(client, city, new_round(client, city)["id"])
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _props(client, city, url, user=None):
    response = client.get(url, headers=auth(city, user))
    assert response.status_code == 200, (url, response.status_code, response.text)
    return [f["properties"] for f in response.json()["features"]]


def test_features_and_ogc_carry_public_columns_and_never_what_the_inspector_wrote(client, city):
    """As for complaints, the description is in no map feature, OGC item or tile: only in exports and the
    finding's own API, where the column classes decide; who recorded a finding is staff-only everywhere."""
    fid = _finding(client, city)
    staff_only = {"description", "inspector", "rectified_by", "attributes"}
    for url in (f"/api/layers/inspection_findings/features?limit=500&street={OWN_STREET}",
                "/ogc/collections/inspection_findings/items?limit=500&f=json"):
        for user in (None, "planner1", "street1", "admin1"):
            props = _props(client, city, url, user)
            assert props and all(not staff_only & set(p) for p in props), (url, user)
            assert {"item_code", "status", "deduction", "due_at", "street_code", "responsible_unit"} <= set(props[0])
    one = client.get(f"/ogc/collections/inspection_findings/items/{fid}?f=json").json()
    assert one["properties"]["status"] == "待整改" and not staff_only & set(one["properties"])
    # No filtering on a column one cannot read: it would answer what the column holds.
    assert client.get("/ogc/collections/inspection_findings/items?description=x").status_code == 400
    assert client.get("/ogc/collections/inspection_findings/items?inspector=inspector1").status_code == 400
    collection = client.get("/ogc/collections/inspection_findings?f=json").json()
    assert "description" not in collection["queryables"] and "status" in collection["queryables"]


def test_export_drops_personal_and_staff_columns_anonymously(client, city):
    _finding(client, city)
    url = "/api/layers/inspection_findings/export?format=csv&lang=en"
    rows = list(csv.DictReader(io.StringIO(client.get(url).text)))
    assert rows and "Description" not in rows[0] and "description" not in rows[0]
    assert not {"Inspector", "inspector", "Rectified by"} & set(rows[0])
    admin = list(csv.DictReader(io.StringIO(client.get(url, headers=auth(city, "admin1")).text)))
    assert len(admin) == len(rows)
    described = [r for r in admin if NOTE in r.values()]
    assert described and "inspector1" in described[0].values()


def test_tiles_carry_public_attributes_only_anonymously(client, city):
    fid = _finding(client, city)
    (x, y), = query(city["url"], """SELECT floor((ST_X(geom) + 180) / 360 * 65536)::int,
        floor((1 - ln(tan(radians(ST_Y(geom))) + 1 / cos(radians(ST_Y(geom)))) / pi()) / 2 * 65536)::int
        FROM inspection_findings WHERE id = %s""", (fid,))

    def tile(user):
        r = client.get(f"/tiles/inspection_findings/16/{x}/{y}.pbf", headers=auth(city, user))
        assert r.status_code == 200, r.status_code
        return r, [f["properties"] for f in mapbox_vector_tile.decode(r.content)["inspection_findings"]["features"]]

    r, anonymous = tile(None)
    assert anonymous and all("description" not in p and "inspector" not in p for p in anonymous)
    assert r.headers["cache-control"].startswith("public")
    r, admin = tile("admin1")
    assert admin and all("description" not in p for p in admin)
    assert r.headers["cache-control"].startswith("private")


def test_import_into_findings_is_refused_with_a_clear_message(client, city, tmp_path):
    before = query(city["url"], "SELECT count(*) FROM inspection_findings")[0][0]
    path = tmp_path / "findings.csv"
    path.write_text("id,item_code,经度,纬度\nA,TLT-01,121.4,37.5\n", encoding="utf-8")
    for extra in ([], ["--dry-run"]):
        res = CliRunner().invoke(main, ["import", "inspection_findings", str(path), *extra])
        assert res.exit_code != 0, res.output
        assert "layer：inspection_findings（暗访问题）不从文件导入：其记录经由 API 的暗访问题流程录入" in res.output
        assert "Traceback" not in res.output
    assert query(city["url"], "SELECT count(*) FROM inspection_findings")[0][0] == before
