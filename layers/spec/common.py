"""Columns several layers share: names, addresses, kinds, area codes, population.

The header names here are the ones people give these columns in their
spreadsheets (simplified and traditional Chinese, English); a layer's own
module adds its own.
"""

from __future__ import annotations

from dataclasses import replace

from layers.spec.model import Field

NAME_ALIASES = ("名称", "名稱", "name", "名字", "标题", "title", "设施名称", "設施名稱", "站点名称", "站點名稱")
ADDRESS_ALIASES = ("地址", "地点", "地點", "位置", "详细地址", "詳細地址", "address", "streetaddress",
                   "location address")
KIND_ALIASES = ("类型", "類型", "种类", "種類", "kind", "type")


def name(label_zh: str = "名称", aliases: tuple[str, ...] = NAME_ALIASES, *, required: bool = False,
         popup: bool = True) -> Field:
    """A name column; a header ending in 名称 or name (公廁名稱, Market Name) also names it."""
    return Field("name", label_zh=label_zh, label_en="Name", aliases=aliases, suffixes=("名称", "名稱", "name"),
                 required=required, popup=popup)


def address(aliases: tuple[str, ...] = ADDRESS_ALIASES, *, popup: bool = True) -> Field:
    """An address column; a header ending in 地址 or address also names it."""
    return Field("address", label_zh="地址", label_en="Address", aliases=aliases, suffixes=("地址", "address"),
                 popup=popup)


def kind(choices: tuple[str, ...], synonyms: dict[str, str] | None = None, *, label_zh: str = "类型",
         aliases: tuple[str, ...] = KIND_ALIASES, default: str | None = None) -> Field:
    """A kind column with its allowed values."""
    return Field("kind", label_zh=label_zh, label_en="Kind", aliases=aliases, choices=choices,
                 synonyms=synonyms or {}, default=default, popup=True)


#: How people write whether a facility serves the public today: New York's Status (Operational, Not Operational,
#: Closed for Construction, Closed) and the words of Chinese ledgers (在用, 停用, 在建, 已拆除 …).
_IN_SERVICE_WORDS = {
    **dict.fromkeys(("在用", "使用中", "正常", "正常使用", "运行", "運行", "开放", "開放", "营业", "營業", "启用", "啟用",
                     "operational", "open", "in service", "active"), "是"),
    **dict.fromkeys(("停用", "暂停使用", "暫停使用", "暂停开放", "暫停開放", "关闭", "關閉", "已关闭", "已關閉", "维修",
                     "維修", "维修中", "維修中", "在建", "施工", "施工中", "拆除", "已拆除", "废弃", "廢棄",
                     "not operational", "closed", "closed for construction", "under construction",
                     "out of service", "inactive", "temporarily closed"), "否"),
}


def in_service() -> Field:
    """Whether a facility serves the public today (是否在用); only those that do count in the analyses."""
    return Field("in_service", "bool", "是否在用", "In service", popup=True, default="是", synonyms=_IN_SERVICE_WORDS,
                 aliases=("是否在用", "在用", "使用状态", "使用狀態", "运行状态", "運行狀態", "运营状态", "營運狀態",
                          "设施状态", "設施狀態", "状态", "狀態", "status", "operationalstatus", "inservice"))


POPULATION = Field("population", "int", "人口", "Population", aliases=("人口", "population"), popup=True)

_AREA_CODES = {
    "district_code": Field("district_code", label_zh="区代码", label_en="District code", imported=False),
    "street_code": Field("street_code", label_zh="街道代码", label_en="Street code", imported=False),
    "community_code": Field("community_code", label_zh="社区代码", label_en="Community code", imported=False),
    "grid_code": Field("grid_code", label_zh="网格编码", label_en="Grid code", imported=False),
}


def area_codes(*columns: str, shown: tuple[str, ...] = ("street_code",)) -> tuple[Field, ...]:
    """The area-code columns of a table (filled by routing), those in ``shown`` in the popup."""
    return tuple(replace(_AREA_CODES[c], popup=c in shown) for c in columns)


#: The history of a case (complaints, inspection findings): who moved it and their note, staff only
#: (a note may name the complainant or the shop).
CASE_HISTORY = (Field("actor", label_zh="经办人", label_en="Handled by", column_class="internal"),
                Field("note", label_zh="备注", label_en="Note", column_class="internal"))

#: The area codes of the facility layers.
FACILITY_AREA_CODES = ("district_code", "street_code", "community_code")
