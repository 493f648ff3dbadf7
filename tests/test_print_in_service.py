"""Facilities not in service on the grid sheet (明察暗访巡查图), on New York's real files.

New York's public restrooms (NYC Open Data, 2024-12-03) list 116 of 1,047 as closed, closed for construction or
not operational (是否在用: 否). The web map draws them hollow; the printed sheet drew them and listed them as if
open, and an inspector walked to a closed toilet to check it. Now, read back from the PDF:

- a sheet of a grid holding closed restrooms says in its legend what a hollow marker means, and its checklist
  marks each of them, in Chinese and in English; a sheet with none on its map has no such legend row or mark;
- its map paints each of them white inside with the toilets' blue as ring (pypdf reading the page's drawing
  operators), the open ones filled blue.
"""

from __future__ import annotations

import re

import pytest

from tests.new_york import OTHER, STREET, newyork  # noqa: F401  (a fixture, used by name)
from tests.pdf_tools import painted_markers, pdftext, rgb

#: The toilets' colour on paper (their print symbol's fill) and white.
TOILET, WHITE = rgb("#2b6cb0"), (1.0, 1.0, 1.0)
#: The legend's row and the checklist's mark, by language.
LEGEND = {"zh": "空心：不在用（停用、在建）", "en": "hollow: not in service"}
MARK = {"zh": "不在用", "en": "not in service"}
#: Facilities of a grid, in or out of service (asked independently of the print code).
_FACILITIES = """
SELECT f.id, f.in_service FROM (
    SELECT id, in_service, geom FROM toilets UNION ALL SELECT id, in_service, geom FROM markets
    UNION ALL SELECT id, in_service, geom FROM garbage_stations) f, grids g
WHERE g.code = %s AND ST_Intersects(f.geom, g.geom)
"""
#: A street's grids, with how many restrooms out of and in service each holds, and whether one not in service lies
#: within 600 m (a 400 m grid's map reaches less than 300 m beyond it).
_GRIDS = """
SELECT g.code,
       (SELECT count(*) FROM toilets t WHERE NOT t.in_service AND ST_Intersects(t.geom, g.geom)),
       (SELECT count(*) FROM toilets t WHERE t.in_service AND ST_Intersects(t.geom, g.geom)),
       EXISTS (SELECT 1 FROM toilets t WHERE NOT t.in_service
               AND ST_DWithin(t.geom::geography, g.geom::geography, 600))
FROM grids g WHERE g.street_code = %s ORDER BY g.code
"""


@pytest.fixture(scope="module")
def sheets(newyork, tmp_path_factory):  # noqa: F811
    """MN03 (7 of its 26 restrooms not in service) and BK04 (none of 9) cut into 400 m grids; the sheets (zh, en) of
    MN03's grid holding the most closed restrooms and of BK04's first with open restrooms and no closed one near
    (nothing hollow on its map)."""
    city = newyork
    for street in (STREET, OTHER):
        city.cli("grids", "generate", "--street", street, "--size", 400)
    closed = max(city.sql(_GRIDS, (STREET,)), key=lambda g: (g[1], g[2]))[0]
    clear = next(code for code, _, n_open, near in city.sql(_GRIDS, (OTHER,)) if n_open and not near)
    out = tmp_path_factory.mktemp("in-service")
    printed = {}
    for code in (closed, clear):
        for lang in ("zh", "en"):
            printed[code, lang] = out / f"{code}-{lang}.pdf"
            city.cli("print", "grid", code, "--lang", lang, "--out", printed[code, lang], timeout=300)
    return city, closed, clear, printed


def _marked(text: str, lang: str) -> list[int]:
    """The ids of the checklist rows marked not in service (a row ends with its id; the check box is empty)."""
    return sorted(int(m.group(1)) for line in text.splitlines() if MARK[lang] in line and LEGEND[lang] not in line
                  for m in [re.search(r"\s(\d+)\s*$", line)] if m)


def test_the_legend_row_and_the_checklist_marks_only_where_facilities_are_not_in_service(sheets):
    """The grid holding closed restrooms: its legend's hollow row, and each closed facility's checklist row (and
    no other) marked not in service; the grid whose map shows none: no such row, no row marked. In both languages."""
    city, closed, clear, printed = sheets
    facilities = city.sql(_FACILITIES, (closed,))
    not_in_service = sorted(fid for fid, serving in facilities if not serving)
    assert not_in_service and len(not_in_service) < len(facilities), facilities
    for lang in ("zh", "en"):
        text = pdftext(printed[closed, lang])
        assert LEGEND[lang] in pdftext(printed[closed, lang], page=1), (lang, text[:3000])
        assert _marked(text, lang) == not_in_service, (lang, text)
        text = pdftext(printed[clear, lang])
        assert LEGEND[lang] not in text and MARK[lang] not in text, (lang, text)


def test_closed_restrooms_are_painted_hollow_on_the_map(sheets):
    """On the map, each closed restroom of the grid is painted white with a blue ring (at least those of the
    grid: the faded neighbours' too); the open ones (and the legend's toilet) blue. On the sheet with none near,
    nothing is white and blue."""
    city, closed, clear, printed = sheets
    n_closed, n_open = city.sql("SELECT count(*) FILTER (WHERE NOT t.in_service), count(*) FILTER (WHERE t.in_service) "
                                "FROM toilets t, grids g WHERE g.code = %s AND ST_Intersects(t.geom, g.geom)",
                                (closed,))[0]
    painted = painted_markers(printed[closed, "zh"])
    hollow = sum(n for (fill, ring), n in painted.items() if fill == WHITE and ring == TOILET)
    filled = sum(n for (fill, _), n in painted.items() if fill == TOILET)
    assert hollow >= n_closed > 0 and filled >= n_open + 1, (n_closed, n_open, painted)  # + the legend's
    n_clear = city.one("SELECT count(*) FROM toilets t, grids g WHERE g.code = %s AND ST_Intersects(t.geom, g.geom)",
                       (clear,))
    painted = painted_markers(printed[clear, "zh"])
    assert painted[WHITE, TOILET] == 0, painted
    assert sum(n for (fill, _), n in painted.items() if fill == TOILET) >= n_clear + 1 > 1, painted
