"""Land use by GB 50137-2011 major class: areas."""

from __future__ import annotations

from layers.spec.common import area_codes, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, ScaleDisplay, values

CLASSES = (
    Category("R", "居住用地", "Residential", "#ffeda0"),
    Category("A", "公共管理与公共服务用地", "Public service", "#fc9272"),
    Category("B", "商业服务业用地", "Commercial", "#fb6a4a"),
    Category("M", "工业用地", "Industrial", "#9e9ac8"),
    Category("W", "物流仓储用地", "Warehouse", "#bcbddc"),
    Category("S", "道路与交通设施用地", "Roads and transport", "#d9d9d9"),
    Category("U", "公用设施用地", "Utilities", "#9ecae1"),
    Category("G", "绿地与广场用地", "Green space", "#a1d99b"),
    Category("E", "水域及其他", "Water and other", "#c6dbef"),
)

LAYER = LayerSpec(
    "land_use", "用地", "Land use", "MultiPolygon",
    rules=ImportRules(geometry=("Polygon",)),
    fields=(
        Field("class", label_zh="用地分类", label_en="Class", aliases=("用地分类", "用地分類", "用地类别", "class", "landuse"),
              choices=values(CLASSES), required=True, popup=True),
        name(),
        *area_codes("district_code", shown=()),
    ),
    style_column="class", categories=CLASSES,
    display=(ScaleDisplay(0, 22, "tiles"),), street_filter="spatial", shown_by_default=False,
)
