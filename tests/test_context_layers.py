"""Place context without internet: the city's roads, outlines and names beneath every page, served by the app.

With no basemap (the default), the overview, grid and analysis maps draw the
city's own roads and street / community outlines (vector tiles from /tiles)
and their names (/api/context/labels), by zoom: road names only at street
zooms. A basemap that needs a key the server lacks is said on the page.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from layers.store.context import LABEL_ZOOMS, kinds_at

ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artifacts"
STREET = "379901001"


@pytest.fixture(scope="module")
def street_view(demo_db):
    from data.db import connect

    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM admin_areas "
                    "WHERE code = %s", (STREET,))
        box = cur.fetchone()
        cur.execute("SELECT r.name, ST_X(ST_PointOnSurface(r.geom)), ST_Y(ST_PointOnSurface(r.geom)) FROM roads r "
                    "JOIN admin_areas a ON a.code = %s AND ST_Intersects(a.geom, r.geom) WHERE r.name <> '' "
                    "ORDER BY ST_Length(r.geom) DESC LIMIT 1", (STREET,))
        road = cur.fetchone()
    conn.close()
    return {"bbox": ",".join(f"{v:.6f}" for v in box), "road": road}


def test_labels_name_places_by_zoom(demo_client, street_view):
    bbox = street_view["bbox"]
    far = demo_client.get(f"/api/context/labels?bbox={bbox}&zoom=13").json()
    kinds = {f["properties"]["kind"] for f in far["features"]}
    assert "street" in kinds and "road" not in kinds
    road, lon, lat = street_view["road"]
    near_box = f"{lon - 0.004:.6f},{lat - 0.003:.6f},{lon + 0.004:.6f},{lat + 0.003:.6f}"
    near = demo_client.get(f"/api/context/labels?bbox={near_box}&zoom=16").json()
    names = {(f["properties"]["kind"], f["properties"]["name"]) for f in near["features"]}
    assert ("road", road) in names and any(k == "community" for k, _ in names)
    assert len([n for k, n in names if k == "road"]) == len({n for k, n in names if k == "road"})  # once each
    for f in near["features"]:
        x, y = f["geometry"]["coordinates"]
        assert lon - 0.004 <= x <= lon + 0.004 and lat - 0.003 <= y <= lat + 0.003
    assert kinds_at(16) == ["community", "road"] and LABEL_ZOOMS["road"][0] == 15


def test_labels_refuse_bad_views_by_name(demo_client):
    for query, name in (("zoom=12", "bbox"), ("bbox=1,2,3&zoom=12", "bbox"), ("bbox=121,37,122,38&zoom=40", "zoom"),
                        ("bbox=121,37,122,38&zoom=x", "zoom")):
        answer = demo_client.get(f"/api/context/labels?{query}")
        assert answer.status_code == 422 and name in answer.json()["detail"], (query, answer.text)


def test_tianditu_without_a_key_says_so_and_never_writes_tk_none(demo_client, monkeypatch):
    monkeypatch.delenv("HYGIENE_MAP_TIANDITU_KEY", raising=False)
    for lang, words in (("zh", "天地图底图需要密钥"), ("en", "The Tianditu basemap needs a key")):
        page = demo_client.get(f"/map?basemap=tianditu&lang={lang}")
        assert page.status_code == 200
        assert words in page.text and "HYGIENE_MAP_TIANDITU_KEY" in page.text
        assert "tk=None" not in page.text and "tianditu.gov.cn" not in page.text
        assert "hygieneContext.init" in page.text  # the offline context instead
    monkeypatch.setenv("HYGIENE_MAP_TIANDITU_KEY", "abc123")
    keyed = demo_client.get("/map?basemap=tianditu")
    assert "tk=abc123" in keyed.text and "hm-notice" not in keyed.text and "hygieneContext.init" not in keyed.text


def _wait(browser, js: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if browser.evaluate(js):
            return
        time.sleep(0.2)
    raise AssertionError(f"not true within {timeout} s: {js}")


# A call on the page's map (the first Leaflet map among the window's globals); a number it returns, else null.
_MAP = "(function () {{ for (var k in window) {{ try {{ if (window[k] instanceof L.Map) {{ var r = window[k].{call}; " \
       "return typeof r === 'number' ? r : null; }} }} catch (e) {{}} }} }})()"


def _zoom_to(browser, lat: float, lon: float, zoom: int) -> None:
    """Set the view and wait for its labels. A page still loading may fit the map to its data once more after the
    test moved it (on a busy machine): then the view is set again, up to three times."""
    for _ in range(3):
        browser.evaluate("window.hygieneContextState.ready = false")
        browser.evaluate(_MAP.format(call=f"setView([{lat}, {lon}], {zoom}, {{animate: false}})"))
        _wait(browser, "window.hygieneContextState.ready")
        if browser.evaluate(_MAP.format(call="getZoom()")) == zoom:
            return
    raise AssertionError(f"the map would not stay at zoom {zoom}: {browser.evaluate(_MAP.format(call='getZoom()'))}")


# The names shown (hidden ones, which would overlap a more important name, left out).
LABELS = ("Array.from(document.querySelectorAll('.hm-label-{kind} span')).filter(function (e) {{ "
          "return e.offsetParent !== null; }}).map(function (e) {{ return e.textContent; }})")
OVERLAPS = """(function () {
  var r = Array.from(document.querySelectorAll('.hm-label span')).filter(function (e) { return e.offsetParent !== null; })
    .map(function (e) { return e.getBoundingClientRect(); }), n = 0;
  for (var i = 0; i < r.length; i++) for (var j = i + 1; j < r.length; j++)
    if (r[i].left < r[j].right && r[i].right > r[j].left && r[i].top < r[j].bottom && r[i].bottom > r[j].top) n++;
  return n; })()"""


@pytest.mark.parametrize("path", ["/map", f"/map/grids?street={STREET}", "/map/coverage?kind=toilets",
                                  "/map/hotspots"])
def test_every_page_names_places_offline_and_roads_only_at_street_zooms(browser, server, street_view, path):
    report = browser.open(server + path, ready_js="window.hygieneContextState && hygieneContextState.ready",
                          timeout=60)
    assert not report.timed_out and report.other_hosts(server) == [], report.other_hosts(server)
    road, lon, lat = street_view["road"]
    _zoom_to(browser, lat, lon, 13)
    assert browser.evaluate(LABELS.format(kind="street")) and not browser.evaluate(LABELS.format(kind="road"))
    _zoom_to(browser, lat, lon, 16)
    assert road in browser.evaluate(LABELS.format(kind="road"))
    assert browser.evaluate(LABELS.format(kind="community"))
    assert browser.evaluate(OVERLAPS) == 0
    if path != "/map":  # the overview draws roads and outlines as its own layers; the others as context tiles
        _wait(browser, "document.querySelectorAll('.leaflet-hm-context-pane canvas').length > 0")
    assert browser.evaluate("hygieneContextState.errors") == []
    browser.screenshot(ARTIFACTS / f"context-{path.split('?')[0].strip('/').replace('/', '-')}.png")


def test_prints_keep_their_place_names(demo_client, demo_db, tmp_path):
    import subprocess

    from data.db import connect

    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("""SELECT g.code, r.name, c.name FROM grids g
                       JOIN roads r ON ST_Intersects(r.geom, g.geom) AND r.name <> '' AND r.class <> '背街小巷'
                       JOIN admin_areas c ON c.code = g.community_code
                       WHERE g.street_code = %s ORDER BY ST_Length(ST_Intersection(r.geom, g.geom)) DESC LIMIT 1""",
                    (STREET,))
        code, road, community = cur.fetchone()
    conn.close()
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(demo_client.get(f"/print/grids/{code}.pdf").content)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert road in text and community in text.replace(" ", "")


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's 12 districts and 456 villages (里), imported from the real files into a database of their own."""
    from data.db import connect
    from data.migrate import migrate
    from tests.conftest import create_database, drop_database
    from tests.test_import_real import load_taipei_areas

    url = create_database(pg_server[0])
    conn = connect(url=url)
    migrate(conn)
    load_taipei_areas(conn, tmp_path_factory.mktemp("taipei"))
    with conn.cursor() as cur:
        cur.execute("SELECT name, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM admin_areas "
                    "WHERE level = 'community' ORDER BY code LIMIT 1")
        village = cur.fetchone()
    conn.close()
    yield {"url": url, "village": village}
    drop_database(url)


def test_taipei_pages_name_its_districts_and_villages_offline(browser, taipei):
    from tests.chromium import serve_app

    name, lon, lat = taipei["village"]
    with serve_app(taipei["url"]) as base:
        report = browser.open(base + "/map", ready_js="window.hygieneContextState && hygieneContextState.ready",
                              timeout=60)
        assert not report.timed_out and report.other_hosts(base) == []
        _zoom_to(browser, 25.06, 121.55, 11)
        districts = browser.evaluate(LABELS.format(kind="district"))
        assert len(districts) >= 8 and "大安區" in districts, districts
        _zoom_to(browser, lat, lon, 15)
        # The names are drawn after the answer arrives: wait for them (the same condition), and say what
        # the page held if they never come.
        shown = LABELS.format(kind="community")
        try:
            _wait(browser, f"({shown}).indexOf({json.dumps(name)}) >= 0")
        except AssertionError:
            raise AssertionError((browser.evaluate(shown), browser.evaluate("JSON.stringify(hygieneContextState)"))) \
                from None
        assert browser.evaluate(OVERLAPS) == 0 and browser.evaluate("hygieneContextState.errors") == []
        browser.screenshot(ARTIFACTS / "context-taipei.png")
