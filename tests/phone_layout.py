"""Measuring a page's boxes at a phone's 390 × 844 px and a desktop's 1280 × 800 (tests/test_phone_layout.py,
tests/test_phone_layout_pages.py).

A page's floating boxes — Leaflet's controls, the title bar, the login bar, a fixed or absolutely placed panel — may
not lie on one another nor run past the screen's width; the page may be no wider than the screen (a table wider than
a phone scrolls in its own box); and, scrolled to its end, no floating box may lie on the page's own text, links,
buttons or table cells (what is under a bar at the window's foot there cannot be scrolled out from under it); no
text outside a map drawn smaller than 9 px.
Screenshots go to var/test-artifacts/phone-layout/ for a person to look at.
"""

from __future__ import annotations

import time

import pytest

from tests.chromium import DESKTOP, PHONE
from tests.conftest import REPO

SHOTS = REPO / "var" / "test-artifacts" / "phone-layout"
#: Pixels two boxes may share (a shadow, a border) before they count as one on top of the other.
SLACK = 3
#: The smallest text, in CSS pixels as drawn, that counts as readable on a phone (the pages' smallest is 10 px).
MIN_TEXT = 9

# The page's floating boxes and where they clash. A box: a visible Leaflet control, the title bar, its status
# line and notice, the login bar, the grid page's unit panel, or any other fixed or absolute element outside a
# map (a box inside another counts as that one). One off to the left of the page on purpose (the report form's
# hidden trap field) is no box of the screen. The page's own content (in its flow, outside a map): its text,
# links, buttons, fields and cells, each of which a fixed box may not cover.
BOXES = """(function (slack, minText) {
  function shown(e) {
    var s = getComputedStyle(e), r = e.getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && +s.opacity > 0 && r.width > 0 && r.height > 0 &&
      r.right > 0;
  }
  function floating(e) { var p = getComputedStyle(e).position; return p === 'fixed' || p === 'absolute'; }
  var picked = [];
  document.querySelectorAll('.leaflet-control, #hm-title, #hm-status, #hm-notice, .hm-session, #unit-panel')
    .forEach(function (e) { if (shown(e)) picked.push(e); });
  document.querySelectorAll('body *').forEach(function (e) {
    if (floating(e) && !e.closest('.leaflet-container') && shown(e)) picked.push(e);
  });
  picked = picked.filter(function (e, i) {
    return picked.indexOf(e) === i && !picked.some(function (q) { return q !== e && q.contains(e); });
  });
  function name(e) {
    return e.id ? '#' + e.id : e.tagName.toLowerCase() + '.' + (e.getAttribute('class') || '').trim().split(/\\s+/).join('.');
  }
  function box(e) {
    var r = e.getBoundingClientRect();
    return {name: name(e), left: r.left, top: r.top, right: r.right, bottom: r.bottom,
            mapControl: !!e.closest('.leaflet-top'), fixed: getComputedStyle(e).position === 'fixed'};
  }
  function shared(a, b) {
    var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > slack && h > slack ? Math.round(w) + '×' + Math.round(h) : null;
  }
  var boxes = picked.map(box);
  var clashes = [];
  boxes.forEach(function (a, i) { boxes.slice(i + 1).forEach(function (b) {
    var s = shared(a, b);
    if (s) clashes.push(a.name + ' / ' + b.name + ' (' + s + ')');
  }); });
  boxes.forEach(function (a) {
    if (a.left < -1 || a.right > innerWidth + 1) clashes.push(a.name + ' runs past the screen\\'s width');
  });
  var content = [];
  document.querySelectorAll('body a, body button, body input, body select, body textarea, body td, body th, ' +
                            'body li, body p, body h1, body h2, body h3, body label, body summary, body svg')
    .forEach(function (e) {
      if (!shown(e) || e.closest('.leaflet-container')) return;
      for (var a = e; a && a !== document.body; a = a.parentElement) if (floating(a)) return;
      content.push(box(e));
    });
  boxes.filter(function (a) { return a.fixed; }).forEach(function (a) { content.forEach(function (c) {
    var s = shared(a, c);
    if (s) clashes.push(a.name + ' covers the page\\'s ' + c.name + ' (' + s + ')');
  }); });
  // Text drawn smaller than a phone can be read at (a chart's labels shrunk with it to the screen's width).
  var tiny = [];
  document.querySelectorAll('body *').forEach(function (e) {
    if (e.closest('.leaflet-container') || !shown(e) || !Array.prototype.some.call(e.childNodes, function (n) {
      return n.nodeType === 3 && n.textContent.trim(); })) return;
    var size = parseFloat(getComputedStyle(e).fontSize) * (e.getScreenCTM ? e.getScreenCTM().a : 1);
    if (size < minText) tiny.push(name(e) + ' "' + e.textContent.trim().slice(0, 20) + '" ' + size.toFixed(1) + ' px');
  });
  return {boxes: boxes, clashes: clashes, tiny: tiny, width: innerWidth, page: document.documentElement.scrollWidth};
})""" + f"({SLACK}, {MIN_TEXT})"


