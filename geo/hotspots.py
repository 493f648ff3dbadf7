"""Complaint hotspots: counts on a hexagon grid over the complaints' part of the city, Gi*, FDR bins.

The reference users know is ArcGIS "Optimized Hot Spot Analysis" (STANDARDS
§5): incidents aggregated to hexagons, Getis–Ord Gi* per cell with binary
weights over the edge-sharing neighbours plus the cell itself, two-sided
p-values and confidence bins ±3/±2/±1 after a false-discovery-rate
correction. Every hexagon that touches the city within the study area
(the rectangle around the complaints, widened by one cell: :func:`study_box`)
is a cell, including those with no complaint (leaving them out would bias
the statistic); hexagons of rural counties far from any complaint are not.

Algorithm choices, for speed at 1,000,000 complaints:

* the counts per cell, month and category are kept by the database for the
  sizes in use (migration 0750, :mod:`geo.hotspot_counts`): a map sums
  some 10^5 kept counts, the complaints themselves read only for the parts
  of months at the ends of its window;
* otherwise the complaints' metric coordinates (migration 0300) are read in
  one binary COPY and cube-rounded in numpy (:mod:`geo.hotspot_points`): no spatial join;
* the cells that touch the city are chosen in shapely against the prepared
  outline, all at once (:mod:`geo.hexcells`), and only they are drawn and
  serialized by PostGIS (ST_AsGeoJSON);
* Gi* and the FDR cut-offs are vectorized numpy over the cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from data.catalog import metric_srid as city_srid
from data.clock import REFERENCE_TIME_SQL
from data.errors import InvalidParameter, NotFound
from data.vocab import CITY_TIME_ZONE
from geo import hexgrid, hotspot_counts, hotspot_points
from geo.hexcells import city_cells, population_level
from geo.hotspot_counts import filters
from geo.hotspot_points import scatter as _scatter
from geo.hotspot_scale import MIN_CELLS_WITH_COMPLAINTS, default_cell_m, larger_cell_m, sparse, spread, study_box
from geo.stats import confidence_bins, gi_star, lone_gi_star, mann_kendall, two_sided_p

#: Bounds of the cell edge length (metres).
MIN_CELL_M = 25.0
MAX_CELL_M = 5_000.0


@dataclass
class HotspotResult:
    """Cells with their counts and statistics, in matching order."""

    cell_m: float
    srid: int
    q: np.ndarray
    r: np.ndarray
    count: np.ndarray
    value: np.ndarray          # what Gi* ran on: count, or complaints per 10,000 residents
    gi_z: np.ndarray
    gi_p: np.ndarray
    gi_bin: np.ndarray
    geojson: list[str]         # cell polygons in WGS84, from ST_AsGeoJSON
    population: np.ndarray | None = None
    outside: int = 0           # complaints that matched but lie outside every city cell
    summary: dict = field(default_factory=dict)


def check_cell(cell_m: float | None) -> None:
    """A hexagon edge length within :data:`MIN_CELL_M` … :data:`MAX_CELL_M` (or none: derived from the data)."""
    if cell_m is not None and not (MIN_CELL_M <= cell_m <= MAX_CELL_M):
        raise InvalidParameter("cell", f"must be between {MIN_CELL_M:g} and {MAX_CELL_M:g} metres, not {cell_m:g}",
                               f"须在 {MIN_CELL_M:g} 至 {MAX_CELL_M:g} 米之间，不能是 {cell_m:g}")


def hotspots(conn, *, since: datetime | None = None, until: datetime | None = None,
             categories: list[str] | None = None, cell_m: float | None = None,
             per_population: bool = False, tz: str = CITY_TIME_ZONE, cells=city_cells,
             points=hotspot_points.read) -> HotspotResult:
    """Gi* hotspots of complaints on a hexagon grid over the complaints' part of the city (:func:`study_box`).

    Parameters
    ----------
    conn : psycopg2 connection
    since, until : datetime, optional
        Half-open window [since, until) on ``reported_at``.
    categories : list of str, optional
        Event type names (STANDARDS §4); all when empty.
    cell_m : float, optional
        Hexagon edge length in metres; by default derived from the data
        (:func:`default_cell_m`).
    per_population : bool
        Run Gi* on complaints per 10,000 residents (community population
        spread over each hexagon by area) instead of counts.
    tz : str
        The time zone whose months the kept counts are cut in (:mod:`geo.hotspot_counts`).
    cells : callable
        :func:`city_cells` (with the study area's rectangle) or one that keeps its answers while the places stand.
    points : callable
        The matching complaints' metric (x, y) for a size not kept (:func:`geo.hotspot_points.read`, or kept).

    Returns
    -------
    HotspotResult
    """
    check_cell(cell_m)
    if since is not None and until is not None and since >= until:
        raise InvalidParameter("since", "must be before until", "须早于 until")
    srid = city_srid(conn)
    if categories:
        _check_categories(conn, categories)
    # The sizes worth keeping counts for: the one asked for by name, or the default map's (a size derived
    # from a filtered count changes with every filter).
    keep = cell_m is not None or (since is None and until is None and not categories)
    where, params = filters(since, until, categories)
    found = spread(conn, where, params) if cell_m is None else None
    cell_m = default_cell_m(found) if found is not None else cell_m
    binned = hotspot_counts.counts(conn, size=cell_m, srid=srid, tz=tz, since=since, until=until,
                                   categories=categories, keep=keep, points=points)
    held = binned[binned[:, 2] > 0] if binned.size else binned
    # The study area: the city's hexagons around the complaints, not the whole municipality (README, Hotspots).
    q, r, geojson, pop = (cells(conn, cell_m, srid, per_population, study_box(held[:, 0], held[:, 1], cell_m))
                          if held.size else (np.zeros(0, dtype=np.int64),) * 2 + ([], None))
    counts, outside = _scatter(q, r, binned)
    if counts.sum() == 0:
        raise NotFound("no complaints match this time window and categories", "该时段和类别下没有投诉，无法计算热点")
    value = _values(counts, pop, cell_m)
    z = gi_star(value, hexgrid.neighbour_index(q, r))
    p = two_sided_p(z)
    bins = confidence_bins(z, p)
    result = HotspotResult(cell_m=cell_m, srid=srid, q=q, r=r, count=counts, value=value, gi_z=z, gi_p=p,
                           gi_bin=bins, geojson=geojson, population=pop, outside=outside)
    result.summary = _summary(result, per_population, pop is not None and population_level(conn))
    result.summary["suggested_cell_m"] = _suggestion(conn, result, found, (where, params), points)
    return result


def _suggestion(conn, result: HotspotResult, found, where: tuple[str, dict], points) -> float | None:
    """The edge a too coarse map (complaints in too few cells: a smaller one, from their spread) or a too sparse one
    (:func:`sparse`: the smallest larger one that is not) is told to use; None when the map is neither."""
    s = result.summary
    if s["cells_with_complaints"] < MIN_CELLS_WITH_COMPLAINTS:
        suggested = default_cell_m(found or spread(conn, *where))
        return suggested if suggested < result.cell_m else None
    if s["complaints"] and sparse(s):
        x, y = points(conn, result.srid, *where)
        return larger_cell_m(x, y, result.cell_m, hotspot_points.constants(conn))
    return None


def _summary(result: HotspotResult, per_population: bool, level: str | None = None) -> dict:
    """The map's figures: cells, complaints (and those outside every cell), cells per bin, and how sparse it is.

    ``cells_with_complaints`` and ``hot_without_complaints`` say how few cells carry the map;
    ``lone_complaint_hot`` whether one complaint with none around it would be binned hot (counts only; None for
    rates): then the bins show where complaints are, not where they cluster.
    """
    counts, bins = result.count, result.gi_bin
    hot = result.gi_z[bins > 0]
    return {
        "cells": int(counts.size), "complaints": int(counts.sum()), "outside_city": result.outside,
        "cell_m": result.cell_m,
        "hot_99": int((bins == 3).sum()), "hot_95": int((bins == 2).sum()), "hot_90": int((bins == 1).sum()),
        "cold_90": int((bins == -1).sum()), "cold_95": int((bins == -2).sum()), "cold_99": int((bins == -3).sum()),
        "value": "complaints per 10,000 residents" if per_population else "complaint count",
        "population_level": level or None,  # the admin level whose populations the rates spread over the cells
        "cells_with_complaints": int((counts > 0).sum()),
        "hot_without_complaints": int(((bins > 0) & (counts == 0)).sum()),
        "lone_complaint_hot": None if per_population else bool(hot.size and lone_gi_star(counts) >= hot.min()),
    }


def _values(counts: np.ndarray, pop: np.ndarray | None, cell_m: float) -> np.ndarray:
    """What Gi* runs on: the counts, or per 10,000 residents with ``pop``; InvalidParameter where that is undefined
    (no population, or every cell the same: Gi* compares cells)."""
    value = counts.astype(float)
    if pop is not None:
        if not (pop > 0).any():
            raise InvalidParameter("per_population", "no admin area (community, street or district) has a population, "
                                   "so there is no rate per 10,000 residents: import the areas with --population-field "
                                   "(or attach a census table), or ask without it",
                                   "没有任何行政区划（社区、街道或区县）有人口数据，无法计算每万人的比率：请用 --population-field "
                                   "导入人口（或附加人口普查表），或不按人口计算")
        value = np.where(pop > 0, counts / np.where(pop > 0, pop, 1.0) * 10_000.0, 0.0)
    if value.min() == value.max():
        raise InvalidParameter("cell", f"all {value.size} hexagons of {cell_m:g} m have the same value, so Gi* has "
                               "nothing to compare: ask for a smaller cell or a longer window",
                               f"{cell_m:g} 米的 {value.size} 个六边形取值全都相同，Gi* 无从比较：请用更小的六边形或更长的时段")
    return value


def _check_categories(conn, categories: list[str]) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT name FROM event_types")
        known = {row[0] for row in cur.fetchall()}
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise InvalidParameter("category", f"unknown event type(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                               f"未知的事件类型：{'、'.join(unknown)}；已有：{'、'.join(sorted(known))}")


#: Emerging hotspot patterns (after ESRI's emerging hot spot analysis), zh and en.
PATTERNS = {
    "new": ("新增热点", "New hot spot"),
    "consecutive": ("连续热点", "Consecutive hot spot"),
    "intensifying": ("加剧热点", "Intensifying hot spot"),
    "persistent": ("持续热点", "Persistent hot spot"),
    "diminishing": ("减弱热点", "Diminishing hot spot"),
    "sporadic": ("零星热点", "Sporadic hot spot"),
    "oscillating": ("振荡热点", "Oscillating hot spot"),
    "historical": ("历史热点", "Historical hot spot"),
    "none": ("无模式", "No pattern"),
}


def classify_emerging(bins: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, alpha: float = 0.05) -> list[str]:
    """Pattern per cell from its monthly bins (cells × months) and the Mann–Kendall trend of its Gi* z.

    Parameters
    ----------
    bins : ndarray of shape (n, t)
        FDR-corrected Gi* bins per month (>0 hot, <0 cold).
    trend_z, trend_p : ndarray of shape (n,)
        Mann–Kendall z and two-sided p of each cell's monthly z-scores.
    alpha : float
        Significance of the trend.

    Returns
    -------
    list of str
        Keys of :data:`PATTERNS`, following ESRI's definitions for hot spots:
        *new* hot only in the last month; *consecutive* a run of hot months at
        the end and never hot before it (< 90 % of months); *intensifying* /
        *persistent* / *diminishing* hot in ≥ 90 % of months including the last,
        with a significant rising / no / falling trend; *historical* hot in
        ≥ 90 % of months but not the last; *sporadic* hot in the last month,
        on and off before, never cold; *oscillating* the same but cold at some
        time.
    """
    hot = bins > 0
    cold = bins < 0
    n, t = bins.shape
    share = hot.sum(axis=1) / t
    out = []
    for i in range(n):
        h = hot[i]
        last = bool(h[-1])
        if not h.any():
            out.append("none")
            continue
        if share[i] >= 0.9:
            if not last:
                out.append("historical")
            elif trend_p[i] < alpha and trend_z[i] > 0:
                out.append("intensifying")
            elif trend_p[i] < alpha and trend_z[i] < 0:
                out.append("diminishing")
            else:
                out.append("persistent")
            continue
        if not last:
            out.append("none")
            continue
        if h.sum() == 1:
            out.append("new")
            continue
        run = t - np.argmin(h[::-1]) if not h.all() else t  # months hot at the end
        if not h[: t - run].any():
            out.append("consecutive")
        elif cold[i].any():
            out.append("oscillating")
        else:
            out.append("sporadic")
    return out


#: Months with complaints an emerging hot spot analysis needs: a month without any has no hot spot anywhere (Gi* has
#: nothing to compare in it), so a trend per cell over fewer months that have some says nothing. The window itself
#: must span as many calendar months.
MIN_MONTHS = 4


def calendar_months(conn, *, since: datetime | None, until: datetime | None, categories: list[str] | None,
                    tz: str) -> list[datetime]:
    """Every calendar month of the window, in order, as the month's start in ``tz`` (naive, as the counts' months).

    The window runs from ``since`` (else the first matching complaint) to ``until`` (exclusive; else open), but
    never into the unfinished month of the data clock's reference time (:mod:`data.clock`: the data time, else
    now) unless a matching complaint lies in it: the current month, days old and nothing imported for it yet, is
    not a quiet month — counted as zeros it would make every persistent hot spot hot in fewer than 90 % of the
    months. As ArcGIS's space-time cube, the last step then ends at the last complaint. A finished month without
    complaints still counts.
    """
    where, params = filters(since, until, categories)
    params.update(tz=tz, lo=since, hi=until)
    # The end is exclusive, as until is: a window ending at midnight on 1 March ends with February.
    this_month = f"(date_trunc('month', {REFERENCE_TIME_SQL} AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s)"
    end = (f"least(coalesce(%(hi)s::timestamptz, 'infinity'), "
           f"greatest(hi + interval '1 microsecond', {this_month}))")
    with conn.cursor() as cur:
        cur.execute("SELECT generate_series(date_trunc('month', coalesce(%(lo)s::timestamptz, lo) AT TIME ZONE %(tz)s), "
                    f"date_trunc('month', ({end} - interval '1 microsecond') AT TIME ZONE %(tz)s), interval '1 month') "
                    f"FROM (SELECT min(reported_at), max(reported_at) FROM complaints WHERE {where}) b(lo, hi)", params)
        return [row[0] for row in cur.fetchall()]


def left_out_month(conn, months: list[datetime], until: datetime | None, tz: str) -> str | None:
    """The unfinished month of the reference time (``YYYY-MM``) when the window reached into it but
    :func:`calendar_months` left it out (no complaint in it yet); else None."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT date_trunc('month', {REFERENCE_TIME_SQL} AT TIME ZONE %(tz)s), "
                    f"%(hi)s::timestamptz > date_trunc('month', {REFERENCE_TIME_SQL} AT TIME ZONE %(tz)s) "
                    "AT TIME ZONE %(tz)s", {"tz": tz, "hi": until})
        current, reaches = cur.fetchone()
    if months and months[-1] < current and (until is None or reaches):
        return f"{current:%Y-%m}"
    return None


