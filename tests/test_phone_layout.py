"""Every map page at a phone's 390 × 844 px and a desktop's 1280 × 800: nothing on top of anything, on Taipei built
from nothing (tests/real_city.py).

Street-office staff and inspectors open the map pages on phones. Each page's boxes that float over it — Leaflet's
controls (zoom, layers, legend, scale, the settings and what-if panels), the title bar, the login bar, a fixed or
absolutely placed panel — are measured in the page: no two may overlap by more than a few pixels, none may run past
the screen's width, and on a phone the map pages' title bar is a row of its own over the map, not a narrow column
under the corner panels. Screenshots go to var/test-artifacts/phone-layout/ for a person to look at. The measuring
is tests/phone_layout.py's; the pages beside the maps are tests/test_phone_layout_pages.py's.
"""

from __future__ import annotations

import pytest

from tests.phone_layout import (  # noqa: F401  (phone, desktop: pytest fixtures, used by name)
    assert_clear,
    assert_title_row,
    desktop,
    measured,
    phone,
)
from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    READY_ANALYSIS,
    READY_GRIDS,
    READY_MAP,
    TAIPEI_STREET,
    log_in,
    taipei,
    taipei_complaints,
    taipei_grids,
    taipei_server,
)
from tests.taipei_public import post_report, stop

pytestmark = pytest.mark.browser

READY_CONTEXT = "window.hygieneContextState && hygieneContextState.ready"


@pytest.fixture(scope="module")
def tracking(taipei_complaints, taipei_server) -> str:
    """A resident's report at a real garbage-truck stop of 大同區, made as the report page makes it."""
    made, _ = post_report(taipei_server, *stop(taipei_server, 3), "暴露垃圾", description="路口垃圾堆了三天")
    assert made.status_code == 201, made.text
    return made.json()["tracking"]


MAP_PAGES = [
    ("/map", READY_MAP, "map"),
    ("/map?lang=en", READY_MAP, "map-en"),
    ("/map/coverage?kind=toilets&by=community", READY_ANALYSIS, "coverage"),
    ("/map/coverage?kind=garbage_points&by=street&lang=en", READY_ANALYSIS, "coverage-en"),
    ("/map/hotspots?cell=300", READY_ANALYSIS, "hotspots"),
]
OTHER_PAGES = [
    (f"/map/grids?street={TAIPEI_STREET}", READY_GRIDS, "grids"),
    ("/report", READY_CONTEXT, "report"),
]
OPEN_PANELS = ("document.querySelector('#hm-controls summary').click();"
               "var fold = document.querySelector('.hm-whatif details'); if (fold) fold.open = true;")


@pytest.mark.parametrize("path,ready,shot", MAP_PAGES)
def test_a_phone_sees_the_map_pages_title_controls_and_login_apart(taipei_complaints, phone, path, ready, shot):
    """The login button not on the legend's last line, the what-if planner not on the title bar: the title bar is a
    row over the map, the login button at its end, the corner panels folded below it."""
    found = measured(phone, path, ready, f"{shot}-phone.png")
    assert_clear(found, path)
    assert_title_row(found, path)
    names = [b["name"] for b in found["boxes"]]
    assert "div.hm-session" in names and any("hm-legend" in n for n in names), names


def test_a_phone_opens_the_coverage_panels_and_the_title_stays_a_row(taipei_server, phone):
    """Opened, the settings panel and the draft plan stack under each other in the corner, clear of the title bar
    (not squeezing it into a column), the zoom buttons and the legend."""
    path = "/map/coverage?kind=toilets&by=community"
    found = measured(phone, path, READY_ANALYSIS, "coverage-panels-open-phone.png", then=OPEN_PANELS)
    assert phone.evaluate("document.getElementById('hm-controls').open"), "the settings panel did not open"
    assert_clear(found, path)
    assert_title_row(found, path)


