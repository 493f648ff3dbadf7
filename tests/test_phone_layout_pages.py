"""The pages beside the maps at a phone's 390 × 844 px and a desktop's 1280 × 800, on Taipei built from nothing
(tests/real_city.py): the index page, the login form, the plans and one plan, the bulletin, the density and priority
maps — anonymous and logged in (the login bar is longer: the name, the role, 退出).

Street offices and campaign staff open them on phones. Measured as the map pages are (tests/phone_layout.py): no
floating box on another, nor on the page's own text, links or cells once scrolled to its end (the login bar at the
window's foot over the index page's last row); none past the screen's width; the page laid out at the phone's width
and no wider — a table wider than a phone scrolls in its own box. Screenshots in var/test-artifacts/phone-layout/.
"""

from __future__ import annotations

import httpx
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
    log_in,
    taipei,
    taipei_complaints,
    taipei_grids,
    taipei_server,
)

pytestmark = pytest.mark.browser

LOGIN_FORM = "!!document.getElementById('token')"


@pytest.fixture(scope="module")
def plan(taipei_server) -> int:
    """A saved plan of 大同區's toilets: one added at a garbage-truck stop, one of today's removed."""
    city = taipei_server
    toilet = city.one("SELECT id FROM toilets WHERE street_code = '6300600' ORDER BY id LIMIT 1")
    saved = httpx.post(city.base + "/api/plans", headers={"Authorization": f"Bearer {city.token}"}, timeout=120,
                       json={"name": "大同區公廁調整（增一處、撤一處）", "kind": "toilets", "radius": 300,
                             "edits": [{"op": "add", "lon": 121.507996, "lat": 25.064684},
                                       {"op": "remove", "id": toilet}]})
    assert saved.status_code == 201, saved.text
    return saved.json()["id"]


def pages(plan: int) -> list[tuple[str, str | None, str]]:
    """(path, what says it is drawn, the screenshot's name) of every page measured here, anonymous or not."""
    return [
        ("/", None, "index"),
        ("/?lang=en", None, "index-en"),
        ("/plans", None, "plans"),
        (f"/plans/{plan}", None, "plan"),
        (f"/plans/{plan}?lang=en", None, "plan-en"),
        ("/reports", None, "reports"),
        ("/reports?lang=en", None, "reports-en"),
        ("/map/density", READY_ANALYSIS, "density"),
        ("/map/priority?lang=en", READY_ANALYSIS, "priority-en"),
    ]


def every_page_clear(browser, plan: int, suffix: str, title_row: bool) -> None:
    """Each page measured and clear (on a phone, a map page's title bar a row over the map); every failure named."""
    failed = []
    for path, ready, shot in pages(plan):
        found = measured(browser, path, ready, f"{shot}-{suffix}.png")
        try:
            assert_clear(found, path)
            if title_row and "#hm-title" in [b["name"] for b in found["boxes"]]:
                assert_title_row(found, path)
        except AssertionError as e:
            failed.append(str(e))
    assert failed == [], "\n".join(failed)


def test_a_phone_sees_the_pages_beside_the_maps_clear(taipei_complaints, plan, phone):
    """Anonymous on a phone: the index page's last row not under the login bar, the tables in the screen's width."""
    every_page_clear(phone, plan, "phone", title_row=True)


def test_a_phone_sees_the_login_form_clear(taipei_server, phone):
    for path in ("/login?next=/plans", "/login?lang=en"):
        assert_clear(measured(phone, path, LOGIN_FORM, "login-phone.png"), path)


def test_staff_logged_in_on_a_phone_see_the_pages_beside_the_maps_clear(taipei_complaints, taipei_server, plan,
                                                                        phone):
    """Logged in, the login bar says who (the name, the role, 退出): it still covers none of the page."""
    log_in(phone, taipei_server, "/", "location.pathname !== '/login'", timeout=30)
    assert phone.evaluate("location.pathname") != "/login", "the login failed"
    try:
        every_page_clear(phone, plan, "staff-phone", title_row=True)
    finally:
        phone.send("Network.clearBrowserCookies")


def test_a_desktop_sees_the_pages_beside_the_maps_clear(taipei_complaints, taipei_server, plan, desktop):
    """At 1280 × 800, anonymous and logged in: the login bar at the window's foot over none of the page."""
    assert_clear(measured(desktop, "/login", LOGIN_FORM, "login-desktop.png"), "/login")
    every_page_clear(desktop, plan, "desktop", title_row=False)
    log_in(desktop, taipei_server, "/", "location.pathname !== '/login'", timeout=30)
    assert desktop.evaluate("location.pathname") != "/login", "the login failed"
    try:
        every_page_clear(desktop, plan, "staff-desktop", title_row=False)
    finally:
        desktop.send("Network.clearBrowserCookies")
