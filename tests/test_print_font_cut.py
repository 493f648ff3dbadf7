"""The bulletin PDF (/reports/bulletin.pdf) and a plan's PDF (/plans/{id}.pdf) in the document's own font, on the
real Taipei (tests/real_city.py).

The campaign office waited 8–16 s for a bulletin and ~6 s for a plan under load: most of it was matplotlib
re-reading the whole 5 MB CJK font with fontTools for every 256-glyph block it embeds (the bulletin never used the
document's cut font; the plan's cut font lacked words of its tables, 变化 人口 指标, so every Chinese plan was drawn
a second time with the whole font). Checked as a reader would: the same pages, text and pixels as when drawn
with the whole font, and no glyph taken from the whole font (the work that cost the wait; no timing here).
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image

from tests.pdf_tools import pdfinfo, pdftext
from tests.real_city import taipei, taipei_complaints, taipei_grids, taipei_server  # noqa: F401 (fixtures)
from tests.taipei_planner import DATONG

DATONG_OFFICE = "6300600"


@pytest.fixture
def embedded_from(monkeypatch) -> list[str]:
    """The font files matplotlib cuts the glyphs it embeds from, as it closes each PDF."""
    from matplotlib.backends import _backend_pdf_ps

    files: list[str] = []
    subset = _backend_pdf_ps.get_glyphs_subset

    def spy(fontfile, characters):
        files.append(str(fontfile))
        return subset(fontfile, characters)

    monkeypatch.setattr(_backend_pdf_ps, "get_glyphs_subset", spy)
    return files


def _whole_font_as_the_cut(monkeypatch) -> None:
    """Draw as the code before did: with the whole font where the document's own font would be."""
    from layers.printing import fonts

    monkeypatch.setattr(fonts, "subset_font", lambda face, characters, folder: (face[0], face[2]))


def _pages(path, tmp_path, name: str) -> list[np.ndarray]:
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", str(path), str(tmp_path / name)], check=True)
    return [np.asarray(Image.open(p)) for p in sorted(tmp_path.glob(f"{name}-*.png"))]


def _same_document(new, old, tmp_path) -> None:
    assert pdfinfo(new)["Pages"] == pdfinfo(old)["Pages"]
    assert pdftext(new) == pdftext(old)
    for a, b in zip(_pages(new, tmp_path, "new"), _pages(old, tmp_path, "old"), strict=True):
        assert np.array_equal(a, b)


def _read(city, fn):
    from data.db import connect

    conn = connect(url=city.url)
    try:
        return fn(conn)
    finally:
        conn.rollback()
        conn.close()


def test_the_bulletin_prints_in_its_own_font_with_the_same_pages_text_and_pixels(
        taipei, taipei_complaints, embedded_from, monkeypatch, tmp_path):
    """Last month's bulletin of Taipei (its 400 + 5 complaints): no glyph embedded from the whole font, and the
    pages as the whole font prints them."""
    from data.params import parse_period
    from layers.printing.data import street_shapes
    from layers.printing.style import font_face
    from layers.reports.compose import bulletin
    from layers.reports.document import write_pdf

    today = datetime.now(ZoneInfo(taipei.one("SELECT time_zone FROM city_settings"))).date()
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    b, shapes = _read(taipei, lambda conn: (bulletin(conn, parse_period("month", month), "zh"), street_shapes(conn)))
    assert b["totals"]["received"] > 0
    pages = write_pdf(b, tmp_path / "new.pdf", "zh", shapes=shapes)
    assert pages >= 3 and embedded_from
    assert font_face(None)[0] not in embedded_from, embedded_from
    _whole_font_as_the_cut(monkeypatch)
    assert write_pdf(b, tmp_path / "old.pdf", "zh", shapes=shapes) == pages
    _same_document(tmp_path / "new.pdf", tmp_path / "old.pdf", tmp_path)


def test_a_plan_prints_once_in_its_own_font_with_the_same_pages_text_and_pixels(
        taipei, embedded_from, monkeypatch, tmp_path):
    """A Chinese plan of 大同區's toilets (one added, one removed, one moved): its tables' words (变化, 人口, 指标)
    are in the document's font, so no page is drawn again with the whole font; the pages as the whole font prints
    them."""
    from layers.analysis.plans import save_plan
    from layers.printing.plan_pdf import plan_pdf
    from layers.printing.style import font_face
    from layers.workflow.access import User

    gone, moved = [r[0] for r in taipei.sql("SELECT id FROM toilets WHERE in_service AND street_code = %s "
                                            "ORDER BY id LIMIT 2", (DATONG_OFFICE,))]
    x, y = taipei.sql("SELECT ST_X(geom), ST_Y(geom) FROM toilets WHERE id = %s", (moved,))[0]

    def save(conn):
        saved = save_plan(conn, {"name": "大同區公廁調整（字體）", "kind": "toilets", "edits": [
            DATONG[0], {"op": "remove", "id": gone}, {"op": "move", "id": moved, "lon": x + 0.003, "lat": y}]}, "t")
        conn.commit()
        return saved["id"]

    plan_id = _read(taipei, save)
    viewer = User(0, "font-test", "admin")
    (tmp_path / "new.pdf").write_bytes(_read(taipei, lambda conn: plan_pdf(conn, plan_id, viewer)))
    assert embedded_from and font_face(None)[0] not in embedded_from, embedded_from
    _whole_font_as_the_cut(monkeypatch)
    (tmp_path / "old.pdf").write_bytes(_read(taipei, lambda conn: plan_pdf(conn, plan_id, viewer)))
    assert "变化" in pdftext(tmp_path / "new.pdf") and "人口" in pdftext(tmp_path / "new.pdf")
    _same_document(tmp_path / "new.pdf", tmp_path / "old.pdf", tmp_path)
