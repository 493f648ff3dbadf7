"""``generate(scale, seed)``: the demo city, step by step from one random generator."""

from __future__ import annotations

import numpy as np

from data.demo.areas import add_admin_areas, add_land_use, add_populations, add_urban_villages, boundary
from data.demo.complaints import add_complaints
from data.demo.facilities import add_garbage_stations, add_grids, add_health_trails, add_markets, add_toilets
from data.demo.model import DemoCity
from data.demo.names import NameBank
from data.demo.roads import add_roads
from data.demo.scales import SCALES
from data.errors import InvalidParameter


def generate(scale_name: str = "small", seed: int = 1) -> DemoCity:
    """Generate a demo city. Same scale and seed → the same city.

    The steps draw from one generator in a fixed order (each step's draws
    depend on the ones before), so the order below is part of the result.
    """
    try:
        scale = SCALES[scale_name]
    except KeyError:
        raise InvalidParameter("--scale", f"must be one of {', '.join(SCALES)}, not {scale_name!r}",
                               f"应为 {'、'.join(SCALES)} 之一，而不是 {scale_name!r}") from None
    rng = np.random.default_rng(seed)
    city = DemoCity(scale=scale, seed=seed, boundary=boundary(scale, rng))
    names = NameBank(rng)
    add_admin_areas(city, rng, names)
    add_urban_villages(city, rng, names)
    add_populations(city, rng)
    add_roads(city, rng, names)
    add_land_use(city, rng)
    add_markets(city, rng, names)
    add_toilets(city, rng)
    add_garbage_stations(city, rng)
    add_health_trails(city, rng, names)
    add_grids(city, rng)
    add_complaints(city, rng)
    return city
