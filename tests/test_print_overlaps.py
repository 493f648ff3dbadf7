"""Printed maps whose words do not cover each other, on Taipei's real files, read back from the PDF as a reader
would (pdftotext's word boxes):

- the bulletin's map of the 12 district offices: 大同區 was drawn over 中山區, 萬華區 over 中正區.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from itertools import combinations
from pathlib import Path

import numpy as np

from tests.conftest import REAL_DATA

PT_PER_MM = 72 / 25.4
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def words(pdf: Path, page: int = 1) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every word of a page and its box in millimetres from the page's upper left (pdftotext -bbox)."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(html.unescape(w), tuple(float(v) / PT_PER_MM for v in box))
            for *box, w in ((m[0], m[1], m[2], m[3], m[4]) for m in _WORD.findall(out))]


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


def test_taipei_bulletin_map_labels_cover_no_other_and_every_district_is_named(tmp_path):
    """The bulletin's map of the 12 district offices (drawn as the bulletin draws it, A4, 80 mm high): no two
    words on the map overlap, and each district is named — on the map, or by a number on the map that its line in
    the legend names."""
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
    rect = (15, 150, W - 30, 80)
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
