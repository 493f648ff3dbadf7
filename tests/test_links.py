"""One public base URL for every absolute link and QR code; one reference time for "overdue".

A client chooses its own ``Host`` and ``X-Forwarded-*`` headers: none of them
may put another site's address into a link (OGC paging, QR codes) unless the
settings allow that host or proxy.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from starlette.requests import Request

from api.cli.main import main
from api.urls import base_url
from data.db import connect
from data.settings import LinkSettings
from layers.printing.sheets import grid_layout
from layers.printing.style import Paper
from tests.pdf_tools import crop_mm, printed_param, render_page

EVIL = {"Host": "evil.example"}


@pytest.fixture(scope="module")
def grid_row(demo_db):
    """A grid of the demo with open complaints, some past due at now() but not at the data time."""
    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute(
            """SELECT c.grid_code, g.street_code,
                      count(*) FILTER (WHERE c.due_at < now()) - count(*) FILTER (WHERE c.due_at < s.data_time) AS d
               FROM complaints c JOIN grids g ON g.code = c.grid_code, city_settings s
               WHERE c.status <> '结案' GROUP BY 1, 2 ORDER BY d DESC, count(*) DESC, 1 LIMIT 1""")
        code, street, gap = cur.fetchone()
    conn.close()
    return {"code": code, "street": street, "now_differs": gap > 0}


def _request(headers: dict, client: str = "203.0.113.9", server=("10.0.0.5", 8000)) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "scheme": "http", "path": "/ogc", "root_path": "", "query_string": b"",
                    "headers": raw, "client": (client, 40000), "server": server, "method": "GET"})


def _hrefs(body) -> list[str]:
    if isinstance(body, dict):
        return [v for k, v in body.items() if k in ("href", "$id")] + [h for v in body.values() for h in _hrefs(v)]
    if isinstance(body, list):
        return [h for v in body for h in _hrefs(v)]
    return []


# -- the base URL itself ---------------------------------------------------------------------
def test_host_is_believed_only_when_allowed():
    none = LinkSettings.from_env({})
    assert base_url(_request({"Host": "localhost:8000"}), none) == "http://localhost:8000"
    assert base_url(_request({"Host": "[::1]:8000"}), none) == "http://[::1]:8000"
    assert base_url(_request({"Host": "10.0.0.5:8000"}), none) == "http://10.0.0.5:8000"  # the server's own address
    # Anything else: the address the server answers on.
    for host in ("evil.example", "evil.example:8000", "localhost@evil.example", "localhost/evil", ""):
        assert base_url(_request({"Host": host}), none) == "http://10.0.0.5:8000", host
    allowed = LinkSettings.from_env({"HYGIENE_MAP_ALLOWED_HOSTS": "maps.city.gov.cn, Other.example"})
    assert base_url(_request({"Host": "maps.city.gov.cn"}), allowed) == "http://maps.city.gov.cn"
    assert base_url(_request({"Host": "other.example:81"}), allowed) == "http://other.example:81"
    assert base_url(_request({"Host": "evil.example"}), allowed) == "http://10.0.0.5:8000"


def test_forwarded_headers_count_only_from_trusted_proxies():
    headers = {"Host": "localhost", "X-Forwarded-Host": "maps.city.gov.cn", "X-Forwarded-Proto": "https",
               "X-Forwarded-Prefix": "/hygiene"}
    allowed = {"HYGIENE_MAP_ALLOWED_HOSTS": "maps.city.gov.cn"}
    untrusted = LinkSettings.from_env(allowed)
    assert base_url(_request(headers), untrusted) == "http://localhost"
    trusted = LinkSettings.from_env({**allowed, "HYGIENE_MAP_TRUSTED_PROXIES": "203.0.113.0/24"})
    assert base_url(_request(headers), trusted) == "https://maps.city.gov.cn/hygiene"
    forwarded = {"Host": "localhost", "Forwarded": 'for=1.2.3.4;host="maps.city.gov.cn";proto=https, for=5.6.7.8'}
    assert base_url(_request(forwarded), trusted) == "https://maps.city.gov.cn"
    # A trusted proxy still cannot forward a host that is not allowed, nor a scheme or prefix that is no URL's.
    bad = {"Host": "localhost", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "javascript",
           "X-Forwarded-Prefix": "//evil.example"}
    assert base_url(_request(bad), trusted) == "http://10.0.0.5:8000"
    assert base_url(_request(headers, client="198.51.100.1"), trusted) == "http://localhost"


def test_public_url_wins_and_bad_settings_are_named():
    settings = LinkSettings.from_env({"HYGIENE_MAP_PUBLIC_URL": "https://maps.city.gov.cn/hm/"})
    assert base_url(_request(EVIL), settings) == "https://maps.city.gov.cn/hm"
    from data.errors import SetupError

    with pytest.raises(SetupError, match="HYGIENE_MAP_PUBLIC_URL"):
        LinkSettings.from_env({"HYGIENE_MAP_PUBLIC_URL": "maps.city.gov.cn"})
    with pytest.raises(SetupError, match="HYGIENE_MAP_TRUSTED_PROXIES"):
        LinkSettings.from_env({"HYGIENE_MAP_TRUSTED_PROXIES": "proxy.local"})


# -- every link of the app ---------------------------------------------------------------------
OGC_PATHS = [
    "/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/toilets",
    "/ogc/collections/toilets/items?limit=2&offset=2", "/ogc/collections/toilets/items/1",
    "/ogc/collections/toilets/schema", "/ogc/tileMatrixSets", "/ogc/collections/toilets/tiles",
    "/ogc/collections/toilets/tiles/WebMercatorQuad",
]


def test_no_link_to_a_foreign_host_anywhere(demo_client, grid_row):
    for path in OGC_PATHS:
        for fmt in ("json", "html"):
            answer = demo_client.get(path, params={"f": fmt} if "tiles" not in path else None, headers=EVIL)
            assert answer.status_code == 200, (path, answer.text[:200])
            assert "evil.example" not in answer.text, path
    items = demo_client.get("/ogc/collections/toilets/items?limit=2&offset=2&f=json", headers=EVIL).json()
    rels = {link["rel"]: link["href"] for link in items["links"]}
    assert rels["next"].startswith("http://testserver/ogc/collections/toilets/items?")
    assert rels["prev"].startswith("http://testserver/ogc/") and "offset=0" in rels["prev"]
    assert all(h.startswith(("http://testserver/", "http://www.opengis.net/")) for h in _hrefs(items))
    pages = ["/", "/map", f"/map/grids?street={grid_row['street']}", "/map/coverage", "/docs", "/redoc"]
    for path in pages:
        answer = demo_client.get(path, headers=EVIL)
        assert answer.status_code == 200 and "evil.example" not in answer.text, path


def test_an_allowed_host_and_the_public_url_are_used(demo_client, monkeypatch):
    local = demo_client.get("/ogc/collections/toilets/items?limit=1&f=json", headers={"Host": "localhost:8000"})
    assert {link["rel"]: link["href"] for link in local.json()["links"]}["next"].startswith("http://localhost:8000/")
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_URL", "https://maps.city.gov.cn/hm")
    public = demo_client.get("/ogc/collections/toilets/items?limit=1&f=json", headers=EVIL).json()
    assert all(h.startswith(("https://maps.city.gov.cn/hm/ogc/", "http://www.opengis.net/")) for h in _hrefs(public))


# -- QR codes --------------------------------------------------------------------------------------
def _qr_reads(pdf: bytes, url: str, tmp_path) -> float:
    """The share of the printed QR code's modules that are those of ``url`` (1.0: it encodes url)."""
    import qrcode

    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(url + printed_param(path))  # the map link says when the sheet was printed
    qr.make(fit=True)
    modules = np.array(qr.get_matrix(), dtype=bool)
    paper = Paper("A4", False)
    qx, qy, side, _ = grid_layout(paper).qr
    pixels = crop_mm(render_page(path, 1, 300, tmp_path), paper, (qx, qy, side, side))
    n = modules.shape[0]
    centres = ((np.arange(n) + 0.5) * pixels.shape[0] / n).astype(int)
    if max(centres) >= pixels.shape[0]:
        return 0.0
    return float(((pixels[np.ix_(centres, centres)] < 128) == modules).mean())


