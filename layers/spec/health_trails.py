"""Health trails (lines), health theme parks and health streets (areas)."""

from __future__ import annotations

from layers.spec.common import FACILITY_AREA_CODES, area_codes, in_service, kind, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, PrintSymbol, values

KINDS = (
    Category("健康步道", "健康步道", "Health trail", "#7b4173"),
    Category("健康主题公园", "健康主题公园", "Health theme park", "#a55194"),
    Category("健康街区", "健康街区", "Health street", "#ce6dbd"),
)

LAYER = LayerSpec(
    "health_trails", "健康步道与主题公园", "Health trails and parks", "Geometry",
    # A trail may be drawn in several pieces: one row.
    rules=ImportRules(geometry=("LineString", "Polygon"), multi_part=True),
    fields=(
        name(required=True),
        kind(values(KINDS), {"健康主題公園": "健康主题公园", "健康街區": "健康街区", "trail": "健康步道",
                             "park": "健康主题公园", "street": "健康街区"},
             default="健康步道"),
        Field("length_m", "num", "长度(米)", "Length (m)", aliases=("长度(米)", "长度", "長度", "length", "lengthm"),
              popup=True),
        Field("width_m", "num", "宽度(米)", "Width (m)", aliases=("宽度(米)", "宽度", "寬度", "width", "widthm"),
              popup=True),
        Field("equipment_kinds", "int", "健身器材种类", "Equipment kinds", popup=True,
              aliases=("健身器材种类", "器材种类", "equipmentkinds")),
        in_service(),
        *area_codes(*FACILITY_AREA_CODES),
    ),
    style_column="kind", categories=KINDS,
    symbol=PrintSymbol("健康步道", "Health trail", {
        "line": {"color": "#1b7f3b", "linewidth": 1.6, "linestyle": (0, (1.0, 1.2))},
        "area": {"facecolor": "#e3f4e1", "edgecolor": "#1b7f3b", "hatch": "..", "linewidth": 0.7},
    }, default="line"),
)
