"""Unit grids (单元网格): cut communities into square or hexagonal cells.

Pure geometry in a metric CRS (shapely); no database, no web. The demo city
generator and ``hygiene-map grids generate`` both call :func:`cut_grids`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo.slivers import merge_pieces

SHAPES = ("square", "hex")
# A clipped piece smaller than this share of a full cell is merged into the
# neighbour it shares the longest border with (no slivers to manage); a
# community smaller than it stays one grid, which the regeneration reports.
SLIVER_SHARE = 0.2
# Straight metric edges bend under projection to WGS84; grids that share a border must bend
# alike, so their edges are densified to this spacing (metres) before projecting.
DENSIFY_M = 25.0
# Pieces below this area (m²) are floating-point dust from the clipping.
DUST_M2 = 0.5


@dataclass(frozen=True)
class GridCell:
    """One grid of a community: its fishnet cell (row, col), sequence number and shape."""

    community_code: str
    sequence: int
    row: int
    col: int
    geom: MultiPolygon

    def code(self, width: int) -> str:
        """The grid code: the 12-digit community code + the sequence in ``width`` digits (STANDARDS §4)."""
        return f"{self.community_code}{self.sequence:0{width}d}"

    def name(self, community: str) -> str:
        """The grid's name: its community's name, then 「N号网格」; a space after a name ending in a Latin
        letter or digit, so "Chinatown-Two Bridges 5号网格" reads as grid 5 and "Block 12" as "Block 12 5号网格".
        English outputs say it with :func:`data.said.grid_name` ("Block 12 grid 5"), which reads this pattern."""
        separator = " " if community[-1:].isascii() and community[-1:].isalnum() else ""
        return f"{community}{separator}{self.sequence}号网格"


def as_multipolygon(geom) -> MultiPolygon:
    """The polygonal part of a geometry as a valid MultiPolygon."""
    geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    parts = []
    for g in getattr(geom, "geoms", []):
        if isinstance(g, Polygon) and g.area > 0:
            parts.append(g)
        elif isinstance(g, MultiPolygon):
            parts.extend(g.geoms)
    return MultiPolygon(parts)


def hex_side(size_m: float) -> float:
    """Side of the regular hexagon with the area of a ``size_m`` square (so counts compare)."""
    return size_m * math.sqrt(2.0 / (3.0 * math.sqrt(3.0)))


def _square_cell(row: int, col: int, size: float, ox: float, oy: float) -> Polygon:
    return shapely.box(ox + col * size, oy + row * size, ox + (col + 1) * size, oy + (row + 1) * size)


def _hex_centre(row: int, col: int, side: float, ox: float, oy: float) -> tuple[float, float]:
    # Pointy-top hexagons in horizontal rows; odd rows shift half a cell east.
    width = math.sqrt(3.0) * side
    return ox + (col + 0.5 * (row & 1)) * width, oy + row * 1.5 * side


def _hex_cell(row: int, col: int, side: float, ox: float, oy: float) -> Polygon:
    # Vertices as whole multiples of half a width and half a side from the origin, not the centre plus cos/sin:
    # neighbours then share their vertices bit for bit, and a merged sliver welds to its grid without a hairline.
    m, n, half_w = 2 * col + (row & 1), 3 * row, math.sqrt(3.0) * side / 2.0
    steps = [(m + 1, n + 1), (m, n + 2), (m - 1, n + 1), (m - 1, n - 1), (m, n - 2), (m + 1, n - 1)]
    return Polygon([(ox + i * half_w, oy + j * side / 2.0) for i, j in steps])


def _candidates(bounds, size: float, shape: str, origin: tuple[float, float]):
    """(row, col, cell polygon) of every fishnet cell that may touch the bounds."""
    minx, miny, maxx, maxy = bounds
    ox, oy = origin
    if shape == "square":
        c0, c1 = int(np.floor((minx - ox) / size)), int(np.ceil((maxx - ox) / size))
        r0, r1 = int(np.floor((miny - oy) / size)), int(np.ceil((maxy - oy) / size))
        for col in range(c0, c1):
            for row in range(r0, r1):
                yield row, col, _square_cell(row, col, size, ox, oy)
        return
    side = hex_side(size)
    width = math.sqrt(3.0) * side
    r0, r1 = int(np.floor((miny - oy) / (1.5 * side))) - 1, int(np.ceil((maxy - oy) / (1.5 * side))) + 1
    c0, c1 = int(np.floor((minx - ox) / width)) - 1, int(np.ceil((maxx - ox) / width)) + 1
    for col in range(c0, c1 + 1):
        for row in range(r0, r1 + 1):
            yield row, col, _hex_cell(row, col, side, ox, oy)


def cut_community(geom, size_m: float, shape: str = "square",
                  origin: tuple[float, float] = (0.0, 0.0)) -> dict[tuple[int, int], object]:
    """Clip a fishnet to one community and merge slivers.

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
        The community, in a metric CRS.
    size_m : float
        Cell size: the side of a square, or for ``hex`` the hexagon of equal area.
    shape : {"square", "hex"}
        Cell shape. Hexagons are pointy-top, in rows offset by half a cell.
    origin : (float, float)
        Fishnet origin in the metric CRS: cell (0, 0) starts here, so the same
        origin and size give the same cells on every run.

    Returns
    -------
    dict
        ``{(row, col): piece}``; rows count northwards, columns eastwards.
        A piece smaller than ``SLIVER_SHARE`` of a cell, or cut off from the
        rest of its cell, is merged into a neighbour
        (:func:`geo.slivers.merge_pieces`): a grid is smaller only when it is
        its community's only one, and in pieces only where the community is.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, not {shape!r}")
    if not size_m > 0:
        raise ValueError("size_m must be positive")
    shapely.prepare(geom)
    pieces: list[tuple[tuple[int, int] | None, Polygon]] = []
    for row, col, cell in _candidates(geom.bounds, size_m, shape, origin):
        if not geom.intersects(cell):
            continue
        # A cell may cut the outline into several polygons (and lines where they touch): the largest is the
        # cell's piece, any other is a detached piece to join to a neighbour.
        parts = sorted((p for p in as_multipolygon(cell.intersection(geom)).geoms if p.area > DUST_M2),
                       key=lambda p: -p.area)
        pieces += [((row, col) if i == 0 else None, p) for i, p in enumerate(parts)]
    return merge_pieces(pieces, SLIVER_SHARE * size_m * size_m) if pieces else {}


