"""Urban villages (城中村) and urban-rural fringes: areas, with their renovation status."""

from __future__ import annotations

from layers.spec.common import FACILITY_AREA_CODES, POPULATION, area_codes, kind, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, PrintSymbol, values

RENOVATION = (
    Category("未改造", "未改造", "Not renovated", "#de2d26"),
    Category("改造中", "改造中", "Renovating", "#fc9272"),
    Category("已改造", "已改造", "Renovated", "#bdbdbd"),
)

LAYER = LayerSpec(
    "urban_villages", "城中村", "Urban villages", "MultiPolygon",
    rules=ImportRules(geometry=("Polygon",)),
    fields=(
        name(required=True),
        kind(("城中村", "城乡结合部"), {"城鄉結合部": "城乡结合部"}, default="城中村"),
        POPULATION,
        Field("renovation_status", label_zh="改造状态", label_en="Renovation", popup=True,
              aliases=("改造状态", "改造狀態", "renovationstatus"), choices=values(RENOVATION), default="未改造"),
        *area_codes(*FACILITY_AREA_CODES),
    ),
    style_column="renovation_status", categories=RENOVATION,
    symbol=PrintSymbol("城中村", "Urban village", {
        "area": {"facecolor": "#f6e7d8", "edgecolor": "#8c5a2b", "hatch": "////", "linewidth": 0.7},
    }, default="area"),
)
