"""Garbage collection points, collection stations and transfer stations: points."""

from __future__ import annotations

from layers.spec.common import FACILITY_AREA_CODES, address, area_codes, in_service, kind, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, PrintSymbol, ScaleDisplay, values

KINDS = (
    Category("收集点", "垃圾收集点", "Collection point", "#74c476"),
    Category("收集站", "垃圾收集站", "Collection station", "#31a354"),
    Category("转运站", "垃圾转运站", "Transfer station", "#006d2c"),
)

LAYER = LayerSpec(
    "garbage_stations", "垃圾收集点与转运站", "Garbage points and stations", "Point",
    rules=ImportRules(geometry=("Point",), hooks=("name_from_address",)),
    fields=(
        name(),
        address(),
        kind(values(KINDS), {"收集點": "收集点", "轉運站": "转运站", "垃圾收集点": "收集点", "垃圾收集站": "收集站",
                             "垃圾转运站": "转运站", "collectionpoint": "收集点", "collectionstation": "收集站",
                             "transferstation": "转运站"},
             default="收集点"),
        Field("capacity_t_per_day", "num", "日处理能力(吨)", "Capacity (t/day)", popup=True,
              aliases=("日处理能力(吨)", "日处理能力", "处理能力", "capacity", "capacitytperday")),
        Field("sorted", "bool", "分类投放", "Sorted", aliases=("分类投放", "分類投放", "垃圾分类", "sorted"), popup=True),
        Field("schedule", label_zh="收运时间", label_en="Schedule", popup=True,
              aliases=("收运时间", "收運時間", "清运时间", "schedule")),
        in_service(),
        *area_codes(*FACILITY_AREA_CODES),
    ),
    style_column="kind", categories=KINDS,
    display=(ScaleDisplay(0, 13, "tiles"), ScaleDisplay(14, 22, "geojson")),
    # Printed by kind: the marker grows from point to station.
    symbol=PrintSymbol("垃圾收集点", "Garbage point", {
        "收集点": {"marker": "o", "s": 18, "facecolor": "white", "edgecolor": "#2f7d32", "linewidths": 0.9},
        "收集站": {"marker": "o", "s": 30, "facecolor": "#2f7d32", "edgecolor": "black", "linewidths": 0.6},
        "转运站": {"marker": "D", "s": 30, "facecolor": "#2f7d32", "edgecolor": "black", "linewidths": 0.6},
    }, default="收集点"),
)