def measured(browser, path: str, ready: str | None, shot: str, then: str | None = None) -> dict:
    """``path`` opened and drawn (no console error), ``then`` run on it (a click), a screenshot; its boxes, measured
    with the page scrolled to its end (a second screenshot, ``…-end.png``, where the page scrolls)."""
    report = browser.open(browser.base + path, ready_js=ready, timeout=90)
    assert not report.timed_out, f"{path} did not finish drawing"
    assert report.console_errors == [], (path, report.console_errors)
    if then:
        browser.evaluate(then)
        time.sleep(0.5)  # the panels have opened and Leaflet has stacked its corner
    browser.screenshot(SHOTS / shot)
    if browser.evaluate("document.documentElement.scrollHeight > innerHeight + 1"):
        browser.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        time.sleep(0.2)
        browser.screenshot(SHOTS / shot.replace(".png", "-end.png"))
    found = browser.evaluate(BOXES)  # no floating box on the one-column pages (the case list, the tracking page)
    found["screen"] = browser.screen["width"]
    return found


def assert_clear(found: dict, path: str) -> None:
    """No two boxes on top of each other nor on the page's content, no text too small to read, none past the screen's width, the page laid out
    at the screen's width (it says so in its viewport: a phone does not shrink it to a third) and no wider."""
    wrong = [*found["clashes"], *(f"unreadably small: {t}" for t in found["tiny"])]
    if found["width"] != found["screen"]:
        wrong.append(f"laid out {found['width']} px wide, then shrunk to the screen")
    if found["page"] > found["width"]:
        wrong.append(f"the page is {found['page']} px wide")
    assert wrong == [], (path, wrong, found["boxes"])


def assert_title_row(found: dict, path: str) -> None:
    """A phone: the title bar spans most of the screen and every corner control of the map is below it."""
    title = next(b for b in found["boxes"] if b["name"] == "#hm-title")
    assert title["right"] - title["left"] >= 0.6 * found["width"], (path, "the title is squeezed", title)
    below = [b for b in found["boxes"] if b["mapControl"] and b["top"] < title["bottom"] - SLACK]
    assert below == [], (path, "controls beside the title instead of under it", title, below)


def _screen(browser, base: str, metrics: dict):
    browser.base, browser.screen = base, metrics
    browser.send("Emulation.setDeviceMetricsOverride", **metrics)
    try:
        yield browser
    finally:
        browser.send("Emulation.clearDeviceMetricsOverride")


@pytest.fixture
def phone(browser, taipei_server):
    """The browser at a phone's screen, opening Taipei's server (tests/real_city.py)."""
    yield from _screen(browser, taipei_server.base, PHONE)


@pytest.fixture
def desktop(browser, taipei_server):
    """The browser at a laptop's screen, opening Taipei's server."""
    yield from _screen(browser, taipei_server.base, DESKTOP)