def monthly_series(conn, whole: HotspotResult, *, since: datetime | None, until: datetime | None,
                   categories: list[str] | None, tz: str) -> tuple[list[datetime], np.ndarray]:
    """The calendar months of the window and the complaint count per cell (rows, ``whole``'s order) and month.

    Every month is a column, a month without complaints a column of zeros: as ESRI's Emerging Hot Spot Analysis
    works on a space-time cube of equal time steps with every bin present (zero counts included), and the
    Mann–Kendall trend counts steps in time — months that hold complaints taken as consecutive would join Jan 2018
    to Feb 2023. InvalidParameter when the window is shorter than :data:`MIN_MONTHS` months or fewer hold complaints.
    """
    months = calendar_months(conn, since=since, until=until, categories=categories, tz=tz)
    rows = hotspot_counts.counts(conn, size=whole.cell_m, srid=whole.srid, tz=tz, since=since, until=until,
                                 categories=categories, by_month=True)
    column = {m: k for k, m in enumerate(months)}
    held = sorted({row[2] for row in rows})
    _check_months(months, held, since)
    series = np.zeros((whole.q.size, len(months)), dtype=float)
    cells = np.array([(row[0], row[1], row[3]) for row in rows], dtype=np.int64).reshape(-1, 3)
    at = np.array([column[row[2]] for row in rows], dtype=np.int64)
    for k in np.unique(at):
        series[:, k], _ = _scatter(whole.q, whole.r, cells[at == k])
    return months, series


