"""Emerging hot spots over every calendar month of the window, and the hot-spot workbook's bins in words, on New
York's two real 311 extracts (DOHMH rodent / unsanitary requests of January 2018, the sample day of 28 February
2023; ../shared/real-data/nyc). Credits: NYC Open Data and NYC Department of City Planning.
"""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pytest

from data.db import connect
from data.errors import InvalidParameter
from data.migrate import migrate
from tests.conftest import create_database, drop_database
from tests.test_real_analyses import load

NY = ZoneInfo("America/New_York")
RODENTS, SAMPLE = "nyc/nyc311_dohmh_rodent_unsanitary_2018-01.csv", "nyc/nyc311_sample_2023-02-28.csv"


@pytest.fixture(scope="module")
def nyc_url(pg_server, tmp_path_factory):
    """New York's boroughs and both 311 extracts, imported into a database of this module's own."""
    url = create_database(pg_server[0])
    tmp = tmp_path_factory.mktemp("nyc")
    conn = connect(url=url)
    try:
        migrate(conn)
        load(conn, tmp, "nyc/boundaries/nybb.shp", "admin_areas", level="district", code_field="BoroCode",
             name_field="BoroName")
        for name in (RODENTS, SAMPLE):
            load(conn, tmp, name, "complaints", timezone="America/New_York")
    finally:
        conn.close()
    yield url
    drop_database(url)


@pytest.fixture
def nyc(nyc_url):
    """A connection to New York whose changes (a data time, shifted copies of complaints) are rolled back."""
    conn = connect(url=nyc_url)
    yield conn
    conn.rollback()
    conn.close()


def _data_time(conn, when: datetime) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE city_settings SET data_time = %s", (when,))


def test_the_refusal_counts_the_calendar_months_of_the_window(nyc):
    """Frozen at 15 March 2023, the window from January 2018 is 62 calendar months (March, unfinished and without a
    complaint, is not one), two of them with complaints: the refusal says so (it said the window "has only 2
    months"), naming since when sent, emerging when not."""
    from geo.hotspots import emerging

    _data_time(nyc, datetime(2023, 3, 15, tzinfo=NY))
    with pytest.raises(InvalidParameter) as refused:
        emerging(nyc, since=datetime(2018, 1, 1, tzinfo=NY), tz="America/New_York")
    assert refused.value.parameter == "since"
    assert refused.value.reason_zh == ("新兴热点分析至少需要 4 个月有投诉，所选时段共 62 个自然月（2018-01 … 2023-02），"
                                       "其中只有 2 个月有投诉")
    assert refused.value.reason == ("emerging hotspots need complaints in at least 4 months; the window from since "
                                    "spans 62 calendar months (2018-01 … 2023-02), only 2 of them with complaints")
    with pytest.raises(InvalidParameter) as unsent:  # the window from the first complaint, to the data time
        emerging(nyc, tz="America/New_York")
    assert unsent.value.parameter == "emerging" and "62 个自然月（2018-01 … 2023-02）" in unsent.value.reason_zh
    with pytest.raises(InvalidParameter) as short:  # the window itself too short: said as its calendar months
        emerging(nyc, since=datetime(2023, 1, 1, tzinfo=NY), until=datetime(2023, 3, 1, tzinfo=NY),
                 tz="America/New_York")
    assert short.value.reason_zh == "新兴热点分析的时段至少需要 4 个自然月，所选时段（2023-01 … 2023-02）只有 2 个月"


def _copy_month(conn, source: tuple[datetime, datetime], shift: str, tag: str) -> None:
    """The complaints reported in [source) copied ``shift`` later (their places as they are): a month of real
    complaints at another time."""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO complaints (source, source_id, category, reported_at, geom) "
                    "SELECT source, source_id || %s, category, reported_at + %s::interval, geom FROM complaints "
                    "WHERE reported_at >= %s AND reported_at < %s", (tag, shift, *source))


