"""Administrative areas: districts, streets and communities, the units everything is routed into."""

from __future__ import annotations

from layers.spec.common import POPULATION, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, ScaleDisplay, values

LEVELS = (
    Category("district", "区/县", "District", "#444444"),
    Category("street", "街道/乡镇", "Street", "#777777"),
    Category("community", "社区/村", "Community", "#aaaaaa"),
)

LAYER = LayerSpec(
    "admin_areas", "行政区划", "Administrative areas", "MultiPolygon",
    # The areas themselves: nothing to route them into; a row is known by its code.
    rules=ImportRules(geometry=("Polygon",), routing="none", key_column="code", hooks=("area_codes",),
                      after_write=("place_in_areas",)),
    fields=(
        Field("level", label_zh="级别", label_en="Level", aliases=("级别", "級別", "level"), choices=values(LEVELS),
              synonyms={"区": "district", "區": "district", "县": "district", "街道": "street", "乡镇": "street",
                        "社区": "community", "村": "community", "里": "community"},
              option="--level", popup=True),
        Field("code", label_zh="代码", label_en="Code", aliases=("代码", "代碼", "区划代码", "code"), required=True,
              popup=True),
        name(required=True),
        Field("name_en", label_zh="英文名称", label_en="English name", aliases=("英文名称", "nameen"), popup=True),
        Field("parent_code", label_zh="上级代码", label_en="Parent code",
              aliases=("上级代码", "上級代碼", "parentcode", "parent")),
        POPULATION,
    ),
    style_column="level", categories=LEVELS,
    display=(ScaleDisplay(0, 22, "tiles"),), street_filter="admin", order_column="code",
)
