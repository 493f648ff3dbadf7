"""The demo city's facilities and grids: markets, toilets, garbage points, health trails, unit grids."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, Point

from data.demo.model import DemoCity, metric_origin
from data.demo.names import NameBank, person, phone
from data.demo.shapes import blob, random_points_in, weighted_points
from data.settings import GridSettings
from geo.grids import cut_grids


def add_markets(city: DemoCity, rng: np.random.Generator, names: NameBank) -> None:
    """Farmers' and open markets at road crossings near people and at village edges."""
    n = city.scale.markets
    # Markets sit at road crossings near people, and at village edges.
    nodes = np.array([seg["geom"].coords[0] for seg in city.roads if seg["class"] != "背街小巷"])
    pts = weighted_points(city, rng, n, village_factor=1.5, power=0.8)
    tree = shapely.STRtree(shapely.points(nodes))
    nearest = tree.nearest(shapely.points(pts))
    snapped = nodes[nearest] + rng.normal(0, 25, (n, 2))
    kinds = ["农贸市场", "集贸市场", "临时便民市场"]
    for x, y in snapped:
        zh, en = names.take()
        kind = kinds[rng.choice(3, p=[0.7, 0.2, 0.1])]
        city.markets.append(
            {
                "name": f"{zh}{kind}",
                "kind": kind,
                "stalls": int(rng.integers(40, 400) if kind != "临时便民市场" else rng.integers(10, 60)),
                "opening_hours": "05:30-19:00" if kind == "农贸市场" else "06:00-12:00",
                "operator": f"{zh}市场管理服务中心",
                "geom": Point(x, y),
                "attributes": {"name_en": f"{en} Market"},
            }
        )


