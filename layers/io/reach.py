"""Rows outside every area that the import's tolerance let in (a pier's toilet beyond a coarsely drawn coastline):
placed, level by level, in the nearest area within the tolerance, finer levels with none within reach left empty.

A city drawing its streets district by district has streets in one district only: the nearest street of a point
35 m off another district's coast may be 8 km away, and is not where the point belongs (its case list and bulletin
row would count it). Such a point stays in its district only, as a point inside a district but in no street does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from layers.io.batch import Findings, Said
from layers.spec import admin_areas
from layers.spec.model import values

if TYPE_CHECKING:
    from layers.io.routing import AreaIndex

LEVELS = values(admin_areas.LEVELS)  # coarse to fine


def place_within_reach(areas: AreaIndex, routed: dict, rows: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                       found: Findings, tolerance_m: float) -> None:
    """Points the tolerance let in but no area holds take, level by level, the nearest area within the tolerance
    (:meth:`AreaIndex.nearest`), so that analyses by area count them; a warning names each row, the area it is placed
    in with the metres to it, and the finer levels left empty. ``routed`` holds the codes of ``rows``."""
    rest = np.flatnonzero(np.all([codes == None for codes in routed.values()], axis=0))  # noqa: E711
    if len(rest) == 0:
        return
    near, metres = areas.nearest(lon[rows[rest]], lat[rows[rest]], tolerance_m)
    for code, column in near.items():
        routed[code][rest] = column
    finest = np.array([next((near[f"{lv}_code"][k] for lv in LEVELS[::-1] if near[f"{lv}_code"][k] is not None), None)
                       for k in range(len(rest))], dtype=object)
    said = dict(zip(rows[rest], zip(finest, metres)))
    keep = finest != None  # noqa: E711  (none within reach: outside() let in no such point)
    names = dict(zip(areas.codes, areas.names))  # once, not per row
    present = [lv for lv in LEVELS if (areas.levels == lv).any()]
    found.add(rows[rest][keep], None, lambda i: _placed_near(
        names, areas.level_of, present, lon[i], lat[i], *said[i], tolerance_m), "warning")


#: Level → (zh, en) names, in the warnings.
_LEVEL_NAMES = {c.value: (c.label_zh, c.label_en.lower()) for c in admin_areas.LEVELS}


def _placed_near(names: dict, level_of: dict, present: list, lon: float, lat: float, code: str, metres: float,
                 tolerance_m: float) -> Said:
    """The warning of a point outside every area placed in the area ``code``, ``metres`` away: that area with its
    level, and the finer levels the city has (``present``) but none of whose areas lies within the tolerance."""
    name = names.get(code, code)
    level = level_of[code]
    zh_level, en_level = _LEVEL_NAMES[level]
    finer = [lv for lv in LEVELS[LEVELS.index(level) + 1:] if lv in present]
    zh = (f"（{lon:.6f}, {lat:.6f}）在所有区域之外（容差 {tolerance_m:g} 米内）：归入{zh_level}「{name}」"
          f"（相距 {metres:.0f} 米）")
    en = (f"({lon:.6f}, {lat:.6f}) lies outside every area (within the tolerance of {tolerance_m:g} m): placed in the "
          f"{en_level} {name}, {metres:.0f} m away")
    if finer:
        zh += f"；{tolerance_m:g} 米内没有{'、'.join(_LEVEL_NAMES[lv][0] for lv in finer)}，这些级别留空"
        en += (f"; no {' or '.join(_LEVEL_NAMES[lv][1] for lv in finer)} lies within {tolerance_m:g} m, "
               "so those levels are left empty")
    return Said(zh, en)
