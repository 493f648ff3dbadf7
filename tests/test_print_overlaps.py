"""Printed maps whose words do not cover each other, on Taipei's real files, read back from the PDF as a reader
would (pdftotext's word boxes, the page rendered by pdftoppm):

- the bulletin's map of the 12 district offices: 大同區 was drawn over 中山區, 萬華區 over 中正區;
- the 问题清单's map: findings at one toilet each get their own marker and a number of their own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import combinations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REAL_DATA
from tests.inspecting import query
from tests.pdf_tools import render_page, words
from tests.test_inspection_problems import TAIPEI_STREET, _cli, taipei  # noqa: F401  (a fixture, used by name)


def within(box, rect_mm, page_h: float) -> bool:
    """Whether a word's box (from the upper left) lies inside ``rect_mm`` (x, y, w, h from the lower left)."""
    x, y, w, h = rect_mm
    return box[0] >= x and box[2] <= x + w and page_h - box[3] >= y and page_h - box[1] <= y + h


def covering(found) -> list[tuple[str, str]]:
    """The pairs of words whose boxes overlap (a hair of touching allowed)."""
    return [(a, b) for (a, p), (b, q) in combinations(found, 2)
            if min(p[2], q[2]) - max(p[0], q[0]) > 0.1 and min(p[3], q[3]) - max(p[1], q[1]) > 0.1]


def taipei_districts() -> tuple[dict, dict]:
    """Taipei's 12 district offices from the real file, in metres (its UTM zone, the city's default CRS), by
    code, and their names."""
    import shapely
    from pyproj import Transformer
    from shapely.geometry import shape

    path = REAL_DATA / "taipei/taipei_districts_town.geojson"
    to_m = Transformer.from_crs(4326, 32651, always_xy=True)
    shapes, names = {}, {}
    for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
        code = f["properties"]["CPTID"]
        shapes[code] = shapely.transform(shape(f["geometry"]), lambda xy: np.column_stack(to_m.transform(*xy.T)))
        names[code] = f["properties"]["TNAME"]
    return shapes, names


@pytest.mark.parametrize("height", [80, 45])
def test_taipei_bulletin_map_labels_cover_no_other_and_every_district_is_named(tmp_path, height):
    """The bulletin's map of the 12 district offices (drawn as the bulletin draws it, A4, 80 mm high; and 45 mm,
    too small for every name): no two words on the map overlap, and each district is named — on the map, or by a
    number on the map that its line in the legend names."""
    import matplotlib

    from data.settings import PrintSettings
    from layers.printing.page import new_page
    from layers.printing.style import Paper, rc_params, register_font
    from layers.reports.street_map import LEGEND_MM, draw_street_map

    shapes, names = taipei_districts()
    rows = [{"code": c, "name": names[c], "closed_rate": [None, 0.5, 0.93, 0.99][k % 4]}
            for k, c in enumerate(sorted(shapes))]
    paper = Paper("A4", False)
    W, H = paper.size_mm
    rect = (15, 150, W - 30, height)
    with matplotlib.rc_context(rc_params(register_font(PrintSettings.from_env().font_path))):
        fig = new_page(paper)
        draw_street_map(fig, rect, (W, H), rows, shapes, "zh")
        fig.savefig(tmp_path / "map.pdf")
    found = words(tmp_path / "map.pdf")
    on_map = [(w, b) for w, b in found if within(b, (rect[0], rect[1], rect[2] - LEGEND_MM, rect[3]), H)]
    legend = [(w, b) for w, b in found if within(b, (rect[0] + rect[2] - LEGEND_MM, *rect[1:]), H)]
    assert len(on_map) >= 12, on_map
    assert not covering(on_map), covering(on_map)
    mapped = {w for w, _ in on_map}
    for name in names.values():
        if name in mapped:
            continue
        # Named in the legend, after the number it has on the map, on the same line.
        at = [b for w, b in legend if w == name]
        assert at, f"{name} is neither on the map nor in the legend"
        before = [w for w, b in sorted(legend, key=lambda e: e[1][0]) if abs(b[1] - at[0][1]) < 1 and b[2] <= at[0][0]]
        assert before and before[-1].isdigit() and before[-1] in mapped, (name, before)


