"""The demo city's frame and rows: scales, areas, the generated city, its CRS and dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from pyproj import Transformer
from shapely.geometry import Polygon

from data.demo.scales import Scale
from data.vocab import city_tz

CITY_CODE = "3799"  # fictional prefecture code (37 = Shandong; 99 is unassigned)
CENTER_LONLAT = (121.38, 37.49)
METRIC_SRID = 32651  # UTM zone 51N, the zone of the centre
# Fixed, so that the same seed gives the same rows on any day.
DATA_END = datetime(2026, 11, 1, tzinfo=city_tz())
MONTHS = 36


@dataclass
class Area:
    """A district, street or community: codes, names, metric geometry and population."""

    level: str
    code: str
    name: str
    name_en: str
    parent_code: str | None
    geom: object
    population: int = 0


@dataclass
class DemoCity:
    """A generated city: plain Python rows with metric shapely geometries."""

    scale: Scale
    seed: int
    boundary: Polygon
    areas: list[Area] = field(default_factory=list)
    roads: list[dict] = field(default_factory=list)
    land_use: list[dict] = field(default_factory=list)
    urban_villages: list[dict] = field(default_factory=list)
    markets: list[dict] = field(default_factory=list)
    toilets: list[dict] = field(default_factory=list)
    garbage_stations: list[dict] = field(default_factory=list)
    health_trails: list[dict] = field(default_factory=list)
    grids: list[dict] = field(default_factory=list)
    complaints: dict = field(default_factory=dict)  # column arrays, see data.demo.complaints

    @property
    def name(self) -> str:
        return "烟霞市（演示）"

    @property
    def name_en(self) -> str:
        return "Yanxia City (demo)"

    def communities(self) -> list[Area]:
        """The areas of level community, in generation order."""
        return [a for a in self.areas if a.level == "community"]


def density_per_km2(x: np.ndarray, y: np.ndarray, scale: Scale) -> np.ndarray:
    """Residents per km² of the background city: dense core, sparse fringe."""
    r = np.sqrt((x / scale.half_width_m) ** 2 + (y / scale.half_height_m) ** 2)
    return 3_000 + 24_000 * np.exp(-((r / 0.45) ** 2))


def to_lonlat_transformer() -> Transformer:
    """Metric demo coordinates (centred on the city) → WGS84 lon/lat."""
    return Transformer.from_crs(METRIC_SRID, 4326, always_xy=True)


def metric_origin() -> tuple[float, float]:
    """UTM easting/northing of the demo city's centre."""
    e, n = Transformer.from_crs(4326, METRIC_SRID, always_xy=True).transform(*CENTER_LONLAT)
    return float(e), float(n)
