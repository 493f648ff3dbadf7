"""Grids (单元网格): the units of responsibility, coded 6+3+3+sequence (STANDARDS §4)."""

from __future__ import annotations

from layers.spec.common import FACILITY_AREA_CODES, NAME_ALIASES, area_codes, name
from layers.spec.model import Field, ImportRules, LayerSpec, ScaleDisplay

LAYER = LayerSpec(
    "grids", "网格", "Grids", "MultiPolygon",
    # A grid's code holds its district, street and community codes: no point-in-area.
    rules=ImportRules(geometry=("Polygon",), routing="code", key_column="code", hooks=("grid_codes",),
                      after_write=("place_in_grids",)),
    fields=(
        Field("code", label_zh="网格编码", label_en="Grid code", required=True, popup=True,
              aliases=("网格编码", "網格編碼", "网格代码", "code", "gridcode")),
        name("网格名称", ("网格名称", "網格名稱", *NAME_ALIASES)),
        Field("responsible_unit", label_zh="责任单位", label_en="Responsible unit", popup=True,
              aliases=("责任单位", "責任單位", "responsibleunit")),
        # Grid contacts: staff see them; the public too where HYGIENE_MAP_GRID_CONTACTS_PUBLIC=1 (网格公示牌).
        Field("grid_manager", label_zh="网格长", label_en="Grid manager", popup=True, column_class="internal",
              contact=True,
              aliases=("网格长", "網格長", "网格员", "gridmanager", "manager")),
        Field("phone", label_zh="联系电话", label_en="Phone", popup=True, column_class="personal", contact=True,
              aliases=("联系电话", "聯繫電話", "电话", "電話", "phone", "tel")),
        *area_codes(*FACILITY_AREA_CODES),
    ),
    color="#2ca02c", display=(ScaleDisplay(0, 22, "tiles"),), shown_by_default=False, order_column="code",
    own_grid_column="code",
    # Who changed an assignment and why: staff only.
    history=(Field("changed_by", label_zh="修改人", label_en="Changed by", column_class="internal"),
             Field("reason", label_zh="变更原因", label_en="Reason", column_class="internal")),
)
