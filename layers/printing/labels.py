"""Map labels that do not cover each other, and markers of one place that do not hide each other.

Areas (:func:`place_area_labels`): a label is tried at its area's pole of
inaccessibility (the inside point farthest from the edge, which a narrow or
bent area's centroid is not), then at other points inside the area, and kept
at the first where its box covers no label placed before and lies mostly
over its own area. Areas are labelled largest first, as a label engine ranks
by priority (QGIS's hides what it cannot place); an area whose name fits
nowhere gets a number instead, which the map's legend names, so that no area
is lost.

Points (:func:`spread`): markers at the same or nearly the same place are
moved onto a small ring around it, each joined to the place by a leader line,
as QGIS's point displacement renderer does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.ops import polylabel

from layers.printing.page import measured_mm
from layers.printing.style import PT_TO_MM

#: Line spacing of a label's lines: wide enough that a PDF reader's boxes of CJK lines do not overlap.
LINE_SPACING = 1.35
#: Room kept around each label's box (mm).
GAP_MM = 0.5
#: The share of a named label's box that must lie over its own area, and how much wider than the area it may be.
ON_AREA, WIDER = 0.5, 1.2
#: Spacing of the lattice of points tried inside an area (mm), and at most how many of them.
STEP_MM, MAX_TRIED = 1.0, 600


@dataclass
class AreaLabel:
    """An area's label: its text at (x, y) in map units; ``number`` when numbered instead of named, and then
    ``leader`` (from, to) when it had to go outside the area: the line from the area to the label's edge."""

    key: str
    text: str
    x: float
    y: float
    number: int | None = None
    leader: tuple | None = None


def text_box_mm(text: str, size_pt: float) -> tuple[float, float]:
    """Width and height (mm) of a label of one or more lines drawn with :data:`LINE_SPACING`."""
    lines = text.split("\n")
    em = size_pt * PT_TO_MM
    return max(measured_mm(line, size_pt) for line in lines), em * (1.2 + LINE_SPACING * (len(lines) - 1))


def inside_points(geom, step: float) -> list[tuple[float, float]]:
    """The pole of inaccessibility of ``geom``'s largest part, then points of a ``step`` lattice inside ``geom``,
    the deepest first (at most :data:`MAX_TRIED`)."""
    part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    pole = polylabel(part, tolerance=step / 4)
    minx, miny, maxx, maxy = geom.bounds
    xs, ys = np.meshgrid(np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step))
    xs, ys = xs.ravel(), ys.ravel()
    keep = shapely.contains_xy(geom, xs, ys)
    xs, ys = xs[keep], ys[keep]
    depth = shapely.distance(shapely.points(xs, ys), geom.boundary)
    order = np.argsort(-depth, kind="stable")[:MAX_TRIED]
    return [(pole.x, pole.y), *zip(xs[order].tolist(), ys[order].tolist())]


class Taken:
    """The boxes of the labels placed so far and their leader lines, in map units, and the frame they stay in."""

    def __init__(self, frame: tuple, gap: float):
        self.boxes = np.empty((0, 4))
        self.leaders: list = []
        self.frame, self.gap = frame, gap

    def box(self, x: float, y: float, w: float, h: float) -> tuple:
        return (x - w / 2 - self.gap, y - h / 2 - self.gap, x + w / 2 + self.gap, y + h / 2 + self.gap)

    def free(self, b: tuple, leader=None) -> bool:
        """Whether box ``b`` is inside the frame and covers no label or leader line, and ``leader`` crosses no
        leader nor label (but one over the area it starts from, which it cannot help)."""
        f = self.frame
        if b[0] < f[0] or b[1] < f[1] or b[2] > f[2] or b[3] > f[3]:
            return False
        t = self.boxes
        if np.any((t[:, 0] < b[2]) & (b[0] < t[:, 2]) & (t[:, 1] < b[3]) & (b[1] < t[:, 3])):
            return False
        if self.leaders and shapely.intersects(shapely.box(*b), self.leaders).any():
            return False
        if leader is None or not len(t):
            return True
        (x, y), _ = leader.coords
        others = t[~((t[:, 0] <= x) & (x <= t[:, 2]) & (t[:, 1] <= y) & (y <= t[:, 3]))]
        crossed = shapely.intersects(leader, [*shapely.box(*others.T), *self.leaders]) if len(others) or \
            self.leaders else np.array([False])
        return not np.any(crossed)

    def take(self, b: tuple, leader=None) -> None:
        self.boxes = np.vstack([self.boxes, b])
        if leader is not None:
            self.leaders.append(leader)


def _share_over(geom, x: float, y: float, w: float, h: float) -> float:
    """About how much of the ``w`` × ``h`` box at (x, y) lies over ``geom``: the share of 5 × 3 points of it inside
    (an exact intersection per try is slow on a real city's outlines)."""
    gx, gy = np.meshgrid(x + w * np.linspace(-0.5, 0.5, 5), y + h * np.linspace(-0.5, 0.5, 3))
    return float(shapely.contains_xy(geom, gx.ravel(), gy.ravel()).mean())


