"""Farmers' markets (农贸市场): points."""

from __future__ import annotations

from layers.spec.common import FACILITY_AREA_CODES, KIND_ALIASES, address, area_codes, in_service, kind, name
from layers.spec.model import Category, Field, ImportRules, LayerSpec, PrintSymbol, values

KINDS = (
    Category("农贸市场", "农贸市场", "Farmers' market", "#e6550d"),
    Category("集贸市场", "集贸市场", "Open-air market", "#fd8d3c"),
    Category("临时便民市场", "临时便民市场", "Temporary market", "#fdae6b"),
)

LAYER = LayerSpec(
    "markets", "农贸市场", "Farmers' markets", "Point",
    rules=ImportRules(geometry=("Point",), hooks=("name_from_address",)),
    fields=(
        name(),
        address(),
        kind(values(KINDS), {"農貿市場": "农贸市场", "集貿市場": "集贸市场", "臨時便民市場": "临时便民市场",
                             "farmersmarket": "农贸市场", "farmers market": "农贸市场", "wetmarket": "农贸市场",
                             "market": "集贸市场", "temporary": "临时便民市场"},
             aliases=(*KIND_ALIASES, "市场类型", "市場類型"), default="农贸市场"),
        Field("stalls", "int", "摊位数", "Stalls", aliases=("摊位数", "攤位數", "摊位", "攤位", "stalls"), popup=True),
        Field("opening_hours", label_zh="营业时间", label_en="Opening hours", popup=True,
              aliases=("营业时间", "營業時間", "开放时间", "開放時間", "openinghours", "hours", "hoursofoperations",
                       "hoursofoperation")),
        Field("operator", label_zh="经营单位", label_en="Operator", popup=True,
              aliases=("经营单位", "經營單位", "管理单位", "管理單位", "operator")),
        in_service(),
        *area_codes(*FACILITY_AREA_CODES),
    ),
    style_column="kind", categories=KINDS,
    symbol=PrintSymbol("农贸市场", "Market", {
        "markets": {"marker": "s", "s": 42, "facecolor": "#f2c14e", "edgecolor": "black", "linewidths": 0.8},
    }, default="markets"),
)
