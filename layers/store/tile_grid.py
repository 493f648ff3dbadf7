"""The tile grid of Web Mercator: a tile's address and extent, the Mercator metres of a point in SQL, and the
grid of pre-counted complaint cells (migrations 0200, 0201). Shared by the tiles (:mod:`layers.store.tiles`), their
aggregates (:mod:`layers.store.tile_counts`) and the web map's heat cells (:mod:`layers.store.heat`)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from data.errors import InvalidParameter
from data.settings import TileSettings
from layers.spec.model import LayerSpec
from layers.store.filters import Filters

HALF_WORLD_M = 20037508.342789244  # half the Web Mercator world width, metres
HEAT_CELLS_PER_TILE = 64  # heat cells along a tile side
HEX_RADIUS_PX = 12  # hexagon radius in screen pixels (256-pixel tiles)


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    @property
    def width_m(self) -> float:
        return 2 * HALF_WORLD_M / (1 << self.z)

    @property
    def xmin(self) -> float:
        return -HALF_WORLD_M + self.x * self.width_m

    @property
    def ymax(self) -> float:
        return HALF_WORLD_M - self.y * self.width_m


def parse_tile(z: int, x: int, y: int, settings: TileSettings | None = None) -> Tile:
    """A validated tile address, or InvalidParameter naming the bad coordinate."""
    settings = settings or TileSettings.from_env()
    if not 0 <= z <= settings.max_zoom:
        raise InvalidParameter("z", f"zoom must be between 0 and {settings.max_zoom}, not {z}",
                               f"缩放级别须在 0 到 {settings.max_zoom} 之间，而不是 {z}")
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value < (n := 1 << z):
            raise InvalidParameter(name, f"at zoom {z} {name} must be between 0 and {n - 1}, not {value}",
                                   f"缩放级别 {z} 下 {name} 须在 0 到 {n - 1} 之间，而不是 {value}")
    return Tile(z, x, y)


# Web Mercator metres of a 4326 point, by the formula (cheaper than ST_Transform per point).
MERCATOR_X = sql.SQL("(ST_X(geom) * {k})").format(k=sql.Literal(HALF_WORLD_M / 180))
MERCATOR_Y = sql.SQL("(ln(tan(radians(90 + ST_Y(geom)) / 2)) * 6378137)")


def search_area(tile: Tile, margin: float) -> sql.Composable:
    """The tile (with a margin as a fraction of its width) in EPSG:4326, for the GiST index."""
    return sql.SQL("ST_Transform(ST_TileEnvelope({z}, {x}, {y}, margin => {m}), 4326)").format(
        z=sql.Literal(tile.z), x=sql.Literal(tile.x), y=sql.Literal(tile.y), m=sql.Literal(margin)
    )


# Pre-counted cells (migrations 0200, 0201): layer id -> table of (cx, cy, n) on the grid of 1/64 of a
# zoom-CELL_ZOOM tile side, counted from 180°W and from the top of the Web Mercator square.
CELL_TABLES = {"complaints": "complaint_cells"}
CELL_ZOOM = 13
CELL_M = 2 * HALF_WORLD_M / (1 << CELL_ZOOM) / HEAT_CELLS_PER_TILE


def use_cells(spec: LayerSpec, filters: Filters) -> bool:
    """Pre-counted cells answer only the unfiltered question (every feature of the layer)."""
    return spec.id in CELL_TABLES and not filters.narrowed