def add_toilets(city: DemoCity, rng: np.random.Generator) -> None:
    """Public toilets: following population (sparse in villages), a tenth at markets; grades by place."""
    s = city.scale
    n = s.toilets
    n_market = min(len(city.markets), n // 10)
    pts = weighted_points(city, rng, n - n_market, village_factor=0.25, power=1.6)
    market_xy = np.array([[m["geom"].x, m["geom"].y] for m in city.markets[:n_market]]).reshape(-1, 2)
    market_xy = market_xy + rng.normal(0, 30, market_xy.shape)
    all_xy = np.vstack([pts, market_xy])
    for k, (x, y) in enumerate(all_xy):
        r = np.hypot(x / s.half_width_m, y / s.half_height_m)
        at_market = k >= len(pts)
        if at_market:
            # Most market toilets meet the 二类 rule; some do not (for the inspectors).
            grade = ["一类", "二类", "三类"][rng.choice(3, p=[0.3, 0.5, 0.2])]
        elif r < 0.3:
            grade = ["一类", "二类", "三类"][rng.choice(3, p=[0.45, 0.4, 0.15])]
        else:
            grade = ["一类", "二类", "三类"][rng.choice(3, p=[0.1, 0.4, 0.5])]
        city.toilets.append(
            {
                "name": f"{'市场' if at_market else ''}公厕{k + 1:04d}",
                "grade": grade,
                "kind": ["独立式", "附属式", "活动式"][rng.choice(3, p=[0.6, 0.33, 0.07])],
                "opening_hours": "全天" if rng.random() < 0.6 else "06:00-22:00",
                "seats": int(rng.integers(2, 16)),
                "accessible": bool(rng.random() < 0.7),
                "manager_unit": "市环境卫生服务中心",
                "geom": Point(x, y),
            }
        )


def add_garbage_stations(city: DemoCity, rng: np.random.Generator) -> None:
    """Collection points, collection stations and transfer stations, following population."""
    s = city.scale
    specs = [
        ("收集点", s.garbage_points, 0.35, (0.3, 2.0)),
        ("收集站", s.collection_stations, 0.6, (5, 30)),
        ("转运站", s.transfer_stations, 1.0, (150, 900)),
    ]
    serial = 0
    for kind, count, village_factor, (lo, hi) in specs:
        pts = weighted_points(city, rng, count, village_factor=village_factor, power=1.3)
        for x, y in pts:
            serial += 1
            city.garbage_stations.append(
                {
                    "name": f"{kind}{serial:05d}",
                    "kind": kind,
                    "capacity_t_per_day": round(float(rng.uniform(lo, hi)), 1),
                    "sorted": bool(rng.random() < 0.75),
                    "schedule": "06:00,18:30" if kind == "收集点" else "05:00-21:00",
                    "geom": Point(x, y),
                }
            )


def add_health_trails(city: DemoCity, rng: np.random.Generator, names: NameBank) -> None:
    """Health trails (walks), parks and streets, started in green land."""
    s = city.scale
    greens = [lu["geom"] for lu in city.land_use if lu["class"] == "G"] or [city.boundary]
    for _ in range(s.health_trails):
        zh, en = names.take()
        kind = ["健康步道", "健康主题公园", "健康街区"][rng.choice(3, p=[0.6, 0.25, 0.15])]
        base = greens[rng.integers(len(greens))]
        x, y = random_points_in(base, 1, rng)[0]
        if kind == "健康步道":
            steps = int(rng.integers(6, 30))
            heading = rng.uniform(0, 2 * np.pi)
            coords = [(x, y)]
            for _ in range(steps):
                heading += rng.normal(0, 0.35)
                x, y = x + 90 * np.cos(heading), y + 90 * np.sin(heading)
                coords.append((x, y))
            geom = LineString(coords).intersection(city.boundary)
            if geom.is_empty or geom.geom_type not in ("LineString", "MultiLineString"):
                geom = LineString(coords[:2])
            width = round(float(rng.uniform(1.2, 4.0)), 1)
            equipment = None
        elif kind == "健康主题公园":
            geom = blob(x, y, rng.uniform(80, 200), rng).intersection(city.boundary)
            width, equipment = None, int(rng.integers(3, 12))
        else:
            heading = rng.uniform(0, np.pi)
            length = rng.uniform(300, 800)
            line = LineString([(x, y), (x + length * np.cos(heading), y + length * np.sin(heading))])
            geom = line.buffer(30, cap_style="flat").intersection(city.boundary)
            width, equipment = None, None
        if geom.geom_type == "GeometryCollection" or geom.is_empty:
            continue
        city.health_trails.append(
            {
                "name": f"{zh}{kind}",
                "kind": kind,
                "length_m": round(geom.length),  # a polygon's walking loop is its perimeter
                "width_m": width,
                "equipment_kinds": equipment,
                "geom": geom,
                "attributes": {"name_en": f"{en} {'Health Trail' if kind == '健康步道' else 'Health Park' if kind == '健康主题公园' else 'Health Street'}"},
            }
        )


def add_grids(city: DemoCity, rng: np.random.Generator) -> None:
    """Square unit grids clipped to communities; small slivers merged into a neighbour (geo.grids)."""
    size = city.scale.grid_size_m
    width = GridSettings.from_env().sequence_width
    units = ["{c}居民委员会", "{s}环卫所第{n}作业组", "{c}物业服务中心", "{s}城市管理执法中队"]
    communities = city.communities()
    by_code = {a.code: a for a in city.areas}
    # The fishnet starts at the city centre, the origin of the generator's frame.
    cells = cut_grids([(a.code, a.geom) for a in communities], size, "square", (0.0, 0.0), width)
    for cell in cells:
        area = by_code[cell.community_code]
        street = by_code[area.parent_code]
        template = units[rng.integers(len(units))]
        city.grids.append(
            {
                "code": cell.code(width),
                "name": cell.name(area.name),
                "district_code": street.parent_code,
                "street_code": street.code,
                "community_code": area.code,
                "responsible_unit": template.format(c=area.name, s=street.name.removesuffix("街道"), n=rng.integers(1, 6)),
                "grid_manager": person(rng),
                "phone": phone(rng),
                "geom": cell.geom,
                # The fishnet cell (metric CRS) the grid was cut from; the origin is
                # the fishnet's in the city's real metric CRS, for regeneration.
                "attributes": {"row": cell.row, "col": cell.col, "cell_m": size, "shape": "square",
                               "origin": [round(v, 3) for v in metric_origin()]},
            }
        )


