"""A deterministic synthetic city near Yantai, for demos, tests and benchmarks.

Everything is generated in the city's metric CRS (UTM 51N) from one seed, so
the same seed gives the same city. Names and codes are fictional (the code
prefix 3799 is not assigned in GB/T 2260) and the city is marked as demo data.

The city is built to look and behave like one: districts, streets and
communities nest exactly (Voronoi cells of Voronoi cells); population is
dense in the core and in urban villages; toilets and garbage points follow
population but are sparser in urban villages and on the fringe, so the
coverage analysis finds real gaps; complaints cluster around markets, urban
villages and back streets over a background, with trends over 36 months, so
the hotspot analysis finds real hotspots.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.ops import unary_union

CITY_CODE = "3799"  # fictional prefecture code (37 = Shandong; 99 is unassigned)
CENTER_LONLAT = (121.38, 37.49)
METRIC_SRID = 32651  # UTM zone 51N, the zone of the centre
TZ = timezone(timedelta(hours=8))
# Fixed, so that the same seed gives the same rows on any day.
DATA_END = datetime(2026, 11, 1, tzinfo=TZ)
MONTHS = 36


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

# -- names ----------------------------------------------------------------
_FIRST = [
    ("青", "Qing"), ("白", "Bai"), ("金", "Jin"), ("桃", "Tao"), ("柳", "Liu"), ("槐", "Huai"),
    ("松", "Song"), ("海", "Hai"), ("东", "Dong"), ("西", "Xi"), ("南", "Nan"), ("北", "Bei"),
    ("凤", "Feng"), ("龙", "Long"), ("福", "Fu"), ("瑞", "Rui"), ("文", "Wen"), ("华", "Hua"),
    ("新", "Xin"), ("兴", "Xing"), ("幸", "Xing"), ("安", "An"), ("宁", "Ning"), ("康", "Kang"),
    ("芝", "Zhi"), ("岚", "Lan"), ("川", "Chuan"), ("溪", "Xi"), ("枫", "Feng"), ("梧", "Wu"),
    ("杏", "Xing"), ("梨", "Li"), ("茂", "Mao"), ("丰", "Feng"), ("盛", "Sheng"), ("泰", "Tai"),
]
_SECOND = [
    ("山", "shan"), ("河", "he"), ("泉", "quan"), ("桥", "qiao"), ("湾", "wan"), ("林", "lin"),
    ("港", "gang"), ("园", "yuan"), ("坡", "po"), ("台", "tai"), ("岭", "ling"), ("塘", "tang"),
    ("庄", "zhuang"), ("阳", "yang"), ("苑", "yuan"), ("滨", "bin"), ("源", "yuan"), ("亭", "ting"),
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅海燕志宏文斌玉兰"
_DISTRICTS = [
    ("芝阳区", "Zhiyang District"), ("福岚区", "Fulan District"), ("牟川区", "Mouchuan District"),
    ("蓬溪区", "Pengxi District"), ("龙湾区", "Longwan District"), ("莱枫区", "Laifeng District"),
    ("海泰区", "Haitai District"), ("凤台区", "Fengtai District"),
]


class _NameBank:
    """Unique two-character place names, drawn in a seeded order."""

    def __init__(self, rng: np.random.Generator):
        pairs = list(itertools.product(_FIRST, _SECOND))
        order = rng.permutation(len(pairs))
        self._pairs = [pairs[i] for i in order]
        self._next = 0

    def take(self) -> tuple[str, str]:
        (a, a_en), (b, b_en) = self._pairs[self._next % len(self._pairs)]
        round_ = self._next // len(self._pairs)
        self._next += 1
        suffix = "" if round_ == 0 else str(round_ + 1)
        return f"{a}{b}{suffix}", f"{a_en}{b_en}{suffix}"


def _person(rng: np.random.Generator) -> str:
    surname = _SURNAMES[rng.integers(len(_SURNAMES))]
    given = "".join(_GIVEN[i] for i in rng.integers(len(_GIVEN), size=rng.integers(1, 3)))
    return surname + given


def _phone(rng: np.random.Generator) -> str:
    # 0535 is Yantai's area code; 6xxx-xxxx numbers here are made up.
    return f"0535-6{rng.integers(0, 10_000_000):07d}"


# -- geometry helpers ---------------------------------------------------------
def _random_points_in(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform points inside a polygon, by rejection from its bounds."""
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    shapely.prepare(poly)
    while len(out) < n:
        k = max(64, 2 * (n - len(out)))
        xy = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        out = np.vstack([out, xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]])
    return out[:n]