def test_a_phone_opening_a_saved_plan_sees_it_named_clear_of_the_rest(taipei_server, phone):
    """A plan opened from /plans: the draft panel opens by itself on a phone too (its line says which plan), and
    still covers nothing."""
    import httpx

    saved = httpx.post(taipei_server.base + "/api/plans", headers={"Authorization": f"Bearer {taipei_server.token}"},
                       timeout=120, json={"name": "大同加一座", "kind": "toilets", "radius": 300,
                                          "edits": [{"op": "add", "lon": 121.507996, "lat": 25.064684}]})
    assert saved.status_code == 201, saved.text
    path = f"/map/coverage?plan={saved.json()['id']}"
    # Drawn, and the plan's line written into the panel.
    found = measured(phone, path, READY_ANALYSIS + " && document.getElementById('hm-whatif-plan').textContent !== ''",
                     "coverage-plan-phone.png")
    assert "大同加一座" in phone.evaluate("document.querySelector('.hm-whatif').innerText")
    assert_clear(found, path)
    assert_title_row(found, path)


@pytest.mark.parametrize("path,ready,shot", OTHER_PAGES)
def test_a_phone_sees_the_other_map_pages_clear(taipei_complaints, phone, path, ready, shot):
    """The street office's grid map (its unit panel above the login bar) and the public report page."""
    assert_clear(measured(phone, path, ready, f"{shot}-phone.png"), path)


def test_a_resident_follows_a_report_on_a_phone_clear(tracking, phone):
    path = f"/report/{tracking}"
    assert_clear(measured(phone, path, "document.body.dataset.status === '受理'", "tracking-phone.png"), path)


STAFF_PAGES = [
    ("/map/coverage?kind=toilets&by=community", READY_ANALYSIS, "coverage-staff"),
    ("/map", READY_MAP, "map-staff"),
    (f"/map/grids?street={TAIPEI_STREET}", READY_GRIDS, "grids-staff"),
    ("/cases", "document.body.hasAttribute('data-rows')", "cases"),
    ("/field", "!!window.hmField && " + READY_CONTEXT, "field"),
]


def test_staff_logged_in_on_a_phone_see_every_page_clear(taipei_complaints, taipei_server, phone):
    """Logged in, the login bar is longer (the name, the role, 退出): it still covers nothing — on the map pages at
    the end of the title bar, on the grid map on one line under the unit panel; the case list and the field page
    fit the phone."""
    log_in(phone, taipei_server, "/", "location.pathname !== '/login'", timeout=30)
    assert phone.evaluate("location.pathname") != "/login", "the login failed"
    try:
        for path, ready, shot in STAFF_PAGES:
            found = measured(phone, path, ready, f"{shot}-phone.png")
            assert_clear(found, path)
            if "#hm-title" in [b["name"] for b in found["boxes"]]:
                assert_title_row(found, path)
    finally:
        phone.send("Network.clearBrowserCookies")


def test_a_desktop_sees_every_page_as_before_clear(taipei_complaints, tracking, taipei_server, desktop):
    """At 1280 × 800 the title bar floats over the map beside the zoom buttons, the panels open, the login bar at
    the window's foot: nothing on top of anything either."""
    for path, ready, shot in [*MAP_PAGES, *OTHER_PAGES, (f"/report/{tracking}", None, "tracking")]:
        found = measured(desktop, path, ready, f"{shot}-desktop.png")
        assert_clear(found, path)
        if path.startswith("/map/coverage"):
            assert desktop.evaluate("document.getElementById('hm-controls').open"), path
            # The draft plan's buttons are shown at once (no fold to open), where the level has a draft.
            assert desktop.evaluate("!document.querySelector('.hm-whatif') || "
                                    "document.getElementById('hm-whatif-add').getClientRects().length > 0"), path
        if "#hm-title" in [b["name"] for b in found["boxes"]]:
            title = next(b for b in found["boxes"] if b["name"] == "#hm-title")
            assert title["top"] < 20 and title["left"] > 40, (path, "the title bar moved on a desktop", title)
