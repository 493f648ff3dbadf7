"""The demo city's complaints: where (markets, villages, back streets, background), what, when, how far handled.

Complaint rows are column arrays, so that a million of them stay cheap.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import numpy as np
import shapely

from data.demo.model import DATA_END, MONTHS, DemoCity
from data.demo.shapes import points_in_polygons, weighted_points
from data.vocab import STATUSES

# Where complaints come from, and each source's share.
_SOURCES = {"market": 0.25, "village": 0.3, "alley": 0.15, "background": 0.3}
# Complaint categories by where they happen (STANDARDS §4 event types).
_CATEGORY_MIX = {
    "market": {"占道经营": 0.3, "餐厨垃圾遗撒": 0.2, "病媒生物": 0.15, "垃圾满溢": 0.15, "暴露垃圾": 0.1, "道路不洁": 0.1},
    "village": {"暴露垃圾": 0.25, "积存垃圾渣土": 0.2, "乱倒污水": 0.15, "病媒生物": 0.15, "垃圾满溢": 0.15, "非法小广告": 0.1},
    "alley": {"道路不洁": 0.3, "垃圾满溢": 0.2, "非法小广告": 0.2, "暴露垃圾": 0.15, "乱倒污水": 0.15},
    "background": {"道路不洁": 0.2, "垃圾满溢": 0.15, "非法小广告": 0.15, "绿地脏乱": 0.15, "暴露垃圾": 0.1,
                   "水域不洁": 0.05, "病媒生物": 0.1, "占道经营": 0.1},
}
TIME_LIMIT_HOURS = {
    "暴露垃圾": 24, "积存垃圾渣土": 48, "道路不洁": 24, "水域不洁": 72, "绿地脏乱": 48, "乱倒污水": 24,
    "餐厨垃圾遗撒": 12, "垃圾满溢": 12, "占道经营": 24, "非法小广告": 48, "病媒生物": 72,
}
CHANNELS = ["12345", "12319", "微信", "网格员巡查", "暗访"]
_HOUR_WEIGHTS = np.array([1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 8, 9, 9, 8, 7, 7, 8, 8, 8, 7, 7, 6, 5, 4, 3, 2], dtype=float)
_HOUR_WEIGHTS /= _HOUR_WEIGHTS.sum()


def add_complaints(city: DemoCity, rng: np.random.Generator) -> None:
    """Complaint columns: place, category, times and status (a tail overdue, a recent backlog), channel."""
    n = city.scale.complaints
    xy, kinds, trends = _places(city, rng)
    category = np.empty(n, dtype=object)
    for k, source in enumerate(_SOURCES):
        sel = kinds == k
        table = _CATEGORY_MIX[source]
        category[sel] = np.array(list(table))[rng.choice(len(table), size=int(sel.sum()), p=list(table.values()))]
    reported = _reported_at(trends, rng)
    limit_h = np.array([TIME_LIMIT_HOURS[c] for c in category], dtype=float)
    due = reported + (limit_h * 3600).astype("timedelta64[s]")
    status, closed_at = _handling(reported, limit_h, rng)
    city.complaints = {
        "x": xy[:, 0],
        "y": xy[:, 1],
        "category": category,
        "reported_at": reported,
        "due_at": due,
        "closed_at": closed_at,
        "status": np.array(STATUSES, dtype=object)[status],
        "channel": np.array(CHANNELS, dtype=object)[rng.choice(len(CHANNELS), size=n, p=[0.55, 0.15, 0.15, 0.1, 0.05])],
    }


def _places(city: DemoCity, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, their source (index in _SOURCES) and trend (+1 worsening, -1 improving, 0 steady)."""
    counts = rng.multinomial(city.scale.complaints, list(_SOURCES.values()))
    xy_parts, trend_parts = [], []

    # Around markets, ∝ stalls.
    stalls = np.array([m["stalls"] for m in city.markets], dtype=float)
    which = rng.choice(len(city.markets), size=counts[0], p=stalls / stalls.sum())
    mxy = np.array([[m["geom"].x, m["geom"].y] for m in city.markets])
    xy_parts.append(mxy[which] + rng.normal(0, 70, (counts[0], 2)))
    trend_parts.append(np.zeros(counts[0]))

    # Inside urban villages, ∝ population; unrenovated ones get worse over
    # time, renovated ones better (emerging hotspots to find).
    vpop = np.array([v["population"] for v in city.urban_villages], dtype=float)
    per_village = rng.multinomial(counts[1], vpop / vpop.sum())
    xy_parts.append(points_in_polygons([v["geom"] for v in city.urban_villages], per_village, rng))
    trend = {"未改造": 1.0, "改造中": 0.0, "已改造": -1.0}
    trend_parts.append(np.repeat([trend[v["renovation_status"]] for v in city.urban_villages], per_village))

    # Along back streets.
    alleys = [r["geom"] for r in city.roads if r["class"] == "背街小巷"]
    a = np.array([g.coords[0] for g in alleys])
    b = np.array([g.coords[-1] for g in alleys])
    pick = rng.integers(len(alleys), size=counts[2])
    t = rng.random(counts[2])[:, None]
    xy_parts.append(a[pick] + t * (b[pick] - a[pick]) + rng.normal(0, 6, (counts[2], 2)))
    trend_parts.append(np.zeros(counts[2]))

    # Background, ∝ population.
    xy_parts.append(weighted_points(city, rng, counts[3], village_factor=1.0))
    trend_parts.append(np.zeros(counts[3]))

    xy = np.vstack(xy_parts)
    kinds = np.repeat(np.arange(len(_SOURCES)), counts)
    trends = np.concatenate(trend_parts)
    # Keep every complaint inside the city: re-draw the few that fell out.
    shapely.prepare(city.boundary)
    outside = ~shapely.contains_xy(city.boundary, xy[:, 0], xy[:, 1])
    if outside.any():
        xy[outside] = weighted_points(city, rng, int(outside.sum()), village_factor=1.0)
        kinds[outside] = list(_SOURCES).index("background")
        trends[outside] = 0
    return xy, kinds, trends