def _as_multi(geom) -> MultiPolygon:
    geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and g.area > 0]
    parts = []
    for g in polys:
        parts.extend(g.geoms if isinstance(g, MultiPolygon) else [g])
    return MultiPolygon(parts)


def _partition(poly, n: int, rng: np.random.Generator, lloyd: int = 3) -> list:
    """Split a polygon into n compact cells: Voronoi of relaxed random seeds.

    The cells tile the polygon exactly (up to floating point), which is what
    makes districts, streets and communities nest.
    """
    seeds = _random_points_in(poly, n, rng)
    cells = []
    for _ in range(lloyd + 1):
        vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=poly.buffer(1000))
        raw = list(vor.geoms)
        # voronoi_polygons returns cells in no promised order: match to seeds.
        tree = shapely.STRtree(raw)
        idx = tree.query(shapely.points(seeds), predicate="within")
        order = np.empty(len(seeds), dtype=int)
        order[idx[0]] = idx[1]
        cells = [_as_multi(raw[i].intersection(poly)) for i in order]
        seeds = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    return cells


def _reading_order(geoms, band_m: float) -> list[int]:
    """Indices north→south in bands, then west→east (how grids are numbered)."""
    keys = [(-round(g.centroid.y / band_m), g.centroid.x, i) for i, g in enumerate(geoms)]
    return [k[2] for k in sorted(keys)]


def _blob(cx: float, cy: float, radius: float, rng: np.random.Generator, n: int = 48) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = radius * (1 + 0.18 * np.sin(3 * theta + rng.uniform(0, 6.3)) + 0.1 * np.sin(5 * theta + rng.uniform(0, 6.3)))
    return Polygon(np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)]))


# -- the city -------------------------------------------------------------------
@dataclass
class Area:
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
    complaints: dict = field(default_factory=dict)  # column arrays, see _complaints

    @property
    def name(self) -> str:
        return "烟霞市（演示）"

    @property
    def name_en(self) -> str:
        return "Yanxia City (demo)"


def density_per_km2(x: np.ndarray, y: np.ndarray, scale: Scale) -> np.ndarray:
    """Residents per km² of the background city: dense core, sparse fringe."""
    r = np.sqrt((x / scale.half_width_m) ** 2 + (y / scale.half_height_m) ** 2)
    return 3_000 + 24_000 * np.exp(-((r / 0.45) ** 2))


def _boundary(scale: Scale, rng: np.random.Generator) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    wobble = 1 + 0.07 * np.sin(3 * theta + rng.uniform(0, 6.3)) + 0.05 * np.sin(7 * theta + rng.uniform(0, 6.3))
    # The north side is the coast: flatter.
    x = scale.half_width_m * wobble * np.cos(theta)
    y = scale.half_height_m * wobble * np.sin(theta)
    y = np.where(y > 0.8 * scale.half_height_m, 0.8 * scale.half_height_m + 0.3 * (y - 0.8 * scale.half_height_m), y)
    return Polygon(np.column_stack([x, y])).buffer(0)


def generate(scale_name: str = "small", seed: int = 1) -> DemoCity:
    """Generate a demo city. Same scale and seed → the same city."""
    try:
        scale = SCALES[scale_name]
    except KeyError:
        from data.errors import InvalidParameter

        raise InvalidParameter("--scale", f"must be one of {', '.join(SCALES)}, not {scale_name!r}") from None
    rng = np.random.default_rng(seed)
    city = DemoCity(scale=scale, seed=seed, boundary=_boundary(scale, rng))
    names = _NameBank(rng)
    _admin_areas(city, rng, names)
    _urban_villages(city, rng, names)
    _populations(city, rng)
    _roads(city, rng, names)
    _land_use(city, rng)
    _markets(city, rng, names)
    _toilets(city, rng)
    _garbage(city, rng)
    _health_trails(city, rng, names)
    _grids(city, rng)
    _complaints(city, rng)
    return city


