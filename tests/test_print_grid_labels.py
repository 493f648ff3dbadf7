"""The grid sheet's map (巡查图) on New York's real files, read back from the PDF as a reader would (pdftotext's word
boxes): Manhattan CD 3 (MN03) cut into 400 m grids holds hundreds of litter baskets, restrooms and 311 requests.

- no two words of the map cover each other: checklist numbers, neighbouring grids' labels, the scale bar, north;
- every row of the checklist has its number on the map (1 … N, N counted by the test's own SQL);
- neighbouring grids are labelled short (community-sequence), the grid's own full code stays in the title.
"""

from __future__ import annotations

from itertools import combinations

import pytest

from layers.printing.sheets import grid_layout
from layers.printing.style import Paper
from tests.new_york import STREET, newyork  # noqa: F401  (a fixture, used by name)
from tests.test_print_overlaps import words

#: The size of a checklist number on an A4 sheet's map and of the north arrow's letter (pt).
NUMBER_PT, NORTH_PT = 6.0 * 1.05, 7.5
#: A street cut into large grids: a sheet of a hundred and more numbers.
DENSE = "MN02"
#: What lies in a grid, as the checklist counts it (asked independently of the print code).
_IN_GRID = """
SELECT (SELECT count(*) FROM complaints c WHERE ST_Intersects(c.geom, g.geom) AND c.status <> '结案')
     + (SELECT count(*) FROM toilets t WHERE ST_Intersects(t.geom, g.geom))
     + (SELECT count(*) FROM garbage_stations s WHERE ST_Intersects(s.geom, g.geom))
     + (SELECT count(*) FROM markets m WHERE ST_Intersects(m.geom, g.geom))
FROM grids g WHERE g.code = %s
"""


@pytest.fixture(scope="module")
def dense_sheets(newyork, tmp_path_factory):  # noqa: F811
    """MN03 cut into 400 m grids, and MN02 (Greenwich Village, SoHo) into 1 km ones, far denser on paper; the
    sheets (A4, zh) of MN03's three grids with the most to check and MN02's densest, and their checklist lengths."""
    city = newyork
    city.cli("grids", "generate", "--street", STREET, "--size", 400)
    city.cli("grids", "generate", "--street", DENSE, "--size", 1000)
    counts = []
    for street, top in ((STREET, 3), (DENSE, 1)):
        codes = [c for (c,) in city.sql("SELECT code FROM grids WHERE street_code = %s", (street,))]
        counts += sorted(((city.one(_IN_GRID, (code,)), code) for code in codes), reverse=True)[:top]
    out = tmp_path_factory.mktemp("grid-labels")
    sheets = []
    for n, code in counts:
        city.cli("print", "grid", code, "--out", out / f"{code}.pdf", timeout=300)
        sheets.append((code, n, out / f"{code}.pdf"))
    return sheets


def _map_words(pdf) -> list[tuple[str, tuple]]:
    """The words whose middle lies on the first page's map."""
    paper = Paper("A4", False)
    _, H = paper.size_mm
    x, y, w, h = grid_layout(paper).map
    return [(t, b) for t, b in words(pdf) if x <= (b[0] + b[2]) / 2 <= x + w and y <= H - (b[1] + b[3]) / 2 <= y + h]


def _overlapping(found) -> list[tuple[str, str]]:
    """The pairs of words whose boxes overlap by more than a hair (0.1 mm each way)."""
    return [(a, b) for (a, p), (b, q) in combinations(found, 2)
            if min(p[2], q[2]) - max(p[0], q[0]) > 0.1 and min(p[3], q[3]) - max(p[1], q[1]) > 0.1]


def _numbers(found) -> list[int]:
    """The checklist numbers on the map: the upright words of digits only in the numbers' size (6.3 pt on A4, the
    north arrow's 北 7.5 pt: a word's box is as high as its size; the scale bar's '0 100 200' and the pieces a
    reader cuts a slanted road name into are not)."""
    north = [b[3] - b[1] for t, b in found if t == "北"]
    assert len(north) == 1, found
    high = north[0] * NUMBER_PT / NORTH_PT
    return sorted(int(t) for t, b in found if t.isdigit() and abs(b[3] - b[1] - high) < 0.03)


