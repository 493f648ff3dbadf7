"""A health trail or park not in service (shut for works) on the web map and on the grid sheet.

Facilities not in service are drawn hollow (tests/test_print_in_service.py); a trail was drawn like an open one,
and an inspector sent to check it found it fenced off. Now the sheet draws it in grey and its legend says what grey
means, only where the map shows one; the web map draws it in grey dashes and its legend says so. No city's open
data here has trails, so the demo city's are used, one of them set not in service.
"""

from __future__ import annotations

import pytest

from data.db import connect
from data.settings import PrintSettings
from layers.printing.docs import PrintOptions, grid_document
from tests.pdf_tools import pdftext, stroked_lines
from tests.real_city import READY_MAP as READY

#: The sheet's grey for a trail not in service, as the stroke colour is read from the PDF; the legend's row.
GREY = (0.6, 0.6, 0.6)
LEGEND = {"zh": "健康步道 / 公园（灰色：不在用）", "en": "Trail / park not in service"}
#: A line trail and, for each, the grid it crosses most and a grid whose map (300 m beyond it) shows no trail.
_PICK = """
SELECT h.id, g.code FROM health_trails h JOIN grids g ON ST_Intersects(h.geom, g.geom)
WHERE GeometryType(h.geom) = 'LINESTRING'
ORDER BY ST_Length(ST_Intersection(h.geom, g.geom)) DESC LIMIT 1
"""
_CLEAR = """
SELECT g.code FROM grids g WHERE NOT EXISTS (
    SELECT 1 FROM health_trails h WHERE ST_DWithin(h.geom::geography, g.geom::geography, 1500))
ORDER BY g.code LIMIT 1
"""


@pytest.fixture(scope="module")
def sheets(module_demo, tmp_path_factory):
    """The demo with its longest-crossing line trail set not in service; the sheets (zh, en) of that grid and of
    one far from every trail, and the same grid's sheet before the trail closed."""
    conn = connect(url=module_demo)
    out = tmp_path_factory.mktemp("closed-trails")
    with conn.cursor() as cur:
        cur.execute(_PICK)
        trail, code = cur.fetchone()
        cur.execute(_CLEAR)
        clear = cur.fetchone()[0]
    printed = {}

    def sheet(name: str, grid: str, lang: str) -> None:
        printed[name, lang] = out / f"{name}-{lang}.pdf"
        grid_document(conn, grid, PrintOptions(lang=lang), PrintSettings.from_env({})).write(str(printed[name, lang]))

    sheet("open", code, "zh")
    with conn.cursor() as cur:
        cur.execute("UPDATE health_trails SET in_service = false WHERE id = %s", (trail,))
    conn.commit()
    for lang in ("zh", "en"):
        sheet("closed", code, lang)
        sheet("clear", clear, lang)
    conn.close()
    return printed, trail


def test_the_sheet_draws_a_closed_trail_in_grey_and_its_legend_says_so(sheets):
    """The grid crossed by the closed trail: its legend's grey-trail row, in both languages, and grey dotted lines
    on its map (the trail's pieces and the legend's sample); before it closed, and far from any trail, neither."""
    sheets = sheets[0]
    for lang in ("zh", "en"):
        assert LEGEND[lang] in pdftext(sheets["closed", lang], page=1)
        assert LEGEND[lang] not in pdftext(sheets["clear", lang], page=1)
    assert stroked_lines(sheets["closed", "zh"])[GREY] >= 2, stroked_lines(sheets["closed", "zh"])
    assert stroked_lines(sheets["open", "zh"])[GREY] == 0
    assert LEGEND["zh"] not in pdftext(sheets["open", "zh"], page=1)


@pytest.mark.parametrize(("lang", "words"), [("zh", "灰色虚线：不在用（停用、在建）"),
                                             ("en", "grey dashes: not in service (closed, under construction)")])
def test_the_web_map_draws_a_closed_trail_in_grey_dashes(sheets, module_demo, browser, lang, words):
    """On /map the closed trail is drawn in grey dashes and every other trail in its kind's colour, unbroken; the
    trails' legend says what grey dashes mean."""
    from tests.chromium import serve_app

    trail = sheets[1]
    with serve_app(module_demo) as base:
        report = browser.open(f"{base}/map?lang={lang}", ready_js=READY, timeout=90)
        assert not report.timed_out and report.console_errors == [], report.console_errors
        drawn = browser.evaluate("""(function () { var out = [];
            var m = Object.values(window).find(function (v) { return v instanceof L.Map; });
            m.eachLayer(function (l) {
              var p = l.feature && l.feature.properties;
              if (p && p.in_service !== undefined && !(l instanceof L.CircleMarker) && l.feature.id !== undefined)
                out.push([l.feature.id, p.in_service, l.options.color, l.options.dashArray || null]); });
            return out; })()""")
        legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
    closed = [d for d in drawn if d[1] is False]
    assert [d[0] for d in closed] == [trail] and closed[0][2:] == ["#999", "4 6"], drawn
    assert len(drawn) > 1 and all(color != "#999" and dashes is None for _, serving, color, dashes in drawn if serving)
    assert words in legend, legend
