"""The demo city's ground: its outline, districts, streets and communities, urban villages, land use."""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon
from shapely.ops import unary_union

from data.demo.model import CITY_CODE, Area, DemoCity, Scale, density_per_km2
from data.demo.names import DISTRICTS, NameBank
from data.demo.shapes import blob, partition, random_points_in, reading_order
from geo.grids import as_multipolygon


def boundary(scale: Scale, rng: np.random.Generator) -> Polygon:
    """The city's outline: a wobbly ellipse, flattened on the north (coast) side."""
    theta = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    wobble = 1 + 0.07 * np.sin(3 * theta + rng.uniform(0, 6.3)) + 0.05 * np.sin(7 * theta + rng.uniform(0, 6.3))
    # The north side is the coast: flatter.
    x = scale.half_width_m * wobble * np.cos(theta)
    y = scale.half_height_m * wobble * np.sin(theta)
    y = np.where(y > 0.8 * scale.half_height_m, 0.8 * scale.half_height_m + 0.3 * (y - 0.8 * scale.half_height_m), y)
    return Polygon(np.column_stack([x, y])).buffer(0)


def add_admin_areas(city: DemoCity, rng: np.random.Generator, names: NameBank) -> None:
    """Districts, streets and communities: Voronoi cells of Voronoi cells, coded in reading order."""
    s = city.scale
    district_cells = partition(city.boundary, s.districts, rng)
    for di, d_idx in enumerate(reading_order(district_cells, 4000), start=1):
        d_geom = district_cells[d_idx]
        d_code = f"{CITY_CODE}{di:02d}"
        zh, en = DISTRICTS[di - 1]
        city.areas.append(Area("district", d_code, zh, en, None, d_geom))
        street_cells = partition(d_geom, s.streets_per_district, rng)
        for si, s_idx in enumerate(reading_order(street_cells, 1500), start=1):
            st_geom = street_cells[s_idx]
            st_code = f"{d_code}{si:03d}"
            zh, en = names.take()
            city.areas.append(Area("street", st_code, f"{zh}街道", f"{en} Subdistrict", d_code, st_geom))
            comm_cells = partition(st_geom, s.communities_per_street, rng)
            for ci, c_idx in enumerate(reading_order(comm_cells, 500), start=1):
                zh, en = names.take()
                city.areas.append(
                    Area("community", f"{st_code}{ci:03d}", f"{zh}社区", f"{en} Community", st_code, comm_cells[c_idx])
                )


def add_urban_villages(city: DemoCity, rng: np.random.Generator, names: NameBank) -> None:
    """Urban villages (城中村) and fringe villages (城乡结合部): blobs apart from each other."""
    s = city.scale
    placed: list[Polygon] = []
    attempts = 0
    while len(placed) < s.urban_villages and attempts < 50 * s.urban_villages:
        attempts += 1
        angle = rng.uniform(0, 2 * np.pi)
        r = np.sqrt(rng.uniform(0.09, 0.75))
        cx, cy = r * s.half_width_m * np.cos(angle), r * s.half_height_m * np.sin(angle)
        radius = rng.uniform(140, 320)
        village = blob(cx, cy, radius, rng).intersection(city.boundary)
        if village.area < 0.5 * np.pi * radius**2 or any(village.distance(p) < 150 for p in placed):
            continue
        placed.append(village)
    statuses = ["未改造", "改造中", "已改造"]
    for poly in placed:
        zh, en = names.take()
        c = poly.centroid
        r = np.hypot(c.x / s.half_width_m, c.y / s.half_height_m)
        city.urban_villages.append(
            {
                "name": f"{zh}村",
                "kind": "城中村" if r < 0.6 else "城乡结合部",
                "renovation_status": statuses[rng.choice(3, p=[0.5, 0.3, 0.2])],
                "population": int(poly.area / 1e6 * rng.uniform(30_000, 50_000)),
                "geom": as_multipolygon(poly),
                "attributes": {"name_en": f"{en} Village"},
            }
        )


def add_populations(city: DemoCity, rng: np.random.Generator) -> None:
    """Community population from the density surface plus the villages inside; streets and districts sum them."""
    villages = [v["geom"] for v in city.urban_villages]
    village_pop = np.array([v["population"] for v in city.urban_villages], dtype=float)
    for area in city.communities():
        pts = random_points_in(area.geom, 64, rng)
        mean_density = density_per_km2(pts[:, 0], pts[:, 1], city.scale).mean()
        pop = mean_density * area.geom.area / 1e6 * rng.uniform(0.85, 1.15)
        for poly, vpop in zip(villages, village_pop):
            if poly.intersects(area.geom):
                pop += vpop * poly.intersection(area.geom).area / poly.area
        area.population = int(pop)
    for level in ("street", "district"):
        for area in city.areas:
            if area.level == level:
                area.population = int(
                    sum(a.population for a in city.areas if a.parent_code == area.code)
                )


def add_land_use(city: DemoCity, rng: np.random.Generator) -> None:
    """Land-use parcels (GB 50137 classes) by distance from the core; villages inside are residential."""
    s = city.scale
    n = max(12, 3 * len(city.communities()))
    cells = partition(city.boundary, n, rng, lloyd=1)
    villages = unary_union([v["geom"] for v in city.urban_villages]) if city.urban_villages else None
    classes = ["R", "A", "B", "M", "W", "G", "E"]
    for cell in cells:
        c = cell.centroid
        r = np.hypot(c.x / s.half_width_m, c.y / s.half_height_m)
        if r < 0.3:
            p = [0.35, 0.22, 0.3, 0.0, 0.0, 0.13, 0.0]
        elif r < 0.65:
            p = [0.62, 0.1, 0.1, 0.05, 0.03, 0.1, 0.0]
        else:
            p = [0.3, 0.05, 0.03, 0.25, 0.14, 0.13, 0.1]
        klass = classes[rng.choice(len(classes), p=p)]
        if villages is not None and cell.intersects(villages):
            inner = cell.intersection(villages)
            rest = cell.difference(villages)
            if inner.area > 1:
                city.land_use.append({"class": "R", "geom": as_multipolygon(inner)})
            if rest.area > 1:
                city.land_use.append({"class": klass, "geom": as_multipolygon(rest)})
        else:
            city.land_use.append({"class": klass, "geom": as_multipolygon(cell)})