def _check_months(months: list[datetime], held: list[datetime], since: datetime | None) -> None:
    """InvalidParameter naming ``since`` (else ``emerging``) when the window spans fewer than :data:`MIN_MONTHS`
    calendar months, or fewer of them hold complaints; each figure said as what it counts."""
    if len(months) >= MIN_MONTHS and len(held) >= MIN_MONTHS:
        return
    name = "since" if since is not None else "emerging"
    span = f"{months[0]:%Y-%m} … {months[-1]:%Y-%m}" if months else "—"
    window = ("the window from since", "所选时段") if since is not None else \
        ("the window from the first complaint", "自第一件投诉起的时段")
    if len(months) < MIN_MONTHS:
        raise InvalidParameter(name, f"emerging hotspots need a window of at least {MIN_MONTHS} calendar months; "
                                     f"{window[0]} ({span}) spans {len(months)}",
                               f"新兴热点分析的时段至少需要 {MIN_MONTHS} 个自然月，{window[1]}（{span}）只有 {len(months)} 个月")
    raise InvalidParameter(name, f"emerging hotspots need complaints in at least {MIN_MONTHS} months; "
                                 f"{window[0]} spans {len(months)} calendar months ({span}), only {len(held)} of "
                                 "them with complaints",
                           f"新兴热点分析至少需要 {MIN_MONTHS} 个月有投诉，{window[1]}共 {len(months)} 个自然月（{span}），"
                           f"其中只有 {len(held)} 个月有投诉")