def test_dense_grid_sheets_map_words_cover_no_other(dense_sheets):
    """On the densest sheets, no word of the map covers another."""
    assert dense_sheets[0][1] >= 40, dense_sheets  # dense indeed: dozens of things to check
    for code, _, pdf in dense_sheets:
        found = _map_words(pdf)
        assert found, code
        bad = _overlapping(found)
        assert not bad, f"{code}: {len(bad)} pairs of words overlap on the map, e.g. {bad[:8]}"


def test_dense_grid_sheets_show_every_checklist_number_on_the_map(dense_sheets):
    """Each of the N checklist rows has its number on the map: 1 … N, each once."""
    for code, n, pdf in dense_sheets:
        shown = _numbers(_map_words(pdf))
        missing = sorted(set(range(1, n + 1)) - set(shown))
        assert not missing, f"{code}: {len(missing)} of {n} checklist numbers not on the map: {missing[:20]}"
        assert shown == list(range(1, n + 1)), f"{code}: numbers twice or not of the checklist"


def test_neighbours_are_labelled_short_and_the_title_keeps_the_full_code(dense_sheets, newyork):  # noqa: F811
    """Neighbouring grids carry community-sequence (e.g. 01-05), not their full codes; the sheet's own code is
    printed in full in its title."""
    for code, _, pdf in dense_sheets:
        page = words(pdf)
        found = _map_words(pdf)
        neighbours = [c for (c,) in newyork.sql(
            "SELECT n.code FROM grids n, grids g WHERE g.code = %s AND n.code <> g.code AND ST_DWithin(n.geom::geography, "
            "g.geom::geography, 50)", (code,))]
        assert neighbours, code
        assert not [t for t, _ in found if t in neighbours], f"{code}: a neighbour's full code on the map"
        short = [t for t, _ in found if "-" in t and all(p.isdigit() for p in t.split("-"))]
        assert short, f"{code}: no neighbour labelled community-sequence"
        assert code in {t for t, _ in page}, f"{code} not in the sheet's title"


@pytest.fixture(scope="module")
def demo_sheets(demo_db, tmp_path_factory):
    """The demo city's three grids with the most to check (roads named, back streets, villages, trails), printed."""
    from data.db import connect
    from data.settings import PrintSettings
    from layers.printing.docs import grid_document

    out = tmp_path_factory.mktemp("demo-grid-labels")
    conn = connect(url=demo_db)
    with conn.cursor() as cur:
        cur.execute("SELECT code FROM grids")
        codes = [c for (c,) in cur.fetchall()]
        counts = []
        for code in codes:
            cur.execute(_IN_GRID, (code,))
            counts.append((cur.fetchone()[0], code))
    sheets = []
    for _, code in sorted(counts, reverse=True)[:3]:
        document = grid_document(conn, code, settings=PrintSettings.from_env({}))
        conn.rollback()
        document.write(str(out / f"{code}.pdf"))
        sheets.append((code, sum(len(p.items) for p in document.pages), out / f"{code}.pdf"))
    conn.close()
    return sheets


def test_demo_sheets_map_words_cover_no_other_and_show_every_number(demo_sheets):
    """The demo's densest sheets, with named roads and back streets, villages and trails: no word of the map
    covers another, and every checklist number is on the map."""
    for code, n, pdf in demo_sheets:
        found = _map_words(pdf)
        bad = _overlapping(found)
        assert not bad, f"{code}: {len(bad)} pairs of words overlap on the map, e.g. {bad[:8]}"
        # (A slanted road name's pieces may be a number's size: its digits are not asked to be absent here.)
        missing = sorted(set(range(1, n + 1)) - set(_numbers(found)))
        assert not missing, f"{code}: {len(missing)} of {n} checklist numbers not on the map: {missing[:20]}"
