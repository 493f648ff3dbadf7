"""Administrative areas: districts, streets and communities, the units everything is routed into."""

from __future__ import annotations

from layers.spec.common import POPULATION, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, ScaleDisplay, values

LEVELS = (
    Category("district", "区/县", "District", "#444444"),
    Category("street", "街道/乡镇", "Street", "#777777"),
    Category("community", "社区/村", "Community", "#aaaaaa"),
)

#: How a street gets a code of its own (zh, en): said where a city lacks streets (analyze priority) and where an
#: import of streets is refused because their codes are the districts' (a Gaode file's one adcode per district).
STREET_CODE_HINT = (
    "街道须有自己的代码，位于区代码之下：文件每区只有一个代码（如高德的 adcode）时，先给文件加一列街道代码"
    "（如 370602 → 370602001），以 --code-field 该列 --parent-field 区代码列 --source 另一名称导入",
    "A street needs a code of its own under its district's: where the file has one code per district (Gaode's "
    "adcode), add a column of street codes first (370602 → 370602001) and import with --code-field that column "
    "--parent-field the district's code column --source another name")

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