def emerging_trend(series: np.ndarray, neighbours) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gi* bins per cell and month (a month without complaints: z 0, bin 0 everywhere) and the Mann–Kendall z and p
    of each cell's monthly Gi* z-scores, over every column of ``series``."""
    # Gi* of each month over the spatial neighbours, the whole-map statistic (tested equal to esda) per slice;
    # ESRI's space-time Gi* would also count the cell's previous months as neighbours.
    z_series = np.zeros_like(series)
    bin_series = np.zeros(series.shape, dtype=np.int8)
    for k in range(series.shape[1]):
        if series[:, k].std() == 0:
            continue
        z_series[:, k] = gi_star(series[:, k], neighbours)
        bin_series[:, k] = confidence_bins(z_series[:, k], two_sided_p(z_series[:, k]))
    _, trend_z, trend_p = mann_kendall(z_series)
    return bin_series, trend_z, trend_p


def emerging(conn, *, since: datetime | None = None, until: datetime | None = None,
             categories: list[str] | None = None, cell_m: float | None = None,
             tz: str = CITY_TIME_ZONE, cells=city_cells,
             points=hotspot_points.read) -> tuple[HotspotResult, list[str], list[datetime]]:
    """Emerging hotspots: Gi* per calendar month of the window (:func:`monthly_series`), then a Mann–Kendall trend
    per cell.

    Returns
    -------
    (HotspotResult, patterns, months)
        The whole-window result, one pattern key per cell and the calendar months of the series.
    """
    whole = hotspots(conn, since=since, until=until, categories=categories, cell_m=cell_m, tz=tz, cells=cells,
                     points=points)
    months, series = monthly_series(conn, whole, since=since, until=until, categories=categories, tz=tz)
    bins, trend_z, trend_p = emerging_trend(series, hexgrid.neighbour_index(whole.q, whole.r))
    whole.summary["months"] = {"first": f"{months[0]:%Y-%m}", "last": f"{months[-1]:%Y-%m}", "count": len(months),
                               "unfinished_left_out": left_out_month(conn, months, until, tz)}
    return whole, classify_emerging(bins, trend_z, trend_p), months
