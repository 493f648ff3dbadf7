"""A data time is in force only while no complaint was reported after it. Taipei's real boundaries and a 12345
export reported ten days ago (tests/test_import_traditional.py): a data time set before those reports is said,
by `city show`, not to be in force, and overdue is judged now; one set after them is in force, judged at it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.real_city import TAIPEI_FILES, new_city, taipei_areas
from tests.test_import_traditional import write_export

LAPSED_ZH = "（不生效：已有晚于此时间上报的投诉，超期按当前时间判定）"


@pytest.fixture(scope="module")
def taipei(pg_server, tmp_path_factory):
    """Taipei's districts, district offices and villages, and a 12345 export reported ten days ago."""
    with new_city(pg_server, tmp_path_factory, "taipei", TAIPEI_FILES[:2]) as city:
        taipei_areas(city)
        city.cli("import", "complaints", write_export(city, "12345工單.csv"))
        yield city


def _reference(taipei) -> datetime:
    """The time overdue is judged at (data.clock), as the pages, API and prints read it."""
    from data.clock import reference_time
    from data.db import connect
    from data.settings import DatabaseSettings

    conn = connect(DatabaseSettings.from_env({"DATABASE_URL": taipei.url}))
    try:
        return reference_time(conn)
    finally:
        conn.close()


def _shown(taipei, *words) -> str:
    return next(line for line in taipei.cli("city", "show", *words).stdout.splitlines()
                if line.startswith(("数据时间", "data time")))


def test_a_data_time_before_the_newest_report_is_said_not_in_force(taipei):
    before = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    said = taipei.cli("city", "set", "--data-time", before).stdout
    assert LAPSED_ZH in said, said
    assert _shown(taipei).endswith(LAPSED_ZH)
    assert "(not in force: complaints were reported after it; overdue is judged now)" in _shown(taipei, "--lang", "en")
    # Overdue judged now: the reference time is today's, not the snapshot's a month ago.
    assert abs(_reference(taipei) - datetime.now(UTC)) < timedelta(minutes=1)

def test_a_data_time_after_every_report_is_in_force(taipei):
    after = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)
    taipei.cli("city", "set", "--data-time", after.isoformat())
    shown = _shown(taipei)
    assert "不生效" not in shown and shown.startswith("数据时间："), shown
    assert _reference(taipei) == after