def _fit(taken: Taken, geom, points, w: float, h: float, on_area: float) -> tuple[float, float] | None:
    """The first of ``points`` where a ``w`` × ``h`` box is free and at least ``on_area`` of it over ``geom``."""
    for x, y in points:
        b = taken.box(x, y, w, h)
        if taken.free(b) and (not on_area or _share_over(geom, x, y, w, h) >= on_area):
            taken.take(b)
            return x, y
    return None


def _fit_outside(taken: Taken, anchor: tuple, points, w: float, h: float) -> tuple | None:
    """The first of ``points`` where a ``w`` × ``h`` box is free and its leader line from ``anchor`` (to the box's
    nearer edge) crosses no other label or leader, else the first where the box alone is free: (x, y, the
    leader's two ends)."""
    for strict in (True, False):
        for x, y in points:
            b = taken.box(x, y, w, h)
            leader = shapely.shortest_line(shapely.Point(anchor), shapely.box(*b).exterior)
            if taken.free(b, leader if strict else None):
                taken.take(b, leader)
                return x, y, tuple(leader.coords)
    return None


def _around(x: float, y: float, scale: float) -> list[tuple[float, float]]:
    """Points on rings 3 to 16 mm around (x, y), nearest first, for a number that fits nowhere inside its area."""
    return [(x + r / scale * math.cos(a), y + r / scale * math.sin(a))
            for r in (3.0, 5.0, 8.0, 12.0, 16.0) for a in np.linspace(0, 2 * math.pi, 24, endpoint=False)]


def place_area_labels(areas: list[tuple[str, object, list[str]]], scale: float, frame: tuple,
                      size_pt: float, avoid: list[tuple] = ()) -> list[AreaLabel]:
    """Labels of ``areas`` ((key, geometry, texts to try in order)) that cover no other one, nor ``avoid``'s
    boxes ((minx, miny, maxx, maxy) in map units: markers and their numbers, which a label must not hide).

    ``scale`` is millimetres of paper per map unit and ``frame`` the map's (minx, miny, maxx, maxy): labels stay
    inside it. Larger areas are labelled first; a text is tried where it is at most :data:`WIDER` times as wide as
    its area. An area none of whose texts fits gets a number (1, 2, … in the
    order of ``areas``), placed inside it where it fits, else nearby with a leader line.
    """
    taken = Taken(frame, GAP_MM / scale)
    for b in avoid:
        taken.take(b)
    for _, geom, _ in areas:
        shapely.prepare(geom)  # many point-in-area tests each
    tried = {key: inside_points(geom, STEP_MM / scale) for key, geom, _ in areas}
    placed: dict[str, AreaLabel] = {}
    for key, geom, texts in sorted(areas, key=lambda a: -a[1].area):
        for text in texts:
            w, h = (v / scale for v in text_box_mm(text, size_pt))
            if w > WIDER * (geom.bounds[2] - geom.bounds[0]):
                continue  # a name far wider than its area reads as its neighbours'
            at = _fit(taken, geom, tried[key], w, h, ON_AREA)
            if at:
                placed[key] = AreaLabel(key, text, *at)
                break
    numbered = [(key, geom) for key, geom, _ in areas if key not in placed]
    for number, (key, geom) in enumerate(numbered, start=1):
        w, h = (v / scale for v in text_box_mm(str(number), size_pt))
        pole = tried[key][0]
        at = _fit(taken, geom, tried[key], w, h, 0)
        outside = None if at else _fit_outside(taken, pole, _around(*pole, scale), w, h)
        x, y = at or (outside[:2] if outside else pole)  # nowhere free: on its pole all the same, named in the legend
        placed[key] = AreaLabel(key, str(number), x, y, number, leader=outside[2] if outside else None)
    return [placed[key] for key, _, _ in areas]


def spread(xy: np.ndarray, near: float, radius: float, spacing: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Where to draw markers at points ``xy`` (n × 2) so that none hides another.

    Points closer than ``near`` to another (chained) form a group; a group's markers go on a ring around its
    centre, the first at the top and on clockwise, the ring ``radius`` wide or wider so that neighbours stay
    ``spacing`` apart. Returns the drawn positions and the groups (index arrays) of two or more points.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    parent = np.arange(len(xy))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    points = shapely.points(xy)
    pairs = shapely.STRtree(points).query(points, predicate="dwithin", distance=near)
    for i, j in pairs.T:
        parent[root(i)] = root(j)
    roots = np.array([root(i) for i in range(len(xy))], dtype=int)
    drawn, groups = xy.copy(), []
    for r in np.unique(roots):
        members = np.flatnonzero(roots == r)
        if len(members) < 2:
            continue
        groups.append(members)
        centre = xy[members].mean(axis=0)
        ring = max(radius, spacing * len(members) / (2 * math.pi))
        angles = math.pi / 2 - 2 * math.pi * np.arange(len(members)) / len(members)
        drawn[members] = centre + ring * np.column_stack([np.cos(angles), np.sin(angles)])
    return drawn, groups
