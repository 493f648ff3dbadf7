"""A street's atlas printed as a job, on Taipei built from nothing (tests/real_city.py): 大同區's 500 m grids.

A street office prints its atlas from its grid page: the atlas takes a minute or two, so it is a job started with
POST (202, Location), polled for its pages drawn, and fetched when done — by the user who started it (or an admin)
only: its sheets show staff phones as that user may read them, and anyone else is told no such job exists (404).
The grid page, at a phone's 390 px, shows the print links (a grid's sheet in its popup, the atlas and the
route in the panel); clicking 打印街道图册 shows the progress, then the file.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.pdf_tools import pdfinfo, pdftext
from tests.phone_layout import assert_clear, measured, phone  # noqa: F401  (phone: a pytest fixture)
from tests.real_city import (  # noqa: F401  (pytest fixtures, used by name)
    READY_GRIDS,
    TAIPEI_STREET,
    log_in,
    taipei,
    taipei_grids,
    taipei_server,
)

JOBS = f"/print/streets/{TAIPEI_STREET}/atlas/jobs"


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def office_token(taipei_server) -> str:
    """A street user of 大同區 itself: it may print the atlas, but not read another user's job."""
    done = taipei_server.cli("users", "add", "datong-office", "--role", "street", "--street", TAIPEI_STREET)
    return done.stdout.strip().splitlines()[-1]


def poll(base: str, location: str, token: str, timeout: float = 600) -> tuple[dict, list[dict]]:
    """The job at ``location`` polled every half second until it ends: its last state and every state seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = httpx.get(base + location, headers=_auth(token), timeout=30)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        if seen[-1]["state"] in ("done", "failed"):
            return seen[-1], seen
        time.sleep(0.5)
    raise AssertionError(f"the job did not end in {timeout} s: {seen[-1]}")


def test_an_atlas_printed_as_a_job_belongs_to_its_starter(taipei_server, office_token):
    city = taipei_server
    started = httpx.post(city.base + JOBS, headers=_auth(city.token), timeout=60)
    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["location"] == f"/print/jobs/{job['id']}"
    assert job["state"] in ("queued", "running") and job["street"] == TAIPEI_STREET

    # Another user — even the street's own office — is told the job does not exist, as for an unknown id.
    for path in (started.headers["location"], f"/print/jobs/{job['id']}/atlas.pdf"):
        hidden = httpx.get(city.base + path, headers=_auth(office_token), timeout=30)
        assert hidden.status_code == 404, (path, hidden.text)
    assert httpx.get(city.base + "/print/jobs/no-such-job-0000", headers=_auth(city.token)).status_code == 404
    assert httpx.get(city.base + started.headers["location"]).status_code == 401  # no user, no job

    last, seen = poll(city.base, started.headers["location"], city.token)
    assert last["state"] == "done", last
    drawing = [s for s in seen if s["stage"] == "drawing" and s["state"] == "running"]
    for state in drawing:  # the progress the page shows: 正在生成第 37/96 页
        assert state["message"] == f"正在生成第 {state['done']}/{state['total']} 页", state
    assert last["message"] == f"已生成，共 {last['total']} 页" and last["expires_at"]

    fetched = httpx.get(city.base + last["pdf"], headers=_auth(city.token), timeout=60)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "application/pdf"
    assert httpx.get(city.base + last["pdf"], headers=_auth(office_token), timeout=30).status_code == 404
    path = city.work / "atlas-job.pdf"
    path.write_bytes(fetched.content)
    grids = [code for (code,) in city.sql("SELECT code FROM grids WHERE street_code = %s ORDER BY code",
                                          (TAIPEI_STREET,))]
    pages = int(pdfinfo(path)["Pages"])
    assert pages == last["total"] and pages >= 2 + len(grids)
    assert "網格巡查圖冊" in pdftext(path, 1) or "网格巡查图册" in pdftext(path, 1)
    text = pdftext(path)
    assert all(code in text for code in grids)  # the index and one sheet per grid
    sheets = [page for page in range(3, pages + 1) if any(code in pdftext(path, page) for code in grids)]
    assert len(sheets) >= len(grids)


def test_an_atlas_job_of_a_wrong_street_is_refused_at_once(taipei_server):
    city = taipei_server
    unknown = httpx.post(city.base + "/print/streets/6399999/atlas/jobs", headers=_auth(city.token), timeout=30)
    assert unknown.status_code == 404 and "6399999" in unknown.json()["detail"], unknown.text
    paper = httpx.post(city.base + JOBS, params={"paper": "B5"}, headers=_auth(city.token), timeout=30)
    assert paper.status_code == 422 and "paper" in paper.text, paper.text


@pytest.mark.browser
def test_the_grid_page_on_a_phone_prints_the_atlas_with_progress(taipei_server, phone):
    path = f"/map/grids?street={TAIPEI_STREET}"
    log_in(phone, taipei_server, path, READY_GRIDS, timeout=90)
    found = measured(phone, path, READY_GRIDS, "grid-page-print-phone.png")
    assert_clear(found, path)
    links = phone.evaluate("""Array.from(document.querySelectorAll('#print-box a, #print-box select'))
        .filter(function (e) { var r = e.getBoundingClientRect(); return r.width > 0 && r.right <= innerWidth; })
        .map(function (e) { return e.id + ':' + e.textContent.trim().slice(0, 12); })""")
    assert any(link.startswith("print-atlas:打印街道图册") for link in links), links
    assert any(link.startswith("print-route:打印巡查路线") for link in links), links
    popup = phone.evaluate("""(function () { var g = hygieneGridPage.grids, code = Object.keys(g).sort()[0];
        g[code].openPopup(); var a = document.querySelector('.leaflet-popup-content a.print-grid');
        return a ? [a.textContent, a.getAttribute('href'), code] : null; })()""")
    assert popup and popup[0] == "打印网格图" and popup[1] == f"/print/grids/{popup[2]}.pdf?paper=A4", popup

    phone.evaluate("document.getElementById('print-atlas').click()")
    said, deadline = [], time.monotonic() + 600
    while time.monotonic() < deadline:
        state, text, href = phone.evaluate("""[document.getElementById('print-box').getAttribute('data-atlas-state'),
            document.getElementById('atlas-status').textContent,
            getComputedStyle(document.getElementById('atlas-file')).display !== 'none' ?
              document.getElementById('atlas-file').getAttribute('href') : null]""")
        said.append(text)
        if state in ("done", "failed"):
            break
        time.sleep(0.2)
    assert state == "done", said[-5:]
    assert any(t.startswith("正在生成第 ") and t.endswith(" 页") for t in said), sorted(set(said))
    assert href and href.startswith("/print/jobs/") and href.endswith("/atlas.pdf"), href
    fetched = phone.send("Runtime.evaluate", awaitPromise=True, returnByValue=True, expression=(
        f"fetch({href!r}).then(function (r) {{ return r.status + ' ' + r.headers.get('content-type'); }})"))
    assert fetched["result"]["value"] == "200 application/pdf", fetched
    phone.send("Network.clearBrowserCookies")
