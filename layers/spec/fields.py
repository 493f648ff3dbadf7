"""What each layer's rows hold, for import and export: columns, types, allowed
values and the header names (Chinese, traditional Chinese, English) people
give them in their spreadsheets.

One :class:`Field` per importable column; the layer's table itself is in
``data/migrations``. Labels are the zh-CN headers of XLSX exports, and
every label is also an alias, so an exported file imports again unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from data.errors import NotFound
from layers.spec.registry import get_layer


@dataclass(frozen=True)
class Field:
    """One importable column of a layer table.

    kind: ``text``, ``int``, ``num``, ``bool`` or ``time`` (timestamptz).
    choices: the allowed values (the table's CHECK), with ``synonyms`` mapping
    other spellings (traditional characters, English) to them.
    """

    name: str
    kind: str
    label_zh: str
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    synonyms: dict[str, str] = field(default_factory=dict)
    required: bool = False
    default: str | None = None


def normalise_header(text: str) -> str:
    """Header text compared loosely: NFKC, lower case, no spaces, underscores, dashes or BOM."""
    text = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s_\-./()（）:：]+", "", text)


_NAME = ("名称", "名稱", "name", "名字", "标题", "title", "设施名称", "設施名稱", "站点名称", "站點名稱")
_ADDRESS = ("地址", "地点", "地點", "位置", "详细地址", "詳細地址", "address", "streetaddress", "location address")
_KIND = ("类型", "類型", "种类", "種類", "kind", "type")

COMMON_FIELDS = (
    Field("name", "text", "名称", _NAME),
    Field("address", "text", "地址", _ADDRESS),
)

_BOOL_YES = {"是", "有", "y", "yes", "true", "t", "1", "免费", "免費", "√", "✓"}
_BOOL_NO = {"否", "无", "無", "n", "no", "false", "f", "0", "收费", "收費", "×"}


def parse_bool(value: str) -> bool | None:
    """是/否, yes/no, true/false, 1/0 → bool; anything else → None (caller reports it)."""
    text = normalise_header(value)
    if text in _BOOL_YES:
        return True
    if text in _BOOL_NO:
        return False
    return None


LAYER_FIELDS: dict[str, tuple[Field, ...]] = {
    "markets": (
        *COMMON_FIELDS,
        Field("kind", "text", "类型", (*_KIND, "市场类型", "市場類型"),
              choices=("农贸市场", "集贸市场", "临时便民市场"),
              synonyms={"農貿市場": "农贸市场", "集貿市場": "集贸市场", "臨時便民市場": "临时便民市场",
                        "farmersmarket": "农贸市场", "farmers market": "农贸市场", "wetmarket": "农贸市场",
                        "market": "集贸市场", "temporary": "临时便民市场"},
              default="农贸市场"),
        Field("stalls", "int", "摊位数", ("摊位数", "攤位數", "摊位", "攤位", "stalls")),
        Field("opening_hours", "text", "营业时间", ("营业时间", "營業時間", "开放时间", "開放時間", "openinghours",
                                                "hours", "hoursofoperations", "hoursofoperation")),
        Field("operator", "text", "经营单位", ("经营单位", "經營單位", "管理单位", "管理單位", "operator")),
    ),
    "toilets": (
        *COMMON_FIELDS,
        Field("grade", "text", "等级", ("等级", "等級", "类别等级", "grade", "class"),
              choices=("一类", "二类", "三类"),
              synonyms={"一類": "一类", "二類": "二类", "三類": "三类", "1": "一类", "2": "二类", "3": "三类",
                        "i": "一类", "ii": "二类", "iii": "三类", "一级": "一类", "二级": "二类", "三级": "三类"}),
        Field("kind", "text", "建筑类型", ("建筑类型", "建築類型", *_KIND),
              choices=("独立式", "附属式", "活动式"),
              synonyms={"獨立式": "独立式", "附屬式": "附属式", "活動式": "活动式", "standalone": "独立式",
                        "attached": "附属式", "mobile": "活动式", "portable": "活动式"}),
        Field("opening_hours", "text", "开放时间", ("开放时间", "開放時間", "hoursofoperation", "openinghours", "hours")),
        Field("is_free", "bool", "是否免费", ("是否免费", "是否免費", "免费", "免費", "free", "isfree"), default="是"),
        Field("seats", "int", "厕位数", ("厕位数", "廁位數", "座數", "座数", "蹲位数", "seats")),
        Field("accessible", "bool", "无障碍", ("无障碍", "無障礙", "accessible")),
        Field("manager_unit", "text", "管理单位", ("管理单位", "管理單位", "manager", "managerunit", "operator")),
    ),
    "garbage_stations": (
        *COMMON_FIELDS,
        Field("kind", "text", "类型", _KIND, choices=("收集点", "收集站", "转运站"),
              synonyms={"收集點": "收集点", "轉運站": "转运站", "垃圾收集点": "收集点", "垃圾收集站": "收集站",
                        "垃圾转运站": "转运站", "collectionpoint": "收集点", "collectionstation": "收集站",
                        "transferstation": "转运站"},
              default="收集点"),
        Field("capacity_t_per_day", "num", "日处理能力(吨)", ("日处理能力(吨)", "日处理能力", "处理能力", "capacity",
                                                       "capacitytperday")),
        Field("sorted", "bool", "分类投放", ("分类投放", "分類投放", "垃圾分类", "sorted")),
        Field("schedule", "text", "收运时间", ("收运时间", "收運時間", "清运时间", "schedule")),
    ),
    "urban_villages": (
        Field("name", "text", "名称", _NAME, required=True),
        Field("kind", "text", "类型", _KIND, choices=("城中村", "城乡结合部"), synonyms={"城鄉結合部": "城乡结合部"},
              default="城中村"),
        Field("population", "int", "人口", ("人口", "population")),
        Field("renovation_status", "text", "改造状态", ("改造状态", "改造狀態", "renovationstatus"),
              choices=("未改造", "改造中", "已改造"), default="未改造"),
    ),
    "health_trails": (
        Field("name", "text", "名称", _NAME, required=True),
        Field("kind", "text", "类型", _KIND, choices=("健康步道", "健康主题公园", "健康街区"),
              synonyms={"健康主題公園": "健康主题公园", "健康街區": "健康街区", "trail": "健康步道",
                        "park": "健康主题公园", "street": "健康街区"},
              default="健康步道"),
        Field("length_m", "num", "长度(米)", ("长度(米)", "长度", "長度", "length", "lengthm")),
        Field("width_m", "num", "宽度(米)", ("宽度(米)", "宽度", "寬度", "width", "widthm")),
        Field("equipment_kinds", "int", "健身器材种类", ("健身器材种类", "器材种类", "equipmentkinds")),
    ),
    "roads": (
        Field("name", "text", "道路名称", ("道路名称", "道路名稱", *_NAME)),
        Field("class", "text", "道路等级", ("道路等级", "道路等級", "等级", "class", "roadclass"),
              choices=("快速路", "主干路", "次干路", "支路", "背街小巷"),
              synonyms={"主幹路": "主干路", "次幹路": "次干路", "expressway": "快速路", "arterial": "主干路",
                        "secondary": "次干路", "branch": "支路", "alley": "背街小巷", "backstreet": "背街小巷"},
              default="支路"),
    ),
    "land_use": (
        Field("class", "text", "用地分类", ("用地分类", "用地分類", "用地类别", "class", "landuse"),
              choices=("R", "A", "B", "M", "W", "S", "U", "G", "E"), required=True),
        Field("name", "text", "名称", _NAME),
    ),
    "complaints": (
        Field("category", "text", "事件类型", ("事件类型", "事件類型", "问题类型", "問題類型", "投诉类型", "投訴類型",
                                           "类别", "類別", "category", "complainttype", "eventtype", "type"),
              required=True),
        Field("reported_at", "time", "上报时间", ("上报时间", "上報時間", "投诉时间", "投訴時間", "举报时间", "受理时间",
                                              "时间", "時間", "reportedat", "createddate", "created", "date", "time"),
              required=True),
        Field("status", "text", "状态", ("状态", "狀態", "办理状态", "status"),
              choices=("受理", "立案", "派遣", "处置", "核查", "结案"),
              synonyms={"處置": "处置", "結案": "结案", "核查": "核查", "open": "受理", "new": "受理",
                        "received": "受理", "pending": "受理", "registered": "立案", "assigned": "派遣",
                        "dispatched": "派遣", "inprogress": "处置", "started": "处置", "handled": "处置",
                        "verified": "核查", "closed": "结案", "resolved": "结案", "已结案": "结案", "已办结": "结案",
                        "办结": "结案", "处理中": "处置", "待处理": "受理", "已受理": "受理"},
              default="受理"),
        Field("channel", "text", "渠道", ("渠道", "来源渠道", "來源渠道", "channel", "opendatachanneltype")),
        Field("description", "text", "描述", ("描述", "内容", "內容", "投诉内容", "投訴內容", "问题描述", "description",
                                            "descriptor")),
        Field("address", "text", "地址", ("incidentaddress", *_ADDRESS)),
        Field("due_at", "time", "处置时限", ("处置时限", "办结时限", "截止时间", "dueat", "duedate")),
        Field("closed_at", "time", "结案时间", ("结案时间", "結案時間", "办结时间", "closedat", "closeddate")),
    ),
    "grids": (
        Field("code", "text", "网格编码", ("网格编码", "網格編碼", "网格代码", "code", "gridcode"), required=True),
        Field("name", "text", "网格名称", ("网格名称", "網格名稱", *_NAME)),
        Field("responsible_unit", "text", "责任单位", ("责任单位", "責任單位", "responsibleunit")),
        Field("grid_manager", "text", "网格长", ("网格长", "網格長", "网格员", "gridmanager", "manager")),
        Field("phone", "text", "联系电话", ("联系电话", "聯繫電話", "电话", "電話", "phone", "tel")),
    ),
    "admin_areas": (
        Field("level", "text", "级别", ("级别", "級別", "level"), choices=("district", "street", "community"),
              synonyms={"区": "district", "區": "district", "县": "district", "街道": "street", "乡镇": "street",
                        "社区": "community", "村": "community", "里": "community"}),
        Field("code", "text", "代码", ("代码", "代碼", "区划代码", "code"), required=True),
        Field("name", "text", "名称", _NAME, required=True),
        Field("name_en", "text", "英文名称", ("英文名称", "nameen")),
        Field("parent_code", "text", "上级代码", ("上级代码", "上級代碼", "parentcode", "parent")),
        Field("population", "int", "人口", ("人口", "population")),
    ),
}

# Layers whose rows carry the area codes filled by point-in-area at insert.
AREA_CODE_COLUMNS = {
    "markets": ("district_code", "street_code", "community_code"),
    "toilets": ("district_code", "street_code", "community_code"),
    "garbage_stations": ("district_code", "street_code", "community_code"),
    "urban_villages": ("district_code", "street_code", "community_code"),
    "health_trails": ("district_code", "street_code", "community_code"),
    "roads": ("district_code", "street_code"),
    "land_use": ("district_code",),
    "complaints": ("district_code", "street_code", "community_code", "grid_code"),
    "grids": ("district_code", "street_code", "community_code"),
    "admin_areas": (),
}
AREA_CODE_LABELS = {"district_code": "区代码", "street_code": "街道代码", "community_code": "社区代码",
                    "grid_code": "网格编码"}

# Geometry families a layer accepts (the table's geometry column type).
ACCEPTED_GEOMETRY = {
    "markets": ("Point",), "toilets": ("Point",), "garbage_stations": ("Point",), "complaints": ("Point",),
    "urban_villages": ("Polygon",), "land_use": ("Polygon",), "grids": ("Polygon",), "admin_areas": ("Polygon",),
    "roads": ("LineString",), "health_trails": ("LineString", "Polygon"),
}

# Headers that carry identity, provenance and a stated district (checked, not stored as columns).
ID_ALIASES = ("sourceid", "id", "编号", "編號", "序号", "uniquekey", "objectid", "fid", "basketid", "gid", "uid")
SOURCE_ALIASES = ("source", "数据来源", "數據來源")
DISTRICT_ALIASES = ("行政区", "行政區", "所属区", "所屬區", "区县", "區", "区", "district", "borough")
ATTRIBUTES_ALIASES = ("attributes", "属性", "屬性")


def fields_of(layer_id: str) -> tuple[Field, ...]:
    """The importable fields of a layer id (NotFound for unknown ids)."""
    get_layer(layer_id)
    try:
        return LAYER_FIELDS[layer_id]
    except KeyError:
        raise NotFound(f"layer {layer_id!r} cannot be imported") from None
