"""The words of a grid sheet's map (巡查图注记), placed so that none covers another.

An inspector reads the sheet in the street: a checklist number under
another, or a road's name across a neighbour's code, is a place not found.
Words are placed in order of what matters, each where its box (and its
leader line) covers no word placed before, nor the scale bar or the north
arrow:

1. **checklist numbers**, every one: first beside its marker (eight spots
   around it, the old one at its upper right first, covering no marker if it
   can), then on rings further out joined to the marker by a short leader line;
   a number is never left out;
2. **road names**, along the road, on its longest visible piece (middle
   first, then further along); a name that fits nowhere is left out;
3. **neighbouring grids' short codes** (community-sequence, and the atlas
   page), inside the neighbour and off the page's grid; left out where none fits.

Boxes are in map units; a rotated name takes the upright box around it (what
a PDF reader's word boxes of it fill).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from layers.printing.labels import Taken, inside_points, text_box_mm
from layers.printing.page import measured_mm
from layers.printing.style import PT_TO_MM

#: Room kept around each word's box (mm): two boxes are at least twice this apart.
GAP_MM = 0.2
#: A number's box's padding around its digits (em), as drawn (matplotlib's boxstyle pad).
NUMBER_PAD = 0.12
#: Rings (mm from the marker) a number whose spots beside its marker are taken is tried on, nearest first.
RINGS_MM = (3.5, 5.0, 7.0, 9.5, 12.5, 16.0, 21.0, 28.0, 40.0)
#: Where on its longest visible piece a road's name is tried (share of its length).
ALONG = (0.5, 0.38, 0.62, 0.26, 0.74, 0.15, 0.85)


@dataclass
class MapWord:
    """A word on the map: its text centred at (x, y) in map units, turned by ``rotation`` degrees; ``leader``
    the line (from, to) joining a moved number to its place; ``kind`` number, area, road, alley or neighbour."""

    kind: str
    text: str
    x: float
    y: float
    rotation: float = 0.0
    leader: tuple | None = None
    key: object = None


def upright_box(w: float, h: float, degrees: float) -> tuple[float, float]:
    """Width and height of the upright box around a ``w`` × ``h`` box turned by ``degrees``."""
    a = math.radians(degrees)
    c, s = abs(math.cos(a)), abs(math.sin(a))
    return w * c + h * s, w * s + h * c


def number_box_mm(text: str, size_pt: float) -> tuple[float, float]:
    """Width and height (mm) of a checklist number with its box."""
    em = size_pt * PT_TO_MM
    return measured_mm(text, size_pt) + 2 * NUMBER_PAD * em, 1.2 * em + 2 * NUMBER_PAD * em


class MapWords:
    """The words of one map, placed one after another; ``scale`` is paper mm per map unit."""

    def __init__(self, frame: tuple, scale: float, reserved: list[tuple], markers: np.ndarray,
                 radii_mm: np.ndarray):
        self.scale = scale
        self.taken = Taken(frame, GAP_MM / scale)
        for box in reserved:
            self.taken.take(box)
        self.markers = np.asarray(markers, dtype=float).reshape(-1, 2)
        self.radii = np.asarray(radii_mm, dtype=float) / scale
        self.words: list[MapWord] = []

    def _covers_marker(self, x: float, y: float, w: float, h: float) -> bool:
        m = self.markers
        if not len(m):
            return False
        return bool(np.any((np.abs(m[:, 0] - x) < w / 2 + self.radii) & (np.abs(m[:, 1] - y) < h / 2 + self.radii)))

    def _try(self, word: MapWord, w: float, h: float, spots, leader_from=None, markers: bool = True,
             strict: bool = True) -> bool:
        """Place ``word`` at the first of ``spots`` whose box is free (and, with ``markers``, covers no marker);
        from ``leader_from``, a leader line to the box that crosses no other word (``strict``)."""
        for x, y in spots:
            box = self.taken.box(x, y, w, h)
            leader = None
            if leader_from is not None:
                leader = shapely.shortest_line(shapely.Point(leader_from), shapely.box(*box).exterior)
            if not self.taken.free(box, leader if strict else None):
                continue
            if markers and self._covers_marker(x, y, w, h):
                continue
            self.taken.take(box, leader)
            word.x, word.y = x, y
            word.leader = tuple(leader.coords) if leader is not None else None
            self.words.append(word)
            return True
        return False

    def _beside(self, x: float, y: float, w: float, h: float, r: float) -> list[tuple[float, float]]:
        """Eight spots just beside a marker of radius ``r`` at (x, y): upper right first, then round it."""
        dx, dy = r + w / 2, r + h / 2
        return [(x + dx, y + dy), (x + dx, y), (x - dx, y + dy), (x - dx, y), (x + dx, y - dy), (x - dx, y - dy),
                (x, y + dy), (x, y - dy)]

    def _rings(self, x: float, y: float) -> list[tuple[float, float]]:
        return [(x + r / self.scale * math.cos(a), y + r / self.scale * math.sin(a))
                for r in RINGS_MM for a in np.linspace(math.pi / 4, math.pi / 4 + 2 * math.pi, 24, endpoint=False)]

    def numbers(self, items: list[tuple[object, str, float, float, float, bool]], size_pt: float) -> None:
        """Every checklist number ((key, text, x, y, marker radius mm, on an area)): beside its marker where it can,
        else moved out with a leader line; never left out."""
        later = []
        for key, text, x, y, r_mm, area in items:
            w, h = (v / self.scale for v in number_box_mm(text, size_pt))
            word = MapWord("area" if area else "number", text, x, y, key=key)
            spots = [(x, y)] if area else self._beside(x, y, w, h, r_mm / self.scale)
            if not (self._try(word, w, h, spots) or self._try(word, w, h, spots, markers=False)):
                later.append((word, w, h))
        for word, w, h in later:
            x, y = word.x, word.y
            rings = self._rings(x, y)
            if not any(self._try(word, w, h, rings, (x, y), markers=m, strict=s)
                       for m, s in ((True, True), (False, True), (False, False))):
                self.words.append(word)  # nowhere free on the map: at its place all the same (never lost)

    def road(self, name: str, line, size_pt: float, alley: bool) -> bool:
        """A road's name along ``line`` (its longest visible piece), where it fits; whether it was placed."""
        w, h = (v / self.scale for v in text_box_mm(name, size_pt))
        if w > 0.9 * line.length:
            return False
        for share in ALONG:
            at, angle = _along(line, share, w)
            if at is None:
                continue
            bw, bh = upright_box(w, h, angle)
            word = MapWord("alley" if alley else "road", name, 0, 0, rotation=angle)
            if self._try(word, bw, bh, [at], markers=False):
                return True
        return False

    def neighbour(self, label: str, geom, size_pt: float) -> bool:
        """A neighbouring grid's label inside ``geom`` (its part on the map, off the page's grid), where it fits."""
        if geom.is_empty:
            return False
        w_mm, h_mm = text_box_mm(label, size_pt)
        w, h = w_mm / self.scale, h_mm / self.scale
        shapely.prepare(geom)
        spots = [(x, y) for x, y in inside_points(geom, 1.5 / self.scale)
                 if shapely.contains_xy(geom, x - w / 2, y) and shapely.contains_xy(geom, x + w / 2, y)]
        return self._try(MapWord("neighbour", label, 0, 0), w, h, spots, markers=False)


def short_code(code: str, community: str | None, street: str | None) -> str:
    """A grid's code as a neighbour's label on a sheet: its community within its street, then its sequence
    (37990100200407 → 004-07; New York's MN030203 → 02-03). The full codes, which differ in their last digits
    only, ran into each other; the sheet's own grid keeps its full code in the title."""
    community = community or ""
    if community and code.startswith(community) and len(code) > len(community):
        sequence = code[len(community):]
    else:
        sequence = code[-2:]
    if street and community.startswith(street) and len(community) > len(street):
        local = community[len(street):]
    else:
        local = community[-3:]
    return f"{local}-{sequence}" if local else sequence


def _along(line, share: float, w: float):
    """The point at ``share`` of ``line`` and the line's direction there (never upside down), or None where a
    name ``w`` long would run off its end."""
    length = line.length
    d = share * length
    if d - w / 2 < 0 or d + w / 2 > length:
        return None, 0.0
    a = line.interpolate(d - w / 2)
    b = line.interpolate(d + w / 2)
    angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    mid = line.interpolate(d)
    return (mid.x, mid.y), angle