class TooManyGrids(ValueError):
    """A community with more grids than the sequence width can number; ``zh`` says it in Chinese."""

    def __init__(self, code: str, count: int, width: int):
        most = 10**width - 1
        super().__init__(f"community {code} would have {count} grids; the sequence width {width} "
                         f"numbers at most {most}: use a larger size")
        self.zh = f"社区 {code} 将有 {count} 个网格，而 {width} 位网格序号至多编到 {most}：请用更大的网格尺寸（--size）"


def cut_grids(communities, size_m: float, shape: str = "square", origin: tuple[float, float] = (0.0, 0.0),
              sequence_width: int = 2) -> list[GridCell]:
    """Grids of many communities, numbered north→south, then west→east, within each.

    Parameters
    ----------
    communities : iterable of (code, geometry)
        12-digit community codes and their shapes in a metric CRS.
    size_m, shape, origin
        As in :func:`cut_community`.
    sequence_width : int
        Digits of the grid sequence (2: CJ/T 213, 3: DB11/T 2157).

    Returns
    -------
    list of GridCell
        In community order, then sequence order.

    Raises
    ------
    ValueError
        When a community has more grids than the sequence width can number.
    """
    out: list[GridCell] = []
    for code, geom in communities:
        pieces = cut_community(geom, size_m, shape, origin)
        # Rows count northwards: north→south is descending row, then west→east.
        ordered = sorted(pieces, key=lambda k: (-k[0], k[1]))
        if len(ordered) >= 10**sequence_width:
            raise TooManyGrids(code, len(ordered), sequence_width)
        for seq, key in enumerate(ordered, start=1):
            out.append(GridCell(code, seq, key[0], key[1], as_multipolygon(pieces[key])))
    return out


# Shapes that differ by less than this share of their area count as the same grid.
SAME_SHAPE_SHARE = 0.01


def match_grids(old: dict[str, object], new: dict[str, object]) -> dict[str, dict]:
    """Compare a street's grids before and after a regeneration.

    Parameters
    ----------
    old, new : dict of code → geometry
        Grids in one metric CRS.

    Returns
    -------
    dict
        For each new code: ``{"source": old code of largest overlap or None,
        "overlap_share": that overlap ÷ the new grid's area, "status": …,
        "changed_m2": area in the old shape of the code or the new, not both
        (None for a new code)}`` where status is ``unchanged`` (same code, shape within
        ``SAME_SHAPE_SHARE``), ``reshaped`` (same code, largest overlap with
        its own old shape), ``moved`` (the code now lies mostly over another
        old grid) or ``new`` (code not in use before). The spatial index
        finds candidates; exact intersection areas decide.
    """
    old_codes = list(old)
    old_geoms = np.array([old[c] for c in old_codes], dtype=object)
    tree = shapely.STRtree(old_geoms) if len(old_geoms) else None
    out: dict[str, dict] = {}
    for code, geom in new.items():
        source, best = None, 0.0
        if tree is not None:
            for i in tree.query(geom, predicate="intersects"):
                area = shapely.intersection(geom, old_geoms[i]).area
                if area > best:
                    source, best = old_codes[i], area
        share = best / geom.area if geom.area else 0.0
        diff = shapely.symmetric_difference(geom, old[code]).area if code in old else None
        if code not in old:
            status = "new"
        elif source == code:
            status = "unchanged" if diff < SAME_SHAPE_SHARE * geom.area else "reshaped"
        else:
            status = "moved"
        out[code] = {"source": source, "overlap_share": share, "status": status, "changed_m2": diff}
    return out
