"""Grid names in English outputs, on New York's MN03 (real outlines and 311 day, grids generated at 400 m): a
generated name 「Lower East Side 2号网格」 is said "Lower East Side grid 2" by every English table, workbook and print
(a tester found 号网格 in all of them), the Chinese ones unchanged; and a route of fewer stops than --top says so."""

from __future__ import annotations

import re

import pytest

from data.said import grid_name
from tests.new_york import SAMPLE, STREET, outlines
from tests.pdf_tools import pdftext
from tests.real_city import new_city

FILES = ("boundaries/nybb.shp", "boundaries/nycdta2020.shp", "boundaries/nynta2020.shp", SAMPLE,
         "nyc_dsny_litter_baskets.csv")
#: A generated grid name in English: the community's name, "grid", the number.
SAID = re.compile(r"[A-Za-z)] grid \d+")


@pytest.fixture(scope="module")
def newyork(pg_server, tmp_path_factory):
    """纽约's outlines, the 311 day's requests, litter baskets and MN03's 400 m grids, through the command line."""
    with new_city(pg_server, tmp_path_factory, "nyc", FILES) as city:
        outlines(city)
        city.cli("import", "complaints", SAMPLE, "--skip-bad")
        city.cli("import", "garbage_stations", "nyc_dsny_litter_baskets.csv")
        city.cli("grids", "generate", "--street", STREET, "--size", "400")
        yield city


@pytest.mark.parametrize(("name", "english"), [
    ("East Village 2号网格", "East Village grid 2"), ("Block 12 5号网格", "Block 12 grid 5"),
    ("岚亭社区12号网格", "岚亭社区 grid 12"), ("5号网格", "grid 5"), ("老街片区", "老街片区"), (None, None)])
def test_a_generated_name_is_said_in_english_and_a_hand_given_one_kept(name, english):
    """The generated pattern in English, a street office's own name as written, Chinese untouched."""
    assert grid_name(name, "en") == english
    assert grid_name(name, "zh") == name
    assert grid_name("岚亭社区3号网格", "en", "岚亭社区", "Lanting") == "Lanting grid 3"  # the community's English
    assert grid_name("岚亭社区3号网格", "en", "别的社区", "Other") == "岚亭社区 grid 3"  # not made from it


def test_coverage_by_grid_in_english_names_no_haowangge(newyork):
    """`analyze coverage --by grid --street MN03 --lang en`: every row "… grid N"; in Chinese 「… N号网格」 still."""
    en = newyork.cli("analyze", "coverage", "--by", "grid", "--street", STREET, "--lang", "en").stdout
    zh = newyork.cli("analyze", "coverage", "--by", "grid", "--street", STREET).stdout
    assert "号网格" not in en and len(SAID.findall(en)) >= 10, en
    assert re.search(r"Lower East Side \d+号网格", zh), zh


def test_priority_workbook_in_english_names_no_haowangge(newyork):
    """`analyze priority --street MN03 --out pr.xlsx --lang en`: the names column says "East Village grid 5"; the
    Chinese workbook and the CSV (for scripts) keep the stored names."""
    import openpyxl

    for lang in ("en", "zh"):
        newyork.cli("analyze", "priority", "--street", STREET, "--out", f"pr-{lang}.xlsx", "--lang", lang)
    newyork.cli("analyze", "priority", "--street", STREET, "--out", "pr.csv", "--lang", "en")
    cells = {lang: [str(c) for row in openpyxl.load_workbook(newyork.work / f"pr-{lang}.xlsx").active.iter_rows(
        values_only=True) for c in row] for lang in ("en", "zh")}
    assert not [c for c in cells["en"] if "号网格" in c], cells["en"][:40]
    assert any(re.fullmatch(r"East Village grid \d+", c) for c in cells["en"]), cells["en"][:40]
    assert any(re.fullmatch(r"East Village \d+号网格", c) for c in cells["zh"]), cells["zh"][:40]
    assert "号网格" in (newyork.work / "pr.csv").read_text(encoding="utf-8-sig")


def test_atlas_and_grid_sheet_name_grids_in_the_page_language(newyork):
    """The atlas index and a grid sheet's title: "Chinatown-Two Bridges grid 1" in English, 「…1号网格」 in Chinese."""
    code, name = newyork.sql("SELECT code, name FROM grids WHERE street_code = %s ORDER BY code LIMIT 1", (STREET,))[0]
    text = {}
    for lang in ("zh", "en"):
        newyork.cli("print", "atlas", "--street", STREET, "--lang", lang, "--out", f"atlas-{lang}.pdf", timeout=900)
        newyork.cli("print", "grid", code, "--lang", lang, "--out", f"grid-{lang}.pdf")
        text[lang] = pdftext(newyork.work / f"atlas-{lang}.pdf"), pdftext(newyork.work / f"grid-{lang}.pdf", 1)
    (atlas, sheet), (atlas_zh, sheet_zh) = text["en"], text["zh"]
    assert "号网格" not in atlas and "号网格" not in sheet, (atlas[:2000], sheet[:600])
    assert len(SAID.findall(atlas)) >= 10 and grid_name(name, "en") in sheet, sheet[:600]
    assert name in sheet_zh and len(re.findall(r"\d+号网格", atlas_zh)) >= 10, sheet_zh[:600]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_route_of_fewer_stops_than_asked_says_so(newyork, lang):
    """`print route --top 40`: MN03's grids with open complaints are fewer than 40; the page and the command say
    how many there are (not quietly fewer stops), "1 stop" in the singular, and the English names no 号网格."""
    n = newyork.one("SELECT count(DISTINCT g.code) FROM grids g JOIN complaints c ON ST_Intersects(c.geom, g.geom) "
                    "AND c.status <> '结案' WHERE g.street_code = %s", (STREET,))
    assert 1 <= n < 40
    done = newyork.cli("print", "route", "--street", STREET, "--top", "40", "--lang", lang, "--out", f"r-{lang}.pdf")
    page = " ".join(pdftext(newyork.work / f"r-{lang}.pdf", 1).split())
    if lang == "en":
        said = f"only {n} grid{'' if n == 1 else 's'} with open complaints, fewer than the 40 stops asked for"
        assert said in done.stdout and said in page, (done.stdout, page[:800])
        assert f"{n} stop{'' if n == 1 else 's'} · about" in page and "号网格" not in page, page[:800]
    else:
        said = f"只有 {n} 个网格有待办投诉，少于要求的 40 站"
        # pdftotext spaces CJK text as it likes: compared without spaces
        assert said in done.stdout and said.replace(" ", "") in page.replace(" ", ""), (done.stdout, page[:800])
        assert re.search(r"\d+号网格", page), page[:800]
