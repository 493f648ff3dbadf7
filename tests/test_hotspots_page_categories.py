"""The hot spots page's event types and their counts (the panel of /map/hotspots): counted once per change of the
complaints, never stale.

At city scale (1,000,000 complaints) counting them by type took most of the page's time on every load
(bench/RESULTS.md, "The hot spots page"); the counts are now kept while the complaints and event types are
unchanged (their change stamps, layers/analysis/cache.py). Taipei's complaints are imported from nothing
(tests/real_city.py); credits: data.taipei (Open Government Data License, Taiwan 1.0).
"""

from __future__ import annotations

import re
from collections import Counter

import httpx
import psycopg2
import pytest

from tests.conftest import query
from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    READY_ANALYSIS,
    TAIPEI_STREET,
    page_checks,
    taipei,
    taipei_complaints,
    taipei_grids,
    taipei_server,
)

#: A checkbox of the panel: the event type, then the count its label shows （1,234） or (1,234).
_BOX = re.compile(r'name="category" value="([^"]*)"[^>]*>([^<]*?)[（(]([\d,]+)[）)]</label>')


def offered(html: str) -> list[tuple[str, str, int]]:
    """(event type, its label, the count shown) of each box of the page's panel, in the page's order."""
    return [(name, label.strip(), int(n.replace(",", ""))) for name, label, n in _BOX.findall(html)]


def _page(get, **params) -> list[tuple[str, str, int]]:
    answer = get("/map/hotspots", **params)
    assert answer.status_code == 200, answer.text[:500]
    return offered(answer.text)


def _by_hand(sql) -> dict[str, int]:
    return dict(sql("SELECT category, count(*) FROM complaints GROUP BY category"))


def _most_first(boxes) -> bool:
    return all(a[2] >= b[2] for a, b in zip(boxes, boxes[1:]))


def test_taipeis_event_types_and_counts_follow_a_new_complaint(taipei_complaints, taipei_server):
    """The counts the panel shows are the complaints' own, on every load, before and after a complaint comes in."""
    city = taipei_server
    first = _page(city.get)
    assert {name: n for name, _, n in first} == _by_hand(city.sql) and len(first) == 5 and _most_first(first)
    assert _page(city.get, cell="300") == first  # reopened, another cell: the same list
    lon, lat = city.sql("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                        "WHERE street_code = %s ORDER BY code LIMIT 1", (TAIPEI_STREET,))[0]
    for category in ("占道经营", "病媒生物"):  # a type none were of yet, and one more of a type offered
        answer = httpx.post(city.base + "/api/complaints", headers={"Authorization": f"Bearer {city.token}"},
                            json={"lon": lon, "lat": lat, "category": category, "source": "巡查",
                                  "description": "巡查發現"}, timeout=30)
        assert answer.status_code == 201, answer.text
    after = _page(city.get)
    counts = {name: n for name, _, n in after}
    assert counts == _by_hand(city.sql) and _most_first(after)
    assert counts["占道经营"] == 1 and counts["病媒生物"] == dict((n, c) for n, _, c in first)["病媒生物"] + 1
    english = _page(city.get, lang="en")
    assert [(name, n) for name, _, n in english] == [(name, n) for name, _, n in after]
    assert dict((name, label) for name, label, _ in english)["占道经营"] == "Street vending on the road"


def test_the_page_draws_the_cells_the_api_answers(taipei_complaints, taipei_server, browser):
    """The page's map is the API's answer: as many hexagons, in the same Gi* bins."""
    city = taipei_server
    cells = city.get("/api/analysis/hotspots", cell="300").json()["features"]
    page_checks(city, browser, "/map/hotspots?cell=300", READY_ANALYSIS, "hotspots-page-cells.png")
    state = browser.evaluate("hygieneAnalysisState")
    assert state["errors"] == [] and state["features"] == len(cells) > 100
    assert state["bins"] == {str(b): n for b, n in Counter(f["properties"]["gi_bin"] for f in cells).items()}


@pytest.fixture
def demo_get(writable_demo, env_for):
    """GET on the app over a writable copy of the small demo: (path, **query) → the answer."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    env_for(writable_demo)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield lambda path, **params: client.get(path, params=params)


def test_reopening_the_page_counts_the_complaints_once_per_change(demo_get, writable_demo, monkeypatch):
    """Planners reopen the page: the complaints are counted by type once, and again only after they change."""
    from data import catalog

    counted = []
    real = catalog.complaint_categories
    monkeypatch.setattr(catalog, "complaint_categories", lambda conn: counted.append(1) or real(conn))

    def sql(statement, params=()):
        return query(writable_demo, statement, params)

    pages = [_page(demo_get), _page(demo_get, cell="300"), _page(demo_get, lang="en")]
    assert len(counted) == 1  # three loads, one count
    assert {name: n for name, _, n in pages[0]} == _by_hand(sql) and pages[1] == pages[0]
    moved, was = sql("SELECT id, category FROM complaints WHERE category <> '水域不洁' ORDER BY id LIMIT 1")[0]
    conn = psycopg2.connect(writable_demo)
    with conn, conn.cursor() as cur:  # one complaint re-categorised, one event type renamed in English
        cur.execute("UPDATE complaints SET category = '水域不洁' WHERE id = %s", (moved,))
        cur.execute("UPDATE event_types SET name_en = 'Dirty water bodies' WHERE name = '水域不洁'")
    conn.close()
    after = _page(demo_get, lang="en")
    assert len(counted) == 2
    counts = {name: n for name, _, n in after}
    assert counts == _by_hand(sql) and counts[was] == {n: c for n, _, c in pages[0]}[was] - 1
    assert {name: label for name, label, _ in after}["水域不洁"] == "Dirty water bodies"
    assert _page(demo_get, lang="en") == after and len(counted) == 2