def test_print_over_http_links_to_the_requests_checked_base(demo_client, grid_row, tmp_path):
    page = f"/map/grids?street={grid_row['street']}&grid={grid_row['code']}"
    evil = demo_client.get(f"/print/grids/{grid_row['code']}.pdf", headers=EVIL)
    assert evil.status_code == 200
    assert _qr_reads(evil.content, "http://testserver" + page, tmp_path) > 0.99
    assert _qr_reads(evil.content, "http://evil.example" + page, tmp_path) < 0.9
    local = demo_client.get(f"/print/grids/{grid_row['code']}.pdf", headers={"Host": "localhost:8765"})
    assert _qr_reads(local.content, "http://localhost:8765" + page, tmp_path) > 0.99


def test_cli_print_says_where_its_qr_codes_point(demo_db, grid_row, tmp_path, env_for, monkeypatch):
    env_for(demo_db)
    monkeypatch.delenv("HYGIENE_MAP_PUBLIC_URL", raising=False)
    run = CliRunner().invoke(main, ["print", "grid", grid_row["code"], "--out", str(tmp_path / "a.pdf")])
    assert run.exit_code == 0, run.output
    assert "http://127.0.0.1:8000" in run.output and "HYGIENE_MAP_PUBLIC_URL" in run.output
    assert "已写入" in run.output and "二维码打开的是 http://127.0.0.1:8000" in run.output  # the sheet's language
    monkeypatch.setenv("HYGIENE_MAP_PUBLIC_URL", "https://maps.city.gov.cn")
    run = CliRunner().invoke(main, ["print", "grid", grid_row["code"], "--out", str(tmp_path / "b.pdf")])
    assert run.exit_code == 0 and "HYGIENE_MAP_PUBLIC_URL" not in run.output
    page = f"/map/grids?street={grid_row['street']}&grid={grid_row['code']}"
    assert _qr_reads((tmp_path / "b.pdf").read_bytes(), "https://maps.city.gov.cn" + page, tmp_path) > 0.99


