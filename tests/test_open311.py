"""Open311 GeoReport v2 under /open311/v2: an independent client (georeport, PyPI) lists, a partner posts with its
api_key (form-encoded), the client reads the request back; XML and JSON agree; errors in the spec's format."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests
import xmltodict
from click.testing import CliRunner
from fastapi.testclient import TestClient
from georeport import GeoReport

from data.db import connect
from tests.served import running

PHONE = "13700001111"


@pytest.fixture(scope="module")
def city(module_demo):
    conn = connect(url=module_demo)
    with conn.cursor() as cur:
        # Points in grids far apart (every 7th grid), so no report joins another's case.
        cur.execute("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                    "ORDER BY code")
        points = cur.fetchall()[::7]
        lon, lat = points[0]
        cur.execute("SELECT coalesce(code, name), name FROM event_types ORDER BY name LIMIT 1")
        code, name = cur.fetchone()
    conn.close()
    return {"url": module_demo, "lon": lon, "lat": lat, "code": code, "name": name, "points": points}


def _cli(url, *args):
    from api.cli.main import main

    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": url})


@pytest.fixture(scope="module")
def api_key(city):
    added = _cli(city["url"], "channels", "add", "12345热线")
    assert added.exit_code == 0, added.output
    assert added.stderr == "已添加合作渠道 12345热线；api_key 如下（只显示这一次，请交给合作方并妥善保管）：\n", added.stderr
    key = added.stdout.strip().splitlines()[-1]
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT key_digest FROM partner_channels WHERE name = '12345热线'")
        digest = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM partner_channels WHERE key_digest = %s OR name = %s", (key, key))
        assert cur.fetchone()[0] == 0  # stored hashed, never in clear
    conn.close()
    assert digest and digest != key and len(key) >= 32
    return key


@pytest.fixture(scope="module")
def server(city):
    with running(city["url"]) as server:
        yield server


@pytest.fixture
def client(city, env_for):
    from api.app import create_app

    env_for(city["url"])
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def _post(base, city, key, **extra):
    fields = {"api_key": key, "service_code": city["code"], "lat": str(city["lat"]), "long": str(city["lon"]),
              "description": "桥下有暴露垃圾", "phone": PHONE, **extra}
    return requests.post(f"{base}/requests.json", data=fields, timeout=30)  # form-encoded, as the spec says


def test_independent_client_lists_posts_and_reads_back(server, city, api_key):
    base = f"http://127.0.0.1:{server.port}/open311/v2"
    as_json, as_xml = GeoReport(base), GeoReport(base, output_format="xml")
    services = as_json.get_service_list()
    assert city["code"] in [s["service_code"] for s in services]
    assert [s["service_code"] for s in as_xml.get_service_list()] == [s["service_code"] for s in services]
    assert as_json.get_service_definition(city["code"])["service_code"] == city["code"]
    posted = _post(base, city, api_key)
    assert posted.status_code == 200, posted.text
    request_id = posted.json()[0]["service_request_id"]
    back = as_json.get_service_requests(service_request_id=request_id)
    assert len(back) == 1 and back[0]["service_code"] == city["code"] and back[0]["status"] == "open"
    assert back[0]["agency_responsible"] and back[0]["expected_datetime"]
    # the public's precision: about a metre (5 decimals), not the reporter's doorway
    assert (back[0]["lat"], back[0]["long"]) == (round(city["lat"], 5), round(city["lon"], 5)), back[0]
    from_xml = as_xml.get_service_requests(service_request_id=request_id)
    item = from_xml["request"] if isinstance(from_xml, dict) and "request" in from_xml else from_xml
    item = item[0] if isinstance(item, list) else item
    assert item["service_request_id"] == request_id and item["status"] == "open"
    # The same number follows the report on the public page, and the report carries the partner's channel.
    assert requests.get(f"http://127.0.0.1:{server.port}/api/public/reports/{request_id}",
                        timeout=30).json()["status"] == "受理"
    conn = connect(url=city["url"])
    with conn.cursor() as cur:
        cur.execute("SELECT c.channel FROM public_reports r JOIN complaints c ON c.id = r.complaint_id "
                    "WHERE r.tracking = %s", (request_id,))
        assert cur.fetchone()[0] == "12345热线"
    conn.close()


def _xml_rows(text: str) -> list[dict]:
    root = ET.fromstring(text.encode())
    return [{child.tag: (child.text or None) for child in item} for item in root]


def _json_rows(rows: list[dict]) -> list[dict]:
    def text(v):
        return None if v is None else ("true" if v is True else "false" if v is False else str(v))

    return [{k: text(v) for k, v in row.items() if not isinstance(v, list)} for row in rows]


def test_xml_and_json_agree_and_never_show_the_contact(client, city, api_key):
    tracking = client.post("/open311/v2/requests.xml", data={
        "api_key": api_key, "service_code": city["code"], "lat": city["points"][1][1],
        "long": city["points"][1][0], "phone": PHONE})
    assert tracking.headers["content-type"].startswith("text/xml")
    assert tracking.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    rid = xmltodict.parse(tracking.text)["service_requests"]["request"]["service_request_id"]
    for path in ("services", f"services/{city['code']}", "requests", f"requests/{rid}", f"tokens/{rid}",
                 "discovery"):
        j, x = client.get(f"/open311/v2/{path}.json"), client.get(f"/open311/v2/{path}.xml")
        assert j.status_code == x.status_code == 200, (path, j.text, x.text)
        assert PHONE not in j.text and PHONE not in x.text
        body = j.json()
        if isinstance(body, list):
            assert _xml_rows(x.text) == _json_rows(body), path
        else:
            scalars = {k: v for k, v in _json_rows([body])[0].items()}
            assert {k: v for k, v in _xml_rows(f"<r>{x.text.split('?>', 1)[1]}</r>")[0].items()
                    if k in scalars} == scalars, path
    assert rid in [r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()]
    assert client.get(f"/open311/v2/tokens/{rid}.json").json() == [{"service_request_id": rid, "token": rid}]


# The elements of a request and of a service in the spec's examples (wiki.open311.org/GeoReport_v2), in order.
SPEC_REQUEST = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
                "address", "address_id", "zipcode", "lat", "long", "media_url")
SPEC_SERVICE = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")


def test_elements_as_in_the_spec_examples(client, city, api_key):
    client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": city["code"],
                                                  "lat": city["points"][4][1], "long": city["points"][4][0]})
    requests_xml = ET.fromstring(client.get("/open311/v2/requests.xml").content)
    assert requests_xml.tag == "service_requests" and len(requests_xml)
    assert {tuple(child.tag for child in item) for item in requests_xml} == {SPEC_REQUEST}
    services_xml = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert services_xml.tag == "services" and {tuple(c.tag for c in s) for s in services_xml} == {SPEC_SERVICE}
    assert {s.find("metadata").text for s in services_xml} == {"false"}  # a boolean, as the spec writes it
    one = client.get("/open311/v2/requests.json").json()[0]
    assert isinstance(one["lat"], float) and one["requested_datetime"].endswith("+00:00")


def test_request_filters(client, city, api_key):
    rid = client.post("/open311/v2/requests.json", data={
        "api_key": api_key, "service_code": city["code"], "lat": city["points"][2][1],
        "long": city["points"][2][0]}).json()[0]["service_request_id"]
    ids = lambda q: [r["service_request_id"] for r in client.get(f"/open311/v2/requests.json?{q}").json()]  # noqa: E731
    assert rid in ids("status=open") and rid not in ids("status=closed") and rid in ids("status=open,closed")
    assert rid in ids(f"service_code={city['code']}") and rid not in ids("service_code=nope")
    assert rid not in ids("start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z")
    assert ids(f"service_request_id={rid},0000000000&status=closed") == [rid]  # the id overrides the rest
    too_wide = client.get("/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z")
    assert too_wide.status_code == 400 and "90 days" in too_wide.json()[0]["description"]
    assert client.get("/open311/v2/requests.json?status=pending").status_code == 400


def test_errors_in_the_spec_format(client, city, api_key):
    bad_key = client.post("/open311/v2/requests.xml", data={"api_key": "nope", "service_code": city["code"],
                                                           "lat": city["lat"], "long": city["lon"]})
    assert bad_key.status_code == 403
    error = xmltodict.parse(bad_key.text)["errors"]["error"]
    assert error["code"] == "403" and "api_key" in error["description"]
    missing = client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": city["code"]})
    assert missing.status_code == 400 and missing.json()[0]["code"] == 400
    unknown = client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": "nope",
                                                            "lat": city["lat"], "long": city["lon"]})
    assert unknown.status_code == 400 and "service_code" in unknown.json()[0]["description"]
    for bad in ({"phone": "1"}, {"service_code": "a\x00b"}, {"description": "x" * 1001}):
        refused = client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": city["code"],
                                                                "lat": city["lat"], "long": city["lon"], **bad})
        assert refused.status_code == 400 and refused.json()[0]["code"] == 400, (bad, refused.text)
    assert client.post("/open311/v2/requests.json", json={"api_key": api_key}).status_code == 400  # not a form
    assert client.get("/open311/v2/services/a%00b.json").status_code == 400
    assert client.get("/open311/v2/services/nope.json").json()[0]["code"] == 404
    assert client.get("/open311/v2/requests/0000000000.json").status_code == 404
    assert client.get("/open311/v2/services.csv").status_code == 404


def test_a_disabled_channel_is_refused(client, city):
    added = _cli(city["url"], "channels", "add", "微信小程序")
    key = added.stdout.strip().splitlines()[-1]
    fields = {"api_key": key, "service_code": city["code"], "lat": city["points"][3][1],
              "long": city["points"][3][0]}
    assert client.post("/open311/v2/requests.json", data=fields).status_code == 200
    disabled = _cli(city["url"], "channels", "disable", "微信小程序", "--lang", "en")
    assert disabled.exit_code == 0 and disabled.output == "channel 微信小程序 disabled\n", disabled.output
    assert client.post("/open311/v2/requests.json", data=fields).status_code == 403
    assert _cli(city["url"], "channels", "disable", "微信小程序").exit_code != 0  # already disabled: said so
    assert _cli(city["url"], "channels", "add", "微信小程序").exit_code != 0  # the name stays taken
