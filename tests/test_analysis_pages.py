"""The analysis pages in Debian's headless Chromium: they draw the small demo's real gaps and hotspots
offline, with legends naming the rule or the statistic and its confidence levels."""

from __future__ import annotations

from pathlib import Path

import pytest

READY = "window.hygieneAnalysisState && window.hygieneAnalysisState.ready === true"
ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artifacts"


def _open_clean(browser, server, path, shot):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = browser.open(server + path, ready_js=READY, timeout=90)
    browser.screenshot(ARTIFACTS / shot)
    assert not report.timed_out, f"{path} did not finish drawing"
    assert report.console_errors == [], report.console_errors
    assert report.failed_requests == [], report.failed_requests
    assert report.other_hosts(server) == [], report.other_hosts(server)
    assert browser.evaluate("hygieneAnalysisState.errors") == []
    return report


@pytest.mark.browser
@pytest.mark.parametrize("lang,words", [("zh", ["公厕服务半径 300 m", "GB 55013-2021", "服务盲区"]),
                                        ("en", ["Public toilet service radius (mandatory) 300 m", "GB 55013-2021",
                                                "Coverage gap"])])
def test_coverage_page_shows_gaps_and_names_the_rule(browser, server, lang, words):
    report = _open_clean(browser, server, f"/map/coverage?kind=toilets&lang={lang}", f"coverage-{lang}.png")
    state = browser.evaluate("hygieneAnalysisState")
    assert state["features"] == 16 and state["gaps"] > 0
    legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
    for word in words:
        assert word in legend
    assert any("/api/analysis/coverage" in u for u in report.request_urls)


@pytest.mark.browser
def test_coverage_page_secondary_rule_shows_its_label(browser, server):
    _open_clean(browser, server, "/map/coverage?kind=transfer_stations&by=district", "coverage-transfer.png")
    legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
    assert "二手来源" in legend and "CJJ 47" in legend


@pytest.mark.browser
@pytest.mark.parametrize("lang,words", [("zh", ["Getis–Ord Gi*", "热点 99 % 置信度", "FDR"]),
                                        ("en", ["Getis–Ord Gi*", "Hot spot 99 % confidence", "false-discovery-rate"])])
def test_hotspots_page_shows_hotspots_and_the_statistic(browser, server, lang, words):
    _open_clean(browser, server, f"/map/hotspots?cell=150&lang={lang}", f"hotspots-{lang}.png")
    state = browser.evaluate("hygieneAnalysisState")
    assert state["features"] > 100
    assert state["bins"].get("3", 0) > 0 and state["bins"].get("0", 0) > 0
    legend = browser.evaluate("document.querySelector('.hm-legend').innerText")
    for word in words:
        assert word in legend


@pytest.mark.parametrize("path,word", [("/map/coverage?kind=fountains", "kind"),
                                       ("/map/coverage?kind=markets", "radius"),
                                       ("/map/hotspots?since=someday", "since"),
                                       ("/map/hotspots?cell=1", "cell")])
def test_pages_refuse_bad_parameters(demo_client, path, word):
    resp = demo_client.get(path)
    assert resp.status_code == 422 and word in resp.json()["detail"]


def test_pages_reference_no_cdn(demo_client):
    for path in ("/map/coverage", "/map/hotspots?lang=en"):
        page = demo_client.get(path).text
        assert "/static/app/analysis.js" in page
        assert "cdn." not in page and "unpkg.com" not in page and "cdnjs" not in page
