"""How big a demo city is: the scales ``hygiene-map demo --scale`` offers (no heavy imports, for the CLI)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """How big a demo city is."""

    name: str
    districts: int
    streets_per_district: int
    communities_per_street: int
    half_width_m: float
    half_height_m: float
    grid_size_m: float
    road_spacing_m: float
    markets: int
    toilets: int
    garbage_points: int
    collection_stations: int
    transfer_stations: int
    urban_villages: int
    health_trails: int
    complaints: int


SCALES = {
    "small": Scale("small", 2, 2, 4, 2_600, 1_700, 250, 250, 8, 40, 260, 8, 2, 4, 6, 6_000),
    "city": Scale("city", 6, 10, 10, 12_500, 8_000, 250, 250, 300, 3_000, 14_500, 470, 30, 150, 80, 1_000_000),
}