def test_a_quiet_month_is_a_month_of_the_series(nyc):
    """January 2023 holds 2018's rodent requests, February the sample day, March none, April and May the two again
    (real places, shifted times): the series is five months with March all zeros, and a hexagon hot in the four
    others is hot in 80 % of the months — sporadic, not persistent as it was with March left out — and the
    Mann–Kendall trend of the cells' z-scores is not the gap-dropping one."""
    from geo.hotspots import classify_emerging, emerging

    jan18 = (datetime(2018, 1, 1, tzinfo=NY), datetime(2018, 2, 1, tzinfo=NY))
    feb23 = (datetime(2023, 2, 1, tzinfo=NY), datetime(2023, 3, 1, tzinfo=NY))
    _copy_month(nyc, jan18, "5 years", "-2023-01")
    _copy_month(nyc, jan18, "5 years 3 months", "-2023-04")
    _copy_month(nyc, feb23, "3 months", "-2023-05")
    window = dict(since=datetime(2023, 1, 1, tzinfo=NY), until=datetime(2023, 6, 1, tzinfo=NY), tz="America/New_York")
    whole, patterns, months = emerging(nyc, **window)  # the default cell: no kept grid
    assert [f"{m:%Y-%m}" for m in months] == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05"]
    assert "persistent" not in patterns and "sporadic" in patterns

    from geo import hexgrid
    from geo.hotspots import emerging_trend, monthly_series

    _, series = monthly_series(nyc, whole, categories=None, **window)
    assert series.shape == (whole.q.size, 5) and not series[:, 2].any() and series[:, [0, 1, 3, 4]].any(axis=0).all()
    np.testing.assert_array_equal(series.sum(axis=1), whole.count)  # every complaint of the window in its month
    neighbours = hexgrid.neighbour_index(whole.q, whole.r)
    bins, trend_z, _ = emerging_trend(series, neighbours)
    gap_bins, gap_z, gap_p = emerging_trend(series[:, [0, 1, 3, 4]], neighbours)
    dropped = classify_emerging(gap_bins, gap_z, gap_p)
    hot_throughout = [i for i in range(whole.q.size) if (gap_bins[i] > 0).all()]
    assert hot_throughout and all(dropped[i] in ("persistent", "intensifying", "diminishing") for i in hot_throughout)
    assert all(patterns[i] == "sporadic" for i in hot_throughout)
    assert not np.allclose(trend_z, gap_z)


def test_the_data_clock_ends_the_window_without_until(nyc):
    """Without until the series runs to the data time's month, but not into it while it is unfinished and holds no
    complaint: frozen at 20 May 2023, the window from January 2023 is January … April, March and April without a
    complaint (finished months of the window all the same), May (20 days, nothing in it) left out."""
    from geo.hotspots import calendar_months

    _data_time(nyc, datetime(2023, 5, 20, tzinfo=NY))
    months = calendar_months(nyc, since=datetime(2023, 1, 1, tzinfo=NY), until=None, categories=None,
                             tz="America/New_York")
    assert [f"{m:%Y-%m}" for m in months] == ["2023-01", "2023-02", "2023-03", "2023-04"]
    _data_time(nyc, datetime(2023, 3, 1, tzinfo=NY))  # the moment March begins: March is not in the window yet
    assert len(calendar_months(nyc, since=None, until=None, categories=None, tz="America/New_York")) == 62


@pytest.fixture
def nyc_client(nyc_url, env_for):
    from fastapi.testclient import TestClient

    from api.app import create_app

    env_for(nyc_url)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def test_the_hot_spot_workbook_says_its_bins_in_words(nyc_client, nyc_url):
    """GET /api/analysis/hotspots?format=xlsx: 热点等级 in words as the page's legend says them (热点 99 % 置信度),
    English with lang=en, the code beside them in 热点等级代码; the CSV for people also in words."""
    answer = nyc_client.get("/api/analysis/hotspots", params={"cell": 2000, "format": "xlsx"})
    assert answer.status_code == 200, answer.text[:300]
    rows = list(openpyxl.load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    said, code = header.index("热点等级"), header.index("热点等级代码")
    assert code == said + 1
    words = {3: "热点 99 % 置信度", 2: "热点 95 % 置信度", 1: "热点 90 % 置信度", 0: "不显著",
             -1: "冷点 90 % 置信度", -2: "冷点 95 % 置信度", -3: "冷点 99 % 置信度"}
    assert body and all(row[said] == words[row[code]] for row in body)
    assert body[0][said] == "热点 99 % 置信度" and any(row[said] == "不显著" for row in body)
    features = nyc_client.get("/api/analysis/hotspots", params={"cell": 2000}).json()["features"]
    assert sorted(row[code] for row in body) == sorted(f["properties"]["gi_bin"] for f in features)
    english = nyc_client.get("/api/analysis/hotspots", params={"cell": 2000, "format": "csv", "lang": "en"})
    text = english.content.decode("utf-8-sig")
    assert text.splitlines()[0].split(",")[5:7] == ["Hot/cold spot bin", "Bin code"]
    assert text.splitlines()[1].split(",")[5:7] == ["Hot spot 99 % confidence", "3"]