def _admin_areas(city: DemoCity, rng, names: _NameBank) -> None:
    s = city.scale
    district_cells = _partition(city.boundary, s.districts, rng)
    for di, d_idx in enumerate(_reading_order(district_cells, 4000), start=1):
        d_geom = district_cells[d_idx]
        d_code = f"{CITY_CODE}{di:02d}"
        zh, en = _DISTRICTS[di - 1]
        city.areas.append(Area("district", d_code, zh, en, None, d_geom))
        street_cells = _partition(d_geom, s.streets_per_district, rng)
        for si, s_idx in enumerate(_reading_order(street_cells, 1500), start=1):
            st_geom = street_cells[s_idx]
            st_code = f"{d_code}{si:03d}"
            zh, en = names.take()
            city.areas.append(Area("street", st_code, f"{zh}街道", f"{en} Subdistrict", d_code, st_geom))
            comm_cells = _partition(st_geom, s.communities_per_street, rng)
            for ci, c_idx in enumerate(_reading_order(comm_cells, 500), start=1):
                zh, en = names.take()
                city.areas.append(
                    Area("community", f"{st_code}{ci:03d}", f"{zh}社区", f"{en} Community", st_code, comm_cells[c_idx])
                )


def _communities(city: DemoCity) -> list[Area]:
    return [a for a in city.areas if a.level == "community"]


def _urban_villages(city: DemoCity, rng, names: _NameBank) -> None:
    s = city.scale
    placed: list[Polygon] = []
    attempts = 0
    while len(placed) < s.urban_villages and attempts < 50 * s.urban_villages:
        attempts += 1
        angle = rng.uniform(0, 2 * np.pi)
        r = np.sqrt(rng.uniform(0.09, 0.75))
        cx, cy = r * s.half_width_m * np.cos(angle), r * s.half_height_m * np.sin(angle)
        radius = rng.uniform(140, 320)
        blob = _blob(cx, cy, radius, rng).intersection(city.boundary)
        if blob.area < 0.5 * np.pi * radius**2 or any(blob.distance(p) < 150 for p in placed):
            continue
        placed.append(blob)
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
                "geom": _as_multi(poly),
                "attributes": {"name_en": f"{en} Village"},
            }
        )


def _populations(city: DemoCity, rng) -> None:
    """Community population from the density surface plus the villages inside."""
    villages = [v["geom"] for v in city.urban_villages]
    village_pop = np.array([v["population"] for v in city.urban_villages], dtype=float)
    by_code: dict[str, float] = {}
    for area in _communities(city):
        pts = _random_points_in(area.geom, 64, rng)
        mean_density = density_per_km2(pts[:, 0], pts[:, 1], city.scale).mean()
        pop = mean_density * area.geom.area / 1e6 * rng.uniform(0.85, 1.15)
        for poly, vpop in zip(villages, village_pop):
            if poly.intersects(area.geom):
                pop += vpop * poly.intersection(area.geom).area / poly.area
        area.population = int(pop)
        by_code[area.code] = pop
    for level in ("street", "district"):
        for area in city.areas:
            if area.level == level:
                area.population = int(
                    sum(a.population for a in city.areas if a.parent_code == area.code)
                )