def _findings_round(city: dict, spots: list[tuple[float, float, str]]) -> int:
    """A round of 大同區 with one finding per (lon, lat, item) of ``spots``, posted by its inspector; its id."""
    import os

    from fastapi.testclient import TestClient

    from api.app import create_app
    from data.db import connect
    from layers.workflow.access import add_user

    conn = connect(url=city["url"])
    _, admin = add_user(conn, "tp-admin-same-place", "admin", created_by="test")
    _, inspector = add_user(conn, "tp-inspector-same-place", "inspector", street_code=TAIPEI_STREET,
                            created_by="test")
    conn.commit()
    conn.close()
    os.environ["DATABASE_URL"] = city["url"]
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            made = client.post("/api/inspections/rounds", headers={"Authorization": f"Bearer {admin}"}, json={
                "name": "大同區公廁複查", "kind": "专项检查", "starts": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
                "ends": (datetime.now(UTC) + timedelta(days=1)).isoformat(), "streets": [TAIPEI_STREET]})
            assert made.status_code == 201, made.text
            for k, (lon, lat, item) in enumerate(spots):
                posted = client.post("/api/inspections/findings", headers={"Authorization": f"Bearer {inspector}"},
                                     json={"round_id": made.json()["id"], "lon": lon, "lat": lat, "item": item,
                                           "note": f"同一處 {k}", "observed_at": datetime.now(UTC).isoformat(),
                                           "client_id": f"same-place-{k}"})
                assert posted.status_code == 201, posted.text
            return made.json()["id"]
    finally:
        os.environ.pop("DATABASE_URL", None)


def test_taipei_findings_at_one_toilet_each_have_a_marker_and_a_number(taipei, tmp_path):  # noqa: F811
    """Three findings at one real toilet of 大同區, a fourth two metres away, a fifth at another toilet: page 1 of
    the 问题清单 shows five markers apart and the numbers 1–5, none covering another."""
    from scipy import ndimage

    from layers.printing.page import HEADER_MM, MARGIN_MM
    from layers.printing.style import Paper

    (lon, lat), (lon2, lat2) = query(taipei["url"], "SELECT ST_X(geom), ST_Y(geom) FROM toilets "
                                                    "WHERE street_code = %s ORDER BY id LIMIT 2", (TAIPEI_STREET,))
    rid = _findings_round(taipei, [(lon, lat, "TLT-01"), (lon, lat, "TLT-02"), (lon, lat, "TLT-03"),
                                   (lon + 0.00002, lat, "TLT-04"), (lon2, lat2, "TLT-05")])
    out = tmp_path / "same.pdf"
    _cli(taipei["url"], taipei["work"], "inspections", "problems", "--round", rid, "--street", TAIPEI_STREET,
         "--out", out)
    paper = Paper("A4", False)
    W, H = paper.size_mm
    rect = (MARGIN_MM, MARGIN_MM + 20, W - 2 * MARGIN_MM, H - 2 * MARGIN_MM - HEADER_MM - 24)  # page 1's map
    on_map = [(w, b) for w, b in words(out) if within(b, rect, H)]
    scale_bar = {round(b[3]) for w, b in on_map if w == "m"}  # "0 250 500 m": not findings' numbers
    numbers = [(w, b) for w, b in on_map if w.isdigit() and round(b[3]) not in scale_bar]
    assert sorted(w for w, _ in numbers) == ["1", "2", "3", "4", "5"], numbers
    assert not covering(numbers), covering(numbers)
    # Five red markers (all still 待整改), each its own blot of ink on the map.
    render_page(out, 1, 150, tmp_path)
    rgb = np.asarray(Image.open(tmp_path / "p1-150.png").convert("RGB")).astype(int)
    px = rgb.shape[1] / W
    x, y, w, h = rect
    inside = rgb[round((H - y - h) * px):round((H - y) * px), round(x * px):round((x + w) * px)]
    red = (np.abs(inside - [0xD6, 0x27, 0x28]).sum(axis=2) < 60)
    _, blots = ndimage.label(red)
    assert blots == 5, f"{blots} red markers on the map"