def _reported_at(trends: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Report times (UTC datetime64) over 36 months, more in summer and by day; trends tilt them."""
    n = len(trends)
    span_s = (DATA_END - (DATA_END - timedelta(days=round(MONTHS * 30.44)))).total_seconds()
    u = rng.random(n)
    u = np.where(trends > 0, np.sqrt(u), np.where(trends < 0, 1 - np.sqrt(1 - u), u))
    season = 1 + 0.35 * np.sin(2 * np.pi * (u * MONTHS / 12.0) + 1.0)
    redraw = rng.random(n) * 1.35 > season
    u[redraw] = rng.random(int(redraw.sum()))
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS)
    day_start = np.floor(u * span_s / 86400) * 86400
    offset_s = day_start + hour * 3600 + rng.integers(0, 3600, n)
    start = DATA_END - timedelta(seconds=span_s)
    return np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "s") + offset_s.astype("timedelta64[s]")


def _handling(reported: np.ndarray, limit_h: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each complaint's status (index in STATUSES) at DATA_END and its closing time (NaT while open)."""
    n = len(reported)
    # Handling time: most within the limit, a tail beyond it.
    handle_s = limit_h * 3600 * rng.lognormal(-0.7, 0.6, n)
    age_s = (np.datetime64(DATA_END.astimezone(UTC).replace(tzinfo=None), "s") - reported).astype(float)
    # A backlog: a quarter of the last two months' cases are still being handled.
    stuck = (age_s < 60 * 86400) & (rng.random(n) < 0.25)
    handle_s = np.where(stuck, handle_s * 50 + 20 * 86400, handle_s)
    closed = handle_s < age_s
    # An open case has moved through the statuses in step with its share of the handling time.
    last = len(STATUSES) - 1
    status = np.where(closed, last, np.minimum(last - 1, (age_s / np.maximum(handle_s, 1) * last).astype(int)))
    closed_at = np.where(closed, reported + handle_s.astype("timedelta64[s]"), np.datetime64("NaT"))
    return status, closed_at