def _roads(city: DemoCity, rng, names: _NameBank) -> None:
    """A jittered lattice of main, secondary and branch roads, and back-street alleys."""
    s = city.scale
    sp = s.road_spacing_m
    nx = int(s.half_width_m * 1.2 // sp)
    ny = int(s.half_height_m * 1.2 // sp)
    xs = np.arange(-nx, nx + 1) * sp
    ys = np.arange(-ny, ny + 1) * sp
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    jx = gx + rng.normal(0, sp * 0.08, gx.shape)
    jy = gy + rng.normal(0, sp * 0.08, gy.shape)
    shapely.prepare(city.boundary)
    inside = shapely.contains_xy(city.boundary, jx, jy)
    core = (gx / s.half_width_m) ** 2 + (gy / s.half_height_m) ** 2 < 0.55**2

    def road_class(index: int) -> str | None:
        if index % 8 == 0:
            return "主干路"
        if index % 4 == 0:
            return "次干路"
        if index % 2 == 0:
            return "支路"
        return "branch-core"  # only inside the core

    line_names: dict[tuple[str, int], str] = {}

    def line_name(axis: str, index: int, klass: str) -> str:
        key = (axis, index)
        if key not in line_names:
            zh, _ = names.take()
            suffix = {"主干路": "路", "次干路": "街", "支路": "巷"}.get(klass, "巷")
            line_names[key] = f"{zh}{'大' if klass == '主干路' else ''}{suffix}"
        return line_names[key]

    segments = []
    for axis in ("x", "y"):
        for i in range(gx.shape[0]):
            for j in range(gx.shape[1]):
                i2, j2 = (i + 1, j) if axis == "x" else (i, j + 1)
                if i2 >= gx.shape[0] or j2 >= gx.shape[1]:
                    continue
                if not (inside[i, j] and inside[i2, j2]):
                    continue
                # Roads along x are named by their row (j), along y by column (i).
                line_index = j - ny if axis == "x" else i - nx
                klass = road_class(line_index)
                if klass == "branch-core":
                    if not (core[i, j] and core[i2, j2]):
                        continue
                    klass = "支路"
                segments.append(
                    {
                        "name": line_name(axis, line_index, klass),
                        "class": klass,
                        "geom": LineString([(jx[i, j], jy[i, j]), (jx[i2, j2], jy[i2, j2])]),
                    }
                )
    # Back streets: an irregular alley lattice in every urban village and in
    # the old core.
    alley_zones = [v["geom"] for v in city.urban_villages]
    alley_zones.append(Point(0, 0).buffer(0.16 * min(s.half_width_m, s.half_height_m) * 3))
    for zone_no, zone in enumerate(alley_zones, start=1):
        minx, miny, maxx, maxy = zone.bounds
        step = 70.0
        ax = np.arange(minx, maxx + step, step)
        ay = np.arange(miny, maxy + step, step)
        mx, my = np.meshgrid(ax, ay, indexing="ij")
        mx = mx + rng.normal(0, 12, mx.shape)
        my = my + rng.normal(0, 12, my.shape)
        for i in range(mx.shape[0]):
            for j in range(mx.shape[1]):
                for di, dj in ((1, 0), (0, 1)):
                    i2, j2 = i + di, j + dj
                    if i2 >= mx.shape[0] or j2 >= mx.shape[1] or rng.random() < 0.25:
                        continue
                    seg = LineString([(mx[i, j], my[i, j]), (mx[i2, j2], my[i2, j2])])
                    clipped = seg.intersection(zone)
                    if isinstance(clipped, LineString) and clipped.length > 15:
                        segments.append({"name": f"{zone_no}号片区{i}-{j}巷", "class": "背街小巷", "geom": clipped})
    # An expressway ring.
    theta = np.linspace(0, 2 * np.pi, 97)
    ring = np.column_stack([0.62 * s.half_width_m * np.cos(theta), 0.62 * s.half_height_m * np.sin(theta)])
    for k in range(len(ring) - 1):
        seg = LineString([ring[k], ring[k + 1]])
        if city.boundary.contains(seg):
            segments.append({"name": "环城快速路", "class": "快速路", "geom": seg})
    city.roads = segments


def _land_use(city: DemoCity, rng) -> None:
    s = city.scale
    n = max(12, 3 * len(_communities(city)))
    cells = _partition(city.boundary, n, rng, lloyd=1)
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
                city.land_use.append({"class": "R", "geom": _as_multi(inner)})
            if rest.area > 1:
                city.land_use.append({"class": klass, "geom": _as_multi(rest)})
        else:
            city.land_use.append({"class": klass, "geom": _as_multi(cell)})


def _weighted_points(city: DemoCity, rng, n: int, *, village_factor: float, power: float = 1.0) -> np.ndarray:
    """n points with probability ∝ density^power, damped inside urban villages."""
    s = city.scale
    shapely.prepare(city.boundary)
    villages = unary_union([v["geom"] for v in city.urban_villages]) if city.urban_villages else None
    if villages is not None:
        shapely.prepare(villages)
    top = density_per_km2(np.array([0.0]), np.array([0.0]), s)[0] ** power
    out = np.empty((0, 2))
    while len(out) < n:
        k = 4 * (n - len(out)) + 256
        x = rng.uniform(-s.half_width_m, s.half_width_m, k)
        y = rng.uniform(-s.half_height_m, s.half_height_m, k)
        w = density_per_km2(x, y, s) ** power / top
        if villages is not None:
            w = np.where(shapely.contains_xy(villages, x, y), w * village_factor, w)
        keep = (rng.random(k) < w) & shapely.contains_xy(city.boundary, x, y)
        out = np.vstack([out, np.column_stack([x[keep], y[keep]])])
    return out[:n]


def _markets(city: DemoCity, rng, names: _NameBank) -> None:
    n = city.scale.markets
    # Markets sit at road crossings near people, and at village edges.
    nodes = np.array([seg["geom"].coords[0] for seg in city.roads if seg["class"] != "背街小巷"])
    pts = _weighted_points(city, rng, n, village_factor=1.5, power=0.8)
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


def _toilets(city: DemoCity, rng) -> None:
    s = city.scale
    n = s.toilets
    n_market = min(len(city.markets), n // 10)
    pts = _weighted_points(city, rng, n - n_market, village_factor=0.25, power=1.6)
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


def _garbage(city: DemoCity, rng) -> None:
    s = city.scale
    specs = [
        ("收集点", s.garbage_points, 0.35, (0.3, 2.0)),
        ("收集站", s.collection_stations, 0.6, (5, 30)),
        ("转运站", s.transfer_stations, 1.0, (150, 900)),
    ]
    serial = 0
    for kind, count, village_factor, (lo, hi) in specs:
        pts = _weighted_points(city, rng, count, village_factor=village_factor, power=1.3)
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


def _health_trails(city: DemoCity, rng, names: _NameBank) -> None:
    s = city.scale
    greens = [lu["geom"] for lu in city.land_use if lu["class"] == "G"] or [city.boundary]
    for _ in range(s.health_trails):
        zh, en = names.take()
        kind = ["健康步道", "健康主题公园", "健康街区"][rng.choice(3, p=[0.6, 0.25, 0.15])]
        base = greens[rng.integers(len(greens))]
        x, y = _random_points_in(base, 1, rng)[0]
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
            geom = _blob(x, y, rng.uniform(80, 200), rng).intersection(city.boundary)
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


def _grids(city: DemoCity, rng) -> None:
    """Square unit grids clipped to communities; small slivers merged into a neighbour (geo.grids)."""
    from data.settings import GridSettings
    from geo.grids import cut_grids

    size = city.scale.grid_size_m
    width = GridSettings.from_env().sequence_width
    units = ["{c}居民委员会", "{s}环卫所第{n}作业组", "{c}物业服务中心", "{s}城市管理执法中队"]
    communities = _communities(city)
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
                "name": f"{area.name}{cell.sequence}号网格",
                "district_code": street.parent_code,
                "street_code": street.code,
                "community_code": area.code,
                "responsible_unit": template.format(c=area.name, s=street.name.removesuffix("街道"), n=rng.integers(1, 6)),
                "grid_manager": _person(rng),
                "phone": _phone(rng),
                "geom": cell.geom,
                # The fishnet cell (metric CRS) the grid was cut from; the origin is
                # the fishnet's in the city's real metric CRS, for regeneration.
                "attributes": {"row": cell.row, "col": cell.col, "cell_m": size, "shape": "square",
                               "origin": [round(v, 3) for v in metric_origin()]},
            }
        )


# Complaint categories by where they happen (STANDARDS §4 event types).
_CATEGORY_MIX = {
    "market": {"占道经营": 0.3, "餐厨垃圾遗撒": 0.2, "病媒生物": 0.15, "垃圾满溢": 0.15, "暴露垃圾": 0.1, "道路不洁": 0.1},
    "village": {"暴露垃圾": 0.25, "积存垃圾渣土": 0.2, "乱倒污水": 0.15, "病媒生物": 0.15, "垃圾满溢": 0.15, "非法小广告": 0.1},
    "alley": {"道路不洁": 0.3, "垃圾满溢": 0.2, "非法小广告": 0.2, "暴露垃圾": 0.15, "乱倒污水": 0.15},
    "background": {"道路不洁": 0.2, "垃圾满溢": 0.15, "非法小广告": 0.15, "绿地脏乱": 0.15, "暴露垃圾": 0.1,
                   "水域不洁": 0.05, "病媒生物": 0.1, "占道经营": 0.1},
}
TIME_LIMIT_HOURS = {
    "暴露垃圾": 24, "积存垃圾渣土": 48, "道路不洁": 24, "水域不洁": 72, "绿地脏乱": 48, "乱倒污水": 24,
    "餐厨垃圾遗撒": 12, "垃圾满溢": 12, "占道经营": 24, "非法小广告": 48, "病媒生物": 72,
}
CATEGORIES = list(TIME_LIMIT_HOURS)
STATUSES = ["受理", "立案", "派遣", "处置", "核查", "结案"]
CHANNELS = ["12345", "12319", "微信", "网格员巡查", "暗访"]


def _points_in_polygons(polys: list, counts: np.ndarray, rng) -> np.ndarray:
    return np.vstack([_random_points_in(p, int(k), rng) for p, k in zip(polys, counts) if k > 0] or [np.empty((0, 2))])


def _complaints(city: DemoCity, rng) -> None:
    """Complaint columns as arrays (a million rows stay cheap)."""
    s = city.scale
    n = s.complaints
    mix = {"market": 0.25, "village": 0.3, "alley": 0.15, "background": 0.3}
    counts = rng.multinomial(n, list(mix.values()))
    xy_parts, kind_parts, trend_parts = [], [], []

    # Around markets, ∝ stalls.
    stalls = np.array([m["stalls"] for m in city.markets], dtype=float)
    which = rng.choice(len(city.markets), size=counts[0], p=stalls / stalls.sum())
    mxy = np.array([[m["geom"].x, m["geom"].y] for m in city.markets])
    xy_parts.append(mxy[which] + rng.normal(0, 70, (counts[0], 2)))
    kind_parts.append(np.full(counts[0], 0))
    trend_parts.append(np.zeros(counts[0]))

    # Inside urban villages, ∝ population; unrenovated ones get worse over
    # time, renovated ones better (emerging hotspots to find).
    vpop = np.array([v["population"] for v in city.urban_villages], dtype=float)
    per_village = rng.multinomial(counts[1], vpop / vpop.sum())
    xy_parts.append(_points_in_polygons([v["geom"] for v in city.urban_villages], per_village, rng))
    kind_parts.append(np.full(counts[1], 1))
    trend = {"未改造": 1.0, "改造中": 0.0, "已改造": -1.0}
    trend_parts.append(np.repeat([trend[v["renovation_status"]] for v in city.urban_villages], per_village))

    # Along back streets.
    alleys = [r["geom"] for r in city.roads if r["class"] == "背街小巷"]
    a = np.array([g.coords[0] for g in alleys])
    b = np.array([g.coords[-1] for g in alleys])
    pick = rng.integers(len(alleys), size=counts[2])
    t = rng.random(counts[2])[:, None]
    xy_parts.append(a[pick] + t * (b[pick] - a[pick]) + rng.normal(0, 6, (counts[2], 2)))
    kind_parts.append(np.full(counts[2], 2))
    trend_parts.append(np.zeros(counts[2]))

    # Background, ∝ population.
    xy_parts.append(_weighted_points(city, rng, counts[3], village_factor=1.0))
    kind_parts.append(np.full(counts[3], 3))
    trend_parts.append(np.zeros(counts[3]))

    xy = np.vstack(xy_parts)
    kinds = np.concatenate(kind_parts)
    trends = np.concatenate(trend_parts)

    # Keep every complaint inside the city: re-draw the few that fell out.
    shapely.prepare(city.boundary)
    outside = ~shapely.contains_xy(city.boundary, xy[:, 0], xy[:, 1])
    if outside.any():
        xy[outside] = _weighted_points(city, rng, int(outside.sum()), village_factor=1.0)
        kinds[outside] = 3
        trends[outside] = 0

    # Category by where it happened.
    category = np.empty(n, dtype=object)
    for k, mix_name in enumerate(mix):
        sel = kinds == k
        table = _CATEGORY_MIX[mix_name]
        category[sel] = np.array(list(table))[rng.choice(len(table), size=int(sel.sum()), p=list(table.values()))]

    # Time: 36 months, more in summer; trends tilt the distribution.
    span_s = (DATA_END - (DATA_END - timedelta(days=round(MONTHS * 30.44)))).total_seconds()
    u = rng.random(n)
    u = np.where(trends > 0, np.sqrt(u), np.where(trends < 0, 1 - np.sqrt(1 - u), u))
    season = 1 + 0.35 * np.sin(2 * np.pi * (u * MONTHS / 12.0) + 1.0)
    redraw = rng.random(n) * 1.35 > season
    u[redraw] = rng.random(int(redraw.sum()))
    hour = rng.choice(24, size=n, p=_HOUR_WEIGHTS)
    day_start = np.floor(u * span_s / 86400) * 86400
    offset_s = day_start + hour * 3600 + rng.integers(0, 3600, n)
    start = DATA_END - timedelta(seconds=span_s)
    reported = np.datetime64(start.astimezone(UTC).replace(tzinfo=None), "s") + offset_s.astype("timedelta64[s]")

    limit_h = np.array([TIME_LIMIT_HOURS[c] for c in category], dtype=float)
    due = reported + (limit_h * 3600).astype("timedelta64[s]")
    # Handling time: most within the limit, a tail beyond it.
    handle_s = limit_h * 3600 * rng.lognormal(-0.7, 0.6, n)
    age_s = (np.datetime64(DATA_END.astimezone(UTC).replace(tzinfo=None), "s") - reported).astype(float)
    # A backlog: a quarter of the last two months' cases are still being handled.
    stuck = (age_s < 60 * 86400) & (rng.random(n) < 0.25)
    handle_s = np.where(stuck, handle_s * 50 + 20 * 86400, handle_s)
    closed = handle_s < age_s
    status = np.where(closed, 5, np.minimum(4, (age_s / np.maximum(handle_s, 1) * 5).astype(int)))
    closed_at = np.where(closed, reported + handle_s.astype("timedelta64[s]"), np.datetime64("NaT"))

    city.complaints = {
        "x": xy[:, 0],
        "y": xy[:, 1],
        "category": category,
        "reported_at": reported,
        "due_at": due,
        "closed_at": closed_at,
        "status": np.array(STATUSES, dtype=object)[status],
        "channel": np.array(CHANNELS, dtype=object)[rng.choice(len(CHANNELS), size=n, p=[0.55, 0.15, 0.15, 0.1, 0.05])],
    }


_HOUR_WEIGHTS = np.array([1, 0.5, 0.3, 0.3, 0.5, 1, 3, 6, 8, 9, 9, 8, 7, 7, 8, 8, 8, 7, 7, 6, 5, 4, 3, 2], dtype=float)
_HOUR_WEIGHTS /= _HOUR_WEIGHTS.sum()


def to_lonlat_transformer() -> Transformer:
    """Metric demo coordinates (centred on the city) → WGS84 lon/lat."""
    return Transformer.from_crs(METRIC_SRID, 4326, always_xy=True)


def metric_origin() -> tuple[float, float]:
    """UTM easting/northing of the demo city's centre."""
    e, n = Transformer.from_crs(4326, METRIC_SRID, always_xy=True).transform(*CENTER_LONLAT)
    return float(e), float(n)
