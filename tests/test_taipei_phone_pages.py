"""Pages on a phone (390 px) over Taipei's real files, where a new user found them wanting.

- The street office's map of 大同區 (/map/grids): grid labels that would overlap are hidden at that zoom and shown
  as one zooms in; the unit table is folded behind a button, so the map stays usable.

The city is built once from nothing by tests/real_city.py's fixtures; screenshots go to var/test-artifacts/real-city.
"""

from __future__ import annotations

import pytest

from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    ARTIFACTS,
    READY_GRIDS,
    TAIPEI_STREET,
    taipei,
    taipei_grids,
    taipei_server,
)
from tests.test_public_browser import _wait

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}

# Each label in the map's view (the grid codes and the place names beneath them): its text, its box on the screen,
# whether it is seen.
LABELS = """(function () {
  var box = document.querySelector('.leaflet-container').getBoundingClientRect();
  return Array.from(document.querySelectorAll('.leaflet-tooltip.grid-code, .hm-label span')).map(function (e) {
    var r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return {text: e.textContent.trim(), left: r.left, top: r.top, right: r.right, bottom: r.bottom,
            x: (r.left + r.right) / 2 - box.left, y: (r.top + r.bottom) / 2 - box.top,
            seen: s.visibility === 'visible' && r.width > 0 && Number(s.opacity) > 0,
            inView: r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom};
  }).filter(function (l) { return l.inView; });
})()"""
READY = READY_GRIDS + " && window.hygieneContextState.ready"
# The unit panel's share of the screen, and whether its table is seen.
PANEL = """(function () {
  var p = document.getElementById('unit-panel').getBoundingClientRect(), t = document.getElementById('unit-table');
  return {share: p.width * p.height / (innerWidth * innerHeight), table: !!t.offsetParent && t.offsetHeight > 0};
})()"""


def _overlaps(labels: list[dict]) -> list[tuple[str, str]]:
    seen = [label for label in labels if label["seen"]]
    return [(a["text"], b["text"]) for i, a in enumerate(seen) for b in seen[i + 1:]
            if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]]


@pytest.fixture
def phone(browser):
    browser.send("Emulation.setDeviceMetricsOverride", **PHONE)
    try:
        yield browser
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


def test_taipei_grid_page_on_a_phone_hides_colliding_labels_and_folds_the_unit_table(taipei_server, taipei_grids,
                                                                                     phone):
    city = taipei_server
    report = phone.open(f"{city.base}/map/grids?street={TAIPEI_STREET}", ready_js=READY, timeout=60)
    assert not report.timed_out and report.console_errors == [], report.console_errors
    phone.screenshot(ARTIFACTS / "grid-page-phone.png")
    labels = phone.evaluate(LABELS)
    assert _overlaps(labels) == [], _overlaps(labels)
    codes = [label["text"] for label in labels if label["seen"] and "-" in label["text"]]
    hidden = [label for label in labels if not label["seen"]]
    assert len(codes) >= 10 and hidden, (codes, hidden)  # the whole district at a phone's zoom: not all fit
    # The unit table is folded: the map is free but for a bar; the button opens and folds it again.
    panel = phone.evaluate(PANEL)
    assert not panel["table"] and panel["share"] < 0.12, panel
    toggle = "document.getElementById('unit-toggle')"
    assert phone.evaluate(f"{toggle}.getAttribute('aria-expanded')") == "false"
    phone.evaluate(f"{toggle}.click()")
    opened = phone.evaluate(PANEL)
    assert opened["table"] and phone.evaluate(f"{toggle}.getAttribute('aria-expanded')") == "true", opened
    phone.screenshot(ARTIFACTS / "grid-page-phone-table.png")
    phone.evaluate(f"{toggle}.click()")
    assert not phone.evaluate(PANEL)["table"]
    # Zoomed in on a hidden label, it is shown (and still nothing overlaps).
    first = hidden[0]
    phone.evaluate("(function () { var m = hygieneGridPage.map;"
                   f"m.setView(m.containerPointToLatLng([{first['x']}, {first['y']}]), m.getZoom() + 2, {{animate: false}});"
                   "})()")
    _wait(phone, f"window.hygieneContextState.ready && {LABELS}.some(function (l) {{"
                 f"return l.text === {first['text']!r} && l.seen; }})")
    assert _overlaps(phone.evaluate(LABELS)) == []
    phone.screenshot(ARTIFACTS / "grid-page-phone-zoomed.png")
