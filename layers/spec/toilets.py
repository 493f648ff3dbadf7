"""Public toilets (公共厕所): points, graded 一类 to 三类."""

from __future__ import annotations

from layers.spec.common import FACILITY_AREA_CODES, KIND_ALIASES, address, area_codes, in_service, kind, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, PrintSymbol, values

GRADES = (
    Category("一类", "一类公厕", "Grade I", "#08519c"),
    Category("二类", "二类公厕", "Grade II", "#3182bd"),
    Category("三类", "三类公厕", "Grade III", "#9ecae1"),
)

LAYER = LayerSpec(
    "toilets", "公共厕所", "Public toilets", "Point",
    rules=ImportRules(geometry=("Point",), hooks=("name_from_address",)),
    fields=(
        name(),
        address(),
        Field("grade", label_zh="等级", label_en="Grade", aliases=("等级", "等級", "类别等级", "grade", "class"),
              choices=values(GRADES), popup=True, aliases_if_values=("类别", "公厕类别", "类型", "公厕类型"),
              synonyms={"一類": "一类", "二類": "二类", "三類": "三类", "1": "一类", "2": "二类", "3": "三类",
                        "i": "一类", "ii": "二类", "iii": "三类", "一级": "一类", "二级": "二类", "三级": "三类"}),
        kind(("独立式", "附属式", "活动式"), {"獨立式": "独立式", "附屬式": "附属式", "活動式": "活动式",
                                           "standalone": "独立式", "attached": "附属式", "mobile": "活动式",
                                           "portable": "活动式"},
             label_zh="建筑类型", aliases=("建筑类型", "建築類型", *KIND_ALIASES)),
        Field("opening_hours", label_zh="开放时间", label_en="Opening hours", popup=True,
              aliases=("开放时间", "開放時間", "hoursofoperation", "openinghours", "openhours", "openhour", "hours")),
        Field("is_free", "bool", "是否免费", "Free", aliases=("是否免费", "是否免費", "免费", "免費", "free", "isfree"),
              default="是", popup=True),
        Field("seats", "int", "厕位数", "Seats", aliases=("厕位数", "廁位數", "座數", "座数", "座位数", "座位數", "蹲位数", "seats"),
              popup=True),
        Field("accessible", "bool", "无障碍", "Accessible",
              aliases=("无障碍", "無障礙", "accessible", "accessibility", "disabledtoilet", "accessibletoilet"),
              # New York's Accessibility; "partially" says neither: unknown, not a guess.
              synonyms={"fully accessible": "是", "not accessible": "否", "partially accessible": None},
              counted_by=("無障礙廁座數", "无障碍厕座数", "无障碍厕位数", "无障碍厕位", "accessiblestalls"), popup=True),
        Field("manager_unit", label_zh="管理单位", label_en="Managed by", popup=True,
              aliases=("管理单位", "管理單位", "manager", "managerunit", "operator")),
        in_service(),
        *area_codes(*FACILITY_AREA_CODES),
    ),
    style_column="grade", categories=GRADES, color="#6baed6",
    symbol=PrintSymbol("公共厕所", "Toilet", {
        "toilets": {"marker": "^", "s": 46, "facecolor": "#2b6cb0", "edgecolor": "black", "linewidths": 0.6},
    }, default="toilets"),
)
