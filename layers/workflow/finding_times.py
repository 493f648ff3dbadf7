"""Times of inspection rounds and findings as people say them (no HTTP here).

A round's times are said in the city's zone, as it was planned (``2026-09-14 00:00``), not in UTC. A finding's
rectification or re-check may be entered afterwards from a paper record (``at``): it cannot come before what it
follows (the finding's last step, or its observation), so its history stays in order.
"""

from __future__ import annotations

from datetime import datetime

from data.errors import InvalidParameter
from data.vocab import city_tz


def said(value: datetime | str) -> str:
    """``value`` (a datetime or an ISO string) in the city's zone to the minute: ``2026-09-14 00:00``."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(city_tz()).strftime("%Y-%m-%d %H:%M")


def step_time(conn, finding: dict, at: datetime | None) -> datetime | None:
    """``at`` when a step of ``finding`` may be dated then (None: now, as the database says it), or
    InvalidParameter naming ``at`` when it is before the finding's last step or its observation."""
    if at is None:
        return None
    with conn.cursor() as cur:
        cur.execute("SELECT max(at) FROM inspection_events WHERE finding_id = %s AND seq > 1", (finding["id"],))
        last = cur.fetchone()[0]
    observed = datetime.fromisoformat(finding["observed_at"])
    floor, what, what_zh = (last, "its last step", "上一步") if last and last > observed else (
        observed, "it was observed", "发现时间")
    if at < floor:
        raise InvalidParameter("at", f"{said(at)} is before {what} ({said(floor)}) of finding {finding['id']}",
                               f"{said(at)} 早于问题 {finding['id']} 的{what_zh}（{said(floor)}）")
    return at