# -- one reference time for "overdue" --------------------------------------------------------------
def test_overdue_is_the_same_on_page_api_and_print(demo_client, grid_row, tmp_path):
    assert grid_row["now_differs"], "the demo should have complaints due between its data time and now"
    code, street = grid_row["code"], grid_row["street"]
    grids = demo_client.get(f"/api/grids?street={street}").json()["features"]
    on_page = next(f["properties"] for f in grids if f["properties"]["code"] == code)  # the page's popups
    listed = demo_client.get(f"/api/complaints?grid={code}&open=true&limit=1000").json()["items"]
    api_overdue = sum(1 for c in listed if c["overdue"])
    pdf = tmp_path / "g.pdf"
    pdf.write_bytes(demo_client.get(f"/print/grids/{code}.pdf?lang=en").content)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    printed = re.search(r"Open complaints (\d+).*?\(overdue (\d+)\)", text.replace("\n", " "))
    assert printed, text
    assert on_page["open_complaints"] == len(listed) == int(printed.group(1))
    assert on_page["overdue_complaints"] == api_overdue == int(printed.group(2)) > 0


def test_the_reference_time_is_the_data_time_until_the_city_is_live_again(demo_conn):
    from data.clock import reference_time

    with demo_conn.cursor() as cur:
        cur.execute("SELECT data_time, now() FROM city_settings")
        data_time, now = cur.fetchone()
        assert reference_time(demo_conn) == data_time < now
        cur.execute("UPDATE city_settings SET data_time = NULL")
        assert reference_time(demo_conn) == now
        cur.execute("UPDATE city_settings SET data_time = %s", (data_time,))
        cur.execute("""INSERT INTO complaints (category, reported_at, due_at, status, geom)
                       SELECT category, now(), now(), status, geom FROM complaints LIMIT 1""")
        assert reference_time(demo_conn) == now  # a complaint filed after the snapshot: judged at now
    demo_conn.rollback()
